import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Hostile input: odd names, huge and deep trees, special files, links, races on the source,
/// symlinked releases and roots, malformed keys and numbers, damaged journals and lock files.
///
/// Every case runs the real binary with a deadline (60 s: past it the process is killed and the
/// case fails as a hang) and must end in a correct result or a one-line error: exit status 0 or a
/// documented one (never a signal), stderr empty or one `error:` line (plus at most one `hint:`),
/// and afterwards no partial state: `mcp-gen audit` passes (warnings allowed) and no `.tmp-*` or
/// garbage is left. "Correct result" cases also check the result itself.
@Suite("hostile input: a correct result or a one-line error, never a crash, hang or partial state")
struct HostileInputTests {
  enum Case: String, CaseIterable, Sendable, CustomStringConvertible {
    case newlineName = "file and directory names with a newline"
    case tabName = "names with a tab"
    case backslashName = "names with backslashes (and one that looks like an escape)"
    case invalidUTF8Name = "names that are not valid UTF-8"
    case name255 = "255-byte names"
    case path4000 = "a path of more than 4,000 bytes inside the release"
    case tenThousand = "10,000 entries in one directory"
    case depth500 = "directory depth 500"
    case symlinkLoop = "a symlink loop (a -> b -> a)"
    case symlinkToItself = "a symlink to itself"
    case absoluteSymlinks = "symlinks to absolute paths outside the release"
    case escapingSymlinks = "symlinks climbing out of the release with .."
    case fifo = "a FIFO"
    case charDevice = "a character device node"
    case blockDevice = "a block device node"
    case socket = "a socket"
    case hardLinks = "hard links"
    case growsWhileHashed = "a file that grows while it is hashed"
    case growsWhileCopied = "a file that grows while it is added (copied)"
    case removedWhileHashed = "a file removed while it is hashed"
    case removedWhileCopied = "a file removed while it is added (copied)"
    case releaseSymlinkToDir = "a release that is itself a symlink to a directory"
    case releaseSymlinkToFile = "a release that is itself a symlink to a file"
    case releaseDanglingSymlink = "a release that is a dangling symlink"
    case releaseSymlinkLoop = "a release that is a symlink loop"
    case releaseNameWithNewline = "a release whose own name has a newline"
    case releaseIsTheRoot = "a release that is the root itself"
    case emptyDirectory = "an empty directory as the release"
    case emptyFile = "an empty file as the release"
    case emptyInside = "empty directories and empty files inside a release"
    case rootIsSymlink = "--root pointing at a symlink"
    case rootDanglingSymlink = "--root pointing at a dangling symlink"
    case rootSymlinkLoop = "--root pointing at a symlink loop"
    case uppercaseKey = "a key with uppercase hex digits"
    case nonHexKey = "a key with non-hex characters"
    case keyTooLong = "a key of 65 hex digits"
    case keyWithNewline = "a key prefix with a newline"
    case rollbackOverflow = "rollback to a generation number far beyond 2^63"
    case rollbackNegative = "rollback to a negative generation number"
    case lockTimeoutNaN = "--lock-timeout nan"
    case generationAtMaximum = "an existing generation 2^53-1 the journal never named (passed over)"
    case generationNameOverflow = "a generation name beyond 2^63 in generations/"
    case journalAtMaximum = "a journal naming generation 2^53-1"
    case journalNumberOverflow = "a journal line with a number beyond 2^63"
    case journalTruncated = "a truncated journal (torn last line)"
    case journalGarbage = "a garbage journal (binary junk, wrong shapes)"
    case journalIsDirectory = "a journal that is a directory"
    case journalIsSymlink = "a journal that is a symlink to a file outside the root"
    case lockIsDirectory = "a lock file that is a directory"
    case lockIsSymlink = "a lock file that is a symlink to a file outside the root"
    case lockIsFIFO = "a lock file that is a FIFO"
    case storeIsFile = "store/ that is a regular file"
    case currentDamaged = "current pointing outside the generations"
    case configGarbage = "a config.json that is not JSON"
    case configDeeplyNested = "a config.json nested 200,000 levels deep"

    var description: String { rawValue }
  }

  /// Cases that currently crash the binary (SIGILL in `sleepSeconds`, after `current` was
  /// swapped and before the journal line): run by the disabled test below, kept out of the table
  /// above so it stays green. Expected once fixed: refused up front (exit 64 or 1, one line),
  /// `current` untouched.
  enum BugCase: String, CaseIterable, Sendable, CustomStringConvertible {
    case settleFlagOverflow = "--settle 1e19 with a passing check"
    case settleConfigOverflow = "settle 9223372036854775807 in config.json with a passing check"
    var description: String { rawValue }
  }

  enum Expect {
    case success
    /// Exit status and strings the one-line error must contain.
    case failure(Int32, [String])
    /// Either a success, or a one-line error (exit 1) containing one of the strings.
    case either(anyOf: [String])
  }

