import Foundation
import Testing

/// End-to-end runs of the built `mcp-gen-tuf-client` (the tuf-conformance client-under-test)
/// against python-tuf repositories served over file:// URLs: the command line of the suite's
/// CLIENT-CLI.md, its exit statuses, what lands in --metadata-dir and --target-dir.
@Suite("mcp-gen-tuf-client: the conformance client's command line", .enabled(if: TUFClientBinary.available))
struct ConformanceClientTests {
  /// A client directory (metadata/ and targets/) next to a python-tuf repository written with
  /// expiry counted from the real time (the binary reads the real clock).
  final class Setup: @unchecked Sendable {
    let fixture: TUFFixture
    var metadata: String { fixture.path + "/metadata" }
    var targets: String { fixture.path + "/targets" }

    init() throws {
      fixture = try TUFFixture("basic", now: Int64(Date().timeIntervalSince1970))
    }

    func url(_ state: String, _ sub: String) -> String { "file://" + fixture.state(state) + "/" + sub }

    func initialize() throws -> ProcessOutput {
      try TUFClientBinary.run(["--metadata-dir", metadata, "init", fixture.initialRoot])
    }

    func refresh(_ state: String = "s1", environment: [String: String] = [:]) throws -> ProcessOutput {
      // Options in another order than the usage shows: the suite passes --metadata-url first.
      try TUFClientBinary.run(["--metadata-url", url(state, "metadata"), "--metadata-dir", metadata, "refresh"], environment: environment)
    }

    func download(_ names: [String], state: String = "s1") throws -> ProcessOutput {
      var args = ["--metadata-url", url(state, "metadata"), "--metadata-dir", metadata]
      for name in names { args += ["--target-name", name] }
      args += ["--target-dir", targets, "--target-base-url", url(state, "targets"), "download"]
      return try TUFClientBinary.run(args)
    }

    var downloaded: [String: [UInt8]] { (try? directoryContents(targets)) ?? [:] }
    var trusted: [String: [UInt8]] { (try? directoryContents(metadata)) ?? [:] }

    func remove() { fixture.remove() }
  }

  @Test("init stores the trusted root without any request, refresh stores the four top-level roles")
  func initAndRefresh() throws {
    let s = try Setup()
    defer { s.remove() }
    #expect(try s.initialize().status == 0)
    #expect(Set(s.trusted.keys) == ["root.json"])
    let out = try s.refresh()
    #expect(out.status == 0, "\(out.stderrText)")
    #expect(Set(s.trusted.keys) == ["root.json", "timestamp.json", "snapshot.json", "targets.json"])
    #expect(s.trusted["snapshot.json"] == (try? Array(Data(contentsOf: URL(fileURLWithPath: s.fixture.state("s1") + "/metadata/1.snapshot.json")))))
  }

  @Test("download fetches targets in order, top-level and delegated, under stable names")
  func download() throws {
    let s = try Setup()
    defer { s.remove() }
    _ = try s.initialize()
    let out = try s.download(["releases/a", "delegated/file.txt"])
    #expect(out.status == 0, "\(out.stderrText)")
    // --target-dir did not exist: the client made it.
    #expect(s.downloaded == ["releases%2Fa": Array("release a\n".utf8), "delegated%2Ffile.txt": Array("delegated file\n".utf8)])
    #expect(s.trusted.keys.contains("delegated.json"))
  }

  @Test("a target already present with matching hashes is not downloaded again")
  func noRedownload() throws {
    let s = try Setup()
    defer { s.remove() }
    _ = try s.initialize()
    #expect(try s.download(["releases/a"]).status == 0)
    // The server loses the file: only the local copy can make the second download succeed.
    try FileManager.default.removeItem(atPath: s.fixture.state("s1") + "/targets/releases")
    #expect(try s.download(["releases/a"]).status == 0)
    // A local copy that does not match is not used: the download is attempted, and fails.
    try Data("changed\n".utf8).write(to: URL(fileURLWithPath: s.targets + "/releases%2Fa"))
    #expect(try s.download(["releases/a"]).status == 1)
  }

  @Test("a missing target fails with exit 1 after the metadata was refreshed")
  func missingTarget() throws {
    let s = try Setup()
    defer { s.remove() }
    _ = try s.initialize()
    let out = try s.download(["nonexistent artifact"])
    #expect(out.status == 1)
    #expect(Set(s.trusted.keys) == ["root.json", "timestamp.json", "snapshot.json", "targets.json"])
    #expect(s.downloaded.isEmpty)
  }

  @Test("a substituted target is refused and nothing is stored; the first failure stops the rest")
  func substitutedTarget() throws {
    let s = try Setup()
    defer { s.remove() }
    _ = try s.initialize()
    let out = try s.download(["releases/b", "releases/a"], state: "target-tampered")
    #expect(out.status == 1)
    #expect(out.stderrText.contains("does not match its signed sha256 hash"))
    #expect(s.downloaded.isEmpty)
  }

