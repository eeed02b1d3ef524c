import MCPGenSystem

/// A small JSON value: enough for the journal and `--json` output, without Foundation.
///
/// Strings are byte strings. Bytes that are not valid UTF-8 are written as the lone surrogates
/// `\udc80`…`\udcff` (PEP 383 "surrogateescape"), and parsed back to the same bytes, so a file
/// name survives a round trip exactly (store-layout.md, "Names in JSON").
public indirect enum JSON: Equatable, Sendable {
  case null
  case bool(Bool)
  case int(Int64)
  case string([UInt8])
  case array([JSON])
  case object([(String, JSON)])

  public static func string(_ s: String) -> JSON { .string(Array(s.utf8)) }

  public static func == (a: JSON, b: JSON) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.int(let x), .int(let y)): return x == y
    case (.string(let x), .string(let y)): return x == y
    case (.array(let x), .array(let y)): return x == y
    case (.object(let x), .object(let y)):
      return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    default: return false
    }
  }

  public subscript(key: String) -> JSON? {
    guard case .object(let members) = self else { return nil }
    return members.first { $0.0 == key }?.1
  }

  public var stringBytes: [UInt8]? { if case .string(let b) = self { return b } else { return nil } }
  public var stringValue: String? { stringBytes.map { String(decoding: $0, as: UTF8.self) } }
  public var intValue: Int64? { if case .int(let i) = self { return i } else { return nil } }
  public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
  public var arrayValue: [JSON]? { if case .array(let a) = self { return a } else { return nil } }

  /// Compact, one line, keys in the order given.
  public func serialized() -> [UInt8] {
    var out: [UInt8] = []
    write(to: &out)
    return out
  }

  public var text: String { String(decoding: serialized(), as: UTF8.self) }

  /// Appends `serialized()`: output assembled row by row needs no tree of all the rows.
  public func write(to out: inout [UInt8]) {
    switch self {
    case .null: out += "null".utf8
    case .bool(let b): out += (b ? "true" : "false").utf8
    case .int(let i): out.append(decimal: i)
    case .string(let s): JSON.writeString(s, to: &out)
    case .array(let items):
      out.append(UInt8(ascii: "["))
      for (n, item) in items.enumerated() {
        if n > 0 { out.append(UInt8(ascii: ",")) }
        item.write(to: &out)
      }
      out.append(UInt8(ascii: "]"))
    case .object(let members):
      out.append(UInt8(ascii: "{"))
      for (n, (key, value)) in members.enumerated() {
        if n > 0 { out.append(UInt8(ascii: ",")) }
        if key.utf8.allSatisfy(JSON.isPlain) {
          out.append(UInt8(ascii: "\""))
          out += key.utf8
          out.append(UInt8(ascii: "\""))
        } else {
          JSON.writeString(Array(key.utf8), to: &out)
        }
        out.append(UInt8(ascii: ":"))
        value.write(to: &out)
      }
      out.append(UInt8(ascii: "}"))
    }
  }

  /// Printable ASCII that stands for itself inside a JSON string.
  static func isPlain(_ b: UInt8) -> Bool { b >= 0x20 && b < 0x7F && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") }

  public static func writeString(_ s: [UInt8], to out: inout [UInt8]) {
    func hex(_ v: UInt8) -> UInt8 { v < 10 ? v &+ 0x30 : v &+ 0x57 }
    out.append(UInt8(ascii: "\""))
    var i = 0
    while i < s.count {
      // A run that needs no escape goes in at once.
      var plain = i
      while plain < s.count, isPlain(s[plain]) { plain += 1 }
      if plain > i {
        out += s[i..<plain]
        i = plain
        continue
      }
      let b = s[i]
      if b < 0x80 {
        switch b {
        case UInt8(ascii: "\""): out += [0x5C, 0x22]
        case UInt8(ascii: "\\"): out += [0x5C, 0x5C]
        case 0x0A: out += [0x5C, UInt8(ascii: "n")]
        case 0x09: out += [0x5C, UInt8(ascii: "t")]
        case 0x0D: out += [0x5C, UInt8(ascii: "r")]
        default:  // the other control characters and DEL
          out += "\\u00".utf8
          out += [hex(b >> 4), hex(b & 0xF)]
        }
        i += 1
        continue
      }
      let n = validUTF8SequenceLength(s, at: i)
      if n > 0 {
        let scalar = decodeScalar(s, at: i, length: n)
        if isHiddenFormatting(scalar) {
          // Same code point, escaped: valid JSON either way, but `cat` of the journal or of
          // --json output must not reorder or hide what follows (store-layout.md section 12).
          func unit(_ u: UInt32) {
            out += "\\u".utf8
            for shift in [12, 8, 4, 0] { out.append(hex(UInt8((u >> UInt32(shift)) & 0xF))) }
          }
          if scalar > 0xFFFF {
            unit(0xD800 + ((scalar - 0x10000) >> 10))
            unit(0xDC00 + ((scalar - 0x10000) & 0x3FF))
          } else {
            unit(scalar)
          }
        } else {
          out += s[i..<(i + n)]
        }
        i += n
      } else {
        out += "\\udc".utf8
        out += [hex(b >> 4), hex(b & 0xF)]
        i += 1
      }
    }
    out.append(UInt8(ascii: "\""))
  }

  /// Length of the well-formed UTF-8 sequence starting at `i`, or 0 if it is not one (one
  /// definition, in MCPGenTerminal, shared with the display escaping).
  static func validUTF8SequenceLength(_ s: [UInt8], at i: Int) -> Int {
    MCPGenTerminal.validUTF8SequenceLength(s, at: i)
  }
}