  struct Plan {
    var arguments: [String]
    var expect: Expect
    /// The root to audit afterwards (when it exists); nil when there is none to audit.
    var root: String?
    /// Audit problem kinds put there on purpose before the command ran.
    var tolerating: Set<String> = []
    /// Done while the command runs (after it is spawned); returns what it did, for the log.
    var during: ((Rel.Spawned) -> String)? = nil
    /// Checks the result; runs after the common checks.
    var verify: ((Rel.Run) throws -> Void)? = nil
    /// When the root cannot be audited: the snapshot that must be unchanged.
    var unchanged: (path: String, before: [String])? = nil
  }

  static let counter = RelCounter()

  @Test("hostile input", arguments: Case.allCases)
  func hostile(_ c: Case) throws {
    let scratch = try Scratch()
    defer {
      // The 4,000-byte paths are beyond what `chattr -R` and `rm -rf` (Scratch.remove) reach.
      if c == .path4000 { Rel.removeTree(scratch.path) }
      scratch.remove()
    }
    defer {
      let n = Self.counter.increment()
      if n == Case.allCases.count { print("hostile input cases run: \(n) (of \(Case.allCases.count) in the table)") }
    }
    let plan = try Self.prepare(c, scratch)
    try Self.execute(plan, "\(c)", scratch)
  }

