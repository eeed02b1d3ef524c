import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

@Suite("mcp-gen doctor")
struct DoctorTests {
  static let checks = ["root", "layout", "trust", "config", "lock", "current", "disk", "writable", "leftovers", "quarantine", "audit"]

  /// `doctor --json --root ROOT`: the exit status and the findings by check name.
  static func findings(_ root: String) throws -> (status: Int32, byCheck: [String: [String: Any]], list: [[String: Any]]) {
    let out = try Gen.run(root, "doctor", ["--json"])
    let list = try #require(try Gen.json(out) as? [[String: Any]], "doctor --json printed \(out.stdoutText.debugDescription)")
    var byCheck: [String: [String: Any]] = [:]
    for f in list { if let check = f["check"] as? String { byCheck[check] = f } }
    return (out.status, byCheck, list)
  }

  static func status(_ f: [String: [String: Any]], _ check: String) -> String? { f[check]?["status"] as? String }
  static func message(_ f: [String: [String: Any]], _ check: String) -> String { f[check]?["message"] as? String ?? "" }
  static func hint(_ f: [String: [String: Any]], _ check: String) -> String? { f[check]?["hint"] as? String }

  /// A root with two generations, 1.1 current.
  static func populated(_ scratch: Scratch) throws -> String {
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    try Gen.ok(root, "switch", ["--check", "true", CLI.fixture("mcp-1.1")])
    return root
  }

  @Test("a clean, freshly audited root: every check ok, exit 0, one line each and a summary")
  func cleanRoot() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.populated(scratch)
    try Gen.ok(root, "audit", ["--record"])

