import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

@Suite("mcp-gen gc")
struct GCCommandTests {
  /// A required check that fails exactly for releases holding `share/BAD`.
  static let badCheck = ["--check", "sh -c 'test ! -f share/BAD'"]

  @Test("five failed generations in a row, then gc --keep 2: current and the last good one survive")
  func fiveFailedThenKeepTwo() throws {
    let r = try GARoot()
    defer { r.remove() }
    let good1 = try r.release("good1", "1.0")
    let good2 = try r.release("good2", "2.0")
    let k1 = try r.key(good1)
    let k2 = try r.key(good2)
    try r.ok(["switch"] + Self.badCheck + [good1])
    try r.ok(["switch"] + Self.badCheck + [good2])

    var badKeys: [String] = []
    for i in 1...5 {
      let bad = try r.release("bad\(i)", "3.\(i)", bad: true)
      badKeys.append(try r.key(bad))
      let out = try r.run(["switch"] + Self.badCheck + [bad])
      #expect(out.status == 4, "\(out.stderrText)")
      #expect(out.stdoutText.contains("rolled back to generation 2 (\(k2.prefix(12))); generation \(i + 2) is marked failed"))
      #expect(try r.currentGeneration() == 2)
    }
    #expect(try r.generations() == [1, 2, 3, 4, 5, 6, 7])
    #expect(Set(try r.storeNames()) == Set([k1, k2] + badKeys))

    let gc = try r.ok(["gc", "--keep", "2", "--grace", "0"])
    let lines = gc.stdoutText.split(separator: "\n").map(String.init)
    #expect(lines.first == "removed 5 generations (3-7)")
    #expect(Set(lines.filter { $0.hasPrefix("removed store entry ") }) == Set(badKeys.map { "removed store entry \($0)" }))
    #expect(lines.contains { $0.hasPrefix("removed 5 store entries, ") })

    #expect(try r.generations() == [1, 2])
    #expect(r.linkTarget("current") == "generations/2")
    #expect(r.linkTarget("generations/1") == "../store/\(k1)")
    #expect(r.linkTarget("generations/2") == "../store/\(k2)")
    #expect(try r.storeNames() == [k1, k2].sorted())
    #expect(r.names("manifests") == [k1, k2].sorted())
    #expect(try r.run(["audit"]).status == 0)

    // rollback still has somewhere to go: the earlier good generation.
    let back = try r.ok(["rollback"])
    #expect(back.stdoutText.hasPrefix("switched to generation 1 (\(k1.prefix(12))), was generation 2 (\(k2.prefix(12)))\n"))
    #expect(try r.currentGeneration() == 1)
  }

  @Test("gc --dry-run changes nothing: a full listing of the root is identical before and after")
  func dryRunChangesNothing() throws {
    let r = try GARoot()
    defer { r.remove() }
    var keys: [String] = []
    for (i, v) in ["1.0", "2.0", "3.0", "4.0"].enumerated() {
      let dir = try r.release("rel\(i)", v)
      keys.append(try r.key(dir))
      try r.ok(["switch", dir])
    }
    let loose = try r.release("loose", "9.9")
    let looseKey = try r.key(loose)
    try r.ok(["add", loose])
    try r.ok(["pin", "1"])
    // Leftovers a real gc would remove.
    try GARoot.sh("mkdir \"$1/store/.tmp-999999-00000000deadbeef\" && echo x > \"$1/store/.tmp-999999-00000000deadbeef/f\"", r.root)
    try GARoot.sh("mkdir -p \"$1/garbage/x-1-.tmp-1-ab\" && echo y > \"$1/garbage/x-1-.tmp-1-ab/f\"", r.root)

    let before = try GARoot.listing(r.root)
    let dry = try r.ok(["gc", "--dry-run", "--keep", "1", "--grace", "0"])
    let dryJSON = try GARoot.object(try r.ok(["gc", "--dry-run", "--json", "--keep", "1", "--grace", "0"]))
    let after = try GARoot.listing(r.root)
    #expect(before == after)
    #expect(before.contains(".tmp-999999-00000000deadbeef|d|"))

    let removedKeys = [keys[1], keys[2], looseKey].sorted()
    let expectedText = ["would remove 2 generations (2, 3)"] + removedKeys.map { "would remove store entry \($0)" }
    let lines = dry.stdoutText.split(separator: "\n").map(String.init)
    #expect(Array(lines.prefix(4)) == expectedText)
    #expect(lines.count == 10, "\(dry.stdoutText)")
    #expect(lines.dropFirst(4).first?.hasPrefix("would remove 3 store entries, ") == true)
    #expect(lines.contains("would keep pinned generations 1"))
    // The leftovers the real run removes, named.
    #expect(lines.contains("would remove leftover store/.tmp-999999-00000000deadbeef"), "\(dry.stdoutText)")
    #expect(lines.contains("would remove leftover garbage/x-1-.tmp-1-ab"), "\(dry.stdoutText)")
    #expect(lines.contains("would remove 2 leftovers of crashed runs"), "\(dry.stdoutText)")
    #expect(dryJSON["leftovers"] as? [String] == ["store/.tmp-999999-00000000deadbeef", "garbage/x-1-.tmp-1-ab"])
    #expect(lines.last == "nothing changed (dry run)")
    #expect((dryJSON["dryRun"] as? NSNumber)?.boolValue == true)

    // The real run removes exactly what the dry run announced.
    let real = try GARoot.object(try r.ok(["gc", "--json", "--keep", "1", "--grace", "0"]))
    #expect(real["removedGenerations"] as? [Int] == dryJSON["removedGenerations"] as? [Int])
    #expect(real["removedEntries"] as? [String] == dryJSON["removedEntries"] as? [String])
    #expect((real["bytesFreed"] as? NSNumber)?.intValue == (dryJSON["bytesFreed"] as? NSNumber)?.intValue)
    #expect(try r.generations() == [1, 4])
    #expect(try r.storeNames() == [keys[0], keys[3]].sorted())
    #expect(r.names("garbage") == [])
  }

