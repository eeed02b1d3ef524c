import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

@Suite("crashes: kill -9 and half-finished switches")
struct CrashTests {
  @Test("kill -9 of a switch at a random moment, 200 times: current is always the old or the new verified generation, and the next command just works")
  func killSwitch200Times() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.makeRelease(at: scratch.at("a"), version: "A", padding: 4000)
    try Gen.makeRelease(at: scratch.at("b"), version: "B", padding: 4000)
    let a = try Gen.add(root, scratch.at("a"))
    let b = try Gen.add(root, scratch.at("b"))
    try Gen.ok(root, "switch", [a])
    let errFile = scratch.at("switch.err")
    let verifyOut = scratch.at("verify.out")
    let logErr = scratch.at("log.err")

    // How long one uninterrupted switch takes here, so the blind kills spread over its whole
    // run (start-up, verify, link, swap, journal) and some land after it finished.
    var durations: [Double] = []
    for i in 0..<4 {
      let started = Gen.now()
      let child = try GenChild(CLI.binary, ["switch", "--root", root, i % 2 == 0 ? b : a], stderr: errFile)
      #expect(GenChild.exitCode(child.wait()) == 0, "\(Gen.read(errFile) ?? "")")
      durations.append(Gen.now() - started)
    }
    let typical = min(max(durations.sorted()[durations.count / 2], 0.015), 0.25)
    print("kill -9 test: an uninterrupted switch takes \(Int(typical * 1000)) ms")

    // Three ways to pick the moment, in turn: blind (a random 0...1.3x a whole switch); a random
    // 0-2 ms after generations/<N> appears (between link and swap); a random 0-4 ms after
    // current changes (between swap and journal line).
    var rng = SystemRandomNumberGenerator()
    var outcomes: [String: Int] = [:]
    var problems: [String] = []
    let started = Gen.now()
    for iteration in 1...200 {
      guard let oldGeneration = Gen.currentGeneration(root), let oldKey = Gen.generationKey(root, oldGeneration) else {
        problems.append("iteration \(iteration): no valid current before the switch")
        break
      }
      let newKey = oldKey == a ? b : a
      let next = (Gen.generationNames(root).compactMap { Int($0) }.max() ?? 0) + 1
      let nextLink = root + "/generations/\(next)"
      let child = try GenChild(CLI.binary, ["switch", "--root", root, newKey], stderr: errFile)
      switch iteration % 3 {
      case 0:
        Gen.sleep(Double.random(in: 0...(typical * 1.3), using: &rng))
      case 1:
        let deadline = Gen.now() + 5
        while Gen.readlink(nextLink) == nil && Gen.now() < deadline && !child.poll() { sched_yield() }
        Gen.sleep(Double.random(in: 0...0.002, using: &rng))
      default:
        let deadline = Gen.now() + 5
        while Gen.currentGeneration(root) == oldGeneration && Gen.now() < deadline && !child.poll() { sched_yield() }
        Gen.sleep(Double.random(in: 0...0.004, using: &rng))
      }
      child.kill(SIGKILL)
      let status = child.wait()

      // current -> generations/N -> ../store/<old or new key>, nothing else.
      let target = Gen.readlink(root + "/current")
      guard let n = Gen.currentGeneration(root), target == "generations/\(n)", let key = Gen.generationKey(root, n) else {
        problems.append("iteration \(iteration): current is \(target ?? "missing"), generation link \(Gen.currentGeneration(root).flatMap { Gen.readlink(root + "/generations/\($0)") } ?? "missing")")
        break
      }
      if key != oldKey && key != newKey { problems.append("iteration \(iteration): current points at \(key), neither old nor new") }
      if key == oldKey && n != oldGeneration { problems.append("iteration \(iteration): current moved to generation \(n) of the old key") }
      if key == newKey && n != next { problems.append("iteration \(iteration): current is generation \(n), expected the new \(next)") }

      let outcome: String
      if let code = GenChild.exitCode(status) {
        outcome = "completed"
        if code != 0 { problems.append("iteration \(iteration): switch exited \(code): \(Gen.read(errFile) ?? "")") }
        if key != newKey { problems.append("iteration \(iteration): switch exited 0 but current is the old key") }
      } else if key == newKey {
        outcome = "killed after the swap"
      } else if Gen.readlink(nextLink) != nil {
        outcome = "killed between link and swap"
      } else {
        outcome = "killed before the link"
      }
      outcomes[outcome, default: 0] += 1

      // The next commands work as they are: verify re-hashes current, log parses the journal
      // (both readers, so they run side by side).
      let verify = try GenChild(CLI.binary, ["verify", "--root", root], stdout: verifyOut, stderr: verifyOut + ".err")
      let log = try GenChild(CLI.binary, ["log", "--root", root], stderr: logErr)
      let verifyStatus = verify.wait()
      let logStatus = log.wait()
      if GenChild.exitCode(verifyStatus) != 0 {
        problems.append("iteration \(iteration): verify exited \(verifyStatus): \(Gen.read(verifyOut) ?? "") \(Gen.read(verifyOut + ".err") ?? "")")
      }
      if GenChild.exitCode(logStatus) != 0 { problems.append("iteration \(iteration): log exited \(logStatus): \(Gen.read(logErr) ?? "")") }
      if !problems.isEmpty { break }
    }
    let elapsed = Gen.now() - started
    let killed = outcomes.filter { $0.key != "completed" }.values.reduce(0, +)
    print("kill -9 test: 200 iterations in \(String(format: "%.1f", elapsed)) s: killed mid-run \(killed), completed \(outcomes["completed"] ?? 0); \(outcomes.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))")
    #expect(problems.isEmpty, "\(problems.prefix(5))")
    #expect(outcomes.values.reduce(0, +) == 200)

