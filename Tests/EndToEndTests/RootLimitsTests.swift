import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Files in the root that must not hang or exhaust a command (issue 18, security items 6 and 8):
/// FIFOs and symlinks in place of the journal or the config, over-long journal lines, generation
/// numbers out of range, a check timeout of 0 and the watchdog race, audit's and status's exit
/// statuses.
@Suite("root files: no hang, no exhaustion, honest exit statuses")
struct RootLimitsTests {
  /// A root with generation 1 (mcp-1.0) current.
  static func root(_ scratch: Scratch) throws -> String {
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    return root
  }

  static func appendLine(_ root: String, _ line: [UInt8]) throws {
    let handle = try #require(FileHandle(forWritingAtPath: root + "/journal.jsonl"))
    handle.seekToEndOfFile()
    handle.write(Data(JournalSeal.seal(line) + [0x0A]))  // sealed, as the lines before it
    try handle.close()
  }

  static func switchLine(to: String, padding: Int = 0) -> [UInt8] {
    let note = padding > 0 ? ",\"note\":\"" + String(repeating: "a", count: padding) + "\"" : ""
    return Array(#"{"time":"2026-11-25T12:00:00Z","pid":1,"user":"root","command":"mcp-gen switch","op":"switch","from":1,"to":\#(to),"key":null,"outcome":"ok"\#(note)}"#.utf8)
  }

  // MARK: FIFOs and symlinks

  @Test("a FIFO in place of journal.jsonl or config.json: every command that reads it says so at once instead of hanging",
        arguments: [
          ("journal.jsonl", ["list", "status", "log", "check", "doctor"]),
          ("config.json", ["check", "switch"]),
        ])
  func fifo(_ name: String, _ commands: [String]) throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.root(scratch)
    let path = root + "/" + name
    unlink(path)
    #expect(mkfifo(path, 0o644) == 0)
    for command in commands {
      let extra = command == "switch" ? [CLI.fixture("mcp-1.1")] : command == "check" && name == "journal.jsonl" ? ["--check", "true"] : []
      let run = try Rel.run([command, "--root", root] + extra, outputIn: scratch.path, timeout: 20)
      #expect(!run.timedOut, "\(command) hung on a FIFO \(name)")
      #expect(run.exitCode == 1, "\(command): \(run) \(run.stdoutText)")
      let said = command == "doctor" ? run.stdoutText : run.stderrText
      #expect(said.contains("\(path) is a FIFO (named pipe), not a regular file"), "\(command): \(said)")
      if command != "doctor" {
        #expect(Gen.isOneLineError(run.stderrText), "\(command): \(run.stderrText)")
        #expect(run.stderrText.contains("hint: mv \(path) \(path).broken"), "\(command): \(run.stderrText)")
      }
    }
    #expect(Gen.currentGeneration(root) == 1)
  }

