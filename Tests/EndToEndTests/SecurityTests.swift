import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Security properties, each proven on the real binary:
/// - it never writes outside the root and never uses /tmp; temporary names are created with
///   O_EXCL (strace of add, switch, rollback, pin, block, config --init and gc);
/// - a temporary directory swapped for a symlink mid-add cannot redirect a write;
/// - stored content never keeps setuid, setgid or sticky bits;
/// - a root-owned store cannot be changed by an unprivileged user.
@Suite("security", .serialized)
struct SecurityTests {
  // MARK: Writes, /tmp, O_EXCL

  /// Creating opens that may reuse an existing file, by name: the lock (never removed), the
  /// journal (appended to), and pins/blocked marks (empty files; these use O_EXCL anyway).
  static let nonExclusiveAllowed: [(dir: String?, name: String)] = [
    (nil, "lock"), (nil, "journal.jsonl"), ("pins", "*"), ("blocked", "*"),
  ]

  static func exclusiveNotNeeded(_ path: String, root: String) -> Bool {
    guard path.hasPrefix(root + "/") else { return false }
    let relative = path.dropFirst(root.count + 1).split(separator: "/").map(String.init)
    return nonExclusiveAllowed.contains { rule in
      if let dir = rule.dir { return relative.count == 2 && relative[0] == dir && (rule.name == "*" || relative[1] == rule.name) }
      return relative == [rule.name]
    }
  }

  static let creatingCalls: Set<String> = [
    "mkdirat", "mkdir", "symlinkat", "symlink", "renameat", "renameat2", "rename", "unlinkat", "unlink", "rmdir",
    "linkat", "link",
  ]

