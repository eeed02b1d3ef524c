import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// `switch PATH` of an intact source whose stored entry is corrupted heals the entry from the
/// source: a verified copy swapped in by `renameat2(RENAME_EXCHANGE)`, the corrupted one
/// quarantined, `current` never dangling (issue 18).
@Suite("switch PATH heals a corrupted store entry")
struct HealTests {
  /// A root with generations 1 (mcp-1.0) and 2 (mcp-1.1, current) whose current entry has one
  /// byte changed in `share/mcp/VERSION`; returns the root and the current key.
  static func corruptedCurrent(_ scratch: Scratch, _ name: String = "root") throws -> (root: String, key: String) {
    let root = scratch.at(name)
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.1")])
    let key = try #require(Gen.currentKey(root))
    let file = root + "/store/" + key + "/share/mcp/VERSION"
    try GARoot.unfreeze(file)
    try GARoot.sh("printf X | dd of=\"$1\" bs=1 seek=0 count=1 conv=notrunc 2>/dev/null && chmod 444 \"$1\"", file)
    #expect(try Gen.run(root, "verify").status == 2)
    return (root, key)
  }

  @Test("corrupt a file of the current entry; switch SAME_SOURCE heals it: verify clean, quarantine holds the corrupted copy, journaled")
  func healsCurrentEntry() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let (root, key) = try Self.corruptedCurrent(scratch)

    // The dry run says it would heal and changes nothing.
    let before = Gen.snapshot(root)
    let dry = try Gen.ok(root, "switch", ["--dry-run", CLI.fixture("mcp-1.1")])
    #expect(dry.stderrText.contains("note: store entry \(key.prefix(12)) is corrupted (modified share/mcp/VERSION"), "\(dry.stderrText)")
    #expect(Gen.snapshot(root) == before)

    let out = try Gen.run(root, "switch", [CLI.fixture("mcp-1.1")])
    #expect(out.status == 0, "\(out.stdoutText)\(out.stderrText)")
    #expect(out.stdoutText == "generation 2 (\(key.prefix(12))) is already current; only its store entry was healed\n", "\(out.stdoutText)")
    #expect(out.stderrText.hasPrefix("note: store entry \(key.prefix(12)) was corrupted (modified share/mcp/VERSION"), "\(out.stderrText)")
    #expect(Gen.currentGeneration(root) == 2)
    #expect(Gen.generationNames(root) == ["1", "2"])
    #expect(try Gen.run(root, "verify").status == 0)
    // Sealed like every other entry (where the file system and the user allow the flag at all).
    let other = try #require(Gen.generationKey(root, 1))
    #expect(try CLI.isImmutable(root + "/store/" + key) == CLI.isImmutable(root + "/store/" + other))