  @Test("a symlinked journal or config is refused as a link mcp-gen does not follow, not as a device error",
        arguments: [("journal.jsonl", "list"), ("config.json", "check")])
  func symlinked(_ name: String, _ command: String) throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.root(scratch)
    let path = root + "/" + name
    let real = scratch.at("real-" + name)
    if FileManager.default.fileExists(atPath: path) { try FileManager.default.moveItem(atPath: path, toPath: real) }
    else { try Gen.write(real, "{}\n") }
    #expect(symlink(real, path) == 0)
    let out = try Gen.run(root, command)
    #expect(out.status == 1, "\(out.stderrText)")
    #expect(Gen.isOneLineError(out.stderrText), "\(out.stderrText)")
    #expect(out.stderrText.hasPrefix("error: \(path) is a symbolic link, and mcp-gen does not follow links there"), "\(out.stderrText)")
    #expect(!out.stderrText.contains("check the device"), "\(out.stderrText)")
  }

  // MARK: Journal line length

  @Test("a journal line of 1 MiB + 1 bytes: audit names it, no command trusts it, list and status still work")
  func overlongLine() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.root(scratch)
    let base = Self.switchLine(to: "99").count + ",\"note\":\"\"".utf8.count
    let line = Self.switchLine(to: "99", padding: (1 << 20) + 1 - base)
    #expect(line.count == (1 << 20) + 1)
    try Self.appendLine(root, line)

    #expect(try Gen.ok(root, "list").stdoutText.contains("mcp-1.0"))
    #expect(try Gen.run(root, "status").status == 0)
    let audit = try Gen.run(root, "audit")
    #expect(audit.status == 2)
    #expect(audit.stdoutText.contains("error: journal \(root)/journal.jsonl: line 2 is longer than 1048576 bytes, the most a journal line may be"), "\(audit.stdoutText)")
    // Its "to": 99 is no generation number ever used: the next switch makes 2.
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.1")])
    #expect(Gen.currentGeneration(root) == 2)
  }

  // MARK: Generation numbers

  @Test("a journal line whose generation number is outside 1...2^53-1 or not an integer is damage: audit names it, switch goes on",
        arguments: ["9223372036854775807", "9007199254740992", "-5", "0", "1.5"])
  func badGenerationNumber(_ value: String) throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.root(scratch)
    try Self.appendLine(root, Self.switchLine(to: value))
    let audit = try Gen.run(root, "audit")
    #expect(audit.status == 2, "\(audit.stdoutText)")
    #expect(audit.stdoutText.contains("error: journal \(root)/journal.jsonl: line 2 is not a journal record"), "\(audit.stdoutText)")
    let switched = try Gen.run(root, "switch", [CLI.fixture("mcp-1.1")])
    #expect(switched.status == 0, "\(switched.stderrText)")
    #expect(Gen.currentGeneration(root) == 2)
    #expect(try Gen.ok(root, "status").stdoutText.contains("generation: 2"))
  }

  // MARK: Check timeout

  @Test("checkTimeout 0 in config.json and --check-timeout below 1 are refused")
  func zeroTimeout() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.root(scratch)
    try Gen.write(root + "/config.json", #"{"checks": ["true"], "checkTimeout": 0}"#)
    for command in ["check", "switch"] {
      let out = try Gen.run(root, command, command == "switch" ? [CLI.fixture("mcp-1.1")] : [])
      #expect(out.status == 1, "\(command): \(out.stderrText)")
      #expect(out.stderrText.contains("checkTimeout must be a whole number of seconds from 1 to 86400"), "\(out.stderrText)")
    }
    #expect(Gen.currentGeneration(root) == 1)
    unlink(root + "/config.json")
    for value in ["0", "0.5"] {
      let out = try Gen.run(root, "check", ["--check", "true", "--check-timeout", value])
      #expect(out.status == 64, "--check-timeout \(value): \(out.stderrText)")
      #expect(out.stderrText.contains("--check-timeout must be a number of seconds from 1 to 86400"), "\(out.stderrText)")
    }
  }

  @Test("a deadline that passes before the check's pid is known still kills the check (pid store delayed past the timeout)")
  func watchdogRace() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.root(scratch)
    let pidFile = scratch.at("pid")
    var environment = Gen.childEnvironment
    environment["MCP_GEN_DEBUG_PID_STORE_DELAY"] = "2"
    let run = try Rel.run(
      ["check", "--root", root, "--check", "sh -c 'echo $$ > \(pidFile); exec sleep 600'", "--check-timeout", "1"],
      outputIn: scratch.path, timeout: 30, environment: environment)
    if let pid = Gen.read(pidFile).flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }), Gen.isRunning(pid) {
      kill(pid, SIGKILL)
      Issue.record("the check (pid \(pid)) outlived its timeout")
    }
    #expect(!run.timedOut, "check hung: the watchdog fired before the pid was stored and nothing killed the check")
    #expect(run.exitCode == 4, "\(run) \(run.stdoutText)")
    #expect(run.stdoutText.contains("timed out after 1 s (process group killed)"), "\(run.stdoutText)")
    #expect(run.seconds < 15)
  }

  // MARK: audit and status exit statuses

  @Test("audit tells warnings from problems: warnings alone exit 0, problems 2, --repair that repaired 6")
  func auditStatuses() throws {
    let r = try GARoot()
    defer { r.remove() }
    let a = try r.release("a", "1.0")
    let b = try r.release("b", "2.0")
    try r.ok(["switch", a])
    try r.ok(["switch", b])
    // A warning: a temporary link left by a crashed switch.
    #expect(symlink("generations/1", r.root + "/.tmp-1-dead") == 0)
    let warned = try r.run(["audit"])
    #expect(warned.status == 0)
    #expect(warned.stdoutText.hasSuffix("; no problems, 1 warning\n"), "\(warned.stdoutText)")
    // A problem too: a corrupted file of generation 1.
    let file = r.entry(try r.key(a)) + "/share/data.txt"
    try GARoot.unfreeze(file)
    _ = try GARoot.sh("printf Z | dd of=\"$1\" bs=1 seek=0 count=1 conv=notrunc 2>/dev/null && chmod 444 \"$1\"", file)
    let found = try r.run(["audit"])
    #expect(found.status == 2)
    #expect(found.stdoutText.hasSuffix("; 1 problem, 1 warning\n"), "\(found.stdoutText)")
    let repaired = try r.run(["audit", "--repair"])
    #expect(repaired.status == 6, "\(repaired.stdoutText)")
    // Nothing left to repair; generation 1 is kept, not restorable, which is a warning only.
    let clean = try r.run(["audit", "--repair"])
    #expect(clean.status == 0, "\(clean.stdoutText)")
    #expect(clean.stdoutText.hasSuffix("; no problems, 1 warning\n"), "\(clean.stdoutText)")
  }

  enum CurrentDamage: String, CaseIterable, CustomStringConvertible {
    case regularFile = "current is a regular file"
    case outside = "current points outside generations/"
    case missingGeneration = "current points at a generation that does not exist"
    case linkOutsideStore = "current's generation link points outside the store"
    case missingEntry = "current's release is missing from the store"
    var description: String { rawValue }

    func apply(_ root: String, key: String) throws {
      switch self {
      case .regularFile:
        unlink(root + "/current")
        try Gen.write(root + "/current", "generations/1\n")
      case .outside:
        unlink(root + "/current")
        #expect(symlink("/tmp", root + "/current") == 0)
      case .missingGeneration:
        unlink(root + "/current")
        #expect(symlink("generations/99", root + "/current") == 0)
      case .linkOutsideStore:
        unlink(root + "/generations/1")
        #expect(symlink("/tmp", root + "/generations/1") == 0)
      case .missingEntry:
        if geteuid() == 0 { _ = try GARoot.sh("chattr -i \"$1\" 2>/dev/null || true", root + "/store/" + key) }
        _ = try GARoot.sh("mv \"$1\" \"$1.away\"", root + "/store/" + key)
      }
    }
  }

  @Test("status exits 2 with one error line saying what to run when current is damaged", arguments: CurrentDamage.allCases)
  func damagedCurrent(_ damage: CurrentDamage) throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.root(scratch)
    #expect(try Gen.run(root, "status").status == 0)
    try damage.apply(root, key: try #require(Gen.currentKey(root)))
    let out = try Gen.run(root, "status")
    #expect(out.status == 2, "\(out.stdoutText) \(out.stderrText)")
    #expect(Gen.isOneLineError(out.stderrText), "\(out.stderrText)")
    #expect(out.stderrText.hasPrefix("error: current "), "\(out.stderrText)")
    #expect(out.stderrText.contains("mcp-gen rollback N"), "\(out.stderrText)")
    #expect(out.stderrText.hasSuffix("\nhint: mcp-gen doctor\n"), "\(out.stderrText)")
    let json = try Gen.run(root, "status", ["--json"])
    #expect(json.status == 2)
    #expect((try? Gen.json(json)) is [String: Any], "\(json.stdoutText)")
  }
}