  @Test("gc looping while another process adds and switches: nothing reachable is removed")
  func concurrentWithSwitches() throws {
    let r = try GARoot()
    defer { r.remove() }
    try r.ok(["switch", try r.release("base", "base")])
    let fresh = try (0..<20).map { try r.release("fresh\($0)", "fresh-\($0)") }

    // Two processes: a shell loop running gc, another running switch; each run's exit status,
    // stdout and stderr go to files. Both loops are started before either is waited for.
    let out = r.scratch.at("runs")
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let gcLoop = try GARoot.start("""
      bin=$1; root=$2; out=$3; i=0
      while [ $i -lt 20 ]; do i=$((i+1))
        "$bin" gc --keep 1 --grace 0 --root "$root" >"$out/gc.$i.out" 2>"$out/gc.$i.err"; echo $? >"$out/gc.$i.rc"
      done
      """, [CLI.binary, r.root, out])
    let switchLoop = try GARoot.start("""
      bin=$1; root=$2; out=$3; shift 3; i=0
      for p in "$@"; do i=$((i+1))
        "$bin" switch --json --root "$root" "$p" >"$out/sw.$i.out" 2>"$out/sw.$i.err"; echo $? >"$out/sw.$i.rc"
      done
      """, [CLI.binary, r.root, out] + fresh)
    let started = Date()
    let gcStatus = gcLoop.wait()
    let switchStatus = switchLoop.wait()
    #expect(TestProcess.exitCode(gcStatus) == 0 && TestProcess.exitCode(switchStatus) == 0)
    #expect(Date().timeIntervalSince(started) < 90)

    func read(_ name: String) throws -> String { try String(contentsOfFile: out + "/" + name, encoding: .utf8) }
    for i in 1...20 {
      let status = try read("gc.\(i).rc")
      let stderr = try read("gc.\(i).err")
      #expect(status == "0\n", "gc \(i): \(stderr)")
    }
    var lastGood: Int? = nil
    var succeeded = 0
    for i in 1...20 {
      let status = try read("sw.\(i).rc")
      let stderr = try read("sw.\(i).err")
      if status == "0\n" {
        succeeded += 1
        let object = try #require(try JSONSerialization.jsonObject(with: Data(try read("sw.\(i).out").utf8)) as? [String: Any])
        lastGood = (object["to"] as? NSNumber)?.intValue
        continue
      }
      // A fresh entry collected between its add and the switch's lock (--grace 0): the switch
      // must refuse cleanly, changing nothing.
      #expect(["1\n", "2\n"].contains(status), "switch \(i) exited \(status): \(stderr)")
      #expect(stderr.hasPrefix("error: ") && stderr.contains("nothing was changed"), "switch \(i): \(stderr)")
    }
    #expect(succeeded > 0)

    // Every generation left points at an entry that exists and verifies; current is the last
    // generation a switch made.
    let generations = try r.generations()
    #expect(!generations.isEmpty)
    for n in generations {
      let target = try #require(r.linkTarget("generations/\(n)"))
      #expect(target.hasPrefix("../store/"))
      #expect(FileManager.default.fileExists(atPath: r.root + "/generations/\(n)/bin/mcp"), "generation \(n) dangles")
      let verify = try r.run(["verify", String(n)])
      #expect(verify.status == 0, "verify \(n): \(verify.stdoutText)\(verify.stderrText)")
    }
    #expect(try r.currentGeneration() == lastGood)
    let verifyCurrent = try r.run(["verify"])
    #expect(verifyCurrent.status == 0, "\(verifyCurrent.stdoutText)")
    let audit = try r.run(["audit"])
    #expect(audit.status == 0, "\(audit.stdoutText)")
    #expect(!audit.stdoutText.contains("error: ") && !audit.stdoutText.contains("critical: "))
  }

