#if canImport(Glibc)
import Glibc
#endif
import MCPGenSystem
/// Reads one journal line straight into a `JournalRecord`.
///
/// `list` and `status` read the whole journal on every run; building a JSON tree per line and
/// then picking fields out of it cost most of their time with a long history. The known fields
/// are decoded in place; anything else (health-check results, messages) still goes through the
/// general parser into `extra`. The result equals `JournalRecord(json: JSON(parsing: line))`.
extension JournalRecord {
  init?(line bytes: [UInt8], _ range: Range<Int>) {
    guard let record = JSONParser.with(bytes, range, { JournalRecord.parseAsWritten(&$0) ?? JournalRecord.parse(&$0) }),
      record.hasValidGenerationNumbers
    else { return nil }
    self = record
  }

  /// A line exactly as `json.serialized()` writes it: the known fields in their order, no
  /// spaces, strings without escapes, no extra fields but `undo` and a `label` with its
  /// `labelFrom` (in `extra`, as the general path puts them). Nearly every line is one,
  /// and is read here by matching the names in place instead of scanning for them. Anything
  /// else returns nil, with the parser where it was, for `parse`.
  static func parseAsWritten(_ p: inout JSONParser) -> JournalRecord? {
    let start = p.i
    guard let record = matchAsWritten(&p) else {
      p.i = start
      return nil
    }
    return record
  }

