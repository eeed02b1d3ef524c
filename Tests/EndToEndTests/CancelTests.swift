import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Ctrl-C (SIGINT) and SIGTERM cancel `add`, `switch` and `rollback`: what they began is undone,
/// one line says what, and the exit status is 130 (store-layout.md, sections 4 and 6).
@Suite("cancel: SIGINT and SIGTERM undo what they interrupt")
struct CancelTests {
  /// A root with generations made from releases r1, r2, ... (each `Gen.makeRelease`), and a
  /// check script that passes at once, except against generation N given as its argument, where
  /// it prints a line, then writes its pid into `<scratch>/check.pid` (so a test that signals
  /// once it sees the pid never races the line) and sleeps 30 s.
  final class Fixture {
    let scratch: Scratch
    let root: String
    let script: String
    var marker: String { scratch.at("check.pid") }

    init(generations: Int) throws {
      scratch = try Scratch()
      root = scratch.at("root")
      script = scratch.at("slow-check.sh")
      try Gen.write(script, """
        #!/bin/sh
        if [ "$MCP_GEN_GENERATION" = "$1" ]; then
          echo "check of generation $1 started"
          echo $$ > \(scratch.at("check.pid.tmp")) && mv \(scratch.at("check.pid.tmp")) \(scratch.at("check.pid"))
          exec sleep 30
        fi
        exit 0

        """, mode: 0o755)
      for n in 0..<generations {
        try Gen.ok(root, "switch", ["--check", script + " 0", release(n + 1)])
      }
    }

    deinit { scratch.remove() }

    /// The release directory `rN`, made on first use.
    @discardableResult
    func release(_ n: Int) throws -> String {
      let path = scratch.at("r\(n)")
      if !FileManager.default.fileExists(atPath: path) { try Gen.makeRelease(at: path, version: "\(n).0") }
      return path
    }

    /// Starts `mcp-gen ARGS --root ROOT` in the background.
    func spawn(_ arguments: [String], environment: [String: String] = [:]) throws -> Rel.Spawned {
      try Rel.spawn(arguments + ["--root", root], outputIn: scratch.path,
                    environment: Gen.childEnvironment.merging(environment) { _, new in new })
    }

    /// Waits until the slow check runs (its pid is written); that pid.
    func waitForCheck(_ s: Rel.Spawned) throws -> pid_t {
      let started = Rel.poll(timeout: 30, while: { Gen.isRunning(s.pid) }) {
        FileManager.default.fileExists(atPath: self.marker)
      }
      guard started, let text = Gen.read(marker), let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
        let run = Rel.finish(s, timeout: 1)
        throw E2EFailure("the slow check never started: \(run)")
      }
      return pid
    }