/// A JSON text that does not parse; `offset` is where it went wrong.
///
/// When the text is a prefix of a valid one (it ran out of input), `offset` is its end: the
/// journal tells a record cut short by a crash from a corrupted one that way.
public struct JSONParseError: Error, Equatable, Sendable {
  public var offset: Int
}

extension JSON {
  /// Parses one JSON value that fills `bytes` (white space around it allowed).
  public init(parsing bytes: some Collection<UInt8>) throws(JSONParseError) {
    let all = Array(bytes)
    try self.init(parsing: all, range: 0..<all.count)
  }

  /// Parses `bytes[range]` without copying it (the journal parses each line in place).
  public init(parsing bytes: [UInt8], range: Range<Int>) throws(JSONParseError) {
    let parsed = JSONParser.with(bytes, range) { parser in
      Result { () throws(JSONParseError) -> JSON in
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.i == parser.end else { throw parser.fail() }
        return value
      }
    }
    switch parsed {
    case .success(let value): self = value
    case .failure(let error): throw JSONParseError(offset: error.offset - range.lowerBound)
    }
  }

  /// Whether `bytes[range]` is the beginning of a JSON object cut short: every byte of it is
  /// valid so far and only the rest is missing.
  static func isObjectCutShort(_ bytes: [UInt8], range: Range<Int>) -> Bool {
    guard let first = range.first, bytes[first] == UInt8(ascii: "{") else { return false }
    do {
      _ = try JSON(parsing: bytes, range: range)
      return false
    } catch {
      return error.offset == range.count
    }
  }
}

/// Reads through a pointer into `bytes` (valid only inside `bytes.withUnsafeBufferPointer`, see
/// `with`): no bounds check or reference count per byte on a journal of megabytes. Every read is
/// guarded by `i < end` or an explicit length check instead.
struct JSONParser {
  let bytes: [UInt8]
  let at: UnsafePointer<UInt8>
  let end: Int
  var i: Int