  @Test("an attack on refresh exits 1 and leaves the trusted files as they were",
    arguments: ["ts-rollback", "ts-unsigned", "oversized"])
  func refreshAttack(state: String) throws {
    let s = try Setup()
    defer { s.remove() }
    _ = try s.initialize()
    #expect(try s.refresh("s2").status == 0)
    let before = s.trusted
    let out = try s.refresh(state)
    #expect(out.status == 1)
    #expect(out.stderrText.hasPrefix("mcp-gen-tuf-client: "))
    #expect(s.trusted == before)
  }

  @Test("bad command lines exit 1", arguments: [
    [String](), ["refresh"], ["--metadata-dir", "/nonexistent", "frobnicate"], ["--bogus", "x", "refresh"],
    ["--metadata-dir", "/nonexistent/dir", "--metadata-url", "file:///nonexistent", "refresh"],
  ])
  func badCommandLines(arguments: [String]) throws {
    #expect(try TUFClientBinary.run(arguments).status == 1)
  }

  @Test("each trusted file is written temp, fsync, rename, fsync of the directory",
    .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/strace")))
  func durableWrites() throws {
    let s = try Setup()
    defer { s.remove() }
    _ = try s.initialize()
    let trace = s.fixture.path + "/strace.txt"
    let out = try ProcessRunner.run("/usr/bin/strace", [
      "-f", "-o", trace, "-e", "trace=fsync,fdatasync,rename,renameat,renameat2",
      TUFClientBinary.path, "--metadata-dir", s.metadata, "--metadata-url", s.url("s1", "metadata"), "refresh",
    ])
    #expect(out.status == 0, "\(out.stderrText)")
    // The client's own calls, in order: curl children and signal lines interleave with them.
    let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
    let client = try #require(lines.first { $0.contains("\"timestamp.json\")") }?.prefix { $0 != " " })
    let calls = lines.filter { $0.prefix { $0 != " " } == client }
      .map { $0.drop { $0 != " " }.drop { $0 == " " } }
      .filter { $0.hasPrefix("fsync(") || $0.hasPrefix("fdatasync(") || $0.hasPrefix("rename") }
    for name in ["timestamp.json", "snapshot.json", "targets.json"] {
      let i = try #require(calls.firstIndex { $0.hasPrefix("rename") && $0.contains("\"\(name)\")") }, "no rename to \(name)")
      // renameat(olddirfd, "temp", newdirfd, "name"): the directory is the third argument.
      let args = calls[i].drop { $0 != "(" }.dropFirst().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
      let directory = "fsync(\(args.count > 2 ? args[2] : "?"))"
      #expect(i > 0 && calls[i - 1].hasPrefix("fsync(") && !calls[i - 1].hasPrefix(directory), "\(name): no fsync of the file before its rename")
      #expect(i + 1 < calls.count && calls[i + 1].hasPrefix(directory), "\(name): no fsync of the directory after its rename")
    }
  }

  @Test("with libfaketime moving the clock 2 days on, the expired timestamp makes refresh exit 1",
    .enabled(if: TUFClientBinary.libfaketime != nil))
  func expiryUnderFaketime() throws {
    let s = try Setup()
    defer { s.remove() }
    _ = try s.initialize()
    #expect(try s.refresh().status == 0)
    let before = s.trusted
    let out = try s.refresh(environment: ["LD_PRELOAD": TUFClientBinary.libfaketime!, "FAKETIME": "+2d"])
    #expect(out.status == 1)
    #expect(out.stderrText.contains("expired"))
    #expect(s.trusted == before)
    // The same refresh at the real time still passes: the clock made the difference.
    #expect(try s.refresh().status == 0)
  }
}

/// The built `mcp-gen-tuf-client`: beside the test bundle, or `$MCP_GEN_TUF_CLIENT_BIN`.
enum TUFClientBinary {
  static let path: String = {
    if let override = ProcessInfo.processInfo.environment["MCP_GEN_TUF_CLIENT_BIN"], !override.isEmpty { return override }
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return exe.deletingLastPathComponent().appendingPathComponent("mcp-gen-tuf-client").path
  }()

  static var available: Bool { TUFFixture.available && FileManager.default.isExecutableFile(atPath: path) }

  /// libfaketime's preload library (Debian's `faketime` package), nil when not installed.
  static let libfaketime: String? = [
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1", "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
  ].first { FileManager.default.fileExists(atPath: $0) }

  static func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> ProcessOutput {
    var env = ProcessInfo.processInfo.environment
    env.merge(extra) { _, new in new }
    return try ProcessRunner.run(path, arguments, environment: env)
  }
}