  @Test("--keep 0 still keeps current (and the newest good generation)")
  func keepZero() throws {
    let r = try GARoot()
    defer { r.remove() }
    let dirs = try ["1.0", "2.0", "3.0"].enumerated().map { try r.release("rel\($0.offset)", $0.element) }
    let keys = try dirs.map { try r.key($0) }
    for d in dirs { try r.ok(["switch", d]) }

    let gc = try r.ok(["gc", "--keep", "0", "--grace", "0"])
    #expect(gc.stdoutText.hasPrefix("removed 2 generations (1, 2)\n"))
    #expect(try r.generations() == [3])
    #expect(r.linkTarget("current") == "generations/3")
    #expect(try r.storeNames() == [keys[2]])
    #expect(try r.run(["verify"]).status == 0)

    // Current older than the newest: both stay.
    let r2 = try GARoot()
    defer { r2.remove() }
    for d in dirs { try r2.ok(["switch", d]) }
    try r2.ok(["rollback", "1"])
    let gc2 = try r2.ok(["gc", "--keep", "0", "--grace", "0"])
    #expect(gc2.stdoutText.hasPrefix("removed 1 generations (2)\n"))
    #expect(try r2.generations() == [1, 3])
    #expect(try r2.currentGeneration() == 1)
    #expect(try r2.storeNames() == [keys[0], keys[2]].sorted())
  }

  @Test("pinned generations are kept beyond the keep count, and gc says so")
  func pinned() throws {
    let r = try GARoot()
    defer { r.remove() }
    let dirs = try (1...4).map { try r.release("rel\($0)", "\($0).0") }
    let keys = try dirs.map { try r.key($0) }
    for d in dirs { try r.ok(["switch", d]) }
    #expect(try r.ok(["pin", "1"]).stdoutText == "pinned generation 1\n")
    #expect(try r.ok(["pin", "1"]).stdoutText == "generation 1 was pinned already\n")
    let missing = try r.run(["pin", "9"])
    #expect(missing.status == 1)
    #expect(missing.stderrLines.first == "error: there is no generation 9 to pin")

    let gc = try r.ok(["gc", "--keep", "1", "--grace", "0"])
    let lines = gc.stdoutText.split(separator: "\n").map(String.init)
    #expect(lines.first == "removed 2 generations (2, 3)")
    #expect(lines.contains("kept pinned generations 1"))
    #expect(try r.generations() == [1, 4])
    #expect(try r.storeNames() == [keys[0], keys[3]].sorted())

    #expect(try r.ok(["unpin", "1"]).stdoutText == "unpinned generation 1\n")
    #expect(try r.ok(["unpin", "1"]).stdoutText == "generation 1 was not pinned\n")
    let json = try GARoot.object(try r.ok(["gc", "--json", "--keep", "1", "--grace", "0"]))
    #expect(json["removedGenerations"] as? [Int] == [1])
    #expect(json["keptPinned"] as? [Int] == [])
    #expect(try r.generations() == [4])
  }

