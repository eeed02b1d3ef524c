/// Text appended to bytes without making a `String` first: `list` writes several fields per
/// generation, and appending a string's UTF-8 view costs more than copying the bytes.
extension Array where Element == UInt8 {
  /// Appends the bytes of a literal.
  public mutating func append(text: StaticString) {
    append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
  }

  /// Appends `n` in decimal: the bytes of `String(n).utf8`.
  public mutating func append(decimal n: Int64) {
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: a sign and 19 digits fit
    Swift.withUnsafeMutableBytes(of: &digits) { raw in
      var start = raw.count
      var rest = n.magnitude
      repeat {
        start -= 1
        raw[start] = UInt8(truncatingIfNeeded: rest % 10) &+ 0x30
        rest /= 10
      } while rest > 0
      if n < 0 {
        start -= 1
        raw[start] = UInt8(ascii: "-")
      }
      append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[start...]))
    }
  }
}
