import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// The history checkpoint (store-layout.md, "The checkpoint"): history from a checkpoint and the
/// journal's tail equals history replayed from the whole journal, and a checkpoint that does not
/// describe the journal (torn, tampered, journal rewritten) is never trusted.
@Suite("history checkpoint")
struct HistoryCheckpointTests {
  static let keys = (0..<4).map { i in StoreKey(String(repeating: String("abcd".map { $0 }[i]), count: 64))! }

  static func record(
    _ op: JournalRecord.Operation, from: Int64? = nil, to: Int64? = nil, key: Int? = nil, source: String? = nil,
    outcome: String = "ok", undo: Bool = false, extra: [(String, JSON)] = [], time: Int64 = 1_700_000_000
  ) -> JournalRecord {
    JournalRecord(
      time: time, pid: 1, user: "root", command: Array("mcp-gen test".utf8), operation: op, from: from, to: to,
      key: key.map { keys[$0] }, source: source.map { Array($0.utf8) }, outcome: outcome, undo: undo, extra: extra)
  }

  static func lines(_ records: [JournalRecord]) -> [UInt8] {
    records.flatMap { $0.fittedLine()! + [0x0A] }
  }

  /// Journals that exercise every part of `History`.
  static let journals: [(String, [UInt8])] = {
    let label: [(String, JSON)] = [("label", .string("v1.0")), ("labelFrom", .string("label"))]
    let switches = [
      record(.add, key: 0, source: "/rel/a", extra: label),
      record(.switch, from: nil, to: 1, key: 0, source: "/rel/a", time: 1_700_000_001),
      record(.switch, from: 1, to: 2, key: 1, source: "/rel/b\u{1}\u{7f}", extra: [("labelFrom", .string("VERSION")), ("label", .string("2"))]),
      record(.switch, from: 2, to: 3, key: 2, source: "/rel/c"),
    ]
    let rollback = switches + [
      record(.rollback, from: 3, to: 2, key: 1, undo: true),
      record(.rollback, from: 2, to: 1, key: 0, undo: true),
      record(.rollback, from: 1, to: 3, key: 2),
    ]
    let failed = switches + [
      record(.start, from: 3, to: 4, key: 3, source: "/rel/d", outcome: "checking"),
      record(.switch, from: 3, to: 4, key: 3, source: "/rel/d", outcome: "rolled-back", extra: [("current", .int(3))]),
      record(.rollback, from: 3, to: 1, key: 0, outcome: "rollback-failed", extra: [("current", .null), ("rollbackFailure", .string("x"))]),
    ]
    let cancelled = switches + [
      record(.switch, from: 3, to: 4, key: 3, source: "/rel/d", outcome: "cancelled", extra: [("signal", .string("SIGINT")), ("current", .int(3))]),
      record(.rollback, from: 3, to: 2, key: 1, undo: true),
      record(.abort, from: 3, to: 2, key: 1, undo: true),
    ]
    let recovered = switches + [
      record(.recover, from: 3, to: 5, key: 3, outcome: "unconfirmed"),
      record(.check, from: 5, to: 5, key: 3, outcome: "confirmed"),
      record(.switch, from: 5, to: 6, key: 0),
    ]
    let gcAndRepair = switches + [
      record(.gc, extra: [("generations", .array([.int(1), .int(2), .int(9)]))]),
      record(.repair, extra: [("note", .string("audit --repair"))]),
      record(.switch, from: 3, to: 10, key: 1),
      record(.pin, to: 10),
    ]
    var torn = lines(switches)
    torn += Array(#"{"time":1,"op":"swi"#.utf8) + [0x0A] + lines([record(.switch, from: 3, to: 4, key: 3)])
    var unterminated = lines(switches)
    unterminated += lines([record(.switch, from: 3, to: 4, key: 3)]).dropLast()
    let many = (1...60).map { n in record(.switch, from: n == 1 ? nil : Int64(n - 1), to: Int64(n), key: n % 4, source: "/rel/\(n)") }
    return [
      ("switch", lines(switches)), ("rollback", lines(rollback)), ("failed", lines(failed)), ("cancelled", lines(cancelled)),
      ("recovered", lines(recovered)), ("gc and repair", lines(gcAndRepair)), ("torn line", torn),
      ("unterminated last line", unterminated), ("many", lines(many)),
    ]
  }()

  /// A root whose journal holds `journal`.
  final class Root {
    let dir: TestDirectory
    let store: Store
    init(_ journal: [UInt8]) throws {
      dir = try TestDirectory()
      store = try Store.open(dir.at("root"), create: true)
      try write(journal)
    }
    deinit { dir.remove() }

    var journalPath: String { store.path.string + "/journal.jsonl" }
    var checkpointPath: String { store.path.string + "/checkpoint.json" }

    /// Replaces the journal with a new file (as `audit --repair` and editors do).
    func write(_ journal: [UInt8]) throws {
      try Data(journal).write(to: URL(fileURLWithPath: journalPath), options: .atomic)
    }

    /// History replayed from the whole journal, as before checkpoints.
    func fullReplay() throws -> [UInt8] { History(try store.readJournal()).checkpointJSON.serialized() }

    /// Writes the checkpoint of the journal's first `offset` bytes.
    func checkpoint(at offset: Int) throws {
      let bytes = try Data(contentsOf: URL(fileURLWithPath: journalPath))
      let history = History(Journal.parse(Array(bytes.prefix(offset))))
      let file = try store.root.openFile(Journal.name, flags: .readOnly)
      try HistoryCheckpoint(history, offset: Int64(offset), of: file, file.stat()).write(in: store.root)
    }

    var usableCheckpoint: Bool {
      guard let saved = HistoryCheckpoint.load(in: store.root),
        let file = try? store.root.openFile(Journal.name, flags: .readOnly), let st = try? file.stat()
      else { return false }
      return saved.matches(file, st)
    }
  }

  @Test("checkpoint and tail replay to the same history as the whole journal, at every line boundary",
        arguments: journals.map(\.0))
  func sameAsFullReplay(_ name: String) throws {
    let journal = Self.journals.first { $0.0 == name }!.1
    let root = try Root(journal)
    let full = try root.fullReplay()
    #expect(try root.store.history().checkpointJSON.serialized() == full, "no checkpoint")
    var boundaries = journal.indices.filter { journal[$0] == 0x0A }.map { $0 + 1 }
    boundaries.removeAll { $0 == 0 }
    for offset in boundaries {
      try root.checkpoint(at: offset)
      #expect(root.usableCheckpoint, "\(name): checkpoint at \(offset) not used")
      let fromCheckpoint = try root.store.history().checkpointJSON.serialized()
      #expect(fromCheckpoint == full, "\(name): checkpoint at \(offset)")
    }
    // A change rewrites it for the whole journal when the one there is not usable.
    try root.write(journal)
    #expect(!root.usableCheckpoint)
    #expect(try root.store.history(checkpointing: true).checkpointJSON.serialized() == full)
    #expect(root.usableCheckpoint)
    let saved = try #require(HistoryCheckpoint.load(in: root.store.root))
    #expect(saved.offset == Int64(journal.lastIndex(of: 0x0A)! + 1))
  }

  @Test("a torn or tampered checkpoint is ignored")
  func tornOrTampered() throws {
    let journal = Self.journals.first { $0.0 == "rollback" }!.1
    let root = try Root(journal)
    let full = try root.fullReplay()
    let half = journal.indices.filter { journal[$0] == 0x0A }[3] + 1
    try root.checkpoint(at: half)
    let good = try Data(contentsOf: URL(fileURLWithPath: root.checkpointPath))
    #expect(HistoryCheckpoint(parsing: Array(good)) != nil)
    // Torn anywhere.
    for cut in stride(from: 0, to: good.count, by: max(1, good.count / 40)) {
      try good.prefix(cut).write(to: URL(fileURLWithPath: root.checkpointPath))
      #expect(HistoryCheckpoint.load(in: root.store.root) == nil, "cut at \(cut)")
      #expect(try root.store.history().checkpointJSON.serialized() == full)
    }
    // One byte of the body changed ("recordedCurrent":2 to 1 and the like): the checksum fails.
    var tampered = Array(good)
    let at = tampered.firstIndex(of: UInt8(ascii: "2"))!
    tampered[at] = UInt8(ascii: "1")
    try Data(tampered).write(to: URL(fileURLWithPath: root.checkpointPath))
    #expect(HistoryCheckpoint.load(in: root.store.root) == nil)
    #expect(try root.store.history().checkpointJSON.serialized() == full)
    // Not a regular file.
    try FileManager.default.removeItem(atPath: root.checkpointPath)
    try FileManager.default.createDirectory(atPath: root.checkpointPath, withIntermediateDirectories: false)
    #expect(try root.store.history().checkpointJSON.serialized() == full)
  }

  @Test("a damaged third or fourth line is not used: what it holds is replayed from the covered journal")
  func damagedLaterLines() throws {
    // 60 switches: an undo stack deeper than the second line's top.
    let journal = Self.journals.first { $0.0 == "many" }!.1
    let root = try Root(journal)
    let full = try root.fullReplay()
    try root.checkpoint(at: journal.count)
    let good = Array(try Data(contentsOf: URL(fileURLWithPath: root.checkpointPath)))
    var ends = good.indices.filter { good[$0] == 0x0A }
    #expect(ends.count == 4)
    ends.insert(-1, at: 0)
    for line in [2, 3] {
      // One digit of the line changed: same length, the first two lines intact.
      var damaged = good
      let at = damaged[(ends[line] + 1)..<ends[line + 1]].firstIndex { (0x31...0x38).contains($0) }!
      damaged[at] += 1
      try Data(damaged).write(to: URL(fileURLWithPath: root.checkpointPath))
      #expect(root.usableCheckpoint, "line \(line + 1): the first two lines should still be used")
      #expect(try root.store.history().checkpointJSON.serialized() == full, "line \(line + 1)")
      var history = try root.store.history()
      var popped: [Int64?] = []
      while let top = history.popUndo() { popped.append(top) }
      #expect(popped.count == 60 && popped.last == .some(nil) && popped.first == 59, "line \(line + 1)")
    }
    // The deep undo stack and the sources from an intact file, read when first needed.
    try Data(good).write(to: URL(fileURLWithPath: root.checkpointPath))
    let saved = try #require(HistoryCheckpoint.load(in: root.store.root))
    #expect(saved.history.undoStack.count == HistoryCheckpoint.undoTop && saved.history.undoBelowCount == 60 - HistoryCheckpoint.undoTop)
    #expect(saved.history.fullUndoStack == [nil] + (1...59).map { Int64($0) })
    #expect(saved.history.source(of: 7) == Array("/rel/7".utf8))
  }

  @Test("store-layout.md's checker accepts the checkpoint this code writes, and rejects a damaged one",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
  func documentedChecker() throws {
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    let text = try String(contentsOf: repo.appendingPathComponent("store-layout.md"), encoding: .utf8)
    let intro = try #require(text.range(of: "Check a checkpoint with"))
    let open = try #require(text.range(of: "```python\n", range: intro.upperBound..<text.endIndex))
    let close = try #require(text.range(of: "```", range: open.upperBound..<text.endIndex))
    let journal = Self.journals.first { $0.0 == "many" }!.1
    let root = try Root(journal)
    let script = root.dir.at("check.py").string
    try String(text[open.upperBound..<close.lowerBound]).write(toFile: script, atomically: true, encoding: .utf8)
    try root.checkpoint(at: journal.count)
    let good = try ProcessRunner.run("/usr/bin/python3", [script, root.checkpointPath])
    #expect(good.status == 0 && good.stdoutText == "ok\n", "\(good.stderrText)")
    var damaged = Array(try Data(contentsOf: URL(fileURLWithPath: root.checkpointPath)))
    damaged[damaged.lastIndex(of: UInt8(ascii: "7"))!] = UInt8(ascii: "8")
    try Data(damaged).write(to: URL(fileURLWithPath: root.checkpointPath))
    #expect(try ProcessRunner.run("/usr/bin/python3", [script, root.checkpointPath]).status != 0)
  }

  @Test("a checkpoint of an earlier version is not used, and the next change replaces it, however short the journal")
  func earlierVersionReplaced() throws {
    let journal = Self.journals.first { $0.0 == "rollback" }!.1
    let root = try Root(journal)
    let full = try root.fullReplay()
    let end = journal.lastIndex(of: 0x0A)! + 1
    // Version 1's three lines, its checksum right: never read as this version's.
    let body = #"{"version":1,"journal":{"offset":\#(end),"device":0,"inode":0,"head":"\#(String(repeating: "0", count: 64))","tail":"\#(String(repeating: "0", count: 64))"},"history":{}}"# + "\n{\"created\":[],\"sources\":[]}"
    let v1 = body + "\n{\"sha256\":\"\(SHA256.hash(Array(body.utf8)).description)\"}\n"
    try Data(v1.utf8).write(to: URL(fileURLWithPath: root.checkpointPath))
    #expect(HistoryCheckpoint.load(in: root.store.root) == nil)
    #expect(try root.store.history().checkpointJSON.serialized() == full)
    #expect(try Data(contentsOf: URL(fileURLWithPath: root.checkpointPath)) == Data(v1.utf8), "a reader replaced it")
    #expect(try root.store.history(checkpointing: true).checkpointJSON.serialized() == full)
    #expect(root.usableCheckpoint, "a change left the old version in place")
  }

  @Test("a journal rewritten or edited behind the checkpoint's back is detected")
  func journalRewritten() throws {
    let journal = Self.journals.first { $0.0 == "failed" }!.1
    let root = try Root(journal)
    let end = journal.lastIndex(of: 0x0A)! + 1
    try root.checkpoint(at: end)
    #expect(root.usableCheckpoint)

    // Rewritten as a new file, its good lines kept (audit --repair): a different file.
    try root.write(journal)
    #expect(!root.usableCheckpoint)
    try root.checkpoint(at: end)
    #expect(root.usableCheckpoint)

    // Edited in place, same file, same length: the last covered line changed.
    var edited = journal
    let lastLine = edited[..<(end - 1)].lastIndex(of: 0x0A)! + 1
    let digit = edited[lastLine...].firstIndex { $0 == UInt8(ascii: "4") }!
    edited[digit] = UInt8(ascii: "7")
    try edit(root.journalPath, edited)
    #expect(!root.usableCheckpoint)
    #expect(try root.store.history().checkpointJSON.serialized() == root.fullReplay())

    // Edited in place at its beginning.
    try edit(root.journalPath, journal)
    try root.checkpoint(at: end)
    #expect(root.usableCheckpoint)
    var early = journal
    early[early.firstIndex(of: UInt8(ascii: "1"))!] = UInt8(ascii: "2")
    try edit(root.journalPath, early)
    #expect(!root.usableCheckpoint)

    // Cut short below the checkpoint's offset.
    try edit(root.journalPath, journal)
    try root.checkpoint(at: end)
    let shorter = Array(journal[..<lastLine])
    try edit(root.journalPath, shorter)
    #expect(!root.usableCheckpoint)
    #expect(try root.store.history().checkpointJSON.serialized() == root.fullReplay())
  }

  /// Overwrites the file in place (same inode), as `dd conv=notrunc` or a careless editor would.
  func edit(_ path: String, _ bytes: [UInt8]) throws {
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.write(contentsOf: Data(bytes))
    try handle.truncate(atOffset: UInt64(bytes.count))
    try handle.close()
  }

  @Test("a change writes a checkpoint once the tail is long, and the next reader replays only the tail")
  func writtenWhenLong() throws {
    let n = HistoryCheckpoint.tailLines + 5
    let records = (1...n).map { i in
      Self.record(.switch, from: i == 1 ? nil : Int64(i - 1), to: Int64(i), key: i % 4, source: "/rel/\(i)")
    }
    let journal = Self.lines(records)
    let root = try Root(journal)
    _ = try root.store.history()
    #expect(HistoryCheckpoint.load(in: root.store.root) == nil, "a reader without the lock wrote a checkpoint")
    _ = try root.store.history(checkpointing: true)
    let saved = try #require(HistoryCheckpoint.load(in: root.store.root))
    #expect(saved.offset == Int64(journal.count))
    // Appended after it: the tail only.
    var longer = journal + Self.lines([Self.record(.rollback, from: Int64(n), to: Int64(n - 1), key: (n - 1) % 4, undo: true)])
    try edit(root.journalPath, longer)
    #expect(root.usableCheckpoint)
    #expect(try root.store.history().checkpointJSON.serialized() == root.fullReplay())
    #expect(try root.store.history().recordedCurrent == Int64(n - 1))
    // A short tail writes no new checkpoint.
    _ = try root.store.history(checkpointing: true)
    #expect(HistoryCheckpoint.load(in: root.store.root)?.offset == Int64(journal.count))
    longer.removeAll()
  }

  @Test("audit --repair rebuilds the checkpoint from the whole journal")
  func repairRebuilds() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let store = try Store.open(dir.at("root"), create: true)
    var keys: [StoreKey] = []
    for name in ["a", "b"] {
      try dir.makeDirectory("rel-\(name)")
      try dir.writeFile("rel-\(name)/release", "release \(name)\n")
      keys.append(try store.add(dir.at("rel-\(name)")).key)
    }
    for k in keys + keys { _ = try store.switchTo(.key(k.hex)) }
    let checkpoint = store.path.string + "/checkpoint.json"
    #expect(!FileManager.default.fileExists(atPath: checkpoint), "a short journal got a checkpoint")
    // A stale one (torn): repair replaces it with one that matches.
    try Data("{\"version\":1".utf8).write(to: URL(fileURLWithPath: checkpoint))
    _ = try store.repair()
    let saved = try #require(HistoryCheckpoint.load(in: store.root))
    let file = try store.root.openFile(Journal.name, flags: .readOnly)
    #expect(saved.matches(file, try file.stat()))
    #expect(saved.offset == Int64(try file.stat().size))
    #expect(saved.history.checkpointJSON.serialized() == History(try store.readJournal()).checkpointJSON.serialized())
    #expect(try store.rollback().plan.to == 3)
  }
}
