#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit

/// All printing goes through here: data to stdout, notes and errors to stderr.
///
/// stdout is buffered here and flushed before exit (a list of 10,000 generations is one write,
/// not 10,000); stderr is written at once.
enum Output {
  nonisolated(unsafe) private static var buffer: [UInt8] = []

  static func line(_ text: String) {
    raw(Array(text.utf8) + [0x0A])
  }

  static func json(_ value: JSON) {
    raw(value.serialized() + [0x0A])
  }

  /// Exact bytes to stdout (the raw manifest has NULs in it).
  static func raw(_ bytes: [UInt8]) {
    buffer += bytes
    if buffer.count >= 1 << 16 { flush() }
  }

  static func flush() {
    writeAll(1, buffer)
    buffer.removeAll(keepingCapacity: true)
  }

  /// Flushes stdout first, so notes and errors appear after what led to them.
  static func note(_ text: String) {
    flush()
    writeAll(2, Array((text + "\n").utf8))
  }

  /// One write for both lines, so they are never separated.
  static func error(_ error: MCPGenError) {
    note("error: \(error.message)" + (error.hint.map { "\nhint: \($0)" } ?? ""))
  }

  private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        return  // stdout closed (e.g. piped into head): nothing more to say.
      }
      offset += n
    }
  }

  static func bytes(_ n: UInt64) -> String { ByteCount.text(n) }
}

/// Documented exit statuses (README, `mcp-gen --help`).
enum ExitStatus {
  static let success: Int32 = 0
  static let failure: Int32 = 1
  static let integrity: Int32 = 2
  static let lockTimeout: Int32 = 3
  static let healthCheckRolledBack: Int32 = 4
  static let rollbackFailed: Int32 = 5
  static let usage: Int32 = 64

  static func forError(_ error: MCPGenError) -> Int32 {
    switch error.code {
    case .integrity: return integrity
    case .lockTimeout: return lockTimeout
    case .healthCheckFailed: return healthCheckRolledBack
    case .rollbackFailed: return rollbackFailed
    default: return failure
    }
  }
}