  @Test("gc --json: removedGenerations, removedEntries, bytesFreed = file bytes of the removed releases; --grace protects young entries")
  func jsonAndBytesFreed() throws {
    let r = try GARoot()
    defer { r.remove() }
    let a = try r.release("a", "1.0", padding: 1234)
    let b = try r.release("b", "2.0", padding: 56)
    let c = try r.release("c", "3.0", padding: 7)
    let loose = try r.release("loose", "9.0", padding: 4321)
    for d in [a, b, c] { try r.ok(["switch", d]) }
    try r.ok(["add", loose])
    let (ka, kb, kc, kl) = (try r.key(a), try r.key(b), try r.key(c), try r.key(loose))

    // Default grace (3600 s): every entry is young, but only the one no generation refers to
    // (the add awaiting its switch) is kept; the entries of the removed generations go.
    let young = try GARoot.object(try r.ok(["gc", "--dry-run", "--json", "--keep", "1"]))
    #expect(young["removedGenerations"] as? [Int] == [1, 2])
    #expect((young["removedEntries"] as? [String]).map { $0.sorted() } == [ka, kb].sorted())
    #expect((young["keptByGrace"] as? [[String: Any]])?.map { $0["key"] as? String } == [kl])

    let out = try r.ok(["gc", "--json", "--keep", "1", "--grace", "0"])
    #expect(out.stdoutText.filter { $0 == "\n" }.count == 1)
    let json = try GARoot.object(out)
    #expect(Set(json.keys) == ["removedGenerations", "removedEntries", "bytesFreed", "keptPinned", "keptByAge", "keptByGrace", "leftovers", "dryRun"])
    #expect(json["removedGenerations"] as? [Int] == [1, 2])
    #expect((json["removedEntries"] as? [String]).map { $0.sorted() } == [ka, kb, kl].sorted())
    let expectedBytes = try GARoot.fileBytes(a) + GARoot.fileBytes(b) + GARoot.fileBytes(loose)
    #expect(expectedBytes == 3 * (19 + 9) + 1234 + 56 + 4321)
    #expect((json["bytesFreed"] as? NSNumber)?.intValue == expectedBytes)
    #expect((json["dryRun"] as? NSNumber)?.boolValue == false)
    #expect(try r.storeNames() == [kc])
    #expect(r.names("manifests") == [kc])
    #expect(r.names("garbage") == [])

    // The journal records what went.
    let log = try r.ok(["log", "--json"]).stdoutText.split(separator: "\n")
    let last = try #require(try JSONSerialization.jsonObject(with: Data(log.last!.utf8)) as? [String: Any])
    #expect(last["op"] as? String == "gc")
    #expect(last["generations"] as? [Int] == [1, 2])
    #expect((last["bytesFreed"] as? NSNumber)?.intValue == expectedBytes)
  }

  @Test("a crashed add's unlocked store/.tmp-* is removed; one flocked by a live process is not")
  func temporaryCopies() throws {
    let r = try GARoot()
    defer { r.remove() }
    let a = try r.release("a", "1.0")
    let ka = try r.key(a)
    try r.ok(["switch", a])
    let dead = ".tmp-999999-00000000deadbeef"
    let live = ".tmp-\(getpid())-00000000cafef00d"
    // A crashed copy as add leaves it: sealed files and directories (immutable as root).
    try GARoot.sh("""
      set -e
      mkdir -p "$1/store/$2/sub" "$1/store/$3"
      echo x > "$1/store/$2/sub/f"; chmod 444 "$1/store/$2/sub/f"; chmod 555 "$1/store/$2/sub"
      if [ "$(id -u)" = 0 ]; then chattr +i "$1/store/$2/sub/f" "$1/store/$2/sub" 2>/dev/null || true; fi
      echo y > "$1/store/$3/f"
      """, r.root, dead, live)
    let holder = try GAFlock(r.root + "/store/" + live)
    defer { holder.release() }

    let audit = try r.run(["audit"])
    #expect(audit.status == 0)
    #expect(audit.stdoutText.contains("warning: leftover \(r.root)/store/\(dead): temporary copy left by a crashed add\n"))
    #expect(!audit.stdoutText.contains(live))

    let gc = try r.ok(["gc", "--grace", "0"])
    #expect(gc.stdoutText.contains("removed 1 leftovers of crashed runs\n"))
    #expect(try r.storeNames() == [live, ka].sorted())
    #expect(FileManager.default.fileExists(atPath: r.root + "/store/\(live)/f"))

    // Unlocked, but its creator (the pid in its name: this test process) still runs: the add
    // may be between creating the copy and locking it, so it is still not touched.
    holder.release()
    let gc2 = try r.ok(["gc", "--grace", "0"])
    #expect(!gc2.stdoutText.contains("leftovers"))
    #expect(try r.storeNames() == [live, ka].sorted())
  }