  /// Runs `body` with a parser over `bytes[range]`.
  static func with<T>(_ bytes: [UInt8], _ range: Range<Int>, _ body: (inout JSONParser) -> T) -> T {
    precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count, "range outside the bytes")
    return bytes.withUnsafeBufferPointer { buffer in
      guard let base = buffer.baseAddress else {
        // An empty array has no storage; its parser (i == end) never reads one.
        var none: UInt8 = 0
        return withUnsafePointer(to: &none) { none in
          var parser = JSONParser(bytes: bytes, at: none, end: 0, i: 0)
          return body(&parser)
        }
      }
      var parser = JSONParser(bytes: bytes, at: base, end: range.upperBound, i: range.lowerBound)
      return body(&parser)
    }
  }

  mutating func skipSpace() {
    while i < end {
      switch at[i] {
      case 0x20, 0x09, 0x0A, 0x0D: i += 1
      default: return
      }
    }
  }

  func fail() -> JSONParseError { JSONParseError(offset: i) }
  /// The input ran out where more was needed.
  func cutShort() -> JSONParseError { JSONParseError(offset: end) }

  mutating func literal(_ word: StaticString) throws(JSONParseError) {
    let count = word.utf8CodeUnitCount
    guard end - i >= count else {
      for k in 0..<(end - i) where at[i + k] != word.utf8Start[k] { throw fail() }
      throw cutShort()
    }
    for k in 0..<count where at[i + k] != word.utf8Start[k] { throw fail() }
    i += count
  }

  mutating func value(depth: Int) throws(JSONParseError) -> JSON {
    guard depth < 64, i < end else { throw fail() }
    switch at[i] {
    case UInt8(ascii: "n"): try literal("null"); return .null
    case UInt8(ascii: "t"): try literal("true"); return .bool(true)
    case UInt8(ascii: "f"): try literal("false"); return .bool(false)
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "["):
      i += 1
      var items: [JSON] = []
      skipSpace()
      if i < end, at[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
      while true {
        skipSpace()
        items.append(try value(depth: depth + 1))
        skipSpace()
        guard i < end else { throw fail() }
        if at[i] == UInt8(ascii: ",") { i += 1; continue }
        if at[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        throw fail()
      }
    case UInt8(ascii: "{"):
      i += 1
      var members: [(String, JSON)] = []
      skipSpace()
      if i < end, at[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
      while true {
        skipSpace()
        guard i < end, at[i] == UInt8(ascii: "\"") else { throw fail() }
        let key = String(decoding: try string(), as: UTF8.self)
        skipSpace()
        guard i < end, at[i] == UInt8(ascii: ":") else { throw fail() }
        i += 1
        skipSpace()
        members.append((key, try value(depth: depth + 1)))
        skipSpace()
        guard i < end else { throw fail() }
        if at[i] == UInt8(ascii: ",") { i += 1; continue }
        if at[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
        throw fail()
      }
    default:
      return try number()
    }
  }

  /// Integers only: every number mcp-gen writes is one. A negative number is accumulated
  /// downwards, so that Int64.min, which `write` produces, reads back (its magnitude is no Int64).
  mutating func number() throws(JSONParseError) -> JSON {
    let start = i
    let negative = i < end && at[i] == UInt8(ascii: "-")
    if negative { i += 1 }
    let digits = i
    var n: Int64 = 0
    while i < end, (0x30...0x39).contains(at[i]) {
      let digit = Int64(at[i] - 0x30)
      let (times, o1) = n.multipliedReportingOverflow(by: 10)
      let (next, o2) = negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
      guard !o1, !o2 else { i = start; throw fail() }
      n = next
      i += 1
    }
    guard i > digits else {
      if i == end { throw cutShort() }
      i = start
      throw fail()
    }
    return .int(n)
  }

  mutating func hex4() throws(JSONParseError) -> UInt32 {
    var v: UInt32 = 0
    for k in 0..<4 {
      guard i + k < end else { throw cutShort() }
      let b = at[i + k]
      switch b {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): v = v << 4 | UInt32(b - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): v = v << 4 | UInt32(b - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): v = v << 4 | UInt32(b - UInt8(ascii: "A") + 10)
      default: throw fail()
      }
    }
    i += 4
    return v
  }

  /// Where the run of string bytes that need no decoding, starting at `from`, ends: at a quote,
  /// a backslash, a control character, or the end. Eight bytes per step.
  func plainEnd(from: Int) -> Int {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let high = 0x80 &* ones
    var j = from
    while end - j >= 8 {
      let x = UInt64(littleEndian: UnsafeRawPointer(at + j).loadUnaligned(as: UInt64.self))
      // Any byte below 0x20, or equal to '"' or '\\' (zero after the xor)? Each test is exact
      // for "any byte"; a hit, true or not, leaves the rest to the byte loop below.
      let quote = x ^ (0x22 &* ones)
      let backslash = x ^ (0x5C &* ones)
      let below = (x &- 0x20 &* ones) & ~x
      let isQuote = (quote &- ones) & ~quote
      let isBackslash = (backslash &- ones) & ~backslash
      if (below | isQuote | isBackslash) & high != 0 { break }
      j += 8
    }
    while j < end {
      let b = at[j]
      if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20 { break }
      j += 1
    }
    return j
  }

  /// The bytes of the string at `i`, in place, when it holds no escape (the parser moves past
  /// it); nil, without moving, when it has one.
  mutating func plainString() -> UnsafeBufferPointer<UInt8>? {
    let j = plainEnd(from: i + 1)
    guard j < end, at[j] == UInt8(ascii: "\"") else { return nil }
    defer { i = j + 1 }
    return UnsafeBufferPointer(start: at + i + 1, count: j - i - 1)
  }

  /// A string's bytes in place when it holds no escapes; copied through `string()` otherwise.
  mutating func stringSlice() throws(JSONParseError) -> ArraySlice<UInt8> {
    let j = plainEnd(from: i + 1)
    if j < end, at[j] == UInt8(ascii: "\"") {
      defer { i = j + 1 }
      return bytes[(i + 1)..<j]
    }
    return try string()[...]
  }

  mutating func string() throws(JSONParseError) -> [UInt8] {
    i += 1
    // Most strings hold no escapes: copy them in one go.
    let j = plainEnd(from: i)
    if j < end, at[j] == UInt8(ascii: "\"") {
      let out = Array(bytes[i..<j])
      i = j + 1
      return out
    }
    var out: [UInt8] = Array(bytes[i..<j])
    i = j
    while i < end {
      let b = at[i]
      i += 1
      switch b {
      case UInt8(ascii: "\""): return out
      case UInt8(ascii: "\\"):
        guard i < end else { throw fail() }
        let e = at[i]
        i += 1
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "u"):
          var scalar = try hex4()
          if (0xDC80...0xDCFF).contains(scalar) {
            out.append(UInt8(scalar & 0xFF))  // surrogateescape: one raw byte
            continue
          }
          if (0xD800...0xDBFF).contains(scalar) {
            try literal("\\u")
            let low = try hex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw fail() }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          }
          guard let u = Unicode.Scalar(scalar) else { throw fail() }
          out += Array(String(Character(u)).utf8)
        default: throw fail()
        }
      case 0..<0x20: throw fail()
      default: out.append(b)
      }
    }
    throw fail()
  }
}
