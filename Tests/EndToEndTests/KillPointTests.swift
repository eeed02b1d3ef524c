import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// Crash at every step: each changing command runs under `strace -f` with
/// `-e inject=SYSCALL:signal=SIGKILL:when=N` for N = 1, 2, … over every mutating syscall (and
/// every open), until it completes without being killed. After each kill the root must hold:
/// `current` at the old or the new generation, whose release verifies; no partial entry; a
/// journal that parses; the same command then succeeds and the audit finds no error.
@Suite("Kill -9 at every syscall", .serialized, .enabled(if: KillPoints.stracePath != nil, "strace is not installed"))
struct KillPointTests {
  @Test("kill points", arguments: KillPoints.Scenario.all)
  func killEverywhere(_ scenario: KillPoints.Scenario) throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let baseline = scratch.at("baseline")
    let allowed = try scenario.prepare(baseline, scratch)
    let baselineStore = try Store.open(FilePath(baseline), create: false)
    let damagedOnPurpose = try Set(baselineStore.keys().filter { !(try baselineStore.verify($0).isEmpty) })
    var tried = 0
    var completedAt: [String: Int] = [:]
    for syscall in KillPoints.syscalls {
      // The dynamic loader's opens come first and are the same for every command: start after them.
      var n = syscall == "openat" ? KillPoints.loaderOpens : 1
      while true {
        let work = scratch.at("work")
        try KillPoints.copy(baseline, to: work)
        let run = try KillPoints.runUnderStrace(scenario.arguments(work), syscall: syscall, when: n, environment: scenario.environment)
        if !run.killed {
          #expect(scenario.expectedStatus.contains(run.status), "\(scenario) \(syscall)#\(n): exit \(run.status): \(run.stderrText)")
          completedAt[syscall] = n - 1
          KillPoints.wipe(work)
          break
        }
        tried += 1
        try KillPoints.checkInvariants(work, allowed: allowed, except: damagedOnPurpose, context: "\(scenario) killed at \(syscall)#\(n)")
        try KillPoints.checkCheckpoint(work, context: "\(scenario) killed at \(syscall)#\(n)")
        let again = try CLI.run(scenario.arguments(work), environment: scenario.environment)
        #expect(scenario.rerunSucceeded(again), "\(scenario) rerun after \(syscall)#\(n): exit \(again.status) \(again.stderrText)")
        let audit = try Store.open(FilePath(work), create: false).audit()
        #expect(!audit.hasErrors, "\(scenario) after \(syscall)#\(n): \(audit.problems.map(\.detail))")
        KillPoints.wipe(work)
        n += 1
        if n > 400 { Issue.record("\(scenario): \(syscall) never completed"); break }
      }
    }
    print("kill points tried for \(scenario): \(tried) (openat from #\(KillPoints.loaderOpens); \(completedAt.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))")
    #expect(tried > 0)
  }
}

extension ProcessOutput {
  /// Ended by a signal: strace re-raises the one that killed its tracee.
  var killed: Bool { signal != nil || status == 128 + SIGKILL }
}

enum KillPoints {
  /// Every call that changes the file system, plus every open (strace cannot select O_CREAT).
  static let syscalls = [
    "openat", "openat2", "write", "pwrite64", "fsync", "fdatasync", "syncfs", "rename", "renameat",
    "renameat2", "symlinkat", "linkat", "unlinkat", "mkdirat", "fchmod", "ioctl", "ftruncate",
  ]

  /// How many `openat` calls the dynamic loader makes before `main` (from `mcp-gen root`).
  static let loaderOpens: Int = {
    guard stracePath != nil, let log = try? straceLog(["-e", "trace=openat"], ["root", "--root", "/nonexistent"])
    else { return 1 }
    // The loader's and the Swift runtime's opens (shared libraries, /proc/self/maps, the CPU
    // list) come before `main`; the first open after the last of them is mcp-gen's own.
    let opens = log.split(separator: "\n").filter { $0.contains("openat(") }
    let runtime = opens.lastIndex { line in
      line.contains(".so") || line.contains("/proc/self/") || line.contains("/sys/devices/system/cpu/")
    }
    return (runtime ?? -1) + 2
  }()

  static let stracePath: String? = ["/usr/bin/strace", "/bin/strace"].first { FileManager.default.isExecutableFile(atPath: $0) }

  struct Scenario: Sendable, CustomStringConvertible {
    var name: String
    var description: String { name }
    var expectedStatus: Set<Int32>
    /// Set for the command and its rerun (not for the setup).
    var environment: [String: String] = [:]
    /// The command, given the root it runs against.
    var command: @Sendable (String) -> [String]
    /// Builds the baseline root; returns the keys `current` may hold after a kill.
    var setup: @Sendable (String, Scratch) throws -> Set<String>

