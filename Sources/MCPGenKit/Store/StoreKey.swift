import MCPGenSystem

/// The name of a store entry: the SHA-256 of its manifest, as 64 lowercase hex digits.
public struct StoreKey: Hashable, Sendable, Comparable, CustomStringConvertible {
  public let digest: Digest

  public init(_ digest: Digest) { self.digest = digest }

  /// Parses a full key; uppercase, short or non-hex input is rejected.
  public init?(_ text: some StringProtocol) {
    guard let d = Digest(hex: Array(text.utf8)) else { return nil }
    digest = d
  }

  init?(bytes: some Collection<UInt8>) {
    guard let d = Digest(hex: bytes) else { return nil }
    digest = d
  }

  public var hex: String { digest.description }
  public var bytes: [UInt8] { digest.hexBytes }
  /// The first 12 hex digits, for tables.
  public var short: String { digest.hexString(12) }
  public var description: String { hex }

  public static func < (a: StoreKey, b: StoreKey) -> Bool { a.digest < b.digest }

  /// Whether `text` could be a key prefix: 8 to 64 lowercase hex digits.
  public static func isPrefix(_ text: some StringProtocol) -> Bool {
    (8...64).contains(text.utf8.count) && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
  }
}
