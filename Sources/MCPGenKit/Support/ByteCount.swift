import MCPGenSystem

/// Sizes for people, one rule everywhere (`gc`, `audit`, `diff`, `show`, `switch`).
///
/// Decimal units: 1 KB = 1000 B, 1 MB = 1000 KB, up to EB. Below 1000 bytes the exact count
/// (`999 B`); from 1000 bytes on, the largest unit that keeps the value under 1000, with one
/// decimal rounded half up (`1.5 KB` for 1,450 to 1,549 bytes). A value that rounds up to 1000.0
/// moves to the next unit (999,960 bytes is `1.0 MB`, never `1000.0 KB`). Integer arithmetic
/// only, so the text is exact for every UInt64.
public enum ByteCount {
  static let units = ["KB", "MB", "GB", "TB", "PB", "EB"]

  public static func text(_ n: UInt64) -> String {
    if n < 1000 { return "\(n) B" }
    var divisor: UInt64 = 1000
    for (i, unit) in units.enumerated() {
      // n / divisor in tenths, rounded half up; r * 10 < 10 * divisor <= 1e19 fits a UInt64.
      let q = n / divisor
      let r = n % divisor
      let tenths = q * 10 + (r * 10 + divisor / 2) / divisor
      if tenths < 10_000 || i == units.count - 1 {
        return "\(tenths / 10).\(tenths % 10) \(unit)"
      }
      divisor *= 1000
    }
    preconditionFailure("unreachable: the last unit always returns")
  }

  /// A change in size, always signed: `+40.0 KB`, `-512 B`, `+0 B`.
  public static func signedText(_ delta: Int64) -> String {
    (delta < 0 ? "-" : "+") + text(delta.magnitude)
  }
}
