import SystemPackage

/// Raw-byte views of `FilePath`: names on disk are bytes, and are hashed, sorted and compared
/// as bytes; a `String` appears only for display.
extension FilePath {
  /// The path's bytes, without the terminating NUL.
  /// Copied in one piece once its length is known: a pull makes one for each of thousands of
  /// files, and appending byte by byte regrew the array (about 1% of a full pull's CPU).
  public var bytes: [UInt8] {
    withPlatformString { cString in
      var count = 0
      while cString[count] != 0 { count += 1 }
      return cString.withMemoryRebound(to: UInt8.self, capacity: count) { Array(UnsafeBufferPointer(start: $0, count: count)) }
    }
  }

  /// A path from raw bytes (no NUL inside).
  public init(bytes: [UInt8]) {
    let cString = [CChar](unsafeUninitializedCapacity: bytes.count + 1) { buffer, initialized in
      bytes.withUnsafeBytes { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: $0) }
      buffer[bytes.count] = 0
      initialized = bytes.count + 1
    }
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

/// A byte name for one-line messages: valid UTF-8 as is, every byte that is not part of valid
/// UTF-8 as `\xNN`, control characters (C0, DEL, C1) and backslashes escaped, and so are the
/// invisible characters that change how the rest of a line reads (`isHiddenFormatting`: the
/// bidirectional overrides, zero-width characters, line separators), each of their UTF-8 bytes as
/// `\xNN`. Distinct names always display differently, and no name can break a line, drive a
/// terminal, or show as another name.
public func displayName(_ bytes: [UInt8]) -> String {
  String(decoding: displayNameBytes(bytes), as: UTF8.self)
}

/// `displayName` as UTF-8 bytes, for output assembled as bytes (a `list` of 10,000 rows).
public func displayNameBytes(_ bytes: [UInt8]) -> [UInt8] {
  // Printable ASCII without a backslash, the usual case, is shown as it is.
  if bytes.allSatisfy({ $0 &- 0x20 < 0x5F && $0 != 0x5C }) { return bytes }
  let hex = Array("0123456789abcdef".utf8)
  var out: [UInt8] = []
  out.reserveCapacity(bytes.count)
  func escape(_ b: UInt8) { out += [0x5C, 0x78, hex[Int(b >> 4)], hex[Int(b & 0xF)]] }
  var i = 0
  while i < bytes.count {
    let b = bytes[i]
    if b < 0x80 {
      switch b {
      case 0x0A: out += [0x5C, 0x6E]
      case 0x09: out += [0x5C, 0x74]
      case 0x0D: out += [0x5C, 0x72]
      case 0x5C: out += [0x5C, 0x5C]
      case 0..<0x20, 0x7F: escape(b)
      default: out.append(b)
      }
      i += 1
      continue
    }
    let n = validUTF8SequenceLength(bytes, at: i)
    if n == 0 {
      escape(b)
      i += 1
    } else if isHiddenFormatting(decodeScalar(bytes, at: i, length: n)) {
      for k in i..<(i + n) { escape(bytes[k]) }
      i += n
    } else {
      out += bytes[i..<(i + n)]
      i += n
    }
  }
  return out
}

/// Whether a character is invisible yet changes how the text around it reads: C1 controls
/// (U+0080-U+009F), line and paragraph separators (U+2028, U+2029), and every format character
/// (Unicode category Cf: the bidirectional embeddings, overrides and isolates U+202A-U+202E and
/// U+2066-U+2069, the marks U+200E/U+200F and U+061C, zero-width U+200B-U+200D, U+2060-U+2064,
/// U+FEFF, the soft hyphen U+00AD, tags U+E0000-U+E007F, ...). `bin/mcp\u{202E}lmth.exe` would
/// otherwise show as another name.
public func isHiddenFormatting(_ scalar: UInt32) -> Bool {
  if scalar < 0x80 { return false }
  if scalar < 0xA0 { return true }
  guard scalar >= 0xAD, let u = Unicode.Scalar(scalar) else { return false }
  switch u.properties.generalCategory {
  case .format, .lineSeparator, .paragraphSeparator, .control: return true
  default: return false
  }
}

/// The code point of the well-formed UTF-8 sequence of `length` bytes at `i`.
public func decodeScalar(_ bytes: [UInt8], at i: Int, length: Int) -> UInt32 {
  switch length {
  case 1: return UInt32(bytes[i])
  case 2: return UInt32(bytes[i] & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F)
  case 3: return UInt32(bytes[i] & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F)
  default:
    return UInt32(bytes[i] & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
      | UInt32(bytes[i + 3] & 0x3F)
  }
}

extension String {
  public func leftPadded(to width: Int, with pad: Character = "0") -> String {
    count >= width ? self : String(repeating: pad, count: width - count) + self
  }
}

/// Length of the well-formed UTF-8 sequence starting at `i`, or 0 if it is not one.
public func validUTF8SequenceLength(_ s: [UInt8], at i: Int) -> Int {
  let b0 = s[i]
  let (n, low, high): (Int, UInt8, UInt8)
  switch b0 {
  case 0xC2...0xDF: (n, low, high) = (2, 0x80, 0xBF)
  case 0xE0: (n, low, high) = (3, 0xA0, 0xBF)
  case 0xE1...0xEC, 0xEE...0xEF: (n, low, high) = (3, 0x80, 0xBF)
  case 0xED: (n, low, high) = (3, 0x80, 0x9F)
  case 0xF0: (n, low, high) = (4, 0x90, 0xBF)
  case 0xF1...0xF3: (n, low, high) = (4, 0x80, 0xBF)
  case 0xF4: (n, low, high) = (4, 0x80, 0x8F)
  default: return 0
  }
  guard i + n <= s.count, (low...high).contains(s[i + 1]) else { return 0 }
  for k in 2..<max(2, n) where !(0x80...0xBF).contains(s[i + k]) { return 0 }
  return n
}