    func arguments(_ root: String) -> [String] { command(root) }

    /// The same command, run again after a kill, succeeds. A rollback killed after it was
    /// journaled has already undone the switch, so "nothing to roll back to" is its success.
    func rerunSucceeded(_ out: CLI.Output) -> Bool {
      if expectedStatus.contains(out.status) { return true }
      // A repair killed after it was done leaves nothing to repair: a clean audit, 0.
      if name == "audit --repair" && out.status == 0 { return true }
      return name == "rollback" && out.status == 1 && out.stderrText.contains("nothing to roll back to")
    }
    func prepare(_ root: String, _ scratch: Scratch) throws -> Set<String> { try setup(root, scratch) }

    static let all: [Scenario] = [
      Scenario(name: "add", expectedStatus: [0], command: { ["add", "--root", $0, CLI.fixture("mcp-1.1")] }) { root, _ in
        try must(["switch", "--root", root, CLI.fixture("mcp-1.0")])
        return [try CLI.oracleKey(CLI.fixture("mcp-1.0"))]
      },
      Scenario(name: "switch", expectedStatus: [0], command: { ["switch", "--root", $0, CLI.fixture("mcp-1.1")] }) { root, _ in
        try must(["switch", "--root", root, CLI.fixture("mcp-1.0")])
        return [try CLI.oracleKey(CLI.fixture("mcp-1.0")), try CLI.oracleKey(CLI.fixture("mcp-1.1"))]
      },
      Scenario(name: "rollback", expectedStatus: [0], command: { ["rollback", "--root", $0] }) { root, _ in
        try must(["switch", "--root", root, CLI.fixture("mcp-1.0")])
        try must(["switch", "--root", root, CLI.fixture("mcp-1.1")])
        return [try CLI.oracleKey(CLI.fixture("mcp-1.0")), try CLI.oracleKey(CLI.fixture("mcp-1.1"))]
      },
      // Every change writes the checkpoint (debug builds): a kill anywhere in writing it, or in
      // the journal append after an older one, must leave one that is right or is not used.
      Scenario(
        name: "switch with a checkpoint", expectedStatus: [0], environment: ["MCP_GEN_DEBUG_CHECKPOINT_LINES": "0"],
        command: { ["switch", "--root", $0, CLI.fixture("mcp-1.0")] }
      ) { root, _ in
        try must(["switch", "--root", root, CLI.fixture("mcp-1.0")])
        try must(["switch", "--root", root, CLI.fixture("mcp-1.1")], environment: ["MCP_GEN_DEBUG_CHECKPOINT_LINES": "0"])
        guard FileManager.default.fileExists(atPath: root + "/checkpoint.json") else {
          throw E2EFailure("setup wrote no checkpoint (MCP_GEN_DEBUG_CHECKPOINT_LINES needs a debug build)")
        }
        return [try CLI.oracleKey(CLI.fixture("mcp-1.0")), try CLI.oracleKey(CLI.fixture("mcp-1.1"))]
      },
      Scenario(name: "gc", expectedStatus: [0], command: { ["gc", "--root", $0, "--keep", "1", "--grace", "0"] }) { root, _ in
        for f in ["mcp-1.0", "mcp-1.1", "mcp-1.0"] { try must(["switch", "--root", root, CLI.fixture(f)]) }
        try must(["add", "--root", root, CLI.fixture("mcp-single")])
        return [try CLI.oracleKey(CLI.fixture("mcp-1.0"))]
      },
      Scenario(name: "audit --repair", expectedStatus: [6], command: { ["audit", "--root", $0, "--repair"] }) { root, _ in
        try must(["switch", "--root", root, CLI.fixture("mcp-1.0")])
        try must(["switch", "--root", root, CLI.fixture("mcp-1.1")])
        let key = try CLI.oracleKey(CLI.fixture("mcp-1.0"))
        let file = root + "/store/" + key + "/share/mcp/VERSION"
        _ = try? CLI.runProcess("/usr/bin/chattr", ["-i", file], environment: nil)
        chmod(file, 0o644)
        try Data("9.9\n".utf8).write(to: URL(fileURLWithPath: file))
        return [try CLI.oracleKey(CLI.fixture("mcp-1.1"))]
      },
      Scenario(
        name: "switch failing its check", expectedStatus: [4],
        command: { ["switch", "--root", $0, CLI.fixture("mcp-broken"), "--check", "bin/mcp check"] }
      ) { root, _ in
        try must(["switch", "--root", root, CLI.fixture("mcp-1.1")])
        return [try CLI.oracleKey(CLI.fixture("mcp-1.1")), try CLI.oracleKey(CLI.fixture("mcp-broken"))]
      },
    ]