    let text = try Gen.run(root, "doctor")
    #expect(text.status == 0, "\(text.stdoutText)")
    #expect(text.stderr.isEmpty, "\(text.stderrText)")
    let lines = text.stdoutText.split(separator: "\n").map(String.init)
    #expect(lines.count == Self.checks.count + 1, "\(text.stdoutText)")
    for (line, check) in zip(lines, Self.checks) {
      #expect(line.hasPrefix("ok       \(check.padding(toLength: 10, withPad: " ", startingAt: 0)) "), "\(line)")
    }
    #expect(lines.last == "doctor: \(Self.checks.count) checks, 0 warnings, 0 problems")
    let current = lines[Self.checks.firstIndex(of: "current")!]
    let audit = lines[Self.checks.firstIndex(of: "audit")!]
    #expect(lines[0].contains("\(root) (--root): owned by "), "\(lines[0])")
    #expect(current.hasSuffix("generation 2 (\(try Gen.key(CLI.fixture("mcp-1.1")).prefix(12))), confirmed by its health checks"), "\(current)")
    #expect(audit.contains("last full audit ") && audit.hasSuffix(": no problems"), "\(audit)")
  }

  @Test("--json: an array of {check, status, message, hint}, one per check in a fixed order; hint null exactly when ok")
  func jsonShape() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.populated(scratch)
    let (status, _, list) = try Self.findings(root)
    #expect(status == 0)
    #expect(list.map { $0["check"] as? String } == Self.checks)
    for f in list {
      #expect(Set(f.keys) == ["check", "status", "message", "hint"], "\(f)")
      let s = f["status"] as? String
      #expect(["ok", "warning", "problem"].contains(s), "\(f)")
      #expect((f["message"] as? String)?.isEmpty == false, "\(f)")
      if s == "ok" { #expect(f["hint"] is NSNull, "\(f)") } else { #expect((f["hint"] as? String)?.isEmpty == false, "\(f)") }
    }
  }

  @Test("no audit recorded: a warning (exit 0) naming audit --record; a --quick one does not count; one older than 7 days warns again")
  func auditAge() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.populated(scratch)
    var f = try Self.findings(root)
    #expect(f.status == 0, "warnings alone exit 0")
    #expect(Self.status(f.byCheck, "audit") == "warning")
    #expect(Self.message(f.byCheck, "audit") == "no full audit recorded in the journal")
    #expect(Self.hint(f.byCheck, "audit") == "mcp-gen audit --record")
    #expect(try Gen.run(root, "doctor").stdoutText.hasSuffix("doctor: \(Self.checks.count) checks, 1 warning, 0 problems\n"))

    // A plain audit writes nothing; a recorded quick one is one journal line that does not count.
    let linesBefore = try Gen.journal(root).count
    try Gen.ok(root, "audit")
    #expect(try Gen.journal(root).count == linesBefore)
    try Gen.ok(root, "audit", ["--quick", "--record"])
    let quick = try #require(try Gen.journal(root).last)
    #expect(quick["op"] as? String == "audit" && quick["quick"] as? Bool == true && quick["outcome"] as? String == "ok", "\(quick)")
    f = try Self.findings(root)
    #expect(Self.status(f.byCheck, "audit") == "warning")
    #expect(Self.message(f.byCheck, "audit").hasPrefix("no full audit recorded in the journal (only a --quick one, "), "\(Self.message(f.byCheck, "audit"))")

    try Gen.ok(root, "audit", ["--record"])
    let full = try #require(try Gen.journal(root).last)
    #expect(full["op"] as? String == "audit" && full["quick"] as? Bool == false, "\(full)")
    #expect(Gen.int(full["entriesChecked"]) == 2 && Gen.int(full["errors"]) == 0, "\(full)")
    f = try Self.findings(root)
    #expect(Self.status(f.byCheck, "audit") == "ok", "\(Self.message(f.byCheck, "audit"))")

    // The same full audit, as if it had run eight days ago: too old.
    let old = Clock8DaysAgo.text
    var lines = try String(contentsOfFile: root + "/journal.jsonl", encoding: .utf8).split(separator: "\n").map(String.init)
    let recorded = try #require(lines.last)
    lines.removeLast()
    let time = try #require(recorded.range(of: #""time":"[^"]*""#, options: .regularExpression))
    lines.append(recorded.replacingCharacters(in: time, with: "\"time\":\"\(old)\""))
    try (lines.joined(separator: "\n") + "\n").write(toFile: root + "/journal.jsonl", atomically: false, encoding: .utf8)
    try JournalSeal.reseal(root + "/journal.jsonl")
    f = try Self.findings(root)
    #expect(Self.status(f.byCheck, "audit") == "warning")
    #expect(Self.message(f.byCheck, "audit") == "the last full audit was 8 days ago (\(old)), more than 7 days ago")
  }

  @Test("a leftover temporary copy is a warning naming gc; after gc it is gone; an add in progress is not a leftover")
  func leftovers() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.populated(scratch)
    // Named after a pid that cannot exist (above the kernel's pid limit): its add is gone.
    let dead = ".tmp-2147483647-00000000deadbeef"
    #expect(mkdir(root + "/store/" + dead, 0o755) == 0)
    try Gen.write(root + "/store/" + dead + "/half", "partial")
    var f = try Self.findings(root)
    #expect(f.status == 0)
    #expect(Self.status(f.byCheck, "leftovers") == "warning")
    #expect(Self.message(f.byCheck, "leftovers") == "1 leftover of crashed runs: store/\(dead)")
    #expect(Self.hint(f.byCheck, "leftovers") == "mcp-gen gc")

    // A copy whose creator (this test process) is alive is an add at work.
    let live = ".tmp-\(getpid())-00000000cafef00d"
    #expect(mkdir(root + "/store/" + live, 0o755) == 0)
    f = try Self.findings(root)
    #expect(Self.message(f.byCheck, "leftovers") == "1 leftover of crashed runs: store/\(dead); 1 add in progress")
    rmdir(root + "/store/" + live)

    try Gen.ok(root, "gc")
    f = try Self.findings(root)
    #expect(Self.status(f.byCheck, "leftovers") == "ok", "\(Self.message(f.byCheck, "leftovers"))")
  }

  @Test("the lock held by a switch running its checks: a warning with its pid; current in progress is no problem; killed, current is unconfirmed (exit 1) until check confirms it")
  func lockHeldBySwitch() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.populated(scratch)
    let marker = scratch.at("check-started")
    // The check says it has started (and its own pid, to end it afterwards), then outlasts the test.
    let check = "sh -c 'echo $$ > \(marker); exec sleep 60'"
    let switching = try Rel.spawn(["switch", "--root", root, "--check", check, "--check-timeout", "120", CLI.fixture("mcp-1.0")], outputIn: scratch.path)
    var sleeper: pid_t? = nil
    defer {
      if let sleeper { kill(sleeper, SIGKILL) }
      switching.child.kill()
      _ = Rel.finish(switching, timeout: 10)
    }
    #expect(Rel.poll(timeout: 30, while: { !switching.child.poll() }) { (Gen.read(marker) ?? "").hasSuffix("\n") }, "the check never started")
    sleeper = Gen.read(marker).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }

    var f = try Self.findings(root)
    #expect(f.status == 0, "a change in progress is no problem")
    #expect(Self.status(f.byCheck, "lock") == "warning")
    let lock = Self.message(f.byCheck, "lock")
    #expect(lock.hasPrefix("held for ") && lock.contains(" by pid \(switching.pid): mcp-gen switch --root \(root) --check "), "\(lock)")
    #expect(Self.hint(f.byCheck, "lock")?.contains("ps -o pid,etime,args -p \(switching.pid)") == true)
    #expect(Self.status(f.byCheck, "current") == "warning", "\(Self.message(f.byCheck, "current"))")
    #expect(Self.message(f.byCheck, "current").hasPrefix("generation 3 ("), "\(Self.message(f.byCheck, "current"))")

    // Killed during its checks: the lock is free and current is unconfirmed.
    switching.child.kill()
    _ = Rel.finish(switching, timeout: 10)
    f = try Self.findings(root)
    #expect(f.status == 1)
    #expect(Self.status(f.byCheck, "lock") == "ok")
    #expect(Self.status(f.byCheck, "current") == "problem")
    #expect(Self.message(f.byCheck, "current").hasSuffix("was made current by a command that did not finish; its health checks never confirmed it"))
    #expect(Self.hint(f.byCheck, "current") == "mcp-gen check (confirms it), or mcp-gen rollback")
    let text = try Gen.run(root, "doctor")
    #expect(text.status == 1)
    #expect(text.stdoutText.contains("\nproblem  current    generation 3 ("), "\(text.stdoutText)")
    #expect(text.stdoutText.contains("\n                    fix: mcp-gen check (confirms it), or mcp-gen rollback\n"), "\(text.stdoutText)")

    try Gen.ok(root, "check", ["--check", "true"])
    f = try Self.findings(root)
    #expect(Self.status(f.byCheck, "current") == "ok", "\(Self.message(f.byCheck, "current"))")
  }

  @Test("the lock held by a process that wrote no name (flock(1)): a warning naming its pid and command from /proc/locks, never a wait",
        .enabled(if: Rel.tool(["/usr/bin/flock", "/bin/flock"]) != nil, "needs flock from util-linux"))
  func lockHeldByFlock() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.populated(scratch)
    let flock = Rel.tool(["/usr/bin/flock", "/bin/flock"])!
    let marker = scratch.at("locked")
    // --no-fork: flock becomes the command, so killing it ends the holder; nothing outlives the test.
    let holder = try Rel.spawn(["--no-fork", root + "/lock", "/bin/sh", "-c", "touch \(marker); exec sleep 60"], outputIn: scratch.path, executable: flock)
    defer {
      holder.child.kill()
      _ = Rel.finish(holder, timeout: 10)
    }
    #expect(Rel.poll(timeout: 30) { FileManager.default.fileExists(atPath: marker) })
    let started = Gen.now()
    let f = try Self.findings(root)
    #expect(Gen.now() - started < 10, "doctor waited for the lock")
    #expect(f.status == 0)
    #expect(Self.status(f.byCheck, "lock") == "warning")
    #expect(Self.message(f.byCheck, "lock") == "held by pid \(holder.pid): sleep 60 (per /proc/locks; it wrote no name into the lock)",
            "\(Self.message(f.byCheck, "lock"))")
    #expect(Self.hint(f.byCheck, "lock") == "see it with: ps -o pid,etime,args -p \(holder.pid)")
  }

  @Test("doctor changes nothing: the root's listing is the same before and after, leftovers and all")
  func changesNothing() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.populated(scratch)
    #expect(mkdir(root + "/store/.tmp-2147483647-0000000000000001", 0o755) == 0)
    #expect(mkdir(root + "/garbage", 0o700) == 0 && mkdir(root + "/garbage/x", 0o755) == 0)
    let before = Gen.snapshot(root)
    for arguments in [[], ["--json"]] {
      _ = try Gen.run(root, "doctor", arguments)
      #expect(Gen.snapshot(root) == before, "doctor \(arguments) changed the root")
    }
    // Nor does it create a root that is not there.
    let missing = scratch.at("nothing-here")
    let out = try Gen.run(missing, "doctor")
    #expect(out.status == 1)
    #expect(out.stdoutText == "problem  root       no mcp-gen root at \(missing) (--root) yet\n                    fix: mcp-gen switch PATH (creates it), or pass --root\ndoctor: 1 check, 0 warnings, 1 problem\n")
    #expect(!FileManager.default.fileExists(atPath: missing))
  }

  @Test("a store directory others may write to is a problem naming the chmod that fixes it")
  func looseModes() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.populated(scratch)
    #expect(chmod(root + "/store", 0o777) == 0)
    defer { chmod(root + "/store", 0o755) }
    let f = try Self.findings(root)
    #expect(f.status == 1)
    #expect(Self.status(f.byCheck, "layout") == "problem")
    #expect(Self.message(f.byCheck, "layout") == "store/ is writable by group and others (mode 0777)")
    #expect(Self.hint(f.byCheck, "layout") == "chmod go-w \(root)/store")
    #expect(Self.status(f.byCheck, "root") == "ok")
  }
}

