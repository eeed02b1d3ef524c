import MCPGenSystem
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
    /// Longer than `maximumLineLength`: never read in full, never trusted.
    public var overlong = false
  }

  /// The longest line (newline excluded) a reader reads or a writer writes: 1 MiB. A longer one
  /// is a damaged line; a record that would be longer is never written (gc splits its lines).
  public static let maximumLineLength = 1 << 20

  public var records: [JournalRecord]
  /// Where each record's line is in `bytes`.
  var lines: [Range<Int>]
  var bytes: [UInt8]
  public var damage: [Damage]
  /// Whether the journal has a sealed line (`JournalLineSeal`), so that every line appended
  /// after its end must be sealed too: what `parse` needs to know, as `sealed`, to read a part of
  /// the journal that begins after such a line.
  public var sealed: Bool

  /// Each record's line as it was written, extra fields and all, without its seal (for
  /// `log --json`).
  public var raw: [JSON] { lines.indices.map(raw) }

  /// Record `i`'s line as `raw` gives it.
  public func raw(_ i: Int) -> JSON {
    guard case .object(let members)? = try? JSON(parsing: bytes, range: lines[i]) else { return .null }
    return .object(members.filter { $0.0 != "crc" })
  }

  /// Each record's line, byte for byte as it was written, newline excluded (for repair).
  var rawLines: [ArraySlice<UInt8>] { lines.map { bytes[$0] } }

  init(records: [JournalRecord] = [], lines: [Range<Int>] = [], bytes: [UInt8] = [], damage: [Damage] = [], sealed: Bool = false) {
    self.records = records
    self.lines = lines
    self.bytes = bytes
    self.damage = damage
    self.sealed = sealed
  }

  static func read(in root: DirectoryFD) throws(MCPGenError) -> Journal {
    guard let file = try open(in: root, flags: OpenFlags.readOnly) else { return Journal() }
    let lines = try attempt("read the journal") { () throws(SystemCallError) in
      try file.readLines(limit: maximumLineLength)
    }
    return parse(lines.bytes, overlong: lines.overlong)
  }

  /// The journal, only if it is a regular file (a FIFO in its place would hang every command);
  /// nil when there is none.
  static func open(in root: DirectoryFD, flags: OpenFlags, mode: UInt32 = 0) throws(MCPGenError) -> FileFD? {
    try root.openRegular(
      name, flags: flags, mode: mode, what: "the journal",
      doing: flags.isReadOnly ? "read the journal" : "append to the journal",
      fix: "and run the command again (with no journal, history starts anew)")
  }

  /// Parses every line, on this thread: with the checkpoint, the commands that run often parse
  /// only the journal's tail, and `log` and `audit` read it in parts of a megabyte
  /// (`forEachPart`), so the threads and in-place buffers that parsed 10,000 lines on every core
  /// no longer paid for themselves (bench/results-history.md).
  ///
  /// A line longer than `maximumLineLength`, or one numbered in `overlong` (left empty by the
  /// bounded reader), is damage. So is a line without a seal after one with a seal, valid or not
  /// (`JournalLineSeal`); `sealed`: the bytes follow such a line (a journal's tail, read from an
  /// offset), so every line must be sealed.
  public static func parse(_ bytes: [UInt8], overlong: [Int] = [], sealed: Bool = false) -> Journal {
    let overlong = Set(overlong)
    let ends = lineEnds(bytes)
    if ends.isEmpty { return Journal(bytes: bytes, sealed: sealed) }
    // From the first line that has a seal on, every line must have one: known by position, so
    // that no damage to a sealed line can make it pass for an older, unsealed one.
    let firstSealed = sealed ? -1 : firstSealedLine(bytes, ends) ?? ends.count
    var journal = Journal(bytes: bytes, sealed: firstSealed < ends.count)
    journal.records.reserveCapacity(ends.count)
    journal.lines.reserveCapacity(ends.count)
    for k in ends.indices {
      let line = (k == 0 ? 0 : ends[k - 1] + 1)..<ends[k]
      let terminated = ends[k] < bytes.count
      if line.count > maximumLineLength || (line.isEmpty && overlong.contains(k)) {
        journal.damage.append(Damage(line: k + 1, torn: false, overlong: true))
        continue
      }
      if terminated && bytes[line].allSatisfy({ $0 == 0x20 }) { continue }
      if let record = JournalRecord(line: bytes, line, sealed: k > firstSealed) {
        journal.records.append(record)
        journal.lines.append(line)
      } else {
        journal.damage.append(Damage(line: k + 1, torn: !terminated || isCutShort(bytes, line)))
      }
    }
    return journal
  }

  /// The index of the first line whose last bytes have the shape of a seal, valid or not.
  private static func firstSealedLine(_ bytes: [UInt8], _ ends: [Int]) -> Int? {
    // A pointer: JournalLineSeal checks lines in place, as the line parser hands them to it.
    bytes.withUnsafeBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return nil }
      var start = 0
      for (k, end) in ends.enumerated() {
        if JournalLineSeal.isSealed(base + start, count: end - start) { return k }
        start = end + 1
      }
      return nil
    }
  }

  /// Whether a line sealed off by a later append is a record's beginning cut short by a crash:
  /// every byte valid so far, only the rest missing. One that still ends in the `}` every line
  /// ends in was not cut short but damaged (a flipped bit in a quote leaves an unterminated
  /// string running to the end): that is an error to report, not the trace of a crash.
  private static func isCutShort(_ bytes: [UInt8], _ line: Range<Int>) -> Bool {
    guard let last = line.last, bytes[last] != UInt8(ascii: "}") else { return false }
    return JSON.isObjectCutShort(bytes, range: line)
  }

  /// Where each line ends: at its newline, or at the end of the bytes for an unterminated one.
  private static func lineEnds(_ bytes: [UInt8]) -> [Int] {
    var ends: [Int] = []
    ends.reserveCapacity(bytes.count / 128 + 1)
    var at = 0
    while at < bytes.count {
      let end = newline(in: bytes, at..<bytes.count) ?? bytes.count
      ends.append(end)
      at = end + 1
    }
    return ends
  }

  /// The index of the first newline in `bytes[range]`.
  private static func newline(in bytes: [UInt8], _ range: Range<Int>) -> Int? {
    firstIndex(of: 0x0A, in: bytes, range)
  }

  /// Appends one record and makes it durable. The line is fitted to `maximumLineLength`
  /// (`JournalRecord.fittedLine`); a record that cannot be is refused before anything is written,
  /// as readers would take its line for damage.
  static func append(_ record: JournalRecord, in root: DirectoryFD) throws(MCPGenError) {
    guard var line = record.fittedLine() else {
      throw MCPGenError(
        .invalidInput,
        "the journal line for this \(record.operation.rawValue) would be longer than the \(maximumLineLength) bytes a line may be; nothing was recorded, run the command with fewer arguments",
        path: root.path.appending(bytes: name))
    }
    line.append(0x0A)
    // With O_CREAT a missing journal is made, not reported as missing: nil cannot come back.
    guard let file = try open(in: root, flags: [.readWrite, .append, .create], mode: 0o644) else {
      throw MCPGenError(.notFound, "cannot create \(root.path.appending(bytes: name).displayString); check the root and run the command again")
    }
    try attempt("append to the journal") { () throws(SystemCallError) in
      let st = try file.stat()
      // A new journal gets the layout's mode, not whatever the umask left of it.
      if st.size == 0 && st.permissions.rawValue != 0o644 { try file.changeMode(0o644) }
      if st.size > 0 {
        var last: UInt8 = 0
        _ = try Syscall.pread(file.fd, &last, 1, Int(st.size - 1)).get("read", file.path)
        if last != 0x0A { line.insert(0x0A, at: 0) }  // Seal off a torn line.
      }
      try file.writeAll(line)
      try file.sync()
      if st.size == 0 { try root.sync() }  // A new journal's name must be durable too.
    }
  }
}