    // The corrupted copy is evidence in quarantine, byte for byte.
    let quarantined = Rel.listNames(root + "/quarantine").map { String(decoding: $0, as: UTF8.self) }
    #expect(quarantined.count == 1 && quarantined.first?.hasPrefix(key + "-") == true, "\(quarantined)")
    if let name = quarantined.first {
      #expect(Gen.read(root + "/quarantine/\(name)/share/mcp/VERSION")?.hasPrefix("X") == true)
    }
    let heal = try #require(try Gen.journal(root).last)
    #expect(heal["op"] as? String == "heal")
    #expect(heal["key"] as? String == key)
    #expect(heal["source"] as? String == CLI.fixture("mcp-1.1"))
    #expect(heal["quarantined"] as? String == quarantined.first)
    #expect((heal["problem"] as? String)?.hasPrefix("modified share/mcp/VERSION") == true)
    try Rel.expectSoundRoot(root, outputIn: scratch.path, "after healing")
  }

  @Test("a corrupted entry of a release that is not current heals on the way to becoming current")
  func healsOnSwitch() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let (root, key) = try Self.corruptedCurrent(scratch)
    try Gen.ok(root, "rollback")
    let out = try Gen.run(root, "switch", [CLI.fixture("mcp-1.1")])
    #expect(out.status == 0, "\(out.stderrText)")
    #expect(out.stdoutText.hasPrefix("switched to new generation 3 (\(key.prefix(12)))"), "\(out.stdoutText)")
    #expect(try Gen.run(root, "verify").status == 0)
    try Rel.expectSoundRoot(root, outputIn: scratch.path, "after healing on switch")
  }

  @Test("switch KEY of a corrupted entry still refuses: there is no source to heal from")
  func keyDoesNotHeal() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let (root, key) = try Self.corruptedCurrent(scratch)
    try Gen.ok(root, "rollback")
    let out = try Gen.run(root, "switch", [key])
    #expect(out.status == 2 && Gen.isOneLineError(out.stderrText), "\(out.stderrText)")
    #expect(Gen.currentGeneration(root) == 1)
  }

  /// The switch hashes its target before the swap. After the swap it checks that each file is
  /// still the inode, size and change time it hashed, and hashes again only files changed within
  /// a second of that verification: an entry corrupted earlier than that is caught by the
  /// hash before the swap alone. It must refuse before making a generation or touching current.
  @Test("switch KEY of an entry corrupted well before the switch (its change time older than the verification): refused before the swap, nothing changed")
  func corruptedLongBeforeSwitch() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let (root, key) = try Self.corruptedCurrent(scratch)
    try Gen.ok(root, "rollback")
    let journal = try Gen.journal(root).count
    // The verification's clock is in whole seconds and counts a change within one second of its
    // start as recent: more than two seconds make the corrupted file's change time older.
    Gen.sleep(2.2)
    let out = try Gen.run(root, "switch", [key])
    #expect(out.status == 2, "\(out.stdoutText)\(out.stderrText)")
    #expect(out.stderrText.hasPrefix("error: release \(key.prefix(12)) is corrupted: modified share/mcp/VERSION"), "\(out.stderrText)")
    #expect(out.stderrText.contains("; nothing was changed\n"), "\(out.stderrText)")
    #expect(!out.stderrText.contains("after switching"), "\(out.stderrText)")
    #expect(Gen.currentGeneration(root) == 1)
    #expect(Gen.generationNames(root) == ["1", "2"])
    #expect(try Gen.journal(root).count == journal)
  }

  /// Kills the healing switch at its `renameat2` calls (the exchange, then the move into
  /// quarantine) and at every later fsync, syncfs, ioctl and write: `current` resolves at every
  /// one, the switch run again finishes the job, and the audit then finds no error.
  @Test("kill -9 at the exchange and after: current never dangles; rerun, then audit clean",
        .enabled(if: KillPoints.stracePath != nil, "strace is not installed"))
  func killPoints() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let (baseline, key) = try Self.corruptedCurrent(scratch, "baseline")
    let arguments = { (root: String) in ["switch", "--root", root, CLI.fixture("mcp-1.1")] }
    // Where the exchange is among the calls of each kind: kills start at the exchange.
    let probe = scratch.at("probe")
    try KillPoints.copy(baseline, to: probe)
    let renames = try KillPoints.calls(arguments(probe), "renameat2")
    KillPoints.wipe(probe)
    let exchange = try #require(renames.firstIndex { $0.contains("RENAME_EXCHANGE") }, "\(renames)") + 1
    var tried = 0
    for syscall in ["renameat2", "fsync", "syncfs", "ioctl", "write"] {
      var n = syscall == "renameat2" ? exchange : 1
      if syscall != "renameat2" {
        // Only the calls after the exchange.
        try KillPoints.copy(baseline, to: probe)
        let all = try KillPoints.traceInOrder(arguments(probe), [syscall, "renameat2"])
        KillPoints.wipe(probe)
        let at = try #require(all.firstIndex { $0.contains("RENAME_EXCHANGE") })
        n = all[..<at].filter { $0.contains(syscall + "(") }.count + 1
      }
      while n < 400 {
        let work = scratch.at("work")
        try KillPoints.copy(baseline, to: work)
        let run = try KillPoints.runUnderStrace(arguments(work), syscall: syscall, when: n)
        let context = "killed at \(syscall)#\(n)"
        if !run.killed {
          #expect(run.status == 0, "\(context): completed with \(run.status): \(run.stderrText)")
          KillPoints.wipe(work)
          break
        }
        tried += 1
        var st = stat()
        #expect(stat(work + "/current", &st) == 0 && st.st_mode & S_IFMT == S_IFDIR, "\(context): current dangles")
        #expect(Gen.currentGeneration(work) == 2 && Gen.currentKey(work) == key, "\(context)")
        let again = try CLI.run(arguments(work))
        #expect(again.status == 0, "\(context): rerun exited \(again.status): \(again.stderrText)")
        let audit = try Store.open(FilePath(work), create: false).audit()
        #expect(!audit.hasErrors, "\(context): \(audit.problems.map(\.detail))")
        KillPoints.wipe(work)
        n += 1
      }
    }
    print("heal kill points tried: \(tried)")
    #expect(tried > 5)
  }
}

extension KillPoints {
  /// The calls of `syscalls` that `args` makes when nothing fails, in the order they were made.
  static func traceInOrder(_ args: [String], _ syscalls: [String]) throws -> [Substring] {
    let log = try straceLog(["-e", "trace=\(syscalls.joined(separator: ","))"], args)
    return log.split(separator: "\n").filter { line in syscalls.contains { line.contains($0 + "(") } }
  }
}
