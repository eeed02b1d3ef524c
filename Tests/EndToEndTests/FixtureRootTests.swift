import Foundation
import Testing

/// A root written by an earlier release keeps working with this build (store-layout.md,
/// "Compatibility: roots written by earlier releases").
///
/// `fixtures/roots/v1.tar` was written by `scripts/make-fixture-root.sh` with the release of the
/// commit that added it, and `fixtures/roots/v1.expected/` holds what that release printed about
/// it. Its history (journal lines of that release, none written by this build): generation 1
/// (pinned; `rollback 1` returned to it), 2 (removed by gc), 3 (failed its checks and was rolled
/// back: `F`; pinned), 4 (label from pyproject.toml; a plain rollback returned to it), 5 (a
/// single file with a given label; its release blocked), 6 (from git: source `REPO@REF (COMMIT)`,
/// label from the tag), 7 (current, switched to by key; its label replaced by an `add` with outcome
/// `already-stored`); a pin and unpin of 6, a gc that removed generation 2 and an entry nothing
/// referred to, and an `audit --record`.
///
/// The root is extracted elsewhere than where it was made (/tmp/mcp-gen-fixture-v1/root): a root
/// names no path of its own (generation links and `current` are relative; the journal records
/// sources and command lines, not the root), so it must work wherever it is moved.
///
/// Which expectation a reader that lost an old field would break: `time` → `created` in `list`
/// (the archive's mtimes are all 2000-01-01, so the fallback to a link's mtime shows); `source`,
/// `label` → `list`; `outcome` (rolled-back) → `failed` in `list --json` and the refusal of
/// `rollback 3`; `undo` or `from` → `rollbackTo` in `status --json` and the second plain
/// rollback, which must reach 6 through the history before this build; `to` → every generation
/// and `current`; `op` of `add` → the label `1.1-lts` of 7.
@Suite("roots written by earlier releases")
struct FixtureRootTests {
  static let directory = CLI.packageRoot + "/fixtures/roots"
  /// Where `make-fixture-root.sh` made the root; the test never uses that path.
  static let madeAt = "/tmp/mcp-gen-fixture-v1/root"

  /// A copy of `fixtures/roots/NAME.tar` in a fresh scratch directory; returns the root's path.
  /// tar keeps the 0444/0555 modes of entries and the empty directories git would drop; the
  /// immutable flags are not in it (a scratch copy must be removable anyway).
  static func extract(_ name: String, into scratch: Scratch) throws -> String {
    let out = try CLI.runProcess("/usr/bin/tar", [
      "-x", "-p", "--numeric-owner", "-f", directory + "/" + name + ".tar", "-C", scratch.path,
    ], environment: nil)
    guard out.status == 0 else { throw E2EFailure("tar -x \(name).tar: \(out.stderrText)") }
    let root = scratch.at("root")
    #expect(root != madeAt)
    return root
  }

