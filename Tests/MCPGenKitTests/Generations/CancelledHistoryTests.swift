import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// How history replays the lines a health-gated switch writes besides its `switch` line: `start`
/// (written before the checks run) and the outcome `cancelled` (SIGINT or SIGTERM during them).
/// The journals are written as the engine writes them (store-layout.md, section 6).
@Suite("history: start lines and cancelled changes")
struct CancelledHistoryTests {
  /// Switches A, B, C (generations 1, 2, 3), then replaces C's `switch` line with `lines` and
  /// points `current` at `current`.
  static func rewrite(_ f: HistoryTests.Fixture, _ lines: (StoreKey) -> [JournalRecord], current: Int64) throws {
    try f.switchTo("A")
    try f.switchTo("B")
    try f.switchTo("C")
    let path = f.root.string + "/journal.jsonl"
    var kept = try #require(Gen.read(path)).split(separator: "\n").dropLast().map { Array($0.utf8) + [0x0A] }
    for record in lines(f.keys["C"]!) { kept.append(record.line() + [0x0A]) }
    try Data(kept.joined()).write(to: URL(fileURLWithPath: path))
    let temp = f.root.string + "/.tmp-test-current"
    #expect(symlink("generations/\(current)", temp) == 0)
    #expect(rename(temp, f.root.string + "/current") == 0)
  }

  static func line(_ op: JournalRecord.Operation, _ key: StoreKey, outcome: String, extra: [(String, JSON)] = []) -> JournalRecord {
    JournalRecord(pid: 7, user: "root", command: Array("mcp-gen switch /src/c".utf8), operation: op, from: 2, to: 3,
                  key: key, source: Array("/src/c".utf8), outcome: outcome, extra: extra)
  }

  @Test("a cancelled switch is neither failed nor on the undo stack: rollback, its dry run and status all undo the switch before it")
  func cancelledSwitch() throws {
    let f = try HistoryTests.Fixture(["A", "B", "C"])
    try Self.rewrite(f, { key in [
      Self.line(.start, key, outcome: "checking"),
      Self.line(.switch, key, outcome: "cancelled", extra: [("signal", .string("SIGINT")), ("current", .int(2))]),
    ] }, current: 2)
    let rows = try f.store.generationTable()
    #expect(rows.map(\.isFailed) == [false, false, false])
    #expect(rows.last?.source == Array("/src/c".utf8))
    let status = try f.store.status()
    #expect(!status.unconfirmed)
    #expect(status.holder == nil)
    #expect(status.rollbackTarget?.generation == 1)
    #expect(try f.store.rollback(dryRun: true).plan.to == 1)
    #expect(try f.store.rollback().plan.to == 1)
    #expect(f.currentName == "A")
  }

  @Test("a switch whose checks are still running (only its start line) shows its source; status's rollback target undoes it")
  func inFlightSwitch() throws {
    let f = try HistoryTests.Fixture(["A", "B", "C"])
    try Self.rewrite(f, { key in [Self.line(.start, key, outcome: "checking")] }, current: 3)
    let rows = try f.store.generationTable()
    #expect(rows.last?.source == Array("/src/c".utf8))
    #expect(rows.last?.isFailed == false)
    let status = try f.store.status()
    #expect(status.unconfirmed)
    #expect(status.confirmed == false)
    #expect(status.rollbackTarget?.generation == 2)
  }

  @Test("check objects written with `seconds` (milliseconds, before `milliseconds` existed) are read and logged as milliseconds")
  func olderCheckDurations() throws {
    let older = try JSON(parsing: Array(#"{"op":"switch","checks":[{"role":"required","seconds":42}],"restoredChecks":[{"role":"required","milliseconds":7}]}"#.utf8))
    let renamed = Journal.currentNames(older)
    #expect(renamed["checks"]?.arrayValue?.first?["milliseconds"]?.intValue == 42)
    #expect(renamed["checks"]?.arrayValue?.first?["seconds"] == nil)
    #expect(renamed["restoredChecks"]?.arrayValue?.first?["milliseconds"]?.intValue == 7)
    let current = try JSON(parsing: Array(#"{"op":"switch","checks":[{"role":"required","milliseconds":5}]}"#.utf8))
    #expect(Journal.currentNames(current) == current)
  }
}

private enum Gen {
  static func read(_ path: String) -> String? {
    FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
  }
}