  private static func matchAsWritten(_ p: inout JSONParser) -> JournalRecord? {
    @inline(__always) func literal(_ s: StaticString) -> Bool {
      let n = s.utf8CodeUnitCount
      guard p.end - p.i >= n, memcmp(p.at + p.i, s.utf8Start, n) == 0 else { return false }
      p.i += n
      return true
    }
    /// A string's bytes up to its closing quote, which must be followed by `then`.
    @inline(__always) func string(then: StaticString) -> UnsafeBufferPointer<UInt8>? {
      let j = p.plainEnd(from: p.i)
      guard j < p.end, p.at[j] == UInt8(ascii: "\"") else { return nil }
      let text = UnsafeBufferPointer(start: p.at + p.i, count: j - p.i)
      p.i = j + 1
      return literal(then) ? text : nil
    }
    /// An integer of at most 18 digits (no overflow), followed by `,`.
    @inline(__always) func integer() -> Int64? {
      let negative = p.i < p.end && p.at[p.i] == UInt8(ascii: "-")
      if negative { p.i += 1 }
      var n: Int64 = 0
      let digits = p.i
      while p.i < p.end, p.at[p.i] &- 0x30 < 10, p.i - digits < 18 {
        n = n * 10 + Int64(p.at[p.i] &- 0x30)
        p.i += 1
      }
      guard p.i > digits, literal(",") else { return nil }
      return negative ? -n : n
    }
    func optionalInteger() -> Int64?? { literal("null,") ? .some(nil) : integer().map { .some($0) } }

    guard literal(#"{"time":""#), let timeText = string(then: #","pid":"#), let time = Clock.parse(bytes: timeText),
      let pid = integer(), literal(#""user":""#), let user = string(then: #","command":""#),
      let command = string(then: #","op":""#), let op = string(then: #","from":"#),
      let from = optionalInteger(), literal(#""to":"#), let to = optionalInteger(), literal(#""key":"#)
    else { return nil }
    var key: StoreKey? = nil
    if !literal("null,") {
      guard literal("\""), let text = string(then: ","), let parsed = StoreKey(bytes: text) else { return nil }
      key = parsed
    }
    var source: [UInt8]? = nil
    if literal(#""source":""#) {
      guard let text = string(then: ",") else { return nil }
      source = Array(text)
    }
    guard literal(#""outcome":""#), let outcome = string(then: "") else { return nil }
    let undo = literal(#","undo":true"#)
    var extra: [(String, JSON)] = []
    if literal(#","label":""#) {
      guard let label = string(then: #","labelFrom":""#), let origin = string(then: "") else { return nil }
      extra = [("label", .string(Array(label))), ("labelFrom", .string(Array(origin)))]
    }
    guard literal("}"), p.i == p.end else { return nil }
    return JournalRecord(
      time: time, pid: pid, user: String(decoding: user, as: UTF8.self), command: Array(command),
      operation: Operation(rawValue: String(decoding: op, as: UTF8.self)), from: from, to: to, key: key,
      source: source, outcome: String(decoding: outcome, as: UTF8.self), undo: undo, extra: extra)
  }

  private static func parse(_ p: inout JSONParser) -> JournalRecord? {
    var time: Int64?, pid: Int64?, user: String?, command: [UInt8]?, op: String?, outcome: String?
    var from: Int64?, to: Int64?, key: StoreKey?, source: [UInt8]?, undo = false
    var extra: [(String, JSON)] = []
    var seen: UInt16 = 0  // one bit per known name: the general path keeps the first of repeats
    do throws(JSONParseError) {
      p.skipSpace()
      guard p.i < p.end, p.at[p.i] == UInt8(ascii: "{") else { return nil }
      p.i += 1
      p.skipSpace()
      if p.i < p.end, p.at[p.i] == UInt8(ascii: "}") { return nil }
      while true {
        p.skipSpace()
        guard p.i < p.end, p.at[p.i] == UInt8(ascii: "\"") else { return nil }
        // A name is nearly always a known one: matched where it is, no slice made.
        var name: ArraySlice<UInt8> = []
        let field: Field?
        if let text = p.plainString() {
          field = JournalRecord.field(at: text.baseAddress!, count: text.count)
          if field == nil { name = ArraySlice(text) }
        } else {
          name = try p.stringSlice()
          field = JournalRecord.field(named: name)
        }
        p.skipSpace()
        guard p.i < p.end, p.at[p.i] == UInt8(ascii: ":") else { return nil }
        p.i += 1
        p.skipSpace()
        let first = field.map { seen & (1 << $0.rawValue) == 0 } ?? true
        if let field { seen |= 1 << field.rawValue }
        let isString = p.i < p.end && p.at[p.i] == UInt8(ascii: "\"")
        if first, isString, let field, field != .undo {
          // Strings decoded in place: no JSON value in between, at most one copy of the bytes.
          func take(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
            switch field {
            case .time:
              time = Clock.parse(bytes: text)
              if time == nil { return false }
            case .user: user = String(decoding: text, as: UTF8.self)
            case .command: command = Array(text)
            case .op: op = String(decoding: text, as: UTF8.self)
            case .outcome: outcome = String(decoding: text, as: UTF8.self)
            case .key: key = StoreKey(bytes: text)
            case .source: source = Array(text)
            case .from, .to: return false  // a generation number or null, never a string
            case .pid, .undo, .epoch, .skip: break  // not numbers: as the general path
            }
            return true
          }
          if let text = p.plainString() {
            guard take(text) else { return nil }
          } else {
            guard try p.string().withUnsafeBufferPointer(take) else { return nil }
          }
        } else if first, !isString, let field, field == .pid || field == .from || field == .to,
          p.i < p.end, p.at[p.i] == UInt8(ascii: "-") || (0x30...0x39).contains(p.at[p.i])
        {
          guard case .int(let n) = try p.number() else { return nil }
          switch field {
          case .pid: pid = n
          case .from: from = n
          default: to = n
          }
        } else {
          let value = try p.value(depth: 1)
          switch first ? field : .skip {
          case .time: time = value.stringBytes.flatMap { Clock.parse(bytes: $0[...]) }
          case .pid: pid = value.intValue
          case .user: user = value.stringValue
          case .command: command = value.stringBytes
          case .op: op = value.stringValue
          case .outcome: outcome = value.stringValue
          case .from, .to:
            // A generation number or null: anything else (a fraction, an object) is no number.
            guard value == .null || value.intValue != nil else { return nil }
            if field == .from { from = value.intValue } else { to = value.intValue }
          case .key: key = value.stringBytes.flatMap { StoreKey(bytes: $0) }
          case .source: source = value.stringBytes
          case .undo: undo = value.boolValue ?? false
          case .epoch, .skip: break
          case nil: extra.append((String(decoding: name, as: UTF8.self), value))
          }
        }
        p.skipSpace()
        guard p.i < p.end else { return nil }
        if p.at[p.i] == UInt8(ascii: ",") { p.i += 1; continue }
        if p.at[p.i] == UInt8(ascii: "}") { p.i += 1; break }
        return nil
      }
      p.skipSpace()
      guard p.i == p.end else { return nil }
    } catch {
      return nil
    }
    guard let op, let pid, let command, let outcome, let time else { return nil }
    return JournalRecord(
      time: time, pid: pid, user: user ?? "", command: command, operation: Operation(rawValue: op),
      from: from, to: to, key: key, source: source, outcome: outcome, undo: undo, extra: extra)
  }
}

extension JournalRecord {
  enum Field: UInt16 {
    case time, pid, user, command, op, outcome, from, to, key, source, undo, epoch, skip
  }

  /// The known field `name` is, compared in place; nil for any other name.
  static func field(named name: ArraySlice<UInt8>) -> Field? {
    name.withUnsafeBufferPointer { field(at: $0.baseAddress ?? UnsafePointer(bitPattern: 1)!, count: $0.count) }
  }

  /// The known field the `count` bytes at `name` spell; nil for any other name.
  static func field(at name: UnsafePointer<UInt8>, count: Int) -> Field? {
    func equals(_ s: StaticString) -> Bool { memcmp(name, s.utf8Start, count) == 0 }
    switch count {
    case 2: return equals("op") ? .op : equals("to") ? .to : nil
    case 3: return equals("pid") ? .pid : equals("key") ? .key : nil
    case 4: return equals("time") ? .time : equals("user") ? .user : equals("from") ? .from : equals("undo") ? .undo : nil
    case 5: return equals("epoch") ? .epoch : nil
    case 6: return equals("source") ? .source : nil
    case 7: return equals("command") ? .command : equals("outcome") ? .outcome : nil
    default: return nil
    }
  }
}
