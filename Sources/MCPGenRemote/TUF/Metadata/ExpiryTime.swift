/// The `expires` field of TUF metadata: RFC 3339 in UTC with a `Z` and whole seconds,
/// `YYYY-MM-DDTHH:MM:SSZ`, the only form the specification's examples and python-tuf write.
/// Anything else is refused rather than guessed at: an expiry read wrong is a freeze attack.
enum ExpiryTime {
  /// Seconds since the epoch, or nil when `text` is not exactly that form or not a real date.
  static func parse(_ text: String) -> Int64? {
    let b = Array(text.utf8)
    guard b.count == 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
      b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"), b[19] == UInt8(ascii: "Z")
    else { return nil }
    func number(_ range: Range<Int>) -> Int64? {
      var v: Int64 = 0
      for i in range {
        guard (0x30...0x39).contains(b[i]) else { return nil }
        v = v * 10 + Int64(b[i] - 0x30)
      }
      return v
    }
    guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
      let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
      (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
      hour < 24, minute < 60, second < 60
    else { return nil }
    return daysFromCivil(year: year, month: month, day: day) * 86400 + hour * 3600 + minute * 60 + second
  }

  static func daysIn(month: Int64, year: Int64) -> Int64 {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }

  /// Days since 1970-01-01 (Howard Hinnant's algorithm, as `Clock.format` uses the inverse).
  static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = month > 2 ? month - 3 : month + 9
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146097 + doe - 719468
  }
}
