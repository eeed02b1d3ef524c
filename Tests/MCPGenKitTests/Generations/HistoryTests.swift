import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// Rollback follows recorded history (store-layout.md section 6), not generation numbers.
@Suite("rollback follows history")
struct HistoryTests {
  /// A root with releases `names` added (not switched to); each release is a tiny tree whose
  /// one file names it, so every name has its own key.
  final class Fixture {
    let dir: TestDirectory
    let store: Store
    let root: FilePath
    var keys: [String: StoreKey] = [:]

    init(_ names: [String]) throws {
      dir = try TestDirectory()
      root = dir.at("root")
      store = try Store.open(root, create: true)
      for name in names {
        try dir.makeDirectory("rel-\(name)")
        try dir.writeFile("rel-\(name)/release", "release \(name)\n")
        keys[name] = try store.add(dir.at("rel-\(name)")).key
      }
    }

    deinit { dir.remove() }

    /// Switches to release `name`; returns the new generation number.
    @discardableResult
    func switchTo(_ name: String) throws -> Int64 {
      let outcome = try store.switchTo(.key(keys[name]!.hex))
      #expect(!outcome.alreadyCurrent, "\(name) was current already")
      return outcome.plan.to
    }

    /// Plain rollback; returns the generation it landed on.
    @discardableResult
    func rollback() throws -> Int64 { try store.rollback().plan.to }

    var currentNumber: Int64? { (try? store.current())?.number }

    /// The name of the release `current` resolves to.
    var currentName: String? {
      guard let n = currentNumber, let key = try? store.generation(n)?.key else { return nil }
      return keys.first { $0.value == key }?.key
    }

    var generationNumbers: [Int64] { ((try? store.generations()) ?? []).map(\.number) }

    /// Everything a rollback could change: current, the generation links, the journal's bytes.
    func state() -> [String] {
      let current = (try? store.current()).map { "\($0)" } ?? "?"
      let links = ((try? store.generations()) ?? []).map { "\($0.number)->\(String(decoding: $0.target, as: UTF8.self))" }
      let journal = FileManager.default.contents(atPath: root.string + "/journal.jsonl")?.base64EncodedString() ?? "none"
      let names = ((try? FileManager.default.contentsOfDirectory(atPath: root.string)) ?? []).sorted()
      return ["current \(current)", "names \(names)", "journal \(journal)"] + links
    }

    func journalOperations() throws -> [String] {
      try store.readJournal().records.filter { $0.operation != .add }.map {
        "\($0.operation.rawValue) \($0.from.map(String.init) ?? "-")>\($0.to.map(String.init) ?? "-")\($0.undo ? " undo" : "")"
      }
    }
  }

  @Test("A, B, rollback (A), C, rollback lands on A")
  func rollbackAfterRollbackAndSwitch() throws {
    let f = try Fixture(["A", "B", "C"])
    #expect(try f.switchTo("A") == 1)
    #expect(try f.switchTo("B") == 2)
    #expect(try f.rollback() == 1)
    #expect(f.currentName == "A")
    #expect(try f.switchTo("C") == 3)
    let outcome = try f.store.rollback()
    #expect(outcome.plan.to == 1)
    #expect(outcome.plan.kind == .rollback(undo: true))
    #expect(outcome.plan.from == 3)
    #expect(f.currentName == "A")
    #expect(f.generationNumbers == [1, 2, 3])
  }

  /// Nix's bug (`nix-env --rollback` picks the generation numbered just below the current one):
  /// after A(1), B(2), rollback to 1, switch to C(3), the next rollback goes to 2 — release B,
  /// the very release the operator had already rolled away from. Following history goes to A.
  @Test("Nix's bug: rollback after rollback-then-switch returns to A (1), not to B (2), the number just below current")
  func nixBug() throws {
    let f = try Fixture(["A", "B", "C"])
    try f.switchTo("A")
    try f.switchTo("B")
    try f.rollback()
    try f.switchTo("C")
    let landed = try f.rollback()
    #expect(landed != 2, "rollback went to B, by generation number, like nix-env --rollback")
    #expect(landed == 1)
    #expect(f.currentName == "A")
    #expect(try f.journalOperations() == ["switch ->1", "switch 1>2", "rollback 2>1 undo", "switch 1>3", "rollback 3>1 undo"])
  }

  @Test("A, B, C, rollback, rollback lands on A")
  func twoRollbacks() throws {
    let f = try Fixture(["A", "B", "C"])
    for name in ["A", "B", "C"] { try f.switchTo(name) }
    #expect(try f.rollback() == 2)
    #expect(f.currentName == "B")
    #expect(try f.rollback() == 1)
    #expect(f.currentName == "A")
    #expect(f.generationNumbers == [1, 2, 3])
  }

