import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// A git repository built by the test: tag `v1` holds fixtures/mcp-1.0's files, `v2` mcp-1.1's.
///
/// Identity and every other setting come from `-c` and the environment, so no global git
/// configuration is read or needed.
enum GitFixture {
  static let git: String? = ["/usr/bin/git", "/usr/local/bin/git", "/bin/git"].first {
    FileManager.default.isExecutableFile(atPath: $0)
  }

  static let environment: [String: String] = {
    var env = Gen.childEnvironment
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_CONFIG_GLOBAL"] = "/dev/null"
    for name in ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"] { env.removeValue(forKey: name) }
    return env
  }()

  @discardableResult
  static func run(_ arguments: [String]) throws -> CLI.Output {
    let settings = ["-c", "user.name=mcp-gen test", "-c", "user.email=test@example.invalid", "-c", "init.defaultBranch=main",
                    "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"]
    let out = try CLI.runProcess(git!, settings + arguments, environment: environment)
    guard out.status == 0 else { throw E2EFailure("git \(arguments) exited \(out.status): \(out.stderrText)") }
    return out
  }

  /// Makes the repository at `path` and returns the commit ids of `v1` and `v2`.
  @discardableResult
  static func make(at path: String) throws -> (v1: String, v2: String) {
    try run(["init", "-q", path])
    var commits: [String] = []
    for (tag, fixture) in [("v1", "mcp-1.0"), ("v2", "mcp-1.1")] {
      try run(["-C", path, "rm", "-r", "-q", "--ignore-unmatch", "."])
      for name in ["bin", "share"] {
        try FileManager.default.copyItem(atPath: CLI.fixture(fixture) + "/" + name, toPath: path + "/" + name)
      }
      try run(["-C", path, "add", "-A"])
      try run(["-C", path, "commit", "-q", "-m", fixture])
      try run(["-C", path, "tag", tag])
      commits.append(try run(["-C", path, "rev-parse", "HEAD"]).stdoutText.trimmingCharacters(in: .newlines))
    }
    return (commits[0], commits[1])
  }
}

@Suite("add --git and switch --git", .enabled(if: GitFixture.git != nil, "git is not installed (scripts/deps.sh installs it)"))
struct GitReleaseTests {
  @Test("add --git REPO v1 stores the key add gives the identical directory (executable bits included); nothing else is left in store/")
  func addSameKey() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let repo = scratch.at("repo")
    let commits = try GitFixture.make(at: repo)
    let key = try CLI.oracleKey(CLI.fixture("mcp-1.0"))

    let out = try Gen.ok(root, "add", ["--git", repo, "v1"])
    #expect(out.stdoutText == "\(root)/store/\(key)\n")
    #expect(try scratch.storeNames(root) == [key])
    let mode = try FileManager.default.attributesOfItem(atPath: root + "/store/\(key)/bin/mcp")[.posixPermissions] as? Int
    #expect(mode == 0o555)

    let plain = try Gen.ok(root, "add", [CLI.fixture("mcp-1.0")])
    #expect(plain.stdoutText == out.stdoutText)
    #expect(plain.stderrText.contains("already stored"))

