import MCPGenKit
import MCPGenTerminal

/// The name of a remote on a client: `remotes/<name>/` (store-layout.md section 15).
///
/// Letters, digits, `.`, `_`, `+` and `-`, at most 64 bytes, starting with a letter or a
/// digit: a name that is one path component (no `/`, no leading `.` that would hide it or make
/// it `..`), needs no escaping in text, JSON or a shell, and cannot be read as an option.
public struct RemoteName: Sendable, Hashable, Comparable, CustomStringConvertible {
  public let text: String
  public var bytes: [UInt8] { Array(text.utf8) }
  public var description: String { text }

  public static let maximumBytes = 64

  public init(_ text: String) throws(MCPGenError) {
    guard RemoteName.isValid(Array(text.utf8)) else {
      throw MCPGenError(
        .invalidInput,
        "'\(displayName(Array(text.utf8)))' is not a remote name: use 1 to \(RemoteName.maximumBytes) letters, digits, '.', '_', '+' or '-', starting with a letter or digit")
    }
    self.text = text
  }

  /// The name of a directory found under `remotes/`, nil when it is no remote name (a
  /// temporary, a stray file).
  public init?(bytes: [UInt8]) {
    guard RemoteName.isValid(bytes) else { return nil }
    text = String(decoding: bytes, as: UTF8.self)
  }

  static func isValid(_ bytes: [UInt8]) -> Bool {
    guard let first = bytes.first, bytes.count <= maximumBytes, isAlphanumeric(first) else { return false }
    return bytes.allSatisfy { isAlphanumeric($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2B || $0 == 0x2D }
  }

  private static func isAlphanumeric(_ b: UInt8) -> Bool {
    (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
  }

  public static func < (a: RemoteName, b: RemoteName) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}