  @Test(
    "hostile input that crashes today",
    arguments: BugCase.allCases)
  func hostileBug(_ c: BugCase) throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let before = Gen.readlink(root + "/current")
    var arguments = ["switch", "--root", root, "--check", "true", CLI.fixture("mcp-1.1")]
    switch c {
    case .settleFlagOverflow: arguments.insert(contentsOf: ["--settle", "1e19"], at: 3)
    case .settleConfigOverflow: try Gen.write(root + "/config.json", "{\"settle\": 9223372036854775807}\n")
    }
    let run = try Rel.run(arguments, outputIn: scratch.path, timeout: 20)
    #expect(run.endedCleanly, "\(c): \(run)")
    #expect(run.exitCode == 64 || run.exitCode == 1, "\(c): \(run)")
    #expect(Gen.isOneLineError(run.stderrText), "\(c): \(run)")
    #expect(Gen.readlink(root + "/current") == before, "\(c): current moved")
  }

  // MARK: The common checks

  static func execute(_ plan: Plan, _ name: String, _ scratch: Scratch) throws {
    let spawned = try Rel.spawn(plan.arguments, outputIn: scratch.path)
    var note = ""
    if let during = plan.during { note = during(spawned) }
    let run = Rel.finish(spawned, timeout: 60)
    let context = "[\(name)]\(note.isEmpty ? "" : " (\(note))") \(run)"

    #expect(!run.timedOut, "hang: \(context)")
    #expect(run.signal == nil, "crash: \(context)")
    #expect(run.exitCode.map { Rel.documentedStatuses.contains($0) } == true, "undocumented status: \(context)")
    #expect(Rel.stderrIsEmptyOrOneLineError(run.stderrText), "stderr shape: \(context)")
    switch plan.expect {
    case .success:
      #expect(run.exitCode == 0, "expected success: \(context)")
      #expect(run.stderr.isEmpty, "expected nothing on stderr: \(context)")
    case .failure(let status, let mentions):
      #expect(run.exitCode == status, "expected exit \(status): \(context)")
      #expect(Gen.isOneLineError(run.stderrText), "expected a one-line error: \(context)")
      #expect(run.stdout.isEmpty, "expected nothing on stdout: \(context)")
      for m in mentions { #expect(run.stderrText.contains(m), "error should mention \(m.debugDescription): \(context)") }
    case .either(let anyOf):
      if run.exitCode != 0 {
        #expect(run.exitCode == 1, "expected success or exit 1: \(context)")
        #expect(Gen.isOneLineError(run.stderrText), "expected a one-line error: \(context)")
        #expect(anyOf.contains { run.stderrText.contains($0) }, "error should mention one of \(anyOf): \(context)")
      }
    }
    if let root = plan.root, Rel.lstat(Rel.bytes(root)) != nil {
      try Rel.expectSoundRoot(root, outputIn: scratch.path, tolerating: plan.tolerating, context)
    }
    if let (path, before) = plan.unchanged {
      #expect(Gen.snapshot(path) == before, "changed: \(context)")
    }
    if !run.timedOut && run.signal == nil { try plan.verify?(run) }
    let firstLine = run.stderrText.split(separator: "\n").first.map { String($0.prefix(160)) } ?? ""
    print("hostile [\(name)]: exit \(run.exitCode.map(String.init) ?? "signal \(run.signal ?? 0)") in \(String(format: "%.2f", run.seconds)) s\(note.isEmpty ? "" : "; " + note)\(firstLine.isEmpty ? "" : "; " + firstLine.debugDescription)")
  }

  // MARK: Checks of a correct `add`

  /// The add succeeded and stored exactly the source: the key it printed is `mcp-gen hash` of
  /// the source (and of the stored entry, re-read from disk), optionally the coreutils oracle's,
  /// and the stored tree lists the same names (raw bytes), types, sizes and link targets.
  static func expectStored(
    _ run: Rel.Run, root: String, source: String, oracle: Bool = true, sameTree: Bool = true, _ scratch: Scratch,
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> String? {
    guard let key = Rel.addedKey(run) else {
      Issue.record("add printed no store path: \(run)", sourceLocation: sourceLocation)
      return nil
    }
    let entry = root + "/store/" + key
    #expect(Rel.lstat(Rel.bytes(entry)) != nil, "no \(entry)", sourceLocation: sourceLocation)
    #expect(try Rel.hashKey(Rel.bytes(source), outputIn: scratch.path) == key, "hash of the source", sourceLocation: sourceLocation)
    #expect(try Rel.hashKey(Rel.bytes(entry), outputIn: scratch.path) == key, "re-hash of the stored entry", sourceLocation: sourceLocation)
    if oracle { #expect(try CLI.oracleKey(source) == key, "oracle key", sourceLocation: sourceLocation) }
    if sameTree {
      let a = Rel.tree(source).map { "\($0.path) \($0.type) \($0.type == "d" ? 0 : $0.size) \($0.target)" }
      let b = Rel.tree(entry).map { "\($0.path) \($0.type) \($0.type == "d" ? 0 : $0.size) \($0.target)" }
      #expect(a == b, "stored tree differs from the source (\(a.count) vs \(b.count) entries)", sourceLocation: sourceLocation)
    }
    return key
  }

  // MARK: Building each case

  static func addPlan(_ root: String, _ release: String, expect: Expect = .success) -> Plan {
    Plan(arguments: ["add", "--root", root, release], expect: expect, root: root)
  }

  /// A root whose generation 1 (current) is fixtures/mcp-1.0, and mcp-1.1 stored; returns k11.
  static func populated(_ root: String) throws -> (k10: String, k11: String) {
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let k11 = try Gen.add(root, CLI.fixture("mcp-1.1"))
    return (try Gen.key(CLI.fixture("mcp-1.0")), k11)
  }

  /// A journal line as mcp-gen writes it (sealed: the root's earlier lines are).
  static func journalLine(op: String, to: String = "null", extra: String = "") -> String {
    JournalSeal.seal("{\"time\":\"2026-01-01T00:00:00Z\",\"pid\":1,\"user\":\"root\",\"command\":\"mcp-gen test\",\"op\":\"\(op)\",\"from\":null,\"to\":\(to),\"key\":null,\"outcome\":\"ok\"\(extra)}\n")
  }

  static func append(_ path: String, _ bytes: [UInt8]) throws {
    let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
    guard fd >= 0 else { throw Rel.fail("open", Rel.bytes(path)) }
    defer { close(fd) }
    try Rel.writeAll(fd, bytes, Rel.bytes(path))
  }

  static func makeSocket(_ path: String) throws {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw Rel.fail("socket", Rel.bytes(path)) }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw E2EFailure("socket path too long: \(path)") }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      for (i, b) in bytes.enumerated() { raw[i] = b }
      raw[bytes.count] = 0
    }
    let rc = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard rc == 0 else { throw Rel.fail("bind", Rel.bytes(path)) }
  }

  /// A release of four files of real (random) data, 200 MB in all; `d-last` is the smallest, so
  /// it is hashed and copied last.
  static func bigRelease(_ dir: String) throws -> String {
    try Rel.mkdir(Rel.bytes(dir))
    for (name, mb) in [("a-big", 55), ("b-big", 50), ("c-big", 50), ("d-last", 45)] {
      try Rel.writeRandom(dir + "/" + name, count: mb * 1_000_000)
    }
    return dir + "/d-last"
  }

  /// Waits until `condition` (the phase the mutation must land in) holds or the process exits,
  /// then does `act`; says what happened when.
  static func mutate(_ s: Rel.Spawned, phase: String, until condition: () -> Bool, _ act: () -> String) -> String {
    let reached = Rel.poll(timeout: 30, while: { Gen.isRunning(s.pid) }, condition)
    let did = act()
    return reached ? "\(did) during \(phase)" : "\(did) after the add ended (\(phase) not seen)"
  }

  static func prepare(_ c: Case, _ scratch: Scratch) throws -> Plan {
    let root = scratch.at("root")
    let rel = scratch.at("rel")
    let r = Rel.bytes(rel)
    func mk(_ name: [UInt8]) throws { try Rel.mkdir(r + [0x2F] + name) }
    func file(_ name: [UInt8], _ content: String = "x\n", mode: mode_t = 0o644) throws {
      try Rel.write(r + [0x2F] + name, Rel.bytes(content), mode: mode)
    }
    func link(_ name: [UInt8], _ target: String) throws { try Rel.symlink(Rel.bytes(target), at: r + [0x2F] + name) }
    func storedAsIs(oracle: Bool = true) -> (Rel.Run) throws -> Void {
      { run in _ = try expectStored(run, root: root, source: rel, oracle: oracle, scratch) }
    }
    let changedWords = ["chang", "removed", "replaced"]

    switch c {
    case .newlineName:
      try Rel.mkdir(r)
      try file(Rel.bytes("new\nline"))
      try file(Rel.bytes("new\\nline"), "looks like an escape\n")
      try mk(Rel.bytes("dir\nname"))
      try file(Rel.bytes("dir\nname/\n"))
      var plan = addPlan(root, rel)
      plan.verify = { run in
        guard let key = try expectStored(run, root: root, source: rel, scratch) else { return }
        #expect(Rel.listNames(root + "/store/" + key) == Rel.listNames(rel))
        #expect(Rel.listNames(Rel.bytes(root + "/store/" + key + "/dir\nname")) == [[0x0A]])
      }
      return plan

    case .tabName:
      try Rel.mkdir(r)
      try file(Rel.bytes("tab\there"))
      try file([0x09])
      try mk(Rel.bytes("\tdir\t"))
      try file(Rel.bytes("\tdir\t/a\tb"))
      var plan = addPlan(root, rel)
      plan.verify = { run in
        guard let key = try expectStored(run, root: root, source: rel, scratch) else { return }
        #expect(Rel.listNames(root + "/store/" + key) == Rel.listNames(rel))
      }
      return plan

    case .backslashName:
      try Rel.mkdir(r)
      try file(Rel.bytes("back\\slash"))
      try file(Rel.bytes("\\"))
      try file(Rel.bytes("\\x41"), "not an A\n")
      try file(Rel.bytes("A"), "an A\n")
      try mk(Rel.bytes("C:\\Windows"))
      try file(Rel.bytes("C:\\Windows/\\\\"))
      var plan = addPlan(root, rel)
      plan.verify = { run in
        guard let key = try expectStored(run, root: root, source: rel, scratch) else { return }
        #expect(Rel.listNames(root + "/store/" + key) == Rel.listNames(rel))
      }
      return plan

    case .invalidUTF8Name:
      try Rel.mkdir(r)
      let names: [[UInt8]] = [[0x62, 0x61, 0x64, 0xFF, 0xFE], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0x80], [0xF8, 0x88, 0x80, 0x80, 0x80]]
      for n in names { try file(n, "bytes\n") }
      try mk([0xC0, 0xAF])
      try file([0xC0, 0xAF, 0x2F, 0xFF])
      try link([0xFE, 0x6C], String(decoding: [0x61], as: UTF8.self))
      var plan = addPlan(root, rel)
      plan.verify = { run in
        guard let key = try expectStored(run, root: root, source: rel, scratch) else { return }
        #expect(Rel.listNames(root + "/store/" + key) == Rel.listNames(rel))
        #expect(Rel.listNames(Rel.bytes(root + "/store/" + key) + [0x2F, 0xC0, 0xAF]) == [[0xFF]])
        // The journal stays parseable JSON.
        #expect(throws: Never.self) { _ = try Gen.journal(root) }
      }
      return plan

    case .name255:
      try Rel.mkdir(r)
      let long = [UInt8](repeating: 0x6E, count: 255)
      try file(long)
      try mk([UInt8](repeating: 0x64, count: 255))
      try file([UInt8](repeating: 0x64, count: 255) + [0x2F] + [UInt8](repeating: 0x66, count: 255), "deep\n")
      try link([UInt8](repeating: 0x6C, count: 255), String(repeating: "t", count: 255))
      #expect(Rel.lstat(r + [0x2F] + [UInt8](repeating: 0x6E, count: 256)) == nil)
      var plan = addPlan(root, rel)
      plan.verify = storedAsIs()
      return plan

    case .path4000:
      try Rel.mkdir(r)
      let components = (0..<20).map { i in Rel.bytes(String(format: "%03d", i)) + [UInt8](repeating: 0x70, count: 197) }
      try Rel.makeChain(rel, components, leaf: Rel.bytes("leaf"), content: Rel.bytes("at the bottom\n"))
      let relative = components.reduce(0) { $0 + $1.count + 1 } + 4
      #expect(relative > 4000)
      var plan = addPlan(root, rel)
      plan.verify = { run in
        guard let key = try expectStored(run, root: root, source: rel, oracle: false, scratch) else { return }
        #expect(Rel.tree(root + "/store/" + key).contains { $0.path.count == relative && $0.type == "f" })
      }
      return plan

    case .tenThousand:
      try Rel.mkdir(r)
      try mk(Rel.bytes("many"))
      for i in 0..<10_000 { try file(Rel.bytes("many/f\(i)"), "\(i)\n") }
      var plan = addPlan(root, rel)
      plan.verify = { run in
        guard let key = try expectStored(run, root: root, source: rel, oracle: false, sameTree: false, scratch) else { return }
        #expect(Rel.listNames(root + "/store/" + key + "/many").count == 10_000)
        #expect(Rel.listNames(root + "/store/" + key + "/many") == Rel.listNames(rel + "/many"))
      }
      return plan

    case .depth500:
      try Rel.mkdir(r)
      try Rel.makeChain(rel, Array(repeating: Rel.bytes("d"), count: 500), leaf: Rel.bytes("bottom"), content: Rel.bytes("500 down\n"))
      var plan = addPlan(root, rel)
      plan.verify = { run in
        guard let key = try expectStored(run, root: root, source: rel, scratch) else { return }
        #expect(Rel.tree(root + "/store/" + key).filter { $0.type == "d" }.count == 500)
        // And a switch to it verifies (re-hashes) it again.
        let sw = try Rel.run(["switch", "--root", root, key], outputIn: scratch.path)
        #expect(sw.exitCode == 0, "\(sw)")
      }
      return plan

    case .symlinkLoop:
      try Rel.mkdir(r)
      try link(Rel.bytes("a"), "b")
      try link(Rel.bytes("b"), "a")
      try mk(Rel.bytes("dir"))
      try link(Rel.bytes("dir/x"), "../dir/x")
      var plan = addPlan(root, rel)
      plan.verify = storedAsIs()
      return plan

    case .symlinkToItself:
      try Rel.mkdir(r)
      try link(Rel.bytes("self"), "self")
      try link(Rel.bytes("dot"), ".")
      var plan = addPlan(root, rel)
      plan.verify = storedAsIs()
      return plan

    case .absoluteSymlinks:
      try Rel.mkdir(r)
      try link(Rel.bytes("passwd"), "/etc/passwd")
      try link(Rel.bytes("slash"), "/")
      try link(Rel.bytes("usr-lib"), "/usr/lib")
      try link(Rel.bytes("scratch"), scratch.path)
      var plan = addPlan(root, rel)
      plan.verify = { run in
        guard let key = try expectStored(run, root: root, source: rel, scratch) else { return }
        // Recorded, never followed: the entry holds four links and nothing of what they name.
        let tree = Rel.tree(root + "/store/" + key)
        #expect(tree.count == 4 && tree.allSatisfy { $0.type == "l" }, "\(tree.map(\.path))")
      }
      return plan

    case .escapingSymlinks:
      try Rel.mkdir(r)
      try link(Rel.bytes("up"), "../../../../../../../../etc")
      try link(Rel.bytes("parent"), "..")
      try mk(Rel.bytes("sub"))
      try link(Rel.bytes("sub/root"), "../../root")
      var plan = addPlan(root, rel)
      plan.verify = storedAsIs()
      return plan

    case .fifo, .charDevice, .blockDevice, .socket:
      try Rel.mkdir(r)
      try file(Rel.bytes("ok"))
      try mk(Rel.bytes("sub"))
      let special = rel + "/sub/special"
      let what: String
      switch c {
      case .fifo:
        guard mkfifo(special, 0o644) == 0 else { throw Rel.fail("mkfifo", Rel.bytes(special)) }
        what = "a FIFO"
      case .charDevice:
        guard mknod(special, S_IFCHR | 0o644, dev_t((1 << 8) | 3)) == 0 else { throw Rel.fail("mknod", Rel.bytes(special)) }
        what = "a character device"
      case .blockDevice:
        guard mknod(special, S_IFBLK | 0o644, dev_t(7 << 8)) == 0 else { throw Rel.fail("mknod", Rel.bytes(special)) }
        what = "a block device"
      default:
        try makeSocket(special)
        what = "a socket"
      }
      var plan = addPlan(root, rel, expect: .failure(1, [special, what]))
      plan.verify = { _ in #expect(Rel.storeKeys(root).isEmpty, "something was stored") }
      return plan

    case .hardLinks:
      try Rel.mkdir(r)
      try file(Rel.bytes("a"), "shared content\n")
      try mk(Rel.bytes("sub"))
      guard Glibc.link(rel + "/a", rel + "/b") == 0, Glibc.link(rel + "/a", rel + "/sub/c") == 0 else {
        throw Rel.fail("link", r)
      }
      var plan = addPlan(root, rel)
      plan.verify = { run in
        guard let key = try expectStored(run, root: root, source: rel, scratch) else { return }
        let entry = root + "/store/" + key
        let stats = ["a", "b", "sub/c"].compactMap { Rel.lstat(Rel.bytes(entry + "/" + $0)) }
        #expect(stats.count == 3)
        #expect(Set(stats.map(\.st_ino)).count == 3, "hard links must become separate files")
        #expect(stats.allSatisfy { $0.st_nlink == 1 })
        #expect(Gen.read(entry + "/sub/c") == "shared content\n")
      }
      return plan

    case .growsWhileHashed, .growsWhileCopied, .removedWhileHashed, .removedWhileCopied:
      let target = try bigRelease(rel)
      let grows = c == .growsWhileHashed || c == .growsWhileCopied
      let duringCopy = c == .growsWhileCopied || c == .removedWhileCopied
      let expectedKey = try Gen.key(rel)
      var plan = addPlan(root, rel, expect: .either(anyOf: changedWords))
      let act: () -> String = {
        if grows {
          do { try append(target, [UInt8](repeating: 0x2B, count: 1 << 20)); return "appended 1 MiB to d-last" } catch { return "append failed: \(error)" }
        }
        return unlink(target) == 0 ? "removed d-last" : "unlink failed"
      }
      plan.during = { s in
        let condition: () -> Bool =
          duringCopy ? { Rel.storeTemporary(root) != nil } : { Rel.hasOpen(s.pid, rel + "/a-big") }
        return mutate(s, phase: duringCopy ? "the copy" : "hashing", until: condition, act)
      }
      plan.verify = { run in
        if run.exitCode == 0 {
          // The mutation landed after d-last was read: the entry is the release as it was.
          #expect(Rel.addedKey(run) == expectedKey)
          #expect(Rel.storeKeys(root) == [expectedKey])
        } else {
          #expect(run.stderrText.contains("d-last") || run.stderrText.contains(rel), "the error should name the file: \(run)")
          #expect(Rel.storeKeys(root).isEmpty, "a failed add left an entry")
          #expect(Rel.listNames(root + "/manifests").filter { $0.starts(with: Array(".tmp-".utf8)) }.isEmpty)
        }
      }
      return plan

    case .releaseSymlinkToDir:
      let real = scratch.at("real")
      try Gen.makeRelease(at: real, version: "7.0")
      try Rel.symlink(Rel.bytes(real), at: r)
      var plan = addPlan(root, rel)
      plan.verify = { run in
        guard let key = try expectStored(run, root: root, source: real, scratch) else { return }
        #expect(try CLI.oracleKey(real) == key)
        #expect(Gen.read(root + "/store/" + key + "/share/mcp/VERSION") == "7.0\n")
      }
      return plan

    case .releaseSymlinkToFile:
      let real = scratch.at("real-file")
      try Gen.write(real, "#!/bin/sh\necho single\n", mode: 0o755)
      try Rel.symlink(Rel.bytes("real-file"), at: r)
      var plan = addPlan(root, rel)
      plan.verify = { run in
        guard let key = Rel.addedKey(run) else { Issue.record("no key: \(run)"); return }
        let oracle = try CLI.oracleKey(real)
        #expect(oracle == key)
        let st = Rel.lstat(Rel.bytes(root + "/store/" + key))
        #expect(st.map { $0.st_mode & S_IFMT == S_IFREG } == true, "a symlinked file is stored as the file")
        #expect(st.map { $0.st_mode & 0o7777 } == 0o555)
        #expect(Gen.read(root + "/store/" + key) == "#!/bin/sh\necho single\n")
      }
      return plan

    case .releaseDanglingSymlink:
      try Rel.symlink(Rel.bytes(scratch.at("nothing-there")), at: r)
      return addPlan(root, rel, expect: .failure(1, [rel]))

    case .releaseSymlinkLoop:
      try Rel.symlink(Rel.bytes("rel"), at: r)
      return addPlan(root, rel, expect: .failure(1, [rel]))

    case .releaseNameWithNewline:
      let odd = scratch.at("rel\nease")
      try Gen.makeRelease(at: odd, version: "8.0")
      var plan = addPlan(root, odd)
      plan.verify = { run in
        _ = try expectStored(run, root: root, source: odd, scratch)
        let log = try Rel.run(["log", "--root", root], outputIn: scratch.path)
        #expect(log.exitCode == 0 && log.stderr.isEmpty, "\(log)")
        let journal = try Gen.journal(root)
        #expect(journal.last?["source"] as? String == odd)
      }
      return plan

    case .releaseIsTheRoot:
      _ = try populated(root)
      // The root's lock is private (0600), so the scan refuses it as unreadable to others
      // before anything is copied, unless the root changes under the copy first.
      return Plan(
        arguments: ["add", "--root", root, root],
        expect: .either(anyOf: changedWords + ["immutable", "Operation not permitted", "others cannot read"]), root: root)

    case .emptyDirectory:
      try Rel.mkdir(r)
      var plan = addPlan(root, rel)
      plan.verify = { run in
        guard let key = try expectStored(run, root: root, source: rel, scratch) else { return }
        #expect(Rel.listNames(root + "/store/" + key).isEmpty)
      }
      return plan

    case .emptyFile:
      try Rel.write(r, [])
      var plan = addPlan(root, rel)
      plan.verify = { run in
        guard let key = Rel.addedKey(run) else { Issue.record("no key: \(run)"); return }
        let oracle = try CLI.oracleKey(rel)
        #expect(oracle == key)
        let st = Rel.lstat(Rel.bytes(root + "/store/" + key))
        #expect(st.map { $0.st_mode & S_IFMT == S_IFREG && $0.st_size == 0 } == true)
      }
      return plan

    case .emptyInside:
      try Rel.mkdir(r)
      try mk(Rel.bytes("empty-dir"))
      try mk(Rel.bytes("nested"))
      try mk(Rel.bytes("nested/empty"))
      try file(Rel.bytes("empty-file"), "")
      try file(Rel.bytes("nested/empty-exec"), "", mode: 0o755)
      var plan = addPlan(root, rel)
      plan.verify = storedAsIs()
      return plan

    case .rootIsSymlink:
      let real = scratch.at("real-root")
      try Rel.mkdir(Rel.bytes(real))
      let linkPath = scratch.at("root-link")
      try Rel.symlink(Rel.bytes("real-root"), at: Rel.bytes(linkPath))
      let k10 = try Gen.key(CLI.fixture("mcp-1.0"))
      var plan = Plan(arguments: ["switch", "--root", linkPath, CLI.fixture("mcp-1.0")], expect: .success, root: real)
      plan.verify = { _ in
        #expect(Rel.readlink(Rel.bytes(linkPath)) == Rel.bytes("real-root"), "the --root symlink itself was replaced")
        #expect(Gen.readlink(real + "/current") == "generations/1")
        #expect(Gen.generationKey(real, 1) == k10)
        #expect(Rel.storeKeys(real) == [k10])
        #expect(Gen.read(linkPath + "/current/share/mcp/VERSION") == "1.0\n")
        let status = try Rel.run(["status", "--root", linkPath], outputIn: scratch.path)
        #expect(status.exitCode == 0 && status.stdoutText.contains(k10), "\(status)")
      }
      return plan

    case .rootDanglingSymlink:
      let linkPath = scratch.at("root-link")
      try Rel.symlink(Rel.bytes(scratch.at("absent")), at: Rel.bytes(linkPath))
      var plan = Plan(arguments: ["add", "--root", linkPath, CLI.fixture("mcp-1.0")], expect: .either(anyOf: [linkPath]), root: nil)
      plan.verify = { run in
        #expect(Rel.readlink(Rel.bytes(linkPath)) != nil, "the --root symlink itself was replaced")
        if run.exitCode == 0 { try Rel.expectSoundRoot(linkPath, outputIn: scratch.path, "dangling --root") }
      }
      return plan

    case .rootSymlinkLoop:
      let linkPath = scratch.at("root-loop")
      try Rel.symlink(Rel.bytes("root-loop"), at: Rel.bytes(linkPath))
      var plan = Plan(arguments: ["add", "--root", linkPath, CLI.fixture("mcp-1.0")], expect: .failure(1, [linkPath]), root: nil)
      plan.verify = { _ in #expect(Rel.readlink(Rel.bytes(linkPath)) == Rel.bytes("root-loop")) }
      return plan

    case .uppercaseKey, .nonHexKey, .keyTooLong, .keyWithNewline:
      let (_, k11) = try populated(root)
      let text: String
      switch c {
      case .uppercaseKey: text = k11.uppercased()
      case .nonHexKey: text = String(k11.dropLast()) + "g"
      case .keyTooLong: text = k11 + "0"
      default: text = String(k11.prefix(8)) + "\n"
      }
      let before = Gen.snapshot(root)
      let mention = c == .nonHexKey || c == .keyWithNewline ? String(text.prefix(8)) : "store key"
      var plan = Plan(arguments: ["switch", "--root", root, text], expect: .failure(1, [mention]), root: root)
      plan.unchanged = (root, before)
      return plan

    case .rollbackOverflow, .rollbackNegative:
      _ = try populated(root)
      try Gen.ok(root, "switch", [CLI.fixture("mcp-1.1")])
      let argument = c == .rollbackOverflow ? "184467440737095516160000" : "-1"
      let before = Gen.snapshot(root)
      var plan = Plan(arguments: ["rollback", "--root", root, argument], expect: .failure(64, []), root: root)
      plan.unchanged = (root, before)
      return plan

    case .lockTimeoutNaN:
      let (_, k11) = try populated(root)
      let before = Gen.snapshot(root)
      var plan = Plan(arguments: ["switch", "--root", root, "--lock-timeout", "nan", k11], expect: .failure(64, ["--lock-timeout"]), root: root)
      plan.unchanged = (root, before)
      return plan

    case .generationAtMaximum:
      let (k10, k11) = try populated(root)
      try Rel.symlink(Rel.bytes("../store/" + k10), at: Rel.bytes(root + "/generations/9007199254740991"))
      // Put there by hand: numbers come from the journal and the names just above its highest
      // (store-layout.md section 5), so the switch makes generation 2 and leaves the link be.
      var plan = Plan(arguments: ["switch", "--root", root, k11], expect: .success, root: root)
      plan.verify = { _ in
        #expect(Gen.readlink(root + "/current") == "generations/2")
        #expect(Gen.readlink(root + "/generations/9007199254740991") == "../store/" + k10)
      }
      return plan

    case .generationNameOverflow:
      let (k10, k11) = try populated(root)
      try Rel.symlink(Rel.bytes("../store/" + k10), at: Rel.bytes(root + "/generations/99999999999999999999"))
      var plan = Plan(arguments: ["switch", "--root", root, k11], expect: .success, root: root)
      plan.verify = { _ in
        #expect(Gen.readlink(root + "/current") == "generations/2", "a name that is not a number is ignored")
        #expect(Gen.currentKey(root) == k11)
      }
      return plan

    case .journalAtMaximum:
      let (_, k11) = try populated(root)
      try append(root + "/journal.jsonl", Rel.bytes(journalLine(op: "gc", extra: ",\"generations\":[9007199254740991],\"entries\":[],\"bytesFreed\":0")))
      let before = Gen.readlink(root + "/current")
      var plan = Plan(arguments: ["switch", "--root", root, k11], expect: .failure(1, ["exhausted"]), root: root)
      plan.verify = { _ in #expect(Gen.readlink(root + "/current") == before) }
      return plan

    case .journalNumberOverflow:
      let (_, k11) = try populated(root)
      try append(root + "/journal.jsonl", Rel.bytes(journalLine(op: "switch", to: "99999999999999999999999")))
      var plan = Plan(arguments: ["switch", "--root", root, k11], expect: .either(anyOf: ["journal", "generation"]), root: root)
      plan.tolerating = ["journal"]
      plan.verify = { run in if run.exitCode == 0 { #expect(Gen.currentKey(root) == k11) } }
      return plan

    case .journalTruncated:
      let (_, k11) = try populated(root)
      let journal = root + "/journal.jsonl"
      let size = Rel.lstat(Rel.bytes(journal)).map { Int($0.st_size) } ?? 0
      #expect(truncate(journal, off_t(size - 17)) == 0)
      var plan = Plan(arguments: ["switch", "--root", root, k11], expect: .success, root: root)
      plan.tolerating = ["journal"]  // The torn line stays (sealed off by a newline), reported by audit.
      plan.verify = { _ in
        #expect(Gen.currentKey(root) == k11)
        let text = Gen.read(journal) ?? ""
        #expect(text.hasSuffix("\n"))
        let last = text.split(separator: "\n").last.map(String.init) ?? ""
        let object = try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
        #expect(object?["op"] as? String == "switch", "the new record must not merge with the torn line: \(last)")
      }
      return plan

    case .journalGarbage:
      let (_, k11) = try populated(root)
      var junk: [UInt8] = [0x00, 0xFF, 0xFE, 0x7B, 0x0A]
      junk += Rel.bytes("{\"op\":\"switch\",\"to\":\"seven\"}\n[1,2,3]\nnull\n\"string\"\n{\"time\":1}\n")
      junk += (0..<2000).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) } + [0x0A]
      junk += Rel.bytes(String(repeating: "[", count: 100_000) + "\n")
      try append(root + "/journal.jsonl", junk)
      var plan = Plan(arguments: ["switch", "--root", root, k11], expect: .success, root: root)
      plan.tolerating = ["journal"]
      plan.verify = { _ in
        #expect(Gen.currentKey(root) == k11)
        let log = try Rel.run(["log", "--root", root], outputIn: scratch.path)
        #expect(log.endedCleanly, "log on a garbage journal: \(log)")
        let list = try Rel.run(["list", "--root", root], outputIn: scratch.path)
        #expect(list.endedCleanly && list.exitCode == 0, "list on a garbage journal: \(list)")
      }
      return plan

    case .journalIsDirectory, .journalIsSymlink:
      let (_, k11) = try populated(root)
      let journal = root + "/journal.jsonl"
      let outside = scratch.at("outside-journal")
      let original = Gen.read(journal) ?? ""
      try Gen.write(outside, original)
      #expect(unlink(journal) == 0)
      if c == .journalIsDirectory {
        try Rel.mkdir(Rel.bytes(journal))
      } else {
        try Rel.symlink(Rel.bytes(outside), at: Rel.bytes(journal))
      }
      let before = Gen.snapshot(root)
      var plan = Plan(arguments: ["switch", "--root", root, k11], expect: .failure(1, ["journal.jsonl"]), root: nil)
      plan.unchanged = (root, before)
      plan.verify = { _ in #expect(Gen.read(outside) == original, "the file the journal link names was written") }
      return plan

    case .lockIsDirectory, .lockIsSymlink, .lockIsFIFO:
      let (_, k11) = try populated(root)
      let lock = root + "/lock"
      let outside = scratch.at("outside-lock")
      try Gen.write(outside, "not yours\n")
      #expect(unlink(lock) == 0)
      switch c {
      case .lockIsDirectory: try Rel.mkdir(Rel.bytes(lock))
      case .lockIsSymlink: try Rel.symlink(Rel.bytes(outside), at: Rel.bytes(lock))
      default: #expect(mkfifo(lock, 0o644) == 0)
      }
      let before = Gen.snapshot(root)
      var plan = Plan(arguments: ["switch", "--root", root, k11], expect: .failure(1, [lock, "not a regular file"]), root: root)
      plan.unchanged = (root, before)
      plan.verify = { _ in #expect(Gen.read(outside) == "not yours\n", "the file the lock link names was written") }
      return plan

    case .storeIsFile:
      try Rel.mkdir(Rel.bytes(root))
      try Gen.write(root + "/store", "not a directory\n")
      let before = Gen.snapshot(root)
      var plan = Plan(arguments: ["add", "--root", root, CLI.fixture("mcp-1.0")], expect: .failure(1, ["store"]), root: nil)
      plan.unchanged = (root, before)
      return plan

    case .currentDamaged:
      let (_, k11) = try populated(root)
      #expect(unlink(root + "/current") == 0)
      try Rel.symlink(Rel.bytes("../../../etc"), at: Rel.bytes(root + "/current"))
      var plan = Plan(arguments: ["switch", "--root", root, k11], expect: .either(anyOf: ["current"]), root: root)
      plan.verify = { run in
        if run.exitCode == 0 {
          #expect(Gen.currentKey(root) == k11)
        } else {
          #expect(Gen.readlink(root + "/current") == "../../../etc")
        }
      }
      return plan

    case .configGarbage, .configDeeplyNested:
      let (_, k11) = try populated(root)
      if c == .configGarbage {
        try Gen.write(root + "/config.json", "{\"checks\": [\"true\"], \u{0}\u{1} not json")
      } else {
        try Gen.write(root + "/config.json", "{\"checks\":" + String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000) + "}\n")
      }
      let before = Gen.snapshot(root)
      var plan = Plan(arguments: ["switch", "--root", root, k11], expect: .failure(1, ["config.json"]), root: root)
      plan.unchanged = (root, before)
      return plan
    }
  }
}

/// A thread-safe counter (how many hostile cases ran, for the printed figure).
final class RelCounter: @unchecked Sendable {
  private var value = 0
  private let lock = NSLock()
  func increment() -> Int {
    lock.lock()
    defer { lock.unlock() }
    value += 1
    return value
  }
}
