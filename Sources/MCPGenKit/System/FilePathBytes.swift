import SystemPackage

/// Raw-byte views of `FilePath`: names on disk are bytes, and are hashed, sorted and compared
/// as bytes; a `String` appears only for display.
extension FilePath {
  /// The path's bytes, without the terminating NUL.
  public var bytes: [UInt8] {
    withPlatformString { cString in
      var out: [UInt8] = []
      var p = cString
      while p.pointee != 0 {
        out.append(UInt8(bitPattern: p.pointee))
        p += 1
      }
      return out
    }
  }

  /// A path from raw bytes (no NUL inside).
  public init(bytes: [UInt8]) {
    let cString = bytes.map { CChar(bitPattern: $0) } + [0]
    self = cString.withUnsafeBufferPointer { FilePath(platformString: $0.baseAddress!) }
  }

  /// This path with a relative byte path appended ("a" + "b/c" is "a/b/c").
  public func appending(bytes relative: [UInt8]) -> FilePath {
    if relative.isEmpty || relative == [0x2E] { return self }
    var all = bytes
    if all.last != 0x2F { all.append(0x2F) }
    return FilePath(bytes: all + relative)
  }

  /// The path for messages: invalid UTF-8 is shown repaired, control characters escaped, so a
  /// hostile name can never break a one-line error.
  public var displayString: String { displayName(bytes) }
}

/// A byte name for one-line messages: UTF-8 decoded with repair, control characters escaped.
public func displayName(_ bytes: [UInt8]) -> String {
  var out = ""
  for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
    switch scalar {
    case "\n": out += "\\n"
    case "\t": out += "\\t"
    case "\r": out += "\\r"
    case "\\": out += "\\\\"
    case _ where scalar.value < 0x20 || scalar.value == 0x7F:
      out += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2)
    default: out.unicodeScalars.append(scalar)
    }
  }
  return out
}

extension String {
  public func leftPadded(to width: Int, with pad: Character = "0") -> String {
    count >= width ? self : String(repeating: pad, count: width - count) + self
  }
}

/// Calls `body` with `bytes` as a NUL-terminated C string.
@inline(__always)
func withCString<R, E: Error>(
  _ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws(E) -> R
) throws(E) -> R {
  var buffer = bytes
  buffer.append(0)
  return try buffer.withUnsafeBufferPointer { (p) throws(E) -> R in
    try p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { (c) throws(E) -> R in try body(c) }
  }
}

/// Splits a relative byte path into its parent (empty for a top-level name) and last component.
func splitLast(_ path: [UInt8]) -> (parent: [UInt8], name: [UInt8]) {
  guard let slash = path.lastIndex(of: 0x2F) else { return ([], path) }
  return (Array(path[..<slash]), Array(path[(slash + 1)...]))
}