  @Test("a leftover garbage/ entry of a crashed gc is finished by the next gc")
  func garbageLeftover() throws {
    let r = try GARoot()
    defer { r.remove() }
    let a = try r.release("a", "1.0")
    let ka = try r.key(a)
    try r.ok(["switch", a])
    let name = "\(String(repeating: "ab", count: 32))-1700000000.tmp-1-0123456789abcdef"
    try GARoot.sh("""
      set -e
      mkdir -p "$1/garbage/$2/bin"
      echo z > "$1/garbage/$2/bin/mcp"; chmod 555 "$1/garbage/$2/bin/mcp" "$1/garbage/$2/bin" "$1/garbage/$2"
      if [ "$(id -u)" = 0 ]; then chattr +i "$1/garbage/$2/bin/mcp" "$1/garbage/$2/bin" 2>/dev/null || true; fi
      """, r.root, name)

    let audit = try r.run(["audit"])
    #expect(audit.status == 0)
    #expect(audit.stdoutText.contains("warning: leftover \(r.root)/garbage: 1 entries half-deleted by a crashed gc\n"))

    let gc = try r.ok(["gc", "--grace", "0"])
    #expect(gc.stdoutText == "removed 0 generations\nremoved 0 store entries, 0 B freed\nremoved 1 leftovers of crashed runs\n")
    #expect(r.names("garbage") == [])
    #expect(try r.storeNames() == [ka])
    let clean = try r.run(["audit"])
    #expect(clean.stdoutText.hasSuffix("; no problems\n"))
  }

  @Test("generation numbers are never reused after gc removes the highest one")
  func numbersNotReused() throws {
    let r = try GARoot()
    defer { r.remove() }
    try r.ok(["switch", try r.release("a", "1.0")])
    try r.ok(["switch", try r.release("b", "2.0")])
    let bad = try r.run(["switch"] + Self.badCheck + [try r.release("c", "3.0", bad: true)])
    #expect(bad.status == 4)
    #expect(try r.generations() == [1, 2, 3])

    let gc = try r.ok(["gc", "--keep", "0", "--grace", "0"])
    #expect(gc.stdoutText.hasPrefix("removed 2 generations (1, 3)\n"))
    #expect(try r.generations() == [2])

    let next = try GARoot.object(try r.ok(["switch", "--json", try r.release("d", "4.0")]))
    #expect((next["to"] as? NSNumber)?.intValue == 4)
    #expect((next["from"] as? NSNumber)?.intValue == 2)
    #expect(try r.generations() == [2, 4])
    #expect(try r.currentGeneration() == 4)
  }

  @Test("gc never removes the temporary copy of an add in progress (window between mkdirat and flock)",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/strace"), "needs strace to widen the window"))
  func liveAddCopyDuringGC() throws {
    let r = try GARoot()
    defer { r.remove() }
    try r.ok(["switch", try r.release("a", "1.0")])
    let b = try r.release("b", "2.0")
    let kb = try r.key(b)
    let out = r.scratch.at("add")
    // Delay add's first flock (the one on its fresh store/.tmp-*) by 2 s.
    let add = try GARoot.start("""
      exec /usr/bin/strace -f -o /dev/null -e trace=flock -e inject=flock:delay_enter=2000000:when=1 \
        "$1" add --root "$2" "$3" >"$4.out" 2>"$4.err"
      """, [CLI.binary, r.root, b, out])
    let deadline = Date().addingTimeInterval(10)
    while !(try r.storeNames()).contains(where: { $0.hasPrefix(".tmp-") }) && Date() < deadline { usleep(20_000) }
    #expect(try r.storeNames().contains { $0.hasPrefix(".tmp-") })
    let gc = try r.ok(["gc"])  // default grace: nothing young is touched
    let addStatus = add.wait()
    let stderr = (try? String(contentsOfFile: out + ".err", encoding: .utf8)) ?? ""
    #expect(TestProcess.exitCode(addStatus) == 0, "\(stderr)")
    #expect(!gc.stdoutText.contains("leftovers"))
    #expect(try r.storeNames().contains(kb))
  }
}
