import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

@Suite("health checks: restart, checks, automatic rollback")
struct HealthCheckTests {
  /// `sh -c '...'` as one configured command (CommandWords keeps single-quoted text as is).
  static func shell(_ script: String) -> String { "sh -c '\(script)'" }

  /// Fails (exit 1) only in a release whose VERSION is `version`.
  static func failsOn(_ version: String) -> String { shell("[ \"$(cat share/mcp/VERSION)\" != \(version) ]") }

  @Test("the fixture service: 1.1 restarts and passes; mcp-broken fails, rolls back to 1.1 by itself, restarts it, and the service answers 1.1 again")
  func fixtureService() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let state = scratch.at("service-state")
    // The restart command starts the "service", which records the version it runs; the check
    // asks it for its version and compares it with the release's.
    let flags = [
      "--restart", "bin/mcp serve \(state)",
      "--check", Self.shell("test \"$(cat \(state))\" = \"$(cat share/mcp/VERSION)\""),
      "--check", "bin/mcp check",
    ]
    try Gen.ok(root, "switch", flags + [CLI.fixture("mcp-1.0")])
    #expect(Gen.read(state) == "1.0\n")
    let up = try Gen.ok(root, "switch", flags + [CLI.fixture("mcp-1.1")])
    #expect(up.stdoutText.contains("  restart passed: bin/mcp serve \(state)\n"), "\(up.stdoutText)")
    #expect(up.stdoutText.contains("  check passed: bin/mcp check\n"))
    #expect(Gen.read(state) == "1.1\n")
    #expect(Gen.currentGeneration(root) == 2)

    let broken = try Gen.run(root, "switch", flags + [CLI.fixture("mcp-broken")])
    #expect(broken.status == 4, "\(broken.stdoutText)\n\(broken.stderrText)")
    #expect(broken.stdoutText.contains("  check FAILED: bin/mcp check (failed with exit status 1)"), "\(broken.stdoutText)")
    #expect(broken.stdoutText.contains("rolled back to generation 2 ("), "\(broken.stdoutText)")
    #expect(broken.stderrText.hasPrefix("error: health check `bin/mcp check` failed with exit status 1: mcp 1.2-broken: configuration invalid"), "\(broken.stderrText)")
    #expect(Gen.currentGeneration(root) == 2)
    #expect(Gen.read(root + "/current/share/mcp/VERSION") == "1.1\n")
    #expect(Gen.read(state) == "1.1\n", "the restored release was not restarted")

    // The service answers 1.1 again: the version check passes against current.
    let check = try Gen.run(root, "check", ["--check", flags[3]])
    #expect(check.status == 0, "\(check.stdoutText) \(check.stderrText)")

    let rows = try #require(try Gen.json(try Gen.ok(root, "list", ["--json"])) as? [[String: Any]])
    #expect(rows.map { Gen.int($0["generation"]) } == [1, 2, 3])
    #expect(rows.map { $0["failed"] as? Bool } == [false, false, true])
    #expect(rows.map { $0["current"] as? Bool } == [false, true, false])
    let line = try #require(try Gen.journal(root).last)
    #expect(line["op"] as? String == "switch")
    #expect(Gen.int(line["to"]) == 3)
    #expect(line["outcome"] as? String == "rolled-back")
    #expect(Gen.int(line["current"]) == 2)
    let restored = line["restoredChecks"] as? [[String: Any]] ?? []
    #expect(restored.map { $0["role"] as? String } == ["restart", "required", "required"])

