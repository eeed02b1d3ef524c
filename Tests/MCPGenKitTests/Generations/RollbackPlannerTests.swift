#if canImport(Glibc)
import Glibc
#endif
@testable import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// `rollback`, `rollback --dry-run` and `rollbackTarget` (read by `diff` and `status`) share one
/// planner on one history: all three name the same generation.
@Suite("one rollback planner")
struct RollbackPlannerTests {
  /// What a switch killed during its checks leaves: a new generation link and `current` on it,
  /// no journal line.
  static func interruptedSwitch(_ f: HistoryTests.Fixture, to name: String) throws -> Int64 {
    let n = try f.store.highestNumberTaken(above: f.store.history().highestNumber) + 1
    try f.store.createGeneration(n, f.keys[name]!)
    try f.store.pointCurrent(at: n)
    return n
  }

  @Test("after an interrupted switch: the dry run, rollbackTarget and the rollback all go to the generation current before it")
  func interrupted() throws {
    let f = try HistoryTests.Fixture(["A", "B", "C", "D"])
    for name in ["A", "B", "C"] { try f.switchTo(name) }
    #expect(try Self.interruptedSwitch(f, to: "D") == 4)
    let journalBefore = try f.store.readJournal().records.count
    let target = try f.store.rollbackTarget()
    let dry = try f.store.rollback(dryRun: true)
    #expect(try f.store.readJournal().records.count == journalBefore, "the dry run wrote to the journal")
    let real = try f.store.rollback()
    #expect(target.generation == 3)
    #expect(dry.plan == real.plan)
    #expect(real.recovered?.to == 4)
    #expect(f.currentName == "C")
  }

  @Test("rollback N to a failed generation: refused with the --force hint, in the dry run too; forced, it goes")
  func failedNeedsForce() throws {
    let f = try HistoryTests.Fixture(["A", "B", "C"])
    try f.switchTo("A")
    try f.switchTo("B")
    // Fails on C only: grep -v finds a line that is not "release C" in every other release.
    var config = Config()
    config.checks = ["/bin/grep -qv 'release C' release"]
    let failed = try f.store.switchTo(.key(f.keys["C"]!.hex), config: config)
    #expect(failed.health.failure != nil && failed.plan.to == 3)
    for dryRun in [true, false] {
      #expect {
        try f.store.rollback(to: 3, dryRun: dryRun)
      } throws: { error in
        guard let e = error as? MCPGenError else { return false }
        return e.code == .conflict && e.hint == "mcp-gen rollback 3 --force" && e.message.hasPrefix("generation 3 failed its health checks")
      }
    }
    #expect(f.currentName == "B")
    #expect(try f.store.rollback(to: 3, force: true).plan.to == 3)
    #expect(f.currentName == "C")
  }
}
