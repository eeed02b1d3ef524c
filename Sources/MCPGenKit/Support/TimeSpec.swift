import MCPGenSystem

/// Times and durations as an operator types them: `log --since`, `gc --older-than`.
///
/// A duration is a whole number and one unit: `45s`, `90m` (minutes), `12h`, `30d`, `2w`, as
/// `nix-collect-garbage --delete-older-than 30d` takes it. A time is what the journal writes
/// (`2026-05-04T09:12:38Z`, UTC) or a UTC day (`2026-05-04`, its midnight), or a duration meaning
/// that long before now.
public enum TimeSpec {
  static let units: [(UInt8, Int64)] = [
    (UInt8(ascii: "s"), 1), (UInt8(ascii: "m"), 60), (UInt8(ascii: "h"), 3600),
    (UInt8(ascii: "d"), 86400), (UInt8(ascii: "w"), 7 * 86400),
  ]

  /// Seconds in `30d`; nil when the text is not a number and one unit.
  public static func duration(_ text: String) -> Int64? {
    let bytes = Array(text.utf8)
    guard bytes.count >= 2, let unit = units.first(where: { $0.0 == bytes.last! })?.1 else { return nil }
    var n: Int64 = 0
    for b in bytes.dropLast() {
      guard (0x30...0x39).contains(b) else { return nil }
      let (times, o1) = n.multipliedReportingOverflow(by: 10)
      let (sum, o2) = times.addingReportingOverflow(Int64(b - 0x30))
      guard !o1, !o2 else { return nil }
      n = sum
    }
    let (seconds, overflow) = n.multipliedReportingOverflow(by: unit)
    return overflow ? nil : seconds
  }

  /// The moment `text` names, in seconds since the epoch: a journal time, a UTC day, or a
  /// duration before `now`. nil when it is none of these.
  public static func moment(_ text: String, now: Int64 = Clock.now()) -> Int64? {
    if let seconds = duration(text) { return now - seconds }
    if let time = Clock.parse(text) { return time }
    if text.utf8.count == 10 { return Clock.parse(text + "T00:00:00Z") }
    return nil
  }

  /// `30 d`, `12 h`, `90 min`, `45 s`: a duration in the largest unit that divides it.
  public static func text(_ seconds: Int64) -> String {
    if seconds > 0 && seconds % 86400 == 0 { return "\(seconds / 86400) d" }
    if seconds > 0 && seconds % 3600 == 0 { return "\(seconds / 3600) h" }
    if seconds > 0 && seconds % 60 == 0 { return "\(seconds / 60) min" }
    return "\(seconds) s"
  }

  /// `12 s`, `5 min`, `3 h`, `2 d`: how long ago, rounded down to the unit that matters.
  public static func approximate(_ seconds: Int64) -> String {
    let s = max(seconds, 0)
    if s < 120 { return "\(s) s" }
    if s < 7200 { return "\(s / 60) min" }
    if s < 2 * 86400 { return "\(s / 3600) h" }
    return "\(s / 86400) d"
  }
}
