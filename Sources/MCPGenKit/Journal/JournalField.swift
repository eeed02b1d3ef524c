/// The fields a journal line may carry: the one table that both the writer
/// (`JournalRecord.json`) and the reader (`JournalRecord(line:_:sealed:)`) work from, in the order
/// they are written. store-layout.md section 6 is this table for people; a test checks that both
/// name the same fields.
struct JournalField: Sendable {
  /// What the value is, and so how the reader decodes and checks it.
  enum Kind: Sendable {
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    case time
    case integer
    /// A string of UTF-8 text.
    case text
    /// A string of bytes (JSON escapes as section 7 says).
    case bytes
    /// An op word (`JournalRecord.Operation`).
    case operation
    /// A generation number (1 through `Generation.maximum`) or `null`.
    case generation
    /// A store key (64 hex digits) or `null`.
    case storeKey
    case flag
    /// A list of generation numbers.
    case generations
    /// A list of check results, each `generation` a generation number.
    case checks
    /// Anything JSON; read and written as is.
    case any
    /// The line's checksum, `crc`: read and checked by `JournalLineSeal`, never by the decoder.
    case checksum
  }

  enum Presence: Sendable {
    /// On every line; a line without it is no record.
    case required
    /// Written on every line (`null`, or empty text, when there is none); read as none if missing.
    case always
    /// Written only when there is one.
    case optional
  }

  /// Where a decoded value goes: one of `JournalRecord`'s own properties, or nil for the fields
  /// kept, as parsed, in its `extra`.
  enum Slot: Sendable {
    case time, pid, user, command, op, from, to, key, source, outcome, undo
  }

  let name: StaticString
  let kind: Kind
  let presence: Presence
  /// The ops whose lines carry it; empty: every op.
  let ops: [JournalRecord.Operation]
  let slot: Slot?

  init(_ name: StaticString, _ kind: Kind, _ presence: Presence, _ ops: [JournalRecord.Operation] = [], _ slot: Slot? = nil) {
    self.name = name
    self.kind = kind
    self.presence = presence
    self.ops = ops
    self.slot = slot
  }

  var text: String { name.description }
}

extension JournalField {
  /// Every field, in the order a line carries them: the record's own fields, then the others in
  /// the order the command that writes them gives, then `crc`, always last.
  static let all: [JournalField] = [
    // name             kind          presence    ops (empty: every op)                   slot
    .init("time",       .time,        .required,  [],                                     .time),
    .init("pid",        .integer,     .required,  [],                                     .pid),
    .init("user",       .text,        .always,    [],                                     .user),
    .init("command",    .bytes,       .required,  [],                                     .command),
    .init("op",         .operation,   .required,  [],                                     .op),
    .init("from",       .generation,  .always,    [],                                     .from),
    .init("to",         .generation,  .always,    [],                                     .to),
    .init("key",        .storeKey,    .always,    [],                                     .key),
    .init("source",     .bytes,       .optional,  [.add, .start, .switch, .rollback, .heal], .source),
    .init("outcome",    .text,        .required,  [],                                     .outcome),
    .init("undo",       .flag,        .optional,  [.rollback, .abort],                    .undo),
    .init("label",      .text,        .optional,  [.add, .switch]),
    .init("labelFrom",  .text,        .optional,  [.add, .switch]),
    .init("added",      .flag,        .optional,  [.start, .switch]),
    .init("skipped",    .generations, .optional,  [.rollback]),
    .init("checks",     .checks,      .optional,  [.switch, .rollback, .check]),
    .init("restoredChecks", .checks,  .optional,  [.switch, .rollback]),
    .init("rollbackFailure", .text,   .optional,  [.switch, .rollback]),
    .init("signal",     .text,        .optional,  [.switch, .rollback]),
    .init("current",    .generation,  .optional,  [.switch, .rollback]),
    .init("note",       .text,        .optional,  [.recover, .rollback]),
    .init("generations", .generations, .optional, [.gc]),
    .init("entries",    .any,         .optional,  [.gc]),
    .init("bytesFreed", .integer,     .optional,  [.gc]),
    .init("unrestorable", .generations, .optional, [.repair]),
    .init("quarantined", .any,        .optional,  [.repair, .heal]),
    .init("problem",    .text,        .optional,  [.heal]),
    .init("manifest",   .text,        .optional,  [.heal]),
    .init("quick",      .flag,        .optional,  [.audit]),
    .init("entriesChecked", .integer, .optional,  [.audit]),
    .init("errors",     .integer,     .optional,  [.audit]),
    .init("warnings",   .integer,     .optional,  [.audit]),
    .init("crc",        .checksum,    .always,    []),
  ]