    func json(_ arguments: [String]) throws -> [String: Any] {
      let out = try Gen.ok(root, arguments[0], Array(arguments.dropFirst()) + ["--json"])
      guard let object = try Gen.json(out) as? [String: Any] else { throw E2EFailure("\(arguments): not an object") }
      return object
    }
  }

  @Test("a switch interrupted during its health check puts the previous generation back, journals `cancelled`, prints one line and exits 130", arguments: [SIGINT, SIGTERM])
  func switchCancelled(signal: Int32) throws {
    let f = try Fixture(generations: 2)
    let s = try f.spawn(["switch", "--check", f.script + " 3", try f.release(3)])
    let checkPID = try f.waitForCheck(s)
    #expect(Gen.currentGeneration(f.root) == 3, "the switch had not swapped current yet")
    kill(s.pid, signal)
    let run = Rel.finish(s, timeout: 20)
    #expect(run.exitCode == 130, "\(run)")
    #expect(run.seconds < 10, "the cancel took \(run.seconds) s: the check was not stopped")
    #expect(run.stderrText == "cancelled: generation 3 was not kept; current is generation 2 again\n", "\(run)")
    #expect(run.stdoutText.isEmpty, "\(run.stdoutText)")
    #expect(Gen.currentGeneration(f.root) == 2)
    #expect(Rel.poll(timeout: 5) { !Gen.isRunning(checkPID) }, "the check's process group did not get the signal")

    let line = try #require(try Gen.journal(f.root).last)
    #expect(line["op"] as? String == "switch")
    #expect(Gen.int(line["to"]) == 3)
    #expect(line["outcome"] as? String == "cancelled")
    #expect(Gen.int(line["current"]) == 2)
    #expect(line["signal"] as? String == (signal == SIGINT ? "SIGINT" : "SIGTERM"))
    let checks = line["checks"] as? [[String: Any]] ?? []
    #expect(checks.map { $0["outcome"] as? String } == ["cancelled"])
    #expect((line["restoredChecks"] as? [[String: Any]] ?? []).map { $0["outcome"] as? String } == ["passed"])

    // Cancelled is not failed; history replays the switch as undone: a plain rollback undoes
    // the switch before it (2 -> 1), and the dry run names the same generation.
    let rows = try #require(try Gen.json(try Gen.ok(f.root, "list", ["--json"])) as? [[String: Any]])
    #expect(rows.map { $0["failed"] as? Bool } == [false, false, false])
    #expect(rows.last?["source"] as? String == f.scratch.at("r3"))
    let show = try Gen.ok(f.root, "show", ["3"])
    #expect(show.stdoutText.contains("failed:      no\n"), "\(show.stdoutText)")
    #expect(show.stdoutText.contains("switch: check cancelled: \(f.script) 3 (cancelled by \(signal == SIGINT ? "SIGINT" : "SIGTERM"), which its process group got too)\n      | check of generation 3 started\n"), "\(show.stdoutText)")
    let status = try Gen.ok(f.root, "status")
    #expect(status.stderrText.isEmpty, "status warns after a cancel: \(status.stderrText)")
    let dry = try f.json(["rollback", "--dry-run"])
    #expect(Gen.int(dry["to"]) == 1, "\(dry)")
    let back = try f.json(["rollback", "--check", f.script + " 0"])
    #expect(Gen.int(back["to"]) == 1 && Gen.int(back["current"]) == 1, "\(back)")
    // And generation 3 can still be named.
    try Gen.ok(f.root, "rollback", ["3", "--no-checks"])
    #expect(Gen.currentGeneration(f.root) == 3)
  }

  @Test("a rollback interrupted during its health check puts current back and exits 130")
  func rollbackCancelled() throws {
    let f = try Fixture(generations: 2)
    let s = try f.spawn(["rollback", "--check", f.script + " 1"])
    _ = try f.waitForCheck(s)
    kill(s.pid, SIGINT)
    let run = Rel.finish(s, timeout: 20)
    #expect(run.exitCode == 130, "\(run)")
    #expect(run.stderrText == "cancelled: the rollback to generation 1 was undone; current is generation 2 again\n", "\(run)")
    #expect(Gen.currentGeneration(f.root) == 2)
    let line = try #require(try Gen.journal(f.root).last)
    #expect(line["op"] as? String == "rollback" && line["outcome"] as? String == "cancelled", "\(line)")
    // The undo stack is as before: the same rollback is still the plan.
    #expect(Gen.int(try f.json(["rollback", "--dry-run"])["to"]) == 1)
  }

  @Test("an add interrupted while it copies removes its temporary, clears the progress line, says nothing was added and exits 130")
  func addCancelled() throws {
    let f = try Fixture(generations: 0)
    let big = f.scratch.at("big")
    try FileManager.default.createDirectory(atPath: big, withIntermediateDirectories: true)
    for i in 0..<24 { try Rel.writeRandom(big + "/part-\(i)", count: 1 << 20) }  // 24 MiB
    // Debug builds: each file waits 100 ms before it is copied, so the copy is surely running.
    let s = try f.spawn(["add", big], environment: ["MCP_GEN_DEBUG_COPY_DELAY": "0.1", "MCP_GEN_PROGRESS": "always"])
    let copying = Rel.poll(timeout: 30, while: { Gen.isRunning(s.pid) }) { Rel.storeTemporary(f.root) != nil }
    #expect(copying, "no store/.tmp-* appeared")
    Gen.sleep(0.2)  // the progress line is drawn every 0.1 s
    kill(s.pid, SIGINT)
    let run = Rel.finish(s, timeout: 20)
    #expect(run.exitCode == 130, "\(run)")
    #expect(run.stdoutText.isEmpty)
    // The last thing on stderr: the progress line overwritten with spaces, then the one line.
    let err = run.stderrText
    #expect(err.hasSuffix("\rcancelled: nothing was added\n"), "\(err.debugDescription)")
    let parts = err.split(separator: "\r", omittingEmptySubsequences: false)
    if parts.count >= 3 {
      #expect(parts[parts.count - 2].allSatisfy { $0 == " " }, "the progress line was not cleared: \(err.debugDescription)")
    }
    #expect(Rel.leftovers(f.root).isEmpty, "\(Rel.leftovers(f.root))")
    #expect(try f.scratch.storeNames(f.root).isEmpty)
    #expect(Rel.listNames(f.root + "/manifests").isEmpty)
    #expect(try Gen.journal(f.root).isEmpty)
  }

  @Test("status during a switch's checks names the switch (pid, command), says current is not confirmed yet, and gives the rollback target; list shows the in-flight generation's source")
  func statusAndListDuringSwitch() throws {
    let f = try Fixture(generations: 2)
    let s = try f.spawn(["switch", "--check", f.script + " 3", try f.release(3)])
    defer {
      kill(s.pid, SIGINT)  // cancelled: the check ends too
      _ = Rel.finish(s, timeout: 20)
    }
    _ = try f.waitForCheck(s)

    let text = try Gen.ok(f.root, "status")
    #expect(!text.stderrText.contains("did not finish"), "\(text.stderrText)")
    #expect(text.stderrText.contains("note: a change is in progress (pid \(s.pid): mcp-gen switch --check"), "\(text.stderrText)")
    #expect(text.stderrText.contains("generation 3 is current while its health checks run"), "\(text.stderrText)")
    #expect(text.stdoutText.contains("checks:     not confirmed yet: they are running\n"), "\(text.stdoutText)")
    #expect(text.stdoutText.contains("rollback:   to generation 2 ("), "\(text.stdoutText)")

    let json = try f.json(["status"])
    #expect(Gen.int(json["generation"]) == 3)
    #expect(json["confirmed"] as? Bool == false)
    #expect(Gen.int(json["rollbackTo"]) == 2)
    let holder = try #require(json["inProgress"] as? [String: Any], "\(json)")
    #expect(Gen.int(holder["pid"]) == Int(s.pid))
    #expect((holder["command"] as? String)?.hasPrefix("mcp-gen switch --check") == true, "\(holder)")

    // The generation being checked is listed with its source, not "-".
    let rows = try #require(try Gen.json(try Gen.ok(f.root, "list", ["--json"])) as? [[String: Any]])
    #expect(rows.map { Gen.int($0["generation"]) } == [1, 2, 3])
    #expect(rows.last?["source"] as? String == f.scratch.at("r3"), "\(rows)")
    let list = try Gen.ok(f.root, "list")
    #expect(list.stdoutText.contains(f.scratch.at("r3")), "\(list.stdoutText)")
  }

  @Test("status says whether current was confirmed by its checks and where a rollback would go")
  func statusConfirmation() throws {
    let f = try Fixture(generations: 2)  // both switched with a passing check
    var json = try f.json(["status"])
    #expect(json["confirmed"] as? Bool == true)
    #expect(json["inProgress"] is NSNull)
    #expect(Gen.int(json["rollbackTo"]) == 1)
    var text = try Gen.ok(f.root, "status")
    #expect(text.stdoutText.contains("checks:     confirmed: they passed\n"), "\(text.stdoutText)")
    #expect(text.stdoutText.contains("rollback:   to generation 1 ("), "\(text.stdoutText)")

    try Gen.ok(f.root, "switch", ["--no-checks", try f.release(3)])
    json = try f.json(["status"])
    #expect(json["confirmed"] as? Bool == false)
    #expect(Gen.int(json["rollbackTo"]) == 2)
    text = try Gen.ok(f.root, "status")
    #expect(text.stdoutText.contains("checks:     not confirmed: none ran when it was made current\n"), "\(text.stdoutText)")

    // Killed during its checks (no cancel): the warning of a command that did not finish stays.
    let s = try f.spawn(["switch", "--check", f.script + " 4", try f.release(4)])
    let checkPID = try f.waitForCheck(s)
    kill(s.pid, SIGKILL)
    _ = Rel.finish(s, timeout: 10)
    kill(-checkPID, SIGKILL)  // the check's own process group outlives a killed mcp-gen
    text = try Gen.ok(f.root, "status")
    #expect(text.stderrText.contains("did not finish"), "\(text.stderrText)")
    #expect(text.stdoutText.contains("checks:     not confirmed: the command that made it current did not finish them\n"), "\(text.stdoutText)")
    json = try f.json(["status"])
    #expect(json["confirmed"] as? Bool == false && json["inProgress"] is NSNull, "\(json)")
    #expect(Gen.int(json["rollbackTo"]) == 3, "\(json)")
  }
}