  @Test(
    "add, switch, rollback, pin, block, config --init, gc: nothing created, renamed or removed outside the root, no /tmp, O_EXCL temporaries",
    .enabled(if: KillPoints.stracePath != nil, "strace is not installed"))
  func staysInsideTheRoot() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let k10 = try Gen.key(CLI.fixture("mcp-1.0"))
    let k11 = try Gen.key(CLI.fixture("mcp-1.1"))
    var environment = Gen.childEnvironment
    environment.removeValue(forKey: "TMPDIR")
    let commands: [[String]] = [
      ["add", "--root", root, CLI.fixture("mcp-1.0")],
      ["switch", "--root", root, CLI.fixture("mcp-1.1")],
      ["switch", "--root", root, k10],
      ["rollback", "--root", root],
      ["switch", "--root", root, CLI.fixture("mcp-single")],
      ["pin", "--root", root, "1"],
      ["block", "--root", root, k11],
      ["config", "--root", root, "--init"],
      ["gc", "--root", root, "--keep", "1", "--grace", "0"],
    ]
    var checked = 0
    var creates = 0
    var opens = 0
    for (i, arguments) in commands.enumerated() {
      let log = scratch.at("strace-\(i).log")
      let (run, calls, text) = try RelStrace.run(
        arguments, trace: "openat,openat2,open,creat,mkdirat,mkdir,symlinkat,symlink,renameat,renameat2,rename,unlinkat,unlink,rmdir,linkat,link",
        log: log, outputIn: scratch.path, environment: environment)
      let context = arguments.prefix(1).joined() + " " + arguments.dropFirst(3).joined(separator: " ")
      #expect(run.exitCode == 0, "\(context): \(run)")
      #expect(!calls.isEmpty, "\(context): empty strace log")
      // Nothing under /tmp is touched, other than this checkout itself (CI may clone it there):
      // every line that mentions /tmp must also be about the checkout (root, scratch, build dir).
      let checkout = CLI.packageRoot
      let tmpLines = text.split(separator: "\n").filter { line in
        // A path that starts at /tmp, quoted or as strace's <fd path>; /var/tmp/... is not one.
        func mentionsTmp(_ s: some StringProtocol) -> Bool {
          ["\"/tmp/", "\"/tmp\"", "</tmp/", "</tmp>"].contains { s.contains($0) }
        }
        guard mentionsTmp(line) else { return false }
        if checkout.hasPrefix("/tmp/") || checkout == "/tmp" {
          // Drop every mention of the checkout (and the mkdir -p of its ancestors), then look again.
          var rest = line.replacingOccurrences(of: checkout, with: "<checkout>")
          var ancestor = checkout
          while ancestor.count > 1, let slash = ancestor.lastIndex(of: "/") {
            ancestor = String(ancestor[..<slash])
            if ancestor.isEmpty { break }
            rest = rest.replacingOccurrences(of: "\"\(ancestor)\"", with: "\"<ancestor>\"").replacingOccurrences(of: "<\(ancestor)>", with: "<ancestor>")
          }
          return mentionsTmp(rest)
        }
        return true
      }
      #expect(tmpLines.isEmpty, "\(context) touched /tmp: \(tmpLines.prefix(3))")

      for call in calls where ["openat", "openat2", "open"].contains(call.name) {
        // Everything inside the root is opened relative to a descriptor without following a
        // symlink (the root itself is opened by its path, once: it may be a symlink). The one
        // look-up that follows links is a release's declared command resolved where it leads
        // (store-layout.md 9a): O_PATH, and only beneath the entry (RESOLVE_BENEATH).
        for path in call.resolvedPaths where path.hasPrefix(root + "/") {
          opens += 1
          #expect(call.descriptor(0) != nil && !(call.fields.first?.hasPrefix("AT_FDCWD") ?? true), "\(context): \(call) opens \(path) by an absolute path")
          let confined = call.name == "openat2" && call.openFlags.contains("O_PATH") && call.openFlags.contains("RESOLVE_BENEATH")
            && path.hasPrefix(root + "/store/")
          #expect(call.openFlags.contains("O_NOFOLLOW") || confined, "\(context): \(call) opens \(path) without O_NOFOLLOW")
        }
      }
      for call in calls {
        let isCreatingOpen = (call.name == "openat" || call.name == "openat2" || call.name == "open") && call.openFlags.contains("O_CREAT")
        guard Self.creatingCalls.contains(call.name) || isCreatingOpen || call.name == "creat" else { continue }
        checked += 1
        let paths = call.resolvedPaths + (call.succeeded ? [call.resultPath].compactMap { $0 }.filter { $0.hasPrefix("/") } : [])
        #expect(!paths.isEmpty, "\(context): cannot tell what \(call) names")
        for path in paths where !(path == root || path.hasPrefix(root + "/")) {
          // Only `mkdir -p` of the root's own ancestors, which all exist already, may name them.
          let ancestor = (root + "/").hasPrefix(path + "/") && call.name == "mkdirat" && call.result.contains("EEXIST")
          #expect(ancestor, "\(context): \(call) names \(path), outside the root")
        }
        if call.succeeded {
          // Inside the root everything is reached through a descriptor, never by a path from /
          // (the one exception: creating the root itself).
          let absolute = call.fields.contains { RelCall.string($0)?.hasPrefix("/") == true }
          #expect(!absolute || (call.name == "mkdirat" && call.resolvedPaths == [root]), "\(context): \(call) uses an absolute path")
        }
        if isCreatingOpen || call.name == "creat" {
          creates += 1
          let target = call.resolvedPaths.first ?? ""
          #expect(call.openFlags.contains("O_EXCL") || Self.exclusiveNotNeeded(target, root: root),
                  "\(context): \(call) creates \(target) without O_EXCL")
          if call.name == "openat2" || call.name == "openat" {
            #expect(call.openFlags.contains("O_NOFOLLOW"), "\(context): \(call) may follow a symlink")
          }
        }
      }
    }
    print("security: \(commands.count) commands traced, \(checked) creating/renaming/removing calls checked, \(creates) creating opens, \(opens) opens inside the root all relative + O_NOFOLLOW; none outside \(root), none under /tmp")
    #expect(checked > 20)
  }

  // MARK: A temporary directory swapped for a symlink mid-add

  /// 3,000 files in 600 directories. The add keeps at most 512 directories of its copy open,
  /// so the first one (`d000`) is reached through a descriptor opened before the swap and the
  /// last one (`d599`) is resolved again, with `openat2(RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH)`,
  /// after it. Their files are the smallest, so they are copied last, after the swap. Both are
  /// moved aside and replaced by symlinks to a directory outside the root as soon as all
  /// directories of the copy exist.
  @Test("directories of the temporary copy swapped for symlinks mid-add: nothing is written through them")
  func swappedTemporaryDirectory() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let release = scratch.at("release")
    let outside = scratch.at("outside")
    try Rel.mkdir(Rel.bytes(outside))
    try Gen.write(outside + "/canary", "still here\n")
    try Gen.write(outside + "/f0", "not to be replaced\n")
    try Rel.mkdir(Rel.bytes(release))
    let victims = ["d000", "d599"]
    for d in 0..<600 {
      let name = String(format: "d%03d", d)
      try Rel.mkdir(Rel.bytes(release + "/" + name))
      let payload = [UInt8](repeating: 0x61, count: victims.contains(name) ? 1024 : 16 * 1024)
      for f in 0..<5 { try Rel.write(Rel.bytes(release + "/\(name)/f\(f)"), payload + Rel.bytes("\(d)/\(f)\n")) }
    }
    let key = try Gen.key(release)
    let outsideBefore = Gen.snapshot(outside)

    let spawned = try Rel.spawn(["add", "--root", root, release], outputIn: scratch.path)
    var swapped: [String] = []
    let sawTemp = Rel.poll(timeout: 60, while: { Gen.isRunning(spawned.pid) }) {
      guard let temp = Rel.storeTemporary(root) else { return false }
      let dir = root + "/store/" + temp
      guard Rel.listNames(dir).count >= 600 else { return false }
      for victim in victims where rename(dir + "/" + victim, dir + "/" + victim + ".moved") == 0 {
        if Glibc.symlink(outside, dir + "/" + victim) == 0 { swapped.append(victim) }
      }
      return true
    }
    let run = Rel.finish(spawned, timeout: 120)
    let context = "swap \(sawTemp ? (swapped.isEmpty ? "failed (copy already sealed)" : "landed on \(swapped.joined(separator: ", "))") : "never saw the temporary"): \(run)"
    print("security: \(context)")

    #expect(run.endedCleanly, "\(context)")
    #expect(Rel.stderrIsEmptyOrOneLineError(run.stderrText), "\(context)")
    #expect(Gen.snapshot(outside) == outsideBefore, "something was written into, or removed from, the outside directory: \(Gen.snapshot(outside))")
    #expect(Rel.leftovers(root).isEmpty, "left behind: \(Rel.leftovers(root))")
    if run.exitCode == 0 {
      #expect(Rel.storeKeys(root) == [key])
      let verify = try Rel.run(["switch", "--root", root, key], outputIn: scratch.path)
      #expect(verify.exitCode == 0, "the stored entry does not verify: \(verify)")
    } else {
      #expect(run.exitCode == 1, "\(context)")
      #expect(Rel.storeKeys(root).isEmpty, "a failed add left an entry")
    }
    try Rel.expectSoundRoot(root, outputIn: scratch.path, "after the swapped add")
    #expect(sawTemp, "the add finished before its temporary copy could be seen")
    #expect(swapped == victims, "the swap did not land (the copy was sealed first): this run proves less")
  }

  // MARK: setuid, setgid, sticky

  @Test("stored content never keeps setuid, setgid or sticky bits")
  func noSpecialModeBits() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let release = scratch.at("release")
    try Gen.makeRelease(at: release, version: "suid")
    try Gen.write(release + "/bin/suid", "#!/bin/sh\nid\n", mode: 0o4755)
    try Gen.write(release + "/bin/sgid", "#!/bin/sh\nid\n", mode: 0o2755)
    // Readable by others, as a release ships it: add refuses files others cannot read.
    try Gen.write(release + "/bin/both", "#!/bin/sh\nid\n", mode: 0o6755)
    try Gen.write(release + "/share/suid-data", "data\n", mode: 0o4644)
    try Rel.mkdir(Rel.bytes(release + "/sticky"), 0o755)
    chmod(release + "/sticky", 0o1777)
    try Rel.mkdir(Rel.bytes(release + "/setgid-dir"), 0o755)
    chmod(release + "/setgid-dir", 0o2775)
    #expect(Rel.lstat(Rel.bytes(release + "/bin/suid")).map { $0.st_mode & 0o7000 } == 0o4000)

    let run = try Rel.run(["add", "--root", root, release], outputIn: scratch.path)
    #expect(run.exitCode == 0, "\(run)")
    guard let key = Rel.addedKey(run) else { return }
    let single = try Rel.run(["add", "--root", root, release + "/bin/both"], outputIn: scratch.path)
    #expect(single.exitCode == 0, "\(single)")
    let singleKey = Rel.addedKey(single)

    let entry = root + "/store/" + key
    var seen = 0
    let items: [(path: [UInt8], type: Character)] =
      [(Rel.bytes(entry), "d")] + Rel.tree(entry).map { (Rel.bytes(entry) + [0x2F] + $0.path, $0.type) }
    for item in items where item.type != "l" {
      guard let st = Rel.lstat(item.path) else { continue }
      seen += 1
      let mode = st.st_mode & 0o7777
      #expect(mode & 0o7000 == 0, "\(String(decoding: item.path, as: UTF8.self)) kept mode \(String(mode, radix: 8))")
      #expect(mode == 0o555 || mode == 0o444, "\(String(decoding: item.path, as: UTF8.self)) has mode \(String(mode, radix: 8))")
    }
    if let singleKey, let st = Rel.lstat(Rel.bytes(root + "/store/" + singleKey)) {
      #expect(st.st_mode & 0o7777 == 0o555, "single-file entry mode \(String(st.st_mode & 0o7777, radix: 8))")
    }
    print("security: \(seen) stored inodes checked, no setuid/setgid/sticky bit kept")
    try Rel.expectSoundRoot(root, outputIn: scratch.path, "setuid release")
  }

  // MARK: An unprivileged user against a root-owned store

  @Test(
    "a root-owned store cannot be changed by nobody (setpriv --reuid=65534)",
    .enabled(if: geteuid() == 0 && Rel.setprivPath != nil, "needs root and setpriv"))
  func unprivilegedUserCannotChange() throws {
    try refusesNobody(binary: CLI.binary, fixtures: CLI.packageRoot + "/fixtures")
  }

  /// The same, with the binary and the fixtures in a directory only root may enter, as in a clone
  /// under /root or a `mktemp -d`: the test must not depend on where the checkout is.
  @Test(
    "nobody's cases pass from a checkout in a 0700 directory",
    .enabled(if: geteuid() == 0 && Rel.setprivPath != nil, "needs root and setpriv"))
  func nobodyCasesFromAPrivateCheckout() throws {
    let hidden = try Scratch()
    defer { hidden.remove() }
    chmod(hidden.path, 0o700)
    try Rel.must("/bin/cp", [CLI.binary, hidden.at("mcp-gen")])
    try Rel.must("/bin/cp", ["-a", CLI.packageRoot + "/fixtures", hidden.at("fixtures")])
    try refusesNobody(binary: hidden.at("mcp-gen"), fixtures: hidden.at("fixtures"))
  }

  private func refusesNobody(binary original: String, fixtures: String) throws {
    // Made where nobody can reach it, whatever the checkout's parents allow: nobody must be
    // refused by the store's own permissions, not by a directory on the way.
    let scratch = try Scratch(forOtherUsers: true)
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Rel.must(original, ["switch", "--root", root, fixtures + "/mcp-1.0"])
    let k11 = try Gen.add(root, fixtures + "/mcp-1.1")
    try Gen.ok(root, "switch", [k11])
    let k10 = try Gen.key(fixtures + "/mcp-1.0")

    let setpriv = Rel.setprivPath!
    let asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups"]
    func asNobodyRun(_ arguments: [String]) throws -> Rel.Run {
      try Rel.run(asNobody + arguments, outputIn: scratch.path, executable: setpriv)
    }
    // nobody runs a copy of the binary and adds a copy of a fixture, both in its reach.
    let binary = scratch.at("mcp-gen")
    try Rel.must("/bin/cp", [original, binary])
    chmod(binary, 0o755)
    let broken = scratch.at("mcp-broken")
    try Rel.must("/bin/cp", ["-r", fixtures + "/mcp-broken", broken])
    try Rel.must("/bin/chmod", ["-R", "a+rX", broken])
    for (what, path) in [("run", binary), ("read", broken + "/bin/mcp")] {
      let probe = try asNobodyRun(["/usr/bin/test", what == "run" ? "-x" : "-r", path])
      try #require(probe.exitCode == 0, "nobody cannot \(what) \(path): \(probe)")
    }
    let before = Gen.snapshot(root)

    let changing: [[String]] = [
      ["switch", "--root", root, k10],
      ["switch", "--root", root, broken],
      ["rollback", "--root", root],
      ["rollback", "--root", root, "1"],
      ["gc", "--root", root, "--keep", "0", "--grace", "0"],
      ["pin", "--root", root, "1"],
      ["block", "--root", root, k10],
      ["config", "--root", root, "--init"],
      ["audit", "--root", root, "--repair"],
      ["add", "--root", root, broken],
    ]
    for arguments in changing {
      let run = try asNobodyRun([binary] + arguments)
      let context = "as nobody: \(arguments[0]) \(arguments.dropFirst(3).joined(separator: " ")): \(run)"
      #expect(run.endedCleanly, "\(context)")
      #expect(run.exitCode != 0, "\(context)")
      #expect(Gen.isOneLineError(run.stderrText), "\(context)")
      #expect(run.stderrText.contains("Permission denied") || run.stderrText.contains("Operation not permitted"), "\(context)")
      #expect(Gen.snapshot(root) == before, "\(context): the root changed")
    }
    // Reading stays possible.
    for arguments in [["status", "--root", root], ["list", "--root", root], ["verify", "--root", root], ["log", "--root", root]] {
      let run = try asNobodyRun([binary] + arguments)
      #expect(run.exitCode == 0, "as nobody: \(arguments[0]): \(run)")
    }
    #expect(Gen.snapshot(root) == before)
    print("security: \(changing.count) changing commands refused for nobody (uid 65534), root unchanged; 4 read-only commands work")
  }

}
