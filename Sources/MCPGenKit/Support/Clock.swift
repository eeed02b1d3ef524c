#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock time as the journal and `list` show it: RFC 3339, UTC, whole seconds.
public enum Clock {
  public static func now() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec)
  }

  /// `2026-11-25T15:40:00Z`.
  public static func format(_ seconds: Int64) -> String {
    var t = time_t(seconds)
    var parts = tm()
    gmtime_r(&t, &parts)
    func two(_ v: Int32) -> String { String(v).leftPadded(to: 2) }
    return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
  }

  /// The effective user's name, or its number when it has none.
  public static func userName() -> String { userName(geteuid()) }

  /// The name of user `uid`, or its number when it has none.
  public static func userName(_ uid: uid_t) -> String {
    var entry = passwd()
    var result: UnsafeMutablePointer<passwd>? = nil
    var buffer = [CChar](repeating: 0, count: 1024)
    if getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, let found = result, let name = found.pointee.pw_name {
      return String(cString: name)
    }
    return String(uid)
  }
}
