import MCPGenSystem

/// Text appended to bytes without making a `String` first: `list` writes several fields per
/// generation, and appending a string's UTF-8 view costs more than copying the bytes.
extension Array where Element == UInt8 {
  /// Appends the bytes of a literal.
  /// (A StaticString's bytes are reachable only through its pointer.)
  public mutating func append(text: StaticString) {
    append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
  }

  /// Appends `n` in decimal: the bytes of `String(n).utf8`.
  public mutating func append(decimal n: Int64) {
    withDecimal(n) { append(contentsOf: $0) }
  }
}

/// Calls `body` with the decimal digits of `n` (the bytes of `String(n).utf8`), written on the
/// stack and followed by a NUL, so that they also serve as a C string.
func withDecimal<R, E: Error>(_ n: Int64, _ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
  var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: a sign, 19 digits and a NUL fit
  let result = withUnsafeMutableBytes(of: &digits) { raw -> Result<R, E> in
    var start = raw.count - 1  // raw[23] stays 0: the NUL
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
    do throws(E) {
      return .success(try body(UnsafeRawBufferPointer(rebasing: raw[start..<(raw.count - 1)])))
    } catch {
      return .failure(error)
    }
  }
  return try result.get()
}
