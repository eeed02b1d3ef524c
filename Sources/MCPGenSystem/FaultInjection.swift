#if DEBUG
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import SystemPackage

/// Debug-only: forces a syscall to fail with a chosen errno on its Nth call.
///
/// `MCP_GEN_FAULT="write:ENOSPC:3,fsync:EIO:1"` makes the 3rd `write` and the 1st `fsync` of
/// the process fail. Tests use it to prove every error path leaves the store intact, without
/// root or strace. Release builds contain none of this.
public final class FaultInjection: Sendable {
  public static let shared = FaultInjection(spec: getenv("MCP_GEN_FAULT").map { String(cString: $0) } ?? "")

  private struct Rule { var call: String; var errno: Errno; var nth: Int }
  private let rules: [Rule]
  private let counts = Mutex<[String: Int]>([:])

  public init(spec: String) {
    rules = spec.split(separator: ",").compactMap { item in
      let parts = item.split(separator: ":").map(String.init)
      guard parts.count == 3, let nth = Int(parts[2]), let e = FaultInjection.errno(named: parts[1])
      else { return nil }
      return Rule(call: parts[0], errno: e, nth: nth)
    }
  }

  public func fault(for call: StaticString) -> Errno? {
    if rules.isEmpty { return nil }
    let name = call.description
    let n = counts.withLock { counts -> Int in
      counts[name, default: 0] += 1
      return counts[name]!
    }
    return rules.first { $0.call == name && $0.nth == n }?.errno
  }

  /// `MCP_GEN_DEBUG_KILL_AT=NAME` ends the process with SIGKILL when it reaches the kill
  /// point `NAME` (a step of the engine or of a pull that no single system call marks, such as
  /// "between clearing an inode's immutable flag and setting it again"), so a test can leave
  /// exactly what a crash there leaves and check that the next run recovers.
  public static func killPoint(_ name: StaticString) {
    guard let wanted = killAt, wanted == name.description else { return }
    _ = Glibc.kill(Glibc.getpid(), SIGKILL)
  }

  private static let killAt: String? = getenv("MCP_GEN_DEBUG_KILL_AT").map { String(cString: $0) }

  public static func errno(named name: String) -> Errno? {
    switch name {
    case "ENOSPC": return .noSpace
    case "EIO": return .ioError
    case "EDQUOT": return .diskQuotaExceeded
    case "EACCES": return .permissionDenied
    case "EROFS": return .readOnlyFileSystem
    case "EPERM": return .notPermitted
    case "ENOENT": return .noSuchFileOrDirectory
    default: return Int32(name).map { Errno(rawValue: $0) }
    }
  }
}
#endif
