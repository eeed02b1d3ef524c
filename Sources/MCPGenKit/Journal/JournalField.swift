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

  /// `all`'s indices by name length, for `index(at:count:)`.
  private static let byLength: [[Int]] = {
    var out = [[Int]](repeating: [], count: 17)
    for (k, field) in all.enumerated() { out[field.name.utf8CodeUnitCount].append(k) }
    return out
  }()

  /// The index in `all` of the field the `count` bytes at `name` spell; nil for any other name.
  static func index(at name: UnsafePointer<UInt8>, count: Int) -> Int? {
    guard count < byLength.count else { return nil }
    for k in byLength[count] {
      let known = all[k].name.utf8Start
      var i = 0
      while i < count, name[i] == known[i] { i += 1 }
      if i == count { return k }
    }
    return nil
  }

  static func index(named name: ArraySlice<UInt8>) -> Int? {
    name.withUnsafeBufferPointer { index(at: $0.baseAddress ?? UnsafePointer(bitPattern: 1)!, count: $0.count) }
  }

  static func index(named name: String) -> Int? { index(named: Array(name.utf8)[...]) }
}
