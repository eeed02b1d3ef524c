#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// `<root>/journal.jsonl`: the recorded history every rollback follows.
///
/// Appended with `O_APPEND` and fsynced before a command reports success. A crash mid-write can
/// leave a torn last line; readers skip it and report it, and the next append starts on a fresh
/// line so the torn bytes never merge with a good record.
public struct Journal: Sendable {
  public static let name = Array("journal.jsonl".utf8)

  /// Lines that did not parse: `line` is 1-based. `torn` when the line is a record cut short by a
  /// crash: the last, unterminated line, or a record's beginning that a later append sealed off
  /// with a newline (`kill -9` can cut a `write(2)` short where it crosses a page boundary).
  public struct Damage: Sendable, Equatable {
    public var line: Int
    public var torn: Bool
  }

  public var records: [JournalRecord]
  /// Where each record's line is in `bytes`.
  var lines: [Range<Int>]
  var bytes: [UInt8]
  public var damage: [Damage]

  /// Each record's line as it was written, extra fields and all (for `log --json`, repair).
  public var raw: [JSON] { lines.map { (try? JSON(parsing: bytes, range: $0)) ?? .null } }

  init(records: [JournalRecord] = [], lines: [Range<Int>] = [], bytes: [UInt8] = [], damage: [Damage] = []) {
    self.records = records
    self.lines = lines
    self.bytes = bytes
    self.damage = damage
  }

  static func read(in root: DirectoryFD) throws(MCPGenError) -> Journal {
    let bytes: [UInt8]
    do {
      bytes = try root.openFile(name, flags: O_RDONLY).readAll()
    } catch let e where e.errno == .noSuchFileOrDirectory {
      return Journal()
    } catch {
      throw MCPGenError(error, doing: "read the journal")
    }
    return parse(bytes)
  }

  public static func parse(_ bytes: [UInt8]) -> Journal {
    // A long journal (every list and status reads it) is parsed in parts on every core.
    let parts = bytes.count < 1 << 20 ? 1 : ParallelWork.cores * 4
    var bounds = [0]
    for k in 1..<max(parts, 1) {
      let guess = max(bounds[bounds.count - 1], bytes.count * k / parts)
      guard let newline = newline(in: bytes, guess..<bytes.count) else { break }
      bounds.append(newline + 1)
    }
    bounds.append(bytes.count)
    if bounds.count == 2 { return parse(bytes, bounds[0]..<bounds[1]).journal }
    let ranges = (0..<(bounds.count - 1)).map { bounds[$0]..<bounds[$0 + 1] }
    let parsed = ParallelWork.map(ranges) { parse(bytes, $0) }
    var journal = Journal(bytes: bytes)
    journal.records.reserveCapacity(parsed.reduce(0) { $0 + $1.journal.records.count })
    journal.lines.reserveCapacity(journal.records.capacity)
    var lineOffset = 0
    for (part, lineCount) in parsed {
      journal.records += part.records
      journal.lines += part.lines
      journal.damage += part.damage.map { Damage(line: $0.line + lineOffset, torn: $0.torn) }
      lineOffset += lineCount
    }
    return journal
  }

  /// Parses the lines in `range`, numbering them from 1; also returns how many lines it held.
  static func parse(_ bytes: [UInt8], _ range: Range<Int>) -> (journal: Journal, lineCount: Int) {
    var journal = Journal(bytes: bytes)
    // Records run to a few hundred bytes: room for every line at once instead of regrowing
    // (and copying) the arrays of a part as it is parsed. Pages never filled are never touched.
    journal.records.reserveCapacity(range.count / 128 + 1)
    journal.lines.reserveCapacity(journal.records.capacity)
    var start = range.lowerBound
    var lineNumber = 0
    while start < range.upperBound {
      lineNumber += 1
      let end = newline(in: bytes, start..<range.upperBound)
      let line = start..<(end ?? range.upperBound)
      start = (end ?? range.upperBound) + 1
      if bytes[line].allSatisfy({ $0 == 0x20 }) && end != nil { continue }
      if let record = JournalRecord(line: bytes, line) {
        journal.records.append(record)
        journal.lines.append(line)
      } else {
        journal.damage.append(Damage(line: lineNumber, torn: end == nil || JSON.isObjectCutShort(bytes, range: line)))
      }
    }
    return (journal, lineNumber)
  }

  /// The index of the first newline in `bytes[range]` (memchr: journals run to megabytes).
  private static func newline(in bytes: [UInt8], _ range: Range<Int>) -> Int? {
    bytes.withUnsafeBufferPointer { buffer in
      guard !range.isEmpty, let base = buffer.baseAddress,
        let hit = memchr(base + range.lowerBound, 0x0A, range.count)
      else { return nil }
      return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
    }
  }

  /// Appends one record and makes it durable.
  static func append(_ record: JournalRecord, in root: DirectoryFD) throws(MCPGenError) {
    try attempt("append to the journal") { () throws(SystemCallError) in
      let file = try root.openFile(name, flags: O_RDWR | O_APPEND | O_CREAT, mode: 0o644)
      let st = try file.stat()
      var line = record.json.serialized()
      line.append(0x0A)
      if st.st_size > 0 {
        var last: UInt8 = 0
        _ = try Syscall.pread(file.fd, &last, 1, st.st_size - 1).get("read", file.path)
        if last != 0x0A { line.insert(0x0A, at: 0) }  // Seal off a torn line.
      }
      try file.writeAll(line)
      try file.sync()
      if st.st_size == 0 { try root.sync() }  // A new journal's name must be durable too.
    }
  }
}
