import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

@Suite("generations: atomic current, history, switch options")
struct GenerationsTests {
  /// The reader: loops until the stop file exists. Every pass opens `ROOT/current/bin/mcp` by
  /// path (an open or read failure, or content that is neither release's exact bytes, counts),
  /// then opens `ROOT/current` once as a directory and reads `share/mcp/VERSION` and `bin/mcp`
  /// relative to that descriptor: both must come from the same release.
  static let readerScript = #"""
    import json, os, sys
    root, stop, ready, rel_a, rel_b = sys.argv[1:6]
    expected = {}
    for rel in (rel_a, rel_b):
        with open(os.path.join(rel, "share/mcp/VERSION"), "rb") as f:
            v = f.read()
        with open(os.path.join(rel, "bin/mcp"), "rb") as f:
            expected[v] = f.read()
    versions = list(expected)
    c = {"reads": 0, "dirReads": 0, "failures": 0, "torn": 0, "mixed": 0, "seenA": 0, "seenB": 0, "errors": []}
    def fail(what, e):
        c["failures"] += 1
        if len(c["errors"]) < 5:
            c["errors"].append("%s: %r" % (what, e))
    def read_at(name, d):
        fd = os.open(name, os.O_RDONLY, dir_fd=d)
        try:
            chunks = []
            while True:
                b = os.read(fd, 65536)
                if not b:
                    return b"".join(chunks)
                chunks.append(b)
        finally:
            os.close(fd)
    # Lowest priority: the reader takes all the CPU nothing else wants, and slows no other test.
    os.nice(19)
    path = os.path.join(root, "current/bin/mcp")
    open(ready, "w").close()
    while not os.path.exists(stop):
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            fail("open current/bin/mcp", e)
        else:
            c["reads"] += 1
            if data == expected[versions[0]]:
                c["seenA"] += 1
            elif data == expected[versions[1]]:
                c["seenB"] += 1
            else:
                c["torn"] += 1
        try:
            d = os.open(os.path.join(root, "current"), os.O_RDONLY | os.O_DIRECTORY)
            try:
                version = read_at("share/mcp/VERSION", d)
                script = read_at("bin/mcp", d)
            finally:
                os.close(d)
        except OSError as e:
            fail("read via the current/ descriptor", e)
        else:
            c["dirReads"] += 1
            if expected.get(version) != script:
                c["mixed"] += 1
    print(json.dumps(c))
    """#

  @Test("a reader process never fails to open current/bin/mcp and never sees a mix while 500 switches alternate A, B")
  func readerDuring500Switches() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let relA = scratch.at("rel-a")
    let relB = scratch.at("rel-b")
    try Gen.makeRelease(at: relA, version: "A-1.0", padding: 20_000)
    try Gen.makeRelease(at: relB, version: "B-2.0", padding: 30_000)

    let store = try Store.open(FilePath(root), create: true)
    let a = try store.add(FilePath(relA)).key
    let b = try store.add(FilePath(relB)).key
    #expect(a != b)
    _ = try store.switchTo(.key(a.hex))  // Generation 1: current exists before the reader starts.

    let stop = scratch.at("stop")
    let ready = scratch.at("ready")
    let reader = try ProcessRunner.start(
      Gen.python, Gen.pythonPrefix + ["-c", Self.readerScript, root, stop, ready, relA, relB], outputIn: scratch.path)
    let waitStart = Gen.now()
    while !FileManager.default.fileExists(atPath: ready) {
      guard reader.isRunning, Gen.now() - waitStart < 30 else { break }
      Gen.sleep(0.005)
    }
    #expect(FileManager.default.fileExists(atPath: ready), "the reader never started")

    // 499 more switches (500 in all): B, A, B, ... each makes a new generation and changes current.
    var wrong: [String] = []
    let started = Gen.now()
    for i in 2...500 {
      let key = i % 2 == 0 ? b : a
      do {
        let outcome = try store.switchTo(.key(key.hex))
        if outcome.plan.to != Int64(i) || outcome.alreadyCurrent || outcome.plan.key != key || outcome.plan.from != Int64(i - 1) {
          wrong.append("switch \(i): to \(outcome.plan.to) from \(String(describing: outcome.plan.from)) already \(outcome.alreadyCurrent)")
        }
      } catch {
        wrong.append("switch \(i) threw: \(error)")
      }
    }
    let switching = Gen.now() - started
    try Data().write(to: URL(fileURLWithPath: stop))
    let read = reader.finish()
    let output = Data(read.stdout)

    #expect(wrong.isEmpty, "\(wrong.prefix(5))")
    #expect(read.status == 0, "\(read.stderrText)")
    let counts = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
    print("reader during 500 switches (\(String(format: "%.1f", switching)) s): \(String(decoding: output, as: UTF8.self).trimmingCharacters(in: .newlines))")
    #expect(Gen.int(counts["failures"]) == 0, "\(counts["errors"] ?? "")")
    #expect(Gen.int(counts["torn"]) == 0)
    #expect(Gen.int(counts["mixed"]) == 0)
    #expect((Gen.int(counts["reads"]) ?? 0) > 0)
    #expect((Gen.int(counts["dirReads"]) ?? 0) > 0)
    // The reader really ran across switches: it saw both releases.
    #expect((Gen.int(counts["seenA"]) ?? 0) > 0)
    #expect((Gen.int(counts["seenB"]) ?? 0) > 0)

    let names = Gen.generationNames(root)
    let exactly = names == (1...500).map(String.init)
    #expect(exactly, "generations/ holds \(names.count) names: \(names.prefix(3))...\(names.suffix(3))")
    for n in [1, 2, 3, 250, 499, 500] {
      #expect(Gen.generationKey(root, n) == (n % 2 == 1 ? a.hex : b.hex), "generation \(n)")
    }
    #expect(Gen.readlink(root + "/current") == "generations/500")
    let journal = try Gen.journal(root)
    #expect(journal.filter { $0["op"] as? String == "add" }.count == 2)
    let switches = journal.filter { $0["op"] as? String == "switch" }
    #expect(switches.count == 500)
    #expect(switches.allSatisfy { $0["outcome"] as? String == "ok" })
    let numbers = switches.compactMap { Gen.int($0["to"]) }
    #expect(numbers.count == 500 && numbers == Array(1...500), "generation numbers are not 1...500 in order")
    // No stray temporary links left in the root.
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: root).filter { $0.hasPrefix(".tmp-") }
    #expect(leftovers.isEmpty)
  }

  @Test("history through the binary: A, B, rollback, C, rollback lands on A; then nothing is left to undo")
  func historyThroughBinary() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    for (name, version) in [("a", "1"), ("b", "2"), ("c", "3")] {
      try Gen.makeRelease(at: scratch.at(name), version: version)
    }
    let a = try Gen.key(scratch.at("a"))

    try Gen.ok(root, "switch", [scratch.at("a")])
    try Gen.ok(root, "switch", [scratch.at("b")])
    let back = try Gen.ok(root, "rollback")
    #expect(back.stdoutText.hasPrefix("switched to generation 1 ("), "\(back.stdoutText)")
    #expect(Gen.currentGeneration(root) == 1)
    #expect(Gen.generationNames(root) == ["1", "2"])  // A rollback creates no generation.
    let c = try Gen.ok(root, "switch", [scratch.at("c")])
    #expect(c.stdoutText.hasPrefix("switched to new generation 3 ("), "\(c.stdoutText)")

    let second = try Gen.ok(root, "rollback")
    #expect(second.stdoutText.hasPrefix("switched to generation 1 ("), "\(second.stdoutText)")
    #expect(Gen.currentGeneration(root) == 1)
    #expect(Gen.currentKey(root) == a)
    #expect(Gen.generationNames(root) == ["1", "2", "3"])

    let before = Gen.snapshot(root)
    let none = try Gen.run(root, "rollback")
    #expect(none.status == 1)
    #expect(Gen.isOneLineError(none.stderrText), "\(none.stderrText)")
    #expect(none.stderrText.hasPrefix("error: nothing to roll back to"))
    #expect(none.stdout.isEmpty)
    #expect(Gen.snapshot(root) == before)

    let ops = try Gen.journal(root).map { "\($0["op"] as? String ?? "?") \(Gen.int($0["from"]).map(String.init) ?? "-")>\(Gen.int($0["to"]).map(String.init) ?? "-")" }
    #expect(ops == ["switch ->1", "switch 1>2", "rollback 2>1", "switch 1>3", "rollback 3>1"])
    let journal = try Gen.journal(root)
    #expect(journal.map { $0["undo"] as? Bool ?? false } == [false, false, true, false, true])
  }

  @Test("rollback N goes to that generation without making one; a later switch gets a number above every earlier one")
  func rollbackToNumber() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    for v in ["a", "b", "c", "d"] { try Gen.makeRelease(at: scratch.at(v), version: v) }
    for v in ["a", "b", "c"] { try Gen.ok(root, "switch", [scratch.at(v)]) }
    let b = try Gen.key(scratch.at("b"))

    let to2 = try Gen.ok(root, "rollback", ["2"])
    #expect(to2.stdoutText.hasPrefix("switched to generation 2 (\(b.prefix(12))), was generation 3 ("), "\(to2.stdoutText)")
    #expect(Gen.currentGeneration(root) == 2)
    #expect(Gen.generationNames(root) == ["1", "2", "3"])

    let to1 = try Gen.ok(root, "rollback", ["1"])
    #expect(to1.stdoutText.hasPrefix("switched to generation 1 ("))
    #expect(Gen.generationNames(root) == ["1", "2", "3"])

    // rollback to what is current: nothing changes.
    let journalBefore = Gen.read(root + "/journal.jsonl")
    let same = try Gen.ok(root, "rollback", ["1"])
    #expect(same.stdoutText == "generation 1 (\(try Gen.key(scratch.at("a")).prefix(12))) is already current; nothing changed\n")
    #expect(Gen.read(root + "/journal.jsonl") == journalBefore)

    // A plain rollback undoes the latest change: rollback 1 came from 2.
    try Gen.ok(root, "rollback")
    #expect(Gen.currentGeneration(root) == 2)

    let d = try Gen.ok(root, "switch", [scratch.at("d")])
    #expect(d.stdoutText.hasPrefix("switched to new generation 4 ("), "\(d.stdoutText)")
    #expect(Gen.generationNames(root) == ["1", "2", "3", "4"])
    let rollbacks = try Gen.journal(root).filter { $0["op"] as? String == "rollback" }
    #expect(rollbacks.map { Gen.int($0["to"]) } == [2, 1, 2])
    #expect(rollbacks.map { $0["undo"] as? Bool ?? false } == [false, false, true])
  }

  @Test("--dry-run prints the plan and changes nothing (switch by key, switch by new path, rollback)")
  func dryRun() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let key11 = try Gen.add(root, CLI.fixture("mcp-1.1"))
    try Gen.ok(root, "switch", [key11])
    try Gen.makeRelease(at: scratch.at("new"), version: "9.9")

    let before = Gen.snapshot(root)
    let byKey = try Gen.ok(root, "switch", ["--dry-run", String(key11.prefix(8))])
    #expect(byKey.stdoutText == "generation 2 (\(key11.prefix(12))) is already current; nothing changed\n")
    let byPath = try Gen.ok(root, "switch", ["--dry-run", scratch.at("new")])
    #expect(byPath.stdoutText.hasPrefix("would switch from generation 2 (\(key11.prefix(12))) to new generation 3 ("), "\(byPath.stdoutText)")
    #expect(byPath.stdoutText.hasSuffix("; nothing changed (dry run)\n"))
    let back = try Gen.ok(root, "rollback", ["--dry-run"])
    #expect(back.stdoutText.hasPrefix("would switch from generation 2 (\(key11.prefix(12))) to generation 1 ("), "\(back.stdoutText)")
    let json = try Gen.ok(root, "rollback", ["--dry-run", "--json", "1"])
    let object = try #require(try Gen.json(json) as? [String: Any])
    #expect(object["dryRun"] as? Bool == true)
    #expect(object["changed"] as? Bool == false)
    #expect(Gen.int(object["to"]) == 1)
    #expect(Gen.snapshot(root) == before)
  }

  @Test("--expect: a matching key (full or prefix) lets the switch happen")
  func expectMatches() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let k10 = try Gen.key(CLI.fixture("mcp-1.0"))
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let one = try Gen.ok(root, "switch", ["--expect", String(k10.prefix(8)), CLI.fixture("mcp-1.1")])
    #expect(one.stdoutText.hasPrefix("switched to new generation 2 ("))
    let k11 = try Gen.key(CLI.fixture("mcp-1.1"))
    let two = try Gen.ok(root, "switch", ["--expect", k11, k10])
    #expect(two.stdoutText.hasPrefix("switched to new generation 3 ("))
    #expect(Gen.currentKey(root) == k10)
  }

  @Test("switching to the current release says so, exits 0 and makes no generation")
  func alreadyCurrent() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let key = try Gen.key(CLI.fixture("mcp-1.0"))
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let before = Gen.snapshot(root)
    for target in [key, String(key.prefix(8)), CLI.fixture("mcp-1.0")] {
      let out = try Gen.ok(root, "switch", [target])
      #expect(out.stdoutText == "generation 1 (\(key.prefix(12))) is already current; nothing changed\n", "\(target)")
      #expect(out.stderr.isEmpty)
    }
    #expect(Gen.snapshot(root) == before)
    #expect(Gen.generationNames(root) == ["1"])
  }

  @Test("list --json: one object per generation with generation, key, created, source, current")
  func listJSON() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let k10 = try Gen.key(CLI.fixture("mcp-1.0"))
    let k11 = try Gen.add(root, CLI.fixture("mcp-1.1"))
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    try Gen.ok(root, "switch", [String(k11.prefix(10))])

    let out = try Gen.ok(root, "list", ["--json"])
    let rows = try #require(try Gen.json(out) as? [[String: Any]])
    #expect(rows.count == 2)
    for row in rows {
      #expect(Set(row.keys).isSuperset(of: ["generation", "key", "created", "source", "current"]), "\(row.keys.sorted())")
      let created = row["created"] as? String ?? ""
      #expect(created.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"#, options: .regularExpression) != nil, "\(created)")
    }
    #expect(rows.map { Gen.int($0["generation"]) } == [1, 2])
    #expect(rows.map { $0["key"] as? String } == [k10, k11])
    #expect(rows.map { $0["current"] as? Bool } == [false, true])
    #expect(rows[0]["source"] as? String == CLI.fixture("mcp-1.0"))
    // Switched by key: the source is the one recorded when the release was added.
    #expect(rows[1]["source"] as? String == CLI.fixture("mcp-1.1"))
  }

  @Test("status --json with nothing current: generation null, exit 0 (no root, and a root with releases but no switch)")
  func statusNothingCurrent() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let missing = scratch.at("no-root")
    let out = try Gen.run(missing, "status", ["--json"])
    #expect(out.status == 0, "\(out.stderrText)")
    let object = try #require(try Gen.json(out) as? [String: Any])
    #expect(object["generation"] is NSNull)
    #expect(object["key"] is NSNull)
    #expect(object["root"] as? String == missing)
    #expect(!FileManager.default.fileExists(atPath: missing), "status must not create the root")

    let root = scratch.at("root")
    try Gen.add(root, CLI.fixture("mcp-1.0"))
    let added = try Gen.run(root, "status", ["--json"])
    #expect(added.status == 0, "\(added.stderrText)")
    #expect(added.stderr.isEmpty)
    let o2 = try #require(try Gen.json(added) as? [String: Any])
    #expect(o2["generation"] is NSNull)
    #expect(o2["path"] is NSNull)

    let text = try Gen.ok(root, "status")
    #expect(text.stdoutText.contains("generation: none"))
  }

  @Test("status --json after a switch: generation, key and path of the entry")
  func statusAfterSwitch() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let key = try Gen.key(CLI.fixture("mcp-1.1"))
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.1")])
    let object = try #require(try Gen.json(try Gen.ok(root, "status", ["--json"])) as? [String: Any])
    #expect(Gen.int(object["generation"]) == 1)
    #expect(object["key"] as? String == key)
    #expect(object["path"] as? String == root + "/store/" + key)
    #expect(Gen.read(root + "/current/share/mcp/VERSION") == "1.1\n")
  }

  @Test("journal lines carry the keys of store-layout.md section 6, in that order")
  func journalKeyOrder() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.1")])
    try Gen.ok(root, "rollback")
    let lines = (Gen.read(root + "/journal.jsonl") ?? "").split(separator: "\n").map(String.init)
    #expect(lines.count == 3)
    let order = ["time", "pid", "user", "command", "op", "from", "to", "key", "source", "outcome"]
    for line in lines {
      let positions = order.compactMap { line.range(of: "\"\($0)\":")?.lowerBound }
      #expect(positions.count == order.count, "\(line)")
      #expect(positions == positions.sorted(), "\(line)")
    }
    let objects = try Gen.journal(root)
    #expect(objects[0]["from"] is NSNull)
    #expect(objects[0]["added"] as? Bool == true)
    #expect(objects[2]["undo"] as? Bool == true)
    #expect(objects[2]["source"] as? String == CLI.fixture("mcp-1.0"))
    let command = objects[1]["command"] as? String ?? ""
    #expect(command == "mcp-gen switch --root \(root) \(CLI.fixture("mcp-1.1"))")
  }
}