    // A plain rollback undoes the switch to 1.1 (the failed 3 was never current for good).
    let back = try Gen.ok(root, "rollback", flags)
    #expect(back.stdoutText.hasPrefix("switched to generation 1 ("), "\(back.stdoutText)")
    #expect(Gen.currentGeneration(root) == 1)
    #expect(Gen.read(state) == "1.0\n")
  }

  @Test("a plain rollback passes over a generation marked failed")
  func rollbackSkipsFailed() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    try Gen.ok(root, "switch", ["--no-checks", CLI.fixture("mcp-broken")])  // 2: unchecked, so not failed (yet)
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.1")])  // 3
    let toBroken = try Gen.run(root, "rollback", ["--check", "bin/mcp check", "2"])
    #expect(toBroken.status == 4, "\(toBroken.stdoutText) \(toBroken.stderrText)")
    #expect(Gen.currentGeneration(root) == 3)
    let rows = try #require(try Gen.json(try Gen.ok(root, "list", ["--json"])) as? [[String: Any]])
    #expect(rows.map { $0["failed"] as? Bool } == [false, true, false])

    // Undoing the switch to 3 would return to 2, which is failed: it is passed over.
    let back = try Gen.ok(root, "rollback", ["--check", "bin/mcp check"])
    #expect(back.stdoutText.hasPrefix("switched to generation 1 ("), "\(back.stdoutText)")
    #expect(back.stderrText.contains("passed over generations 2"), "\(back.stderrText)")
    #expect(Gen.currentGeneration(root) == 1)
    let line = try #require(try Gen.journal(root).last)
    #expect(line["op"] as? String == "rollback")
    #expect((line["skipped"] as? [Any])?.compactMap(Gen.int) == [2])
  }

  @Test("a check that sleeps forever is killed after --check-timeout 1 with all its children, and counts as failed")
  func checkTimeout() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let pids = scratch.at("pids")
    // Hangs only in 1.1, so restoring 1.0 passes (exit 4, not 5).
    let hang = Self.shell("if [ \"$(cat share/mcp/VERSION)\" = 1.1 ]; then echo $$ > \(pids); sleep 1000 & echo $! >> \(pids); wait; fi")
    try Gen.ok(root, "switch", ["--check", hang, CLI.fixture("mcp-1.0")])
    let started = Gen.now()
    let out = try Gen.run(root, "switch", ["--check", hang, "--check-timeout", "1", CLI.fixture("mcp-1.1")])
    let elapsed = Gen.now() - started
    #expect(out.status == 4, "\(out.stdoutText) \(out.stderrText)")
    #expect(elapsed >= 1 && elapsed < 10, "took \(elapsed) s")
    #expect(out.stdoutText.contains("(timed out after 1 s (process group killed))"), "\(out.stdoutText)")
    #expect(Gen.currentGeneration(root) == 1)

    let recorded = (Gen.read(pids) ?? "").split(separator: "\n").compactMap { Int32($0) }
    #expect(recorded.count == 2, "pids: \(Gen.read(pids) ?? "none")")
    // SIGKILL is delivered at once, but give the kernel a moment to finish the exits.
    let deadline = Gen.now() + 2
    while recorded.contains(where: Gen.isRunning) && Gen.now() < deadline { Gen.sleep(0.02) }
    for pid in recorded {
      #expect(!Gen.isRunning(pid), "process \(pid) of the timed-out check is still running")
      if Gen.isRunning(pid) { kill(pid, SIGKILL) }
    }
    let line = try #require(try Gen.journal(root).last)
    #expect(line["outcome"] as? String == "rolled-back")
    let checks = line["checks"] as? [[String: Any]] ?? []
    #expect(checks.first?["detail"] as? String == "timed out after 1 s (process group killed)")
  }

  @Test("a restart command that fails rolls back too (exit 4, current unchanged)")
  func failingRestart() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let before = Gen.readlink(root + "/current")
    let out = try Gen.run(root, "switch", ["--restart", Self.failsOn("1.1"), "--check", "bin/mcp check", CLI.fixture("mcp-1.1")])
    #expect(out.status == 4, "\(out.stdoutText) \(out.stderrText)")
    #expect(out.stdoutText.contains("  restart FAILED: "), "\(out.stdoutText)")
    #expect(!out.stdoutText.contains("check passed"), "checks ran after a failed restart: \(out.stdoutText)")
    #expect(out.stdoutText.contains("rolled back to generation 1 ("))
    #expect(Gen.readlink(root + "/current") == before)
    #expect(Gen.read(root + "/current/share/mcp/VERSION") == "1.0\n")
    #expect(try Gen.journal(root).last?["outcome"] as? String == "rolled-back")
  }

  @Test("when the restored generation fails its checks too: exit 5, says so, the previous generation is current")
  func rollbackFailsToo() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let out = try Gen.run(root, "switch", ["--check", Self.shell("exit 3"), CLI.fixture("mcp-1.1")])
    #expect(out.status == 5, "\(out.stdoutText) \(out.stderrText)")
    #expect(out.stderrText.contains("error: rolling back failed too: generation 1 is current again, but its own check"), "\(out.stderrText)")
    #expect(Gen.currentGeneration(root) == 1)
    let line = try #require(try Gen.journal(root).last)
    #expect(line["outcome"] as? String == "rollback-failed")
    #expect(Gen.int(line["current"]) == 1)
  }

  @Test("the very first switch failing its checks leaves nothing current, and the generation is marked failed")
  func firstSwitchFails() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let out = try Gen.run(root, "switch", ["--check", "bin/mcp check", CLI.fixture("mcp-broken")])
    #expect(out.status == 4, "\(out.stdoutText) \(out.stderrText)")
    #expect(out.stdoutText.contains("rolled back: nothing is current again"), "\(out.stdoutText)")
    #expect(Gen.readlink(root + "/current") == nil)
    let rows = try #require(try Gen.json(try Gen.ok(root, "list", ["--json"])) as? [[String: Any]])
    #expect(rows.map { $0["failed"] as? Bool } == [true])
    let status = try #require(try Gen.json(try Gen.ok(root, "status", ["--json"])) as? [String: Any])
    #expect(status["generation"] is NSNull)
  }

  enum AfterKill: String, CaseIterable, Sendable {
    /// `mcp-gen check` confirms it.
    case confirm
    /// `mcp-gen rollback` undoes it.
    case undo
    /// Running the same switch again finishes its gate (checks pass: confirmed, no new generation).
    case rerun
    /// ... and when the rerun's checks fail, it rolls back like the first run would have.
    case rerunFailing
  }

  @Test("kill -9 of mcp-gen during the checks: the next command says the switch was not confirmed and how to confirm or undo it", arguments: AfterKill.allCases)
  func killDuringChecks(_ next: AfterKill) throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let pidFile = scratch.at("check-pid")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let slow = Self.shell("echo $$ > \(pidFile); exec sleep 30")
    let child = try GenChild(CLI.binary, ["switch", "--root", root, "--check", slow, CLI.fixture("mcp-1.1")], stderr: scratch.at("err"))
    defer {
      if let pid = Gen.read(pidFile).flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) { kill(pid, SIGKILL) }
    }
    // Wait until current has moved and the check is running, then kill mcp-gen.
    let deadline = Gen.now() + 30
    while (Gen.currentGeneration(root) != 2 || Gen.read(pidFile)?.hasSuffix("\n") != true) && Gen.now() < deadline && !child.poll() {
      Gen.sleep(0.01)
    }
    #expect(Gen.currentGeneration(root) == 2)
    child.kill(SIGKILL)
    #expect(GenChild.signal(child.wait()) == SIGKILL, "\(Gen.read(scratch.at("err")) ?? "")")

    let status = try Gen.ok(root, "status")
    #expect(status.stdoutText.contains("generation: 2"))
    let warning = status.stderrText
    #expect(warning.contains("confirm") && warning.contains("mcp-gen check") && warning.contains("mcp-gen rollback"), "\(warning)")
    #expect(warning.hasPrefix("warning: "))
    let json = try Gen.ok(root, "status", ["--json"])
    #expect(Gen.int((try Gen.json(json) as? [String: Any])?["generation"]) == 2)

    switch next {
    case .confirm:
      let check = try Gen.run(root, "check", ["--check", "bin/mcp check"])
      #expect(check.status == 0, "\(check.stdoutText) \(check.stderrText)")
      #expect(check.stdoutText.contains("generation 2 is confirmed"), "\(check.stdoutText)")
      #expect(Gen.currentGeneration(root) == 2)
      let ops = try Gen.journal(root).suffix(2).map { "\($0["op"] as? String ?? "") \($0["outcome"] as? String ?? "")" }
      #expect(ops == ["recover unconfirmed", "check confirmed"])
    case .undo:
      let back = try Gen.ok(root, "rollback")
      #expect(back.stderrText.contains("note: generation 2 was made current by a command that did not finish"), "\(back.stderrText)")
      #expect(back.stdoutText.hasPrefix("switched to generation 1 ("), "\(back.stdoutText)")
      #expect(Gen.currentGeneration(root) == 1)
    case .rerun:
      let again = try Gen.run(root, "switch", ["--check", "bin/mcp check", CLI.fixture("mcp-1.1")])
      #expect(again.status == 0, "\(again.stdoutText) \(again.stderrText)")
      #expect(again.stdoutText.contains("  check passed: bin/mcp check"), "\(again.stdoutText)")
      #expect(Gen.currentGeneration(root) == 2)
      #expect(Gen.generationNames(root) == ["1", "2"])
      let ops = try Gen.journal(root).suffix(2).map { "\($0["op"] as? String ?? "") \($0["outcome"] as? String ?? "")" }
      #expect(ops == ["recover unconfirmed", "check confirmed"])
    case .rerunFailing:
      let again = try Gen.run(root, "switch", ["--check", Self.failsOn("1.1"), CLI.fixture("mcp-1.1")])
      #expect(again.status == 4, "\(again.stdoutText) \(again.stderrText)")
      #expect(again.stdoutText.contains("rolled back to generation 1 ("), "\(again.stdoutText)")
      #expect(Gen.currentGeneration(root) == 1)
      #expect(Gen.generationNames(root) == ["1", "2"])
      let rows = try #require(try Gen.json(try Gen.ok(root, "list", ["--json"])) as? [[String: Any]])
      #expect(rows.map { $0["failed"] as? Bool } == [false, true])
    }
    let after = try Gen.ok(root, "status")
    #expect(after.stderr.isEmpty, "status still warns: \(after.stderrText)")
    // A confirmed switch stays confirmed: checking again records nothing new.
    if next == .confirm {
      let count = try Gen.journal(root).count
      let again = try Gen.ok(root, "check", ["--check", "bin/mcp check"])
      #expect(!again.stdoutText.contains("confirmed"))
      #expect(try Gen.journal(root).count == count)
    }
  }

  @Test("a failing advisory check only warns: exit 0, a warning line, the switch stands")
  func advisory() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let out = try Gen.run(root, "switch", ["--check", "bin/mcp check", "--advisory-check", Self.shell("echo disk nearly full; exit 1"), CLI.fixture("mcp-1.1")])
    #expect(out.status == 0, "\(out.stderrText)")
    #expect(out.stderrText.hasPrefix("warning: advisory check `sh -c 'echo disk nearly full; exit 1'` failed with exit status 1: disk nearly full"), "\(out.stderrText)")
    #expect(out.stdoutText.contains("  check passed: bin/mcp check"))
    #expect(Gen.currentGeneration(root) == 2)
    #expect(try Gen.journal(root).last?["outcome"] as? String == "ok")
  }

  @Test("--settle 1 runs the required checks a second time after a second; without it they run once")
  func settle() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    for settle in [nil, "1"] as [String?] {
      let root = scratch.at("root-\(settle ?? "none")")
      let counter = scratch.at("count-\(settle ?? "none")")
      let count = Self.shell("echo run >> \(counter)")
      let advisoryCounter = counter + "-advisory"
      let started = Gen.now()
      let out = try Gen.run(root, "switch", ["--check", count, "--advisory-check", Self.shell("echo run >> \(advisoryCounter)")]
        + (settle.map { ["--settle", $0] } ?? []) + [CLI.fixture("mcp-1.0")])
      let elapsed = Gen.now() - started
      #expect(out.status == 0, "\(out.stderrText)")
      #expect(Gen.read(counter) == (settle == nil ? "run\n" : "run\nrun\n"), "settle \(settle ?? "none")")
      #expect(Gen.read(advisoryCounter) == "run\n", "advisory checks are not re-run")
      if settle != nil { #expect(elapsed >= 1, "settle did not wait: \(elapsed) s") }
    }
  }

  @Test("mcp-gen check: exit 0 when every required check passes, 4 with one error line when one fails; current is left alone")
  func checkCommand() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    try Gen.ok(root, "switch", ["--no-checks", CLI.fixture("mcp-broken")])
    let good = try Gen.run(root, "check", ["--check", "bin/mcp status"])
    #expect(good.status == 0, "\(good.stderrText)")
    #expect(good.stdoutText == "checking generation 2 (\(try Gen.key(CLI.fixture("mcp-broken")).prefix(12)))\n  check passed: bin/mcp status\n")

    let before = Gen.snapshot(root)
    let bad = try Gen.run(root, "check", ["--check", "bin/mcp status", "--check", "bin/mcp check"])
    #expect(bad.status == 4, "\(bad.stderrText)")
    #expect(Gen.isOneLineError(bad.stderrText), "\(bad.stderrText)")
    #expect(bad.stderrText.hasPrefix("error: health check `bin/mcp check` failed with exit status 1 on current generation 2"))
    #expect(bad.stdoutText.contains("  check FAILED: bin/mcp check (failed with exit status 1)"))
    #expect(Gen.snapshot(root) == before, "check changed the root")

    let json = try Gen.run(root, "check", ["--json", "--check", "bin/mcp check"])
    #expect(json.status == 4)
    let object = try #require(try Gen.json(json) as? [String: Any])
    #expect(object["passed"] as? Bool == false)
    #expect(Gen.int(object["generation"]) == 2)

    let none = try Gen.run(root, "check")
    #expect(none.status == 1)
    #expect(Gen.isOneLineError(none.stderrText), "\(none.stderrText)")
    #expect(none.stderrText.hasPrefix("error: no health checks are configured"))
  }

  @Test("config --init writes config.json; config shows each value with where it came from")
  func configFile() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let initial = try Gen.ok(root, "config", ["--init"])
    #expect(initial.stdoutText == root + "/config.json\n")
    let text = try #require(Gen.read(root + "/config.json"))
    let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    #expect(parsed["checks"] as? [String] == ["bin/mcp --help", "bin/mcp status", "bin/mcp check"])

    let again = try Gen.run(root, "config", ["--init"])
    #expect(again.status == 1)
    #expect(Gen.isOneLineError(again.stderrText), "\(again.stderrText)")
    #expect(Gen.read(root + "/config.json") == text)

    let shown = try Gen.ok(root, "config")
    let rows = shown.stdoutText.split(separator: "\n").dropFirst()
    #expect(rows.count == 7, "\(shown.stdoutText)")
    for row in rows { #expect(row.hasSuffix("(config.json)"), "\(row)") }
    #expect(rows.first?.hasPrefix("checks") == true)
    #expect(rows.first?.contains("bin/mcp check") == true)

    let overridden = try Gen.ok(root, "config", ["--json", "--check", "true", "--check-timeout", "5"])
    let object = try #require(try Gen.json(overridden) as? [String: [String: Any]])
    #expect(object["checks"]?["from"] as? String == "flag")
    #expect(object["checks"]?["value"] as? [String] == ["true"])
    #expect(object["checkTimeout"]?["from"] as? String == "flag")
    #expect(Gen.int(object["checkTimeout"]?["value"]) == 5)
    #expect(object["gcKeep"]?["from"] as? String == "config.json")

    // The example's checks are used by switch.
    let out = try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    #expect(out.stdoutText.contains("  check passed: bin/mcp --help\n  check passed: bin/mcp status\n  check passed: bin/mcp check\n"), "\(out.stdoutText)")
  }

  @Test("configured checks run on every switch; --no-checks skips them")
  func noChecks() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let config: [String: Any] = ["checks": [Self.failsOn("1.1")], "checkTimeout": 10]
    try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: root + "/config.json"))

    let gated = try Gen.run(root, "switch", [CLI.fixture("mcp-1.1")])
    #expect(gated.status == 4, "the configured check did not run: \(gated.stdoutText) \(gated.stderrText)")
    #expect(Gen.currentGeneration(root) == 1)

    let skipped = try Gen.run(root, "switch", ["--no-checks", CLI.fixture("mcp-1.1")])
    #expect(skipped.status == 0, "\(skipped.stderrText)")
    #expect(!skipped.stdoutText.contains("check"), "\(skipped.stdoutText)")
    #expect(Gen.read(root + "/current/share/mcp/VERSION") == "1.1\n")

    let mixed = try Gen.run(root, "switch", ["--no-checks", "--check", "true", CLI.fixture("mcp-1.0")])
    #expect(mixed.status == 64)
    #expect(Gen.read(root + "/current/share/mcp/VERSION") == "1.1\n")
  }

  @Test("an unknown key in config.json is a one-line error and nothing changes")
  func unknownConfigKey() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    try Gen.write(root + "/config.json", "{\"chekcs\": [\"bin/mcp check\"]}\n")
    let before = Gen.snapshot(root)
    for arguments in [["switch", CLI.fixture("mcp-1.1")], ["rollback", "1"], ["check"], ["config"]] {
      let out = try CLI.run([arguments[0], "--root", root] + arguments.dropFirst())
      #expect(out.status == 1, "\(arguments): \(out.stderrText)")
      #expect(Gen.isOneLineError(out.stderrText), "\(arguments): \(out.stderrText)")
      #expect(out.stderrText.contains("unknown setting 'chekcs'"), "\(arguments): \(out.stderrText)")
      #expect(out.stderrText.contains(root + "/config.json"))
      #expect(Gen.snapshot(root) == before, "\(arguments)")
    }
  }

  @Test("checks run in the release with MCP_GEN_ROOT, MCP_GEN_CURRENT, MCP_GEN_GENERATION and MCP_GEN_KEY set")
  func checkEnvironment() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let envFile = scratch.at("env")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let key = try Gen.key(CLI.fixture("mcp-1.1"))
    try Gen.ok(root, "switch", ["--check", Self.shell("env > \(envFile); pwd -P >> \(envFile)"), CLI.fixture("mcp-1.1")])
    let lines = (Gen.read(envFile) ?? "").split(separator: "\n").map(String.init)
    let release = root + "/store/" + key
    #expect(lines.contains("MCP_GEN_ROOT=\(root)"), "\(lines.filter { $0.hasPrefix("MCP_GEN") })")
    #expect(lines.contains("MCP_GEN_CURRENT=\(release)"))
    #expect(lines.contains("MCP_GEN_GENERATION=2"))
    #expect(lines.contains("MCP_GEN_KEY=\(key)"))
    #expect(lines.last == release, "working directory: \(lines.last ?? "")")
  }
}
