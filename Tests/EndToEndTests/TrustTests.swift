import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

enum AsNobody {
  static let uid: uid_t = 65534
  static var available: Bool { geteuid() == 0 && Rel.setprivPath != nil && GitFixture.git != nil }

  /// Runs `arguments` (an absolute executable first) as nobody.
  static func run(_ arguments: [String], in dir: String) throws -> Rel.Run {
    try Rel.run(["--reuid=65534", "--regid=65534", "--clear-groups"] + arguments, outputIn: dir, executable: Rel.setprivPath!)
  }

  /// A repository made by nobody at `repo` (created here, owned by nobody): tag `v1` holds an
  /// executable `bin/tool` and a committed `.gitattributes` of `* filter=evil`, and its
  /// `.git/config` defines `filter.evil.smudge` as a shell command that creates `marker`.
  static func maliciousRepository(_ repo: String, marker: String, in dir: String) throws {
    try Rel.mkdir(Rel.bytes(repo))
    chown(repo, uid, 65534)
    let script = """
      set -e
      cd '\(repo)'
      export HOME='\(repo)' GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
      git init -q .
      mkdir bin
      printf '#!/bin/sh\\necho tool\\n' > bin/tool
      chmod 755 bin/tool
      echo '* filter=evil' > .gitattributes
      git -c user.name=nobody -c user.email=nobody@example.invalid add -A
      git -c user.name=nobody -c user.email=nobody@example.invalid commit -q -m one
      git tag v1
      git config filter.evil.smudge 'sh -c "touch \(marker); cat"'
      """
    let made = try run(["/bin/sh", "-c", script], in: dir)
    guard made.exitCode == 0 else { throw E2EFailure("making the repository as nobody: \(made)") }
  }
}

@Suite("trust: who may own what", .serialized)
struct TrustTests {
  // MARK: Git repositories

  @Test(
    "add --git and switch --git refuse a repository nobody owns whose smudge filter would run as root; --allow-owner nobody admits it (and the filter then runs)",
    .enabled(if: AsNobody.available, "needs root, setpriv and git"))
  func repositoryOfAnotherUser() throws {
    let shared = try Scratch(forOtherUsers: true)
    defer { shared.remove() }
    let repo = shared.at("repo")
    let marker = shared.at("marker")
    let root = shared.at("root")
    try AsNobody.maliciousRepository(repo, marker: marker, in: shared.path)

    for command in ["add", "switch"] {
      let refused = try CLI.run([command, "--root", root, "--git", repo, "v1"])
      #expect(refused.status == 1, "\(command): \(refused.stderrText)")
      #expect(Gen.isOneLineError(refused.stderrText), "\(command): \(refused.stderrText)")
      #expect(refused.stderrText.hasPrefix("error: refusing git repository \(repo): \(repo) is owned by nobody (uid 65534), not by root;"),
              "\(command): \(refused.stderrText)")
      #expect(refused.stderrText.contains("--allow-owner nobody"), "\(refused.stderrText)")
      #expect(refused.stderrText.hasSuffix("\nhint: chown -R root \(repo)\n"), "\(refused.stderrText)")
      #expect(!FileManager.default.fileExists(atPath: marker), "\(command): the repository's smudge filter ran as root")
      #expect(!FileManager.default.fileExists(atPath: root), "\(command): the refused command created the root")
    }

    // A .git file of a root-owned directory that points into nobody's repository: the same.
    let linked = shared.at("linked")
    try Rel.mkdir(Rel.bytes(linked))
    try Gen.write(linked + "/.git", "gitdir: \(repo)/.git\n")
    let throughFile = try CLI.run(["add", "--root", root, "--git", linked, "v1"])
    #expect(throughFile.status == 1 && throughFile.stderrText.contains("\(repo) is owned by nobody"), "\(throughFile.stderrText)")
    #expect(!FileManager.default.fileExists(atPath: marker))

    let unknown = try CLI.run(["add", "--root", root, "--git", repo, "--allow-owner", "no-such-user-here", "v1"])
    #expect(unknown.status == 64, "\(unknown.stderrText)")
    #expect(unknown.stderrText.contains("no user called 'no-such-user-here'"), "\(unknown.stderrText)")