    // The next command works without repair and records what the crashes left unrecorded.
    let final = try Gen.run(root, "switch", [Gen.currentKey(root) == a ? b : a])
    #expect(final.status == 0, "\(final.stderrText)")
    let audit = try Gen.run(root, "audit")
    #expect(audit.status == 0, "\(audit.stdoutText)")
    #expect(!audit.stdoutText.contains("critical"), "\(audit.stdoutText)")
    // A kill during the journal's write(2) can cut a line short where it crosses a page; the next
    // append seals it off, and the audit calls it torn (a warning), never an unreadable journal.
    #expect(!audit.stdoutText.contains("is not a journal record"), "\(audit.stdoutText)")
    let journal = try Gen.journal(root, skippingTorn: true)
    #expect(journal.allSatisfy { ["switch", "recover", "add"].contains($0["op"] as? String ?? "") })
    // Generation numbers only ever grow, and each is used by at most one switch.
    let made = journal.filter { $0["op"] as? String == "switch" }.compactMap { Gen.int($0["to"]) }
    #expect(made == made.sorted() && Set(made).count == made.count)
    // The journal's last recorded current is current: nothing is left unconfirmed.
    let status = try Gen.ok(root, "status")
    #expect(status.stderr.isEmpty, "\(status.stderrText)")
  }

  @Test("a crash after the swap and before the journal line: status warns, the next change records a recover line first")
  func currentAheadOfJournal() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.1")])
    // What a rollback killed right after its rename leaves: current -> generations/1, no line.
    #expect(symlink("generations/1", root + "/.tmp-crash") == 0)
    #expect(rename(root + "/.tmp-crash", root + "/current") == 0)

    let status = try Gen.ok(root, "status")
    #expect(status.stderrText.contains("warning: current was switched by a command that did not finish"), "\(status.stderrText)")

    let next = try Gen.ok(root, "switch", [CLI.fixture("mcp-single")])
    #expect(next.stderrText.contains("note: generation 1 was made current by a command that did not finish"), "\(next.stderrText)")
    #expect(next.stdoutText.hasPrefix("switched to new generation 3 (") && next.stdoutText.contains("was generation 1 ("), "\(next.stdoutText)")
    let journal = try Gen.journal(root)
    #expect(journal.count == 4)
    #expect(journal[2]["op"] as? String == "recover")
    #expect(Gen.int(journal[2]["from"]) == 2 && Gen.int(journal[2]["to"]) == 1)
    #expect(journal[2]["outcome"] as? String == "unconfirmed")
    #expect(journal[3]["op"] as? String == "switch" && Gen.int(journal[3]["from"]) == 1)
    // History stays true: undoing the switch returns to generation 1, then to 2 (the recover).
    try Gen.ok(root, "rollback")
    #expect(Gen.currentGeneration(root) == 1)
    try Gen.ok(root, "rollback")
    #expect(Gen.currentGeneration(root) == 2)
  }

  @Test("numbers are never reused: not after a crash left an unjournaled generation link, not after the highest link is removed")
  func numbersNeverReused() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.1")])
    let k10 = try Gen.key(CLI.fixture("mcp-1.0"))
    // A switch killed after creating generations/3 and before the swap.
    #expect(symlink("../store/\(k10)", root + "/generations/3") == 0)
    let third = try Gen.ok(root, "switch", [CLI.fixture("mcp-single")])
    #expect(third.stdoutText.hasPrefix("switched to new generation 4 ("), "\(third.stdoutText)")
    // gc-like removal of the highest generation (after moving off it): the journal remembers 4.
    try Gen.ok(root, "rollback")
    #expect(Gen.currentGeneration(root) == 2)
    #expect(unlink(root + "/generations/4") == 0)
    #expect(unlink(root + "/generations/3") == 0)
    let next = try Gen.ok(root, "switch", [CLI.fixture("mcp-single")])
    #expect(next.stdoutText.hasPrefix("switched to new generation 5 ("), "\(next.stdoutText)")
    #expect(Gen.generationNames(root) == ["1", "2", "5"])
  }

  @Test("a stray temporary link left in the root by a crash is only a warning; switching still works")
  func strayTemporaryLink() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    #expect(symlink("generations/1", root + "/.tmp-4242-00000000deadbeef") == 0)
    let audit = try Gen.run(root, "audit")
    #expect(audit.status == 0, "\(audit.stdoutText)")
    #expect(audit.stdoutText.contains("warning: leftover"), "\(audit.stdoutText)")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.1")])
    #expect(Gen.currentGeneration(root) == 2)
    #expect(Gen.read(root + "/current/share/mcp/VERSION") == "1.1\n")
  }
}
