import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

@Suite("concurrency: the root lock")
struct ConcurrencyTests {
  @Test("8 processes x 25 switches at once: exactly 200 new generations 1...200, a valid current, 200 complete journal lines")
  func eightWriters() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let writers = 8
    let perWriter = 25
    // 200 distinct small releases, so every switch stores a new release and makes a generation.
    var releases: [[String]] = []
    for w in 0..<writers {
      var mine: [String] = []
      for i in 0..<perWriter {
        let path = scratch.at("rel-\(w)-\(i)")
        try FileManager.default.createDirectory(atPath: path + "/bin", withIntermediateDirectories: true)
        try Gen.write(path + "/bin/id", "writer \(w) release \(i)\n")
        mine.append(path)
      }
      releases.append(mine)
    }
    // Each writer is one shell process running its 25 switches one after another and reporting
    // every non-zero exit.
    let script = #"""
      bin=$1; root=$2; err=$3; shift 3
      for p in "$@"; do
        "$bin" switch --root "$root" --lock-timeout 120 "$p" >/dev/null 2>>"$err" || echo "exit $? for $p"
      done
      """#
    let started = Gen.now()
    var children: [GenChild] = []
    for w in 0..<writers {
      children.append(try GenChild("/bin/sh", ["-c", script, "writer", CLI.binary, root, scratch.at("err-\(w)")] + releases[w],
                                   stdout: scratch.at("out-\(w)")))
    }
    for child in children { #expect(GenChild.exitCode(child.wait()) == 0) }
    let elapsed = Gen.now() - started
    print("8 writers x 25 switches: \(String(format: "%.1f", elapsed)) s")
    for w in 0..<writers {
      #expect(Gen.read(scratch.at("out-\(w)")) == "", "writer \(w): \(Gen.read(scratch.at("out-\(w)")) ?? "") \(Gen.read(scratch.at("err-\(w)")) ?? "")")
    }

    let names = Gen.generationNames(root)
    let exactly = names == (1...200).map(String.init)
    #expect(exactly, "generations/ holds \(names.count) names: \(names.prefix(3))...\(names.suffix(3))")
    let journal = try Gen.journal(root)
    #expect(journal.count == 200)
    #expect(journal.allSatisfy { $0["op"] as? String == "switch" && $0["outcome"] as? String == "ok" })
    let numbers = Set(journal.compactMap { Gen.int($0["to"]) })
    #expect(numbers.count == 200 && numbers == Set(1...200), "journal numbers are not 1...200")
    // Serialized: each line starts where the previous one left off.
    let chain = zip(journal.dropFirst(), journal).allSatisfy { Gen.int($0.0["from"]) == Gen.int($0.1["to"]) }
    #expect(chain, "journal lines interleaved: a switch did not see the previous one")
    #expect(journal.first?["from"] is NSNull)
    // Every generation points at the release its journal line names; 200 distinct releases.
    var keys = Set<String>()
    for line in journal {
      guard let to = Gen.int(line["to"]), let key = line["key"] as? String else { continue }
      #expect(Gen.generationKey(root, to) == key, "generation \(to)")
      keys.insert(key)
    }
    #expect(keys.count == 200)
    let storeKeys = try scratch.storeNames(root)
    #expect(Set(storeKeys) == keys)

    let status = try #require(try Gen.json(try Gen.ok(root, "status", ["--json"])) as? [String: Any])
    let current = try #require(Gen.int(status["generation"]))
    #expect((1...200).contains(current))
    #expect(current == Gen.int(journal.last?["to"]))
    #expect(status["key"] as? String == Gen.generationKey(root, current))
    let verify = try Gen.run(root, "verify")
    #expect(verify.status == 0, "\(verify.stdoutText) \(verify.stderrText)")
    let lockText = Gen.read(root + "/lock")
    #expect(lockText == "", "the lock file still names a holder: \(lockText ?? "nil")")
  }

  /// Holds `flock(LOCK_EX)` on `<root>/lock` with a holder line, like another mcp-gen would.
  final class HeldLock {
    let fd: Int32
    init(_ root: String, holder: String = "pid 123: test") throws {
      fd = open(root + "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
      guard fd >= 0 else { throw E2EFailure("open lock: \(String(cString: strerror(errno)))") }
      guard flock(fd, LOCK_EX) == 0 else { throw E2EFailure("flock: \(String(cString: strerror(errno)))") }
      _ = ftruncate(fd, 0)
      let line = Array((holder + "\n").utf8)
      _ = line.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }
    func release() {
      _ = ftruncate(fd, 0)
      _ = flock(fd, LOCK_UN)
    }
    deinit { close(fd) }
  }

  @Test("a held lock: switch --lock-timeout 1 exits 3 after about a second, naming the holder in one line plus a hint; nothing changed")
  func lockTimeout() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let key = try Gen.add(root, CLI.fixture("mcp-1.1"))
    let lock = try HeldLock(root)
    let before = Gen.snapshot(root)

    let started = Gen.now()
    let out = try Gen.run(root, "switch", ["--lock-timeout", "1", key])
    let elapsed = Gen.now() - started
    #expect(out.status == 3, "\(out.stderrText)")
    #expect(elapsed >= 0.95 && elapsed < 5, "took \(elapsed) s")
    #expect(out.stderrLines.count == 2, "\(out.stderrText)")
    #expect(out.stderrText.hasPrefix("error: another mcp-gen holds \(root)/lock (pid 123: test)"), "\(out.stderrText)")
    #expect(out.stderrLines.last?.hasPrefix("hint: mcp-gen status") == true, "\(out.stderrText)")
    #expect(out.stdout.isEmpty)
    #expect(Gen.snapshot(root) == before)

    let back = try Gen.run(root, "rollback", ["--lock-timeout", "0"])
    #expect(back.status == 3)
    #expect(back.stderrText.contains("(pid 123: test)"))
    lock.release()
  }

  @Test("readers (list, status, log, verify) never wait for the lock")
  func readersDoNotBlock() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let lock = try HeldLock(root, holder: "pid 999: someone slow")
    defer { lock.release() }
    for command in ["list", "status", "log", "verify"] {
      let started = Gen.now()
      let out = try Gen.run(root, command, ["--lock-timeout", "20"])
      #expect(out.status == 0, "\(command): \(out.stderrText)")
      #expect(Gen.now() - started < 10, "\(command) waited for the lock")
    }
  }

  @Test("a waiter gets the lock as soon as the holder lets go")
  func waiterProceeds() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let key = try Gen.add(root, CLI.fixture("mcp-1.1"))
    let lock = try HeldLock(root)
    let child = try GenChild(CLI.binary, ["switch", "--root", root, "--lock-timeout", "60", key], stderr: scratch.at("err"))
    Gen.sleep(0.5)
    #expect(!child.poll(), "the switch did not wait for the held lock")
    #expect(Gen.currentGeneration(root) == 1)
    lock.release()
    let status = child.wait()
    #expect(GenChild.exitCode(status) == 0, "\(Gen.read(scratch.at("err")) ?? "")")
    #expect(Gen.currentGeneration(root) == 2)
    #expect(Gen.currentKey(root) == key)
  }
}