    static func must(_ args: [String], environment: [String: String] = [:]) throws {
      let out = try CLI.run(args, environment: environment)
      guard out.status == 0 else { throw E2EFailure("setup \(args.joined(separator: " ")): \(out.stderrText)") }
    }
  }

  /// A run under strace: the runner's result (`killed` says whether the injected signal hit).
  typealias Run = ProcessOutput

  /// The log of `strace -f -qq OPTIONS -o LOG mcp-gen ARGS`: strace writes it to a file of its
  /// own (the runner's stderr is a file too, and two writers at their own offsets would clobber
  /// each other).
  static func straceLog(_ options: [String], _ args: [String]) throws -> String {
    let log = TestEnvironment.scratchRoot + "/strace-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).log"
    defer { unlink(log) }
    _ = try ProcessRunner.run(stracePath!, ["-f", "-qq"] + options + ["-o", log, CLI.binary] + args)
    return (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
  }

  /// The calls `args` makes of `syscall` when nothing fails (all threads), in order, as strace
  /// prints them.
  static func calls(_ args: [String], _ syscall: String) throws -> [Substring] {
    try straceLog(["-e", "trace=\(syscall)"], args).split(separator: "\n").filter { $0.contains(syscall + "(") }
  }

  static func runUnderStrace(
    _ args: [String], syscall: String, when n: Int, action: String = "signal=SIGKILL", environment: [String: String] = [:]
  ) throws -> Run {
    try ProcessRunner.run(
      stracePath!,
      ["-f", "-qq", "-o", "/dev/null", "-e", "trace=\(syscall)", "-e", "inject=\(syscall):\(action):when=\(n)", CLI.binary]
        + args,
      environment: CLI.environment(environment))
  }

  static func checkInvariants(_ root: String, allowed: Set<String>, except: Set<StoreKey>, context: String) throws {
    let store = try Store.open(FilePath(root), create: false)
    guard case .generation(let n) = try store.current(), let key = try store.generation(n)?.key else {
      Issue.record("\(context): current does not point at a generation")
      return
    }
    #expect(allowed.contains(key.hex), "\(context): current holds \(key.short), expected one of \(allowed)")
    let currentProblems = try store.verify(key)
    #expect(currentProblems.isEmpty, "\(context): current's release does not verify")
    for k in try store.keys() where !except.contains(k) {
      let problems = try store.verify(k).filter { $0.kind != .mode }
      #expect(problems.isEmpty, "\(context): entry \(k.short) is partial or corrupted")
    }
    let journal = try store.readJournal()
    let intactJournal = journal.damage.allSatisfy { $0.torn }
    #expect(intactJournal, "\(context): journal has a damaged line")
    let numbers = try store.generations().map(\.number)
    #expect(Set(numbers).count == numbers.count, "\(context): generation numbers repeat")
  }

  /// A checkpoint left by the kill (store-layout.md, "The checkpoint") is right or not used:
  /// `list` and `status` say the same with it as without it.
  static func checkCheckpoint(_ root: String, context: String) throws {
    let checkpoint = root + "/checkpoint.json"
    guard FileManager.default.fileExists(atPath: checkpoint) else { return }
    func views() throws -> [String] {
      try [["list", "--json"], ["status", "--json"]].map { args in
        let out = try CLI.run(args + ["--root", root])
        return "\(out.status) \(out.stdoutText)"
      }
    }
    let with = try views()
    let aside = root + ".checkpoint"
    try FileManager.default.moveItem(atPath: checkpoint, toPath: aside)
    defer { try? FileManager.default.moveItem(atPath: aside, toPath: checkpoint) }
    let without = try views()
    #expect(with == without, "\(context): list or status differ with the checkpoint left by the kill")
  }

  static func copy(_ from: String, to: String) throws {
    let out = try CLI.runProcess("/bin/cp", ["-a", from, to], environment: nil)
    guard out.status == 0 else { throw E2EFailure("cp -a: \(out.stderrText)") }
  }

  static func wipe(_ path: String) {
    if geteuid() == 0 { _ = try? CLI.runProcess("/usr/bin/chattr", ["-R", "-f", "-i", path], environment: nil) }
    _ = try? CLI.runProcess("/bin/rm", ["-rf", "--", path], environment: nil)
  }
}
