import MCPGenSystem

/// Wall-clock time as the journal and `list` show it: RFC 3339, UTC, whole seconds.
public enum Clock {
  public static func now() -> Int64 {
    realtimeSeconds()
  }

  /// `2026-11-25T15:40:00Z`.
  public static func format(_ seconds: Int64) -> String {
    var out: [UInt8] = []
    appendFormatted(seconds, to: &out)
    return String(decoding: out, as: UTF8.self)
  }

  /// Appends `format(seconds)` as UTF-8: `list` writes one time per generation.
  public static func appendFormatted(_ seconds: Int64, to out: inout [UInt8]) {
    // Civil from days (Howard Hinnant's algorithm): no time zone database, no libc call.
    let (days, second) = seconds.quotientAndRemainder(dividingBy: 86400)
    let (z, s) = second < 0 ? (days - 1 + 719468, second + 86400) : (days + 719468, second)
    let era = (z >= 0 ? z : z - 146096) / 146097
    let doe = z - era * 146097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    guard (0...9999).contains(year) else {
      func two(_ v: Int64) -> String { String(v).leftPadded(to: 2) }
      out += Array("\(year)-\(two(month))-\(two(day))T\(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60))Z".utf8)
      return
    }
    func put(_ v: Int64, _ digits: Int) {
      var divisor: Int64 = digits == 4 ? 1000 : 10
      while divisor > 0 {
        out.append(UInt8(truncatingIfNeeded: v / divisor % 10) &+ 0x30)
        divisor /= 10
      }
    }
    put(year, 4)
    out.append(UInt8(ascii: "-"))
    put(month, 2)
    out.append(UInt8(ascii: "-"))
    put(day, 2)
    out.append(UInt8(ascii: "T"))
    put(s / 3600, 2)
    out.append(UInt8(ascii: ":"))
    put(s / 60 % 60, 2)
    out.append(UInt8(ascii: ":"))
    put(s % 60, 2)
    out.append(UInt8(ascii: "Z"))
  }

  /// The effective user's name, or its number when it has none.
  public static func userName() -> String { userName(Syscall.effectiveUserID()) }

  /// The name of user `uid`, or its number when it has none.
  public static func userName(_ uid: UInt32) -> String {
    Syscall.userName(of: uid) ?? String(uid)
  }
}
