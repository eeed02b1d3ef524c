import MCPGenSystem

/// Reads one journal line into a `JournalRecord`: the journal's one reader, driven by
/// `JournalField.all`.
///
/// `list` and `status` read the whole journal on every run; building a JSON tree per line and
/// then picking fields out of it cost most of their time with a long history. So the record's
/// own fields are decoded in place (strings without escapes are never copied twice); every other
/// field goes through the general parser into `extra`, checked as its kind says.
extension JournalRecord {
  /// The record `bytes[range]` (one line, newline excluded) holds; nil when it holds none that can
  /// be trusted: not a journal object, a seal that does not match (`JournalLineSeal`), no seal
  /// although `sealed` (an earlier line of the journal has one), or a generation number that is
  /// none (`hasValidGenerationNumbers`).
  public init?(line bytes: [UInt8], _ range: Range<Int>, sealed: Bool = false) {
    guard let record = JSONParser.with(bytes, range, { p in JournalRecord.decode(&p, sealed: sealed) }),
      record.hasValidGenerationNumbers
    else { return nil }
    self = record
  }

  private static func decode(_ p: inout JSONParser, sealed: Bool) -> JournalRecord? {
    let hasSeal = JournalLineSeal.isSealed(p.at + p.i, count: p.end - p.i)
    if hasSeal {
      guard JournalLineSeal.isIntact(p.at + p.i, count: p.end - p.i) else { return nil }
    } else if sealed {
      return nil
    }
    let fields = JournalField.lookup
    let longest = JournalField.Lookup.longestName
    var next = 0  // the field expected next, after the one just read
    var record = JournalRecord(time: 0, pid: 0, user: "", command: [], operation: .add, outcome: "")
    var seen: UInt64 = 0  // one bit per field of the table: the first of repeats counts
    var seals = 0
    do throws(JSONParseError) {
      p.skipSpace()
      guard p.i < p.end, p.at[p.i] == UInt8(ascii: "{") else { return nil }
      p.i += 1
      p.skipSpace()
      if p.i < p.end, p.at[p.i] == UInt8(ascii: "}") { return nil }
      while true {
        p.skipSpace()
        guard p.i < p.end, p.at[p.i] == UInt8(ascii: "\"") else { return nil }
        // A name is nearly always one of the table's: matched where it is, no slice made.
        var name: ArraySlice<UInt8> = []
        let index: Int?
        let expected = fields.quotedName(next, at: p.at + p.i, available: p.end - p.i)
        if expected > 0 {
          // The field after the one before, as the writer orders them: no name to look up.
          index = next
          p.i += expected
        } else if let j = Self.shortNameEnd(p, longest: longest) {
          // A short name without escapes, the names of the table among them: looked up in place.
          index = fields.index(at: p.at + p.i + 1, count: j - p.i - 1, next: next)
          if index == nil { name = ArraySlice(UnsafeBufferPointer(start: p.at + p.i + 1, count: j - p.i - 1)) }
          p.i = j + 1
        } else if let text = p.plainString() {
          index = nil  // longer than every name of the table, or not ASCII as they all are
          name = ArraySlice(text)
        } else {
          name = try p.stringSlice()
          index = name.withUnsafeBufferPointer { fields.index(at: $0.baseAddress ?? UnsafePointer(bitPattern: 1)!, count: $0.count) }
        }
        p.skipSpace()
        guard p.i < p.end, p.at[p.i] == UInt8(ascii: ":") else { return nil }
        p.i += 1
        p.skipSpace()
        let first = index.map { seen & (1 << UInt64($0)) == 0 } ?? true
        if let index {
          seen |= 1 << UInt64(index)
          next = index + 1
        }
        if let index, let slot = fields.slots[index] {
          if first {
            guard try record.decode(slot, &p) else { return nil }
          } else {
            _ = try p.value(depth: 1)  // a repeated name: the first one counts
          }
        } else {
          let value = try p.value(depth: 1)
          if let index {
            switch fields.kinds[index] {
            case .checksum: seals += 1  // checked above, with the line's bytes; not data
            case .generation where value != .null && value.intValue == nil: return nil
            default: record.extra.append((JournalField.all[index].text, value))
            }
          } else {
            record.extra.append((String(decoding: name, as: UTF8.self), value))
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
    // A `crc` is the seal, last, or damage: one elsewhere is checked by nothing.
    guard seals == (hasSeal ? 1 : 0) else { return nil }
    guard seen & fields.required == fields.required else { return nil }
    return record
  }

  /// Where the name at the parser ends (its closing quote) when it is at most `longest` bytes of
  /// printable ASCII without escapes, as every name of the table is; nil otherwise.
  private static func shortNameEnd(_ p: JSONParser, longest: Int) -> Int? {
    var j = p.i + 1
    while j < p.end, j - p.i <= longest, JSON.isPlain(p.at[j]) { j += 1 }
    return j < p.end && p.at[j] == UInt8(ascii: "\"") ? j : nil
  }

  /// Decodes the value at the parser into the property `slot`. False when the
  /// value is not one the line may hold there (the line is then no record).
  private mutating func decode(_ slot: JournalField.Slot, _ p: inout JSONParser) throws(JSONParseError) -> Bool {
    if p.i < p.end, p.at[p.i] == UInt8(ascii: "\"") {
      // Strings decoded in place: no JSON value in between, at most one copy of the bytes.
      if let text = p.plainString() { return take(slot, text) }
      return try p.string().withUnsafeBufferPointer { take(slot, $0) }
    }
    // Anything else is read whole. As ever: a generation that is neither a number nor null, or
    // a pid that is no integer, makes the line no record; any other field of the wrong type
    // counts as missing (a required one then makes the line no record, at the end).
    let value = try p.value(depth: 1)
    switch slot {
    case .pid:
      guard let n = value.intValue else { return false }
      pid = n
    case .from, .to:
      guard value == .null || value.intValue != nil else { return false }
      if slot == .from { from = value.intValue } else { to = value.intValue }
    case .undo: undo = value.boolValue ?? false
    case .key: key = nil
    case .time, .command, .op, .outcome: return false
    case .user, .source: break
    }
    return true
  }

  /// Takes the string `text` as the value of `slot`: a pointer into the line itself, or into
  /// the one decoded copy of a string with escapes.
  private mutating func take(_ slot: JournalField.Slot, _ text: UnsafeBufferPointer<UInt8>) -> Bool {
    switch slot {
    case .time:
      guard let parsed = Clock.parse(bytes: text) else { return false }
      time = parsed
    case .user: user = String(decoding: text, as: UTF8.self)
    case .command: command = Array(text)
    case .op: operation = Operation(rawValue: String(decoding: text, as: UTF8.self))
    case .outcome: outcome = String(decoding: text, as: UTF8.self)
    case .key: key = StoreKey(bytes: text)  // not a key: none, as it always was
    case .source: source = Array(text)
    case .pid, .from, .to, .undo: return false  // numbers or a flag, never a string
    }
    return true
  }
}