  static func expected(_ name: String, _ file: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: directory + "/" + name + ".expected/" + file) else {
      throw E2EFailure("no \(name).expected/\(file): run scripts/make-fixture-root.sh")
    }
    return String(decoding: data, as: UTF8.self)
  }

  /// The generations of the recorded `list --json`, by number.
  static func recordedGenerations(_ name: String) throws -> [Int: [String: Any]] {
    guard let list = try JSONSerialization.jsonObject(with: Data(expected(name, "list.json").utf8)) as? [[String: Any]] else {
      throw E2EFailure("\(name).expected/list.json is not an array")
    }
    var out: [Int: [String: Any]] = [:]
    for g in list { if let n = Gen.int(g["generation"]) { out[n] = g } }
    return out
  }

  static func key(_ generations: [Int: [String: Any]], _ n: Int) throws -> String {
    guard let key = generations[n]?["key"] as? String else { throw E2EFailure("no generation \(n) in list.json") }
    return key
  }

  /// `audit --json` finds nothing at all: no warning is expected on this root.
  static func expectCleanAudit(_ root: String, entries: Int) throws {
    let out = try Gen.run(root, "audit", ["--json"])
    #expect(out.status == 0, "audit: \(out.stdoutText) \(out.stderrText)")
    let report = try Gen.json(out) as? [String: Any]
    #expect((report?["problems"] as? [Any])?.isEmpty == true, "audit found: \(out.stdoutText)")
    #expect(Gen.int(report?["entries"]) == entries)
  }

  @Test("the archive names neither the machine that made it nor the root's own path")
  func relocatable() throws {
    guard let tar = FileManager.default.contents(atPath: Self.directory + "/v1.tar") else {
      throw E2EFailure("no fixtures/roots/v1.tar")
    }
    #expect(tar.count < 1 << 20)
    #expect(tar.range(of: Data(Self.madeAt.utf8)) == nil)
    #expect(tar.range(of: Data("/work/".utf8)) == nil)
  }

  @Test("v1: list, list --json and status --json print what the release that wrote it printed")
  func listsAsRecorded() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.extract("v1", into: scratch)

    let list = try Gen.ok(root, "list")
    #expect(list.stdoutText == (try Self.expected("v1", "list.txt")))
    let json = try Gen.ok(root, "list", ["--json"])
    #expect(json.stdoutText == (try Self.expected("v1", "list.json")))
    let status = try Gen.ok(root, "status", ["--json"])
    let recorded = try Self.expected("v1", "status.json").replacingOccurrences(of: "<root>", with: root)
    #expect(status.stdoutText == recorded)

    let text = try Gen.ok(root, "status")
    #expect(text.stdoutText.contains("generation: 7\n"))
    #expect(text.stdoutText.contains("rollback:   to generation 6 "))
    #expect(text.stderr.isEmpty, "status warned: \(text.stderrText)")
  }

  @Test("v1: audit finds nothing and every generation verifies intact")
  func auditsClean() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.extract("v1", into: scratch)
    let generations = try Self.recordedGenerations("v1")
    #expect(generations.keys.sorted() == [1, 3, 4, 5, 6, 7])

    try Self.expectCleanAudit(root, entries: 6)
    for n in generations.keys.sorted() {
      let out = try Gen.run(root, "verify", [String(n), "--json"])
      #expect(out.status == 0, "verify \(n): \(out.stderrText)")
      let report = try Gen.json(out) as? [String: Any]
      #expect(report?["intact"] as? Bool == true, "verify \(n): \(out.stdoutText)")
      #expect(report?["key"] as? String == (try Self.key(generations, n)))
    }
  }

  @Test("v1: its marks hold, and it switches by key, rolls back through its old history and rolls back to N")
  func switchesAndRollsBack() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.extract("v1", into: scratch)
    let recorded = try Self.recordedGenerations("v1")

    // The block (of generation 5's release) and the failed mark (3) written by the old release.
    let blocked = try Gen.run(root, "switch", [try Self.key(recorded, 5)])
    #expect(blocked.status == 1)
    #expect(blocked.stderrText.contains("is blocked as known bad"), "\(blocked.stderrText)")
    let failed = try Gen.run(root, "rollback", ["3"])
    #expect(failed.status == 1)
    #expect(failed.stderrText.contains("generation 3 failed its health checks"), "\(failed.stderrText)")
    #expect(Gen.currentGeneration(root) == 7)

    // switch KEY: a new generation one above the highest ever used, the checks of config.json run.
    let key4 = try Self.key(recorded, 4)
    let switched = try Gen.json(try Gen.ok(root, "switch", [key4, "--json"])) as? [String: Any]
    #expect(Gen.int(switched?["from"]) == 7)
    #expect(Gen.int(switched?["to"]) == 8)
    #expect((switched?["checks"] as? [Any])?.count == 3)
    #expect(Gen.currentKey(root) == key4)

    // Plain rollbacks: the first undoes this build's switch, the second one switch of the old
    // journal (6 -> 7), which only its lines tell.
    let back = try Gen.json(try Gen.ok(root, "rollback", ["--json"])) as? [String: Any]
    #expect(Gen.int(back?["to"]) == 7)
    let older = try Gen.json(try Gen.ok(root, "rollback", ["--json"])) as? [String: Any]
    #expect(Gen.int(older?["to"]) == 6)
    let toOne = try Gen.json(try Gen.ok(root, "rollback", ["1", "--json"])) as? [String: Any]
    #expect(Gen.int(toOne?["to"]) == 1)
    #expect(Gen.currentGeneration(root) == 1)

    let status = try Gen.json(try Gen.ok(root, "status", ["--json"])) as? [String: Any]
    #expect(Gen.int(status?["generation"]) == 1)
    #expect(status?["confirmed"] as? Bool == true)
    #expect(Gen.int(status?["rollbackTo"]) == 6)

    // The old generations are listed as recorded, but for `current`; 8 shares 4's release,
    // source and label.
    guard let now = try Gen.json(try Gen.ok(root, "list", ["--json"])) as? [[String: Any]] else {
      throw E2EFailure("list --json is not an array")
    }
    #expect(now.compactMap { Gen.int($0["generation"]) } == [1, 3, 4, 5, 6, 7, 8])
    for g in now {
      guard let n = Gen.int(g["generation"]) else { continue }
      var want = recorded[n] ?? recorded[4] ?? [:]
      want["generation"] = n
      want["current"] = n == 1
      if n == 8 { want["created"] = g["created"] }
      #expect(NSDictionary(dictionary: g) == NSDictionary(dictionary: want), "generation \(n): \(g) != \(want)")
    }
    // Its old lines have no checksum; the lines this build appended (a switch and its start
    // line, three rollbacks) all have one, and the journal reads whole.
    let lines = Array(try Data(contentsOf: URL(fileURLWithPath: root + "/journal.jsonl"))).split(separator: 0x0A)
    let sealed = lines.map { JournalSeal.hasSeal($0) }
    #expect(sealed.suffix(5) == [true, true, true, true, true] && !sealed.dropLast(5).contains(true), "\(sealed)")
    try Self.expectCleanAudit(root, entries: 6)
  }
}