    let added = try Gen.journal(root).first { $0["op"] as? String == "add" }
    #expect(added?["source"] as? String == "\(repo)@v1 (\(commits.v1))")
    #expect(added?["key"] as? String == key)
  }

  @Test("switch --git REPO v2 makes that tag current; list shows REPO@REF (COMMIT); --dry-run changes nothing")
  func switchAndList() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let repo = scratch.at("repo")
    let commits = try GitFixture.make(at: repo)
    let key1 = try CLI.oracleKey(CLI.fixture("mcp-1.0"))
    let key2 = try CLI.oracleKey(CLI.fixture("mcp-1.1"))

    try Gen.ok(root, "switch", ["--git", repo, "v1", "--no-checks"])
    #expect(Gen.currentKey(root) == key1)
    let before = Gen.snapshot(root)
    let dry = try Gen.ok(root, "switch", ["--git", repo, "v2", "--dry-run"])
    #expect(dry.stdoutText.contains("would switch"), "\(dry.stdoutText)")
    #expect(Gen.snapshot(root) == before)

    let out = try Gen.ok(root, "switch", ["--git", repo, "v2", "--check", "bin/mcp --help"])
    #expect(out.stdoutText.contains("check passed: bin/mcp --help"), "\(out.stdoutText)")
    #expect(Gen.currentKey(root) == key2)
    #expect(try scratch.storeNames(root) == [key1, key2].sorted())

    let list = try Gen.ok(root, "list").stdoutText
    #expect(list.contains("\(repo)@v1 (\(commits.v1))"), "\(list)")
    #expect(list.contains("\(repo)@v2 (\(commits.v2))"), "\(list)")
    let rows = try #require(try Gen.json(try Gen.ok(root, "list", ["--json"])) as? [[String: Any]])
    #expect(rows.compactMap { $0["source"] as? String } == ["\(repo)@v1 (\(commits.v1))", "\(repo)@v2 (\(commits.v2))"])
  }

  @Test("a bare repository and a commit id work as well as a clone and a tag")
  func bareAndCommit() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let repo = scratch.at("repo")
    let commits = try GitFixture.make(at: repo)
    try GitFixture.run(["clone", "-q", "--bare", repo, scratch.at("bare.git")])

    let out = try Gen.ok(root, "add", ["--git", scratch.at("bare.git"), commits.v2])
    #expect(out.stdoutText == "\(root)/store/\(try CLI.oracleKey(CLI.fixture("mcp-1.1")))\n")
    #expect(Gen.read(root + "/journal.jsonl")?.contains("bare.git@\(commits.v2) (\(commits.v2))") == true)
  }

  @Test("an unknown ref, a directory that is no repository, a missing one, a repository's subdirectory: one error line naming it, the root unchanged")
  func refusals() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let repo = scratch.at("repo")
    try GitFixture.make(at: repo)
    try FileManager.default.createDirectory(atPath: scratch.at("plain"), withIntermediateDirectories: true)
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let before = Gen.snapshot(root)

    let cases: [([String], String)] = [
      (["add", "--git", repo, "v9"], "'v9' is not a tag, branch or commit of \(repo)"),
      (["switch", "--git", repo, "no-such-branch"], "'no-such-branch' is not a tag, branch or commit of \(repo)"),
      (["add", "--git", scratch.at("plain"), "v1"], "cannot read \(scratch.at("plain")) as a git repository"),
      (["switch", "--git", scratch.at("missing"), "v1"], "git repository \(scratch.at("missing")) does not exist"),
      (["add", "--git", repo + "/bin", "v1"], "cannot read \(repo)/bin as a git repository"),
      (["add", "--git", CLI.fixture("mcp-single"), "v1"], "is not a git repository (not a directory)"),
      (["add", "--git", repo, "--", "-v1"], "'-v1' is not a git ref"),
    ]
    for (arguments, message) in cases {
      let out = try CLI.run([arguments[0], "--root", root] + arguments.dropFirst())
      #expect(out.status == 1, "\(arguments): \(out.stderrText)")
      #expect(Gen.isOneLineError(out.stderrText), "\(arguments): \(out.stderrText)")
      #expect(out.stderrText.contains(message), "\(arguments): \(out.stderrText)")
      #expect(out.stdout.isEmpty)
      #expect(Gen.snapshot(root) == before, "\(arguments) changed the root")
    }

    for command in ["add", "switch"] {
      let out = try CLI.run([command, "--root", root, "--git", repo])
      #expect(out.status == 64, "\(out.stderrText)")
      #expect(out.stderrText.hasPrefix("error: --git takes a repository and a ref: mcp-gen \(command) --git REPO REF (the ref is missing)\n"), "\(out.stderrText)")
      #expect(Gen.snapshot(root) == before)
    }

    // A bad ref never creates a root.
    let fresh = scratch.at("fresh")
    let out = try CLI.run(["add", "--root", fresh, "--git", repo, "v9"])
    #expect(out.status == 1)
    #expect(!FileManager.default.fileExists(atPath: fresh))
  }

  @Test("git not on PATH: one error line naming git with a hint, nothing created")
  func gitMissing() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let repo = scratch.at("repo")
    try GitFixture.make(at: repo)
    let out = try CLI.run(["add", "--root", root, "--git", repo, "v1"], environment: ["PATH": scratch.at("empty-path")])
    #expect(out.status == 1)
    #expect(Gen.isOneLineError(out.stderrText), "\(out.stderrText)")
    #expect(out.stderrText.hasPrefix("error: git is not installed"), "\(out.stderrText)")
    #expect(out.stderrText.contains("hint: "))
    #expect(!FileManager.default.fileExists(atPath: root))
  }

  @Test("git archive fails half-way (a missing object): one error line, no temporary left in the root")
  func damagedRepository() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let repo = scratch.at("repo")
    try GitFixture.make(at: repo)
    let blob = try GitFixture.run(["-C", repo, "rev-parse", "v1:share/mcp/VERSION"]).stdoutText.trimmingCharacters(in: .newlines)
    try FileManager.default.removeItem(atPath: repo + "/.git/objects/\(blob.prefix(2))/\(blob.dropFirst(2))")
    try Gen.ok(root, "add", [CLI.fixture("mcp-1.1")])
    let before = Gen.snapshot(root)

    let out = try Gen.run(root, "add", ["--git", repo, "v1"])
    #expect(out.status == 1)
    #expect(Gen.isOneLineError(out.stderrText), "\(out.stderrText)")
    #expect(out.stderrText.hasPrefix("error: cannot extract v1 "), "\(out.stderrText)")
    #expect(out.stderrText.contains("git archive"), "\(out.stderrText)")
    #expect(Gen.snapshot(root) == before)
  }
}