    // Trusted explicitly: the operator vouched for nobody, whose configuration then runs as root.
    let admitted = try CLI.run(["add", "--root", root, "--git", repo, "--allow-owner", "nobody", "v1"])
    #expect(admitted.status == 0, "\(admitted.stderrText)")
    #expect(FileManager.default.fileExists(atPath: marker), "--allow-owner: the trusted user's smudge filter did not run")
    #expect(Rel.storeKeys(root).count == 1)
  }

  @Test(
    "a root-owned repository below a directory nobody owns, or one anyone may write (no sticky bit), is refused",
    .enabled(if: geteuid() == 0 && GitFixture.git != nil, "needs root and git"))
  func repositoryBelowAnUntrustedDirectory() throws {
    let shared = try Scratch(forOtherUsers: true)
    defer { shared.remove() }
    let root = shared.at("root")
    for (name, setUp, expected) in [
      ("owned", { (p: String) in chown(p, AsNobody.uid, 65534) }, "is owned by nobody (uid 65534)"),
      ("writable", { (p: String) in chmod(p, 0o777) }, "is writable by group and others (owner root, mode 0777, no sticky bit)"),
    ] as [(String, (String) -> Int32, String)] {
      let parent = shared.at(name)
      try Rel.mkdir(Rel.bytes(parent))
      try GitFixture.make(at: parent + "/repo")
      #expect(setUp(parent) == 0)
      let refused = try CLI.run(["add", "--root", root, "--git", parent + "/repo", "v1"])
      #expect(refused.status == 1, "\(name): \(refused.stderrText)")
      #expect(Gen.isOneLineError(refused.stderrText), "\(refused.stderrText)")
      #expect(refused.stderrText.contains(": \(parent) \(expected)"), "\(name): \(refused.stderrText)")
      #expect(!FileManager.default.fileExists(atPath: root))
    }
    // The same repository below a sticky world-writable directory (like /tmp itself) is fine.
    let sticky = shared.at("sticky")
    try Rel.mkdir(Rel.bytes(sticky))
    try GitFixture.make(at: sticky + "/repo")
    chmod(sticky, 0o1777)
    let fine = try CLI.run(["add", "--root", root, "--git", sticky + "/repo", "v1"])
    #expect(fine.status == 0, "\(fine.stderrText)")
  }

  @Test(
    "a trusted repository's filter attribute finds no program in mcp-gen's environment, HOME or XDG config: git sees only the repository's own config",
    .enabled(if: GitFixture.git != nil, "needs git"))
  func noOtherConfiguration() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let repo = scratch.at("repo")
    try GitFixture.make(at: repo)
    try Gen.write(repo + "/.gitattributes", "* filter=evil\n")
    try GitFixture.run(["-C", repo, "add", ".gitattributes"])
    try GitFixture.run(["-C", repo, "commit", "-q", "-m", "attributes"])
    try GitFixture.run(["-C", repo, "tag", "v3"])
    let marker = scratch.at("ran")
    let home = scratch.at("home")
    try Rel.mkdir(Rel.bytes(home))
    try Rel.mkdir(Rel.bytes(home + "/.config"))
    try Rel.mkdir(Rel.bytes(home + "/.config/git"))
    let filter = "[filter \"evil\"]\n\tsmudge = sh -c 'touch \(marker); cat'\n"
    try Gen.write(home + "/.gitconfig", filter)
    try Gen.write(home + "/.config/git/config", filter)
    let out = try CLI.run(["add", "--root", scratch.at("root"), "--git", repo, "v3"], environment: [
      "HOME": home, "XDG_CONFIG_HOME": home + "/.config",
      "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "filter.evil.smudge", "GIT_CONFIG_VALUE_0": "sh -c 'touch \(marker); cat'",
      "GIT_CONFIG_PARAMETERS": "'filter.evil.smudge'='sh -c \"touch \(marker); cat\"'",
    ])
    #expect(out.status == 0, "\(out.stderrText)")
    #expect(!FileManager.default.fileExists(atPath: marker), "a filter from mcp-gen's environment or HOME ran")
  }

  // MARK: The root and config.json

  @Test(
    "check, switch and rollback refuse to run hooks when config.json or a parent of the root can be changed by another user; nothing switches; doctor names each with its fix",
    .enabled(if: geteuid() == 0, "needs root"))
  func hooksFromAnUntrustedConfig() throws {
    let shared = try Scratch(forOtherUsers: true)
    defer { shared.remove() }
    let parent = shared.at("parent")
    try Rel.mkdir(Rel.bytes(parent))
    let root = parent + "/root"
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.1")])
    try Gen.write(root + "/config.json", #"{"checks": ["true"]}"#)
    try Gen.ok(root, "check")
    let before = Gen.snapshot(root)

    // A parent owned by nobody: nobody could swap the whole root.
    chown(parent, AsNobody.uid, 65534)
    for arguments in [["check"], ["switch", CLI.fixture("mcp-single")], ["rollback"], ["switch", "--check", "true", CLI.fixture("mcp-single")]] {
      let refused = try Gen.run(root, arguments[0], Array(arguments.dropFirst()))
      #expect(refused.status == 1, "\(arguments): \(refused.stderrText)")
      #expect(Gen.isOneLineError(refused.stderrText), "\(arguments): \(refused.stderrText)")
      #expect(refused.stderrText.hasPrefix("error: refusing to run the restart command and health checks: \(parent) is owned by nobody (uid 65534), not by root"),
              "\(arguments): \(refused.stderrText)")
      #expect(refused.stderrText.contains("hint: chown root \(parent)\n"), "\(refused.stderrText)")
      #expect(Gen.snapshot(root) == before, "\(arguments): the root changed")
    }
    var doctor = try DoctorTests.findings(root)
    #expect(doctor.status == 1)
    #expect(DoctorTests.status(doctor.byCheck, "trust") == "problem")
    #expect(DoctorTests.message(doctor.byCheck, "trust").contains("\(parent) is owned by nobody"))
    #expect(DoctorTests.hint(doctor.byCheck, "trust") == "chown root \(parent)")
    // Without hooks nothing runs, so nothing is refused.
    #expect(try Gen.run(root, "rollback", ["--no-checks"]).status == 0)
    chown(parent, 0, 0)

    // config.json writable by others, and its parent made group-writable: both named by doctor.
    chmod(root + "/config.json", 0o666)
    chmod(parent, 0o775)
    let refused = try Gen.run(root, "check")
    #expect(refused.status == 1)
    #expect(refused.stderrText.contains(": \(parent) is writable by its group (owner root, mode 0775, no sticky bit)"), "\(refused.stderrText)")
    doctor = try DoctorTests.findings(root)
    let message = DoctorTests.message(doctor.byCheck, "trust")
    #expect(message.contains("\(root)/config.json is writable by group and others (owner root, mode 0666)"), "\(message)")
    #expect(DoctorTests.hint(doctor.byCheck, "trust") == "chmod go-w \(parent); chmod go-w \(root)/config.json")
    chmod(parent, 0o755)
    chmod(root + "/config.json", 0o644)
    #expect(try Gen.run(root, "check").status == 0)
    doctor = try DoctorTests.findings(root)
    #expect(DoctorTests.status(doctor.byCheck, "trust") == "ok")
  }

  @Test("config.json: a duplicate key (even spelled with \\u escapes) and a NUL byte in a command are refused; a parse error gives line and column, and doctor reports it")
  func configShape() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let marker = scratch.at("ran")
    let cases: [(String, String)] = [
      (#"{"checks": ["true"], "\u0063hecks": ["touch \#(marker)"]}"#, "'checks' is given twice"),
      (#"{"restart": "touch \#(marker)", "restart": null, "checks": ["true"]}"#, "'restart' is given twice"),
      (#"{"checks": ["touch \#(marker)\u0000 x"]}"#, "a command in checks contains a NUL byte"),
      (#"{"checks": ["true"], "restart": "touch \#(marker)\u0000"}"#, "restart contains a NUL byte"),
      ("{\n  \"checks\": [\"true\"],\n  \"settle\": 0,,\n}\n", "not valid JSON at line 3, column 15"),
    ]
    for (text, expected) in cases {
      try Gen.write(root + "/config.json", text)
      let out = try Gen.run(root, "check")
      #expect(out.status == 1, "\(text): \(out.stderrText)")
      #expect(out.stderrText.hasPrefix("error: \(root)/config.json: \(expected);"), "\(text): \(out.stderrText)")
      #expect(!FileManager.default.fileExists(atPath: marker), "\(text): a command ran")
      let doctor = try DoctorTests.findings(root)
      #expect(DoctorTests.status(doctor.byCheck, "config") == "problem", "\(text)")
      #expect(DoctorTests.message(doctor.byCheck, "config").contains(expected), "\(text)")
    }
    try Gen.write(root + "/config.json", ##"{"#": "one", "#": "two", "checks": ["true"]}"##)
    #expect(try Gen.run(root, "check").status == 0, "duplicate comments are harmless")
  }

  // MARK: The lock

  @Test(
    "the lock is 0600 (an existing 0644 one is tightened), so nobody cannot flock it",
    .enabled(if: geteuid() == 0 && Rel.setprivPath != nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/flock"), "needs root, setpriv and flock"))
  func lockIsPrivate() throws {
    let shared = try Scratch(forOtherUsers: true)
    defer { shared.remove() }
    let root = shared.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let lock = root + "/lock"
    func mode() throws -> Int { try FileManager.default.attributesOfItem(atPath: lock)[.posixPermissions] as! Int }
    #expect(try mode() == 0o600)
    let denied = try AsNobody.run(["/usr/bin/flock", "-n", lock, "/bin/true"], in: shared.path)
    #expect(denied.exitCode != 0, "nobody could flock the lock: \(denied)")
    #expect(denied.stderrText.contains("Permission denied"), "\(denied)")

    chmod(lock, 0o644)
    let heldByNobody = try AsNobody.run(["/usr/bin/flock", "-n", lock, "/bin/true"], in: shared.path)
    #expect(heldByNobody.exitCode == 0, "the old mode let nobody hold the lock: \(heldByNobody)")
    try Gen.ok(root, "pin", ["1"])
    #expect(try mode() == 0o600, "a changing command did not tighten the lock")
  }
}