  /// What the reader looks up for each name of every line, in flat arrays of plain values
  /// (reading a `JournalField` out of `all` would copy its `ops` array). A reader takes it once
  /// per line (`JournalField.lookup`), not once per name: every static access costs a check.
  final class Lookup: Sendable {
    /// Each field's slot and kind, by index in `all`.
    let slots: [Slot?] = all.map(\.slot)
    let kinds: [Kind] = all.map(\.kind)
    /// One bit per field of `all` that a line must have.
    let required: UInt64 = all.enumerated().reduce(0) { $1.element.presence == .required ? $0 | 1 << UInt64($1.offset) : $0 }
    /// The names' bytes, one after another; field `k`'s are `nameBytes[nameStart[k]...]`.
    private let nameBytes: [UInt8] = all.flatMap { Array($0.text.utf8) }
    private let nameStart: [Int] = all.reduce(into: [0]) { $0.append($0.last! + $1.name.utf8CodeUnitCount) }
    /// The fields whose names have `n` bytes: `byLength[lengthStart[n]..<lengthStart[n + 1]]`.
    private let byLength: [Int] = all.indices.sorted { (all[$0].name.utf8CodeUnitCount, $0) < (all[$1].name.utf8CodeUnitCount, $1) }
    private let lengthStart: [Int] = (0...longestName + 1).map { n in all.filter { $0.name.utf8CodeUnitCount < n }.count }
    static let longestName = all.map(\.name.utf8CodeUnitCount).max()!

    /// The length of field `k`'s name in quotes when the `available` bytes at `text` begin with
    /// it, else 0: the reader tries the field expected next this way before it reads a name.
    /// (Names are compared through pointers into the line being parsed, here and below: no slice
    /// or String is made for the names of the table.)
    @inline(__always) func quotedName(_ k: Int, at text: UnsafePointer<UInt8>, available: Int) -> Int {
      guard k < slots.count else { return 0 }
      let start = nameStart[k]
      let count = nameStart[k + 1] - start
      guard available >= count + 2, text[0] == UInt8(ascii: "\""), text[count + 1] == UInt8(ascii: "\"") else { return 0 }
      var i = 0
      while i < count, text[i + 1] == nameBytes[start + i] { i += 1 }
      return i == count ? count + 2 : 0
    }

    /// Whether the `count` bytes at `name` spell the name of field `k`.
    @inline(__always) func isName(_ k: Int, at name: UnsafePointer<UInt8>, count: Int) -> Bool {
      let start = nameStart[k]
      guard nameStart[k + 1] - start == count else { return false }
      var i = 0
      while i < count, name[i] == nameBytes[start + i] { i += 1 }
      return i == count
    }

    /// The index in `all` of the field the `count` bytes at `name` spell; nil for any other name.
    /// `next` is tried first: lines are written in the table's order, so the field after the
    /// one before is nearly always the one.
    func index(at name: UnsafePointer<UInt8>, count: Int, next: Int = 0) -> Int? {
      if next < slots.count, isName(next, at: name, count: count) { return next }
      guard count <= Lookup.longestName else { return nil }
      var j = lengthStart[count]
      let end = lengthStart[count + 1]
      while j < end {
        let k = byLength[j]
        let start = nameStart[k]
        var i = 0
        while i < count, name[i] == nameBytes[start + i] { i += 1 }
        if i == count { return k }
        j += 1
      }
      return nil
    }
  }

  static let lookup = Lookup()

  /// The index in `all` of the field `name`; nil for any other name.
  static func index(named name: String) -> Int? {
    var name = name
    return name.withUTF8 { lookup.index(at: $0.baseAddress ?? UnsafePointer(bitPattern: 1)!, count: $0.count) }
  }
}
