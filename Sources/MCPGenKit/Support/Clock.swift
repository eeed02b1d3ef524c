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
    let year = parts.tm_year + 1900
    guard (0...9999).contains(year) else {
      func two(_ v: Int32) -> String { String(v).leftPadded(to: 2) }
      return "\(year)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
    // Digit by digit: `list` formats one time per generation.
    return String(unsafeUninitializedCapacity: 20) { out in
      func put(_ v: Int32, _ digits: Int, at i: Int) {
        var v = v
        for k in stride(from: i + digits - 1, through: i, by: -1) {
          out[k] = UInt8(truncatingIfNeeded: v % 10) + 0x30
          v /= 10
        }
      }
      put(year, 4, at: 0)
      put(parts.tm_mon + 1, 2, at: 5)
      put(parts.tm_mday, 2, at: 8)
      put(parts.tm_hour, 2, at: 11)
      put(parts.tm_min, 2, at: 14)
      put(parts.tm_sec, 2, at: 17)
      for (i, c) in [(4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":"), (19, "Z")] as [(Int, Unicode.Scalar)] {
        out[i] = UInt8(ascii: c)
      }
      return 20
    }
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