extension DoctorTests {
  @Test("a root missing manifests/: a layout problem naming the fix; the checks that need the store say they were not made")
  func missingLayout() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "add", [CLI.fixture("mcp-1.0")])
    #expect(rename(root + "/manifests", scratch.at("manifests-elsewhere")) == 0)
    let before = Gen.snapshot(root)
    let f = try Self.findings(root)
    #expect(f.status == 1)
    #expect(f.list.map { $0["check"] as? String } == Self.checks)
    #expect(Self.status(f.byCheck, "layout") == "problem")
    #expect(Self.message(f.byCheck, "layout") == "manifests/ missing")
    #expect(Self.hint(f.byCheck, "layout") == "mcp-gen add PATH (recreates missing directories), then mcp-gen audit")
    for check in ["current", "leftovers"] {
      #expect(Self.status(f.byCheck, check) == "warning")
      #expect(Self.message(f.byCheck, check).hasPrefix("not checked: "), "\(Self.message(f.byCheck, check))")
    }
    #expect(Gen.snapshot(root) == before, "doctor recreated the layout")
  }
}

/// Eight days before now, formatted as the journal writes times.
enum Clock8DaysAgo {
  static var text: String {
    var t = time(nil) - 8 * 86400
    var parts = tm()
    gmtime_r(&t, &parts)
    return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec)
  }
}
