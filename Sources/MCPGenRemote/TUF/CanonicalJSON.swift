import MCPGenKit

/// The canonical JSON that TUF signatures cover, byte for byte as securesystemslib's
/// `encode_canonical` writes it and python-tuf signs it (OLPC canonical JSON):
/// - no white space; object members sorted by key in code-point order (Python's `sorted` over
///   `str`, which for valid UTF-8 is the order of the UTF-8 bytes);
/// - strings as UTF-8 between quotes, where only `"` and `\` are escaped (with a backslash):
///   control characters and all other code points are written as themselves;
/// - integers in decimal; `true`, `false`, `null`; no floating point (the engine's `JSON` has
///   none).
/// Refused, since python-tuf could not sign them either: a string or key that is not valid
/// UTF-8 (the engine's byte strings may hold any byte), and an object with a duplicated key
/// (two readers could see different values under one signature).
public enum CanonicalJSON {
  public struct EncodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
  }

  /// The canonical bytes of `value`.
  public static func encode(_ value: JSON) throws(EncodingError) -> [UInt8] {
    var out: [UInt8] = []
    try write(value, to: &out)
    return out
  }

  private static func write(_ value: JSON, to out: inout [UInt8]) throws(EncodingError) {
    switch value {
    case .null: out += "null".utf8
    case .bool(let b): out += (b ? "true" : "false").utf8
    case .int(let i): out += String(i).utf8
    case .string(let bytes): try writeString(bytes, to: &out)
    case .array(let items):
      out.append(UInt8(ascii: "["))
      for (n, item) in items.enumerated() {
        if n > 0 { out.append(UInt8(ascii: ",")) }
        try write(item, to: &out)
      }
      out.append(UInt8(ascii: "]"))
    case .object(let members):
      let sorted = members.map { (Array($0.0.utf8), $0.1) }.sorted { $0.0.lexicographicallyPrecedes($1.0) }
      out.append(UInt8(ascii: "{"))
      for (n, (key, member)) in sorted.enumerated() {
        if n > 0 {
          guard sorted[n - 1].0 != key else {
            throw EncodingError(message: "the object has the key \"\(String(decoding: key, as: UTF8.self))\" twice")
          }
          out.append(UInt8(ascii: ","))
        }
        try writeString(key, to: &out)
        out.append(UInt8(ascii: ":"))
        try write(member, to: &out)
      }
      out.append(UInt8(ascii: "}"))
    }
  }

  private static func writeString(_ bytes: [UInt8], to out: inout [UInt8]) throws(EncodingError) {
    guard String(validating: bytes, as: UTF8.self) != nil else {
      throw EncodingError(message: "a string is not valid UTF-8, which canonical JSON cannot hold")
    }
    out.append(UInt8(ascii: "\""))
    for b in bytes {
      if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
      out.append(b)
    }
    out.append(UInt8(ascii: "\""))
  }
}