@Suite("show prints a failed check's output; check durations have one name and unit")
struct CheckOutputTests {
  @Test("show N of a failed generation prints what its failed check printed")
  func showPrintsFailedOutput() throws {
    let f = try CancelTests.Fixture(generations: 1)
    let failing = "sh -c '[ $MCP_GEN_GENERATION = 1 ] || { echo Traceback: line 1; echo \"ValueError: bad config\" >&2; exit 3; }'"
    let out = try Gen.run(f.root, "switch", ["--check", failing, try f.release(2)])
    #expect(out.status == 4, "\(out.stderrText)")
    let show = try Gen.ok(f.root, "show", ["2"])
    #expect(show.stdoutText.contains("check FAILED: \(failing) (failed with exit status 3)\n"), "\(show.stdoutText)")
    #expect(show.stdoutText.contains("      | Traceback: line 1\n      | ValueError: bad config\n"), "\(show.stdoutText)")
  }

  @Test("switch --json, log --json and show --json give a check's duration as `milliseconds`, the same number")
  func durationsAgree() throws {
    let f = try CancelTests.Fixture(generations: 1)
    let check = "sh -c 'sleep 0.2'"
    let out = try Gen.ok(f.root, "switch", ["--json", "--check", check, try f.release(2)])
    let switched = try #require(try Gen.json(out) as? [String: Any])
    let fromSwitch = try #require((switched["checks"] as? [[String: Any]])?.first)
    #expect(fromSwitch["seconds"] == nil)
    let ms = try #require(Gen.int(fromSwitch["milliseconds"]))
    #expect(ms >= 200 && ms < 10_000, "\(ms) is not in milliseconds")

    let log = try Gen.ok(f.root, "log", ["--json"]).stdoutText.split(separator: "\n")
    let last = try #require(try JSONSerialization.jsonObject(with: Data(log.last!.utf8)) as? [String: Any])
    let fromLog = try #require((last["checks"] as? [[String: Any]])?.first)
    #expect(fromLog["seconds"] == nil)
    #expect(Gen.int(fromLog["milliseconds"]) == ms)

    let shown = try #require(try Gen.json(try Gen.ok(f.root, "show", ["2", "--json"])) as? [String: Any])
    let fromShow = try #require((shown["checks"] as? [[String: Any]])?.last)
    #expect(Gen.int(fromShow["milliseconds"]) == ms)
  }

  @Test("a journal line from before `milliseconds` (the number under `seconds`) is shown and logged as milliseconds")
  func olderLinesRenamed() throws {
    let f = try CancelTests.Fixture(generations: 1)
    // Rewrite the check objects of the line as the previous version wrote them.
    let path = f.root + "/journal.jsonl"
    let text = try #require(Gen.read(path))
    let older = text.replacingOccurrences(of: #""milliseconds":"#, with: #""seconds":"#)
    #expect(older != text)
    try Gen.write(path, older)
    try JournalSeal.reseal(path)
    let log = try Gen.ok(f.root, "log", ["--json"]).stdoutText.split(separator: "\n")
    let line = try #require(try JSONSerialization.jsonObject(with: Data(log.last!.utf8)) as? [String: Any])
    let check = try #require((line["checks"] as? [[String: Any]])?.first)
    #expect(check["seconds"] == nil && check["milliseconds"] != nil, "\(check)")
    let shown = try #require(try Gen.json(try Gen.ok(f.root, "show", ["1", "--json"])) as? [String: Any])
    #expect(Gen.int((shown["checks"] as? [[String: Any]])?.first?["milliseconds"]) == Gen.int(check["milliseconds"]))
  }
}