  @Test("rollback with nothing left to undo fails clearly and changes nothing", arguments: [0, 1, 3])
  func nothingToUndo(switches: Int) throws {
    let f = try Fixture(["A", "B", "C"])
    for name in ["A", "B", "C"].prefix(switches) { try f.switchTo(name) }
    for _ in 0..<max(0, switches - 1) { try f.rollback() }  // Undo all but the first switch.
    let before = f.state()
    do {
      let outcome = try f.store.rollback()
      Issue.record("rollback succeeded: to \(outcome.plan.to)")
    } catch {
      #expect(error.code == .nothingToUndo)
      #expect(error.message.hasPrefix("nothing to roll back to"))
      #expect(error.message.hasSuffix("nothing was changed"))
      #expect(!error.message.contains("\n"))
      #expect(error.hint != nil)
    }
    #expect(f.state() == before)
  }

  @Test("rollback N goes to N, creates no generation; the next switch gets a number above every earlier one")
  func rollbackToNumber() throws {
    let f = try Fixture(["A", "B", "C", "D"])
    for name in ["A", "B", "C"] { try f.switchTo(name) }
    let outcome = try f.store.rollback(to: 1)
    #expect(outcome.plan.to == 1)
    #expect(outcome.plan.kind == .rollback(undo: false))
    #expect(f.currentName == "A")
    #expect(f.generationNumbers == [1, 2, 3])
    #expect(try f.store.rollback(to: 2).plan.to == 2)
    #expect(f.generationNumbers == [1, 2, 3])
    // A later switch: 4, above the 3 that is not current.
    #expect(try f.switchTo("D") == 4)
    // Switching back to a release with an old generation still makes a new one.
    #expect(try f.switchTo("A") == 5)
    #expect(f.generationNumbers == [1, 2, 3, 4, 5])
  }

  @Test("a plain rollback after rollback N undoes the rollback N")
  func rollbackUndoesRollbackN() throws {
    let f = try Fixture(["A", "B", "C"])
    for name in ["A", "B", "C"] { try f.switchTo(name) }
    _ = try f.store.rollback(to: 1)
    #expect(try f.rollback() == 3)
    #expect(try f.rollback() == 2)
    #expect(try f.rollback() == 1)
    #expect(throws: MCPGenError.self) { try f.store.rollback() }
    #expect(try f.journalOperations() == [
      "switch ->1", "switch 1>2", "switch 2>3", "rollback 3>1", "rollback 1>3 undo", "rollback 3>2 undo", "rollback 2>1 undo",
    ])
  }

  @Test("rollback N: to current changes nothing; to a missing N is notFound and changes nothing")
  func rollbackNEdges() throws {
    let f = try Fixture(["A", "B"])
    try f.switchTo("A")
    try f.switchTo("B")
    let before = f.state()
    let same = try f.store.rollback(to: 2)
    #expect(same.alreadyCurrent)
    #expect(f.state() == before)
    do {
      _ = try f.store.rollback(to: 7)
      Issue.record("rollback to 7 succeeded")
    } catch {
      #expect(error.code == .notFound)
      #expect(error.message == "there is no generation 7; nothing was changed")
    }
    #expect(f.state() == before)
    let dry = try f.store.rollback(dryRun: true)
    #expect(dry.dryRun && dry.plan.to == 1)
    #expect(f.state() == before)
  }

  @Test("a plain rollback passes over a generation whose link was removed")
  func skipsRemovedGeneration() throws {
    let f = try Fixture(["A", "B", "C"])
    for name in ["A", "B", "C"] { try f.switchTo(name) }
    #expect(unlink(f.root.string + "/generations/2") == 0)
    let outcome = try f.store.rollback()
    #expect(outcome.plan.to == 1)
    #expect(outcome.plan.skipped == [2])
    #expect(f.currentName == "A")
    let last = try #require(try f.store.readJournal().records.last)
    #expect(last.extra.first { $0.0 == "skipped" }?.1 == .array([.int(2)]))
  }

  @Test("generation numbers never go back: switches after rollbacks, and after the highest link is gone")
  func numbersOnlyGrow() throws {
    let f = try Fixture(["A", "B", "C"])
    var seen: [Int64] = []
    for name in ["A", "B", "C", "A", "B"] { seen.append(try f.switchTo(name)) }
    #expect(try f.rollback() == 4)
    #expect(try f.rollback() == 3)
    seen.append(try f.switchTo("A"))
    #expect(seen == [1, 2, 3, 4, 5, 6])
    _ = try f.store.rollback(to: 1)
    #expect(unlink(f.root.string + "/generations/6") == 0)
    #expect(unlink(f.root.string + "/generations/5") == 0)
    #expect(try f.switchTo("B") == 7)
  }

  @Test("the undo history survives reopening the root (it lives in the journal)")
  func historyFromJournal() throws {
    let f = try Fixture(["A", "B", "C"])
    try f.switchTo("A")
    try f.switchTo("B")
    try f.rollback()
    try f.switchTo("C")
    let reopened = try Store.open(f.root, create: false)
    let outcome = try reopened.rollback()
    #expect(outcome.plan.to == 1)
    #expect(outcome.plan.key == f.keys["A"])
  }
}
