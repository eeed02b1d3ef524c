#if canImport(Glibc)
import Glibc
#endif
/// Reads one journal line straight into a `JournalRecord`.
///
/// `list` and `status` read the whole journal on every run; building a JSON tree per line and
/// then picking fields out of it cost most of their time with a long history. The known fields
/// are decoded in place; anything else (health-check results, messages) still goes through the
/// general parser into `extra`. The result equals `JournalRecord(json: JSON(parsing: line))`.
extension JournalRecord {
  init?(line bytes: [UInt8], _ range: Range<Int>) {
    guard let record = JSONParser.with(bytes, range, JournalRecord.parse) else { return nil }
    self = record
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
            case .pid, .from, .to, .undo, .epoch, .skip: break  // not numbers: as the general path
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
          case .from: from = value.intValue
          case .to: to = value.intValue
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
