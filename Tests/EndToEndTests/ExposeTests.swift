import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

@Suite("mcp-gen expose")
struct ExposeTests {
  /// The fully resolved path of `path` (every symlink followed), or nil.
  static func resolved(_ path: String) -> String? {
    guard let p = realpath(path, nil) else { return nil }
    defer { free(p) }
    return String(cString: p)
  }

  /// Sorted names in `dir`, each with its symlink target (or `file`).
  static func listing(_ dir: String) -> [String] {
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    return names.map { name in Gen.readlink(dir + "/" + name).map { "\(name) -> \($0)" } ?? "\(name) file" }
  }

  @Test("links bin/mcp through <root>/current: after a switch the same link reaches the new release, no relink")
  func followsSwitch() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let bin = scratch.at("bin")
    try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
    let key10 = try CLI.oracleKey(CLI.fixture("mcp-1.0"))
    let key11 = try CLI.oracleKey(CLI.fixture("mcp-1.1"))

    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let out = try Gen.ok(root, "expose", [bin])
    #expect(out.stdoutText == "created   \(bin)/mcp -> \(root)/current/bin/mcp\n")
    #expect(Gen.readlink(bin + "/mcp") == root + "/current/bin/mcp")
    #expect(Self.resolved(bin + "/mcp") == Self.resolved(root + "/store/\(key10)/bin/mcp"))
    let help = try CLI.runProcess(bin + "/mcp", ["--help"], environment: Gen.childEnvironment)
    #expect(help.status == 0, "\(help.stderrText)")
    #expect(help.stdoutText.hasPrefix("mcp "), "\(help.stdoutText)")
    var linkStat = stat()
    lstat(bin + "/mcp", &linkStat)

    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.1")])
    #expect(Self.resolved(bin + "/mcp") == Self.resolved(root + "/store/\(key11)/bin/mcp"))
    var after = stat()
    lstat(bin + "/mcp", &after)
    #expect(after.st_ino == linkStat.st_ino, "the link itself was not touched")
    #expect(try CLI.runProcess(bin + "/mcp", ["--help"], environment: Gen.childEnvironment).status == 0)

    let again = try Gen.ok(root, "expose", [bin])
    #expect(again.stdoutText == "unchanged \(bin)/mcp -> \(root)/current/bin/mcp\n")
    #expect(Self.listing(bin) == ["mcp -> \(root)/current/bin/mcp"])
  }

  @Test("the link runs whatever release is current: 1.0, then 1.1 after switch, 1.0 after rollback")
  func runsCurrent() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let bin = scratch.at("bin")
    try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
    // bin/mcp here prints its version without looking for files next to $0, which through a
    // link is the link's own path.
    try Gen.makeRelease(at: scratch.at("r1.0"), version: "1.0")
    try Gen.makeRelease(at: scratch.at("r1.1"), version: "1.1")

    try Gen.ok(root, "switch", [scratch.at("r1.0")])
    try Gen.ok(root, "expose", [bin])
    func run() throws -> String { try CLI.runProcess(bin + "/mcp", [], environment: Gen.childEnvironment).stdoutText }
    #expect(try run() == "1.0\n")
    try Gen.ok(root, "switch", [scratch.at("r1.1")])
    #expect(try run() == "1.1\n")
    try Gen.ok(root, "rollback")
    #expect(try run() == "1.0\n")
  }

  @Test("a file or link mcp-gen did not create: refused, nothing changed; --force replaces it; a directory is never replaced")
  func foreignFiles() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let bin = scratch.at("bin")
    try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])

    for (setUp, what) in [({ try Gen.write(bin + "/mcp", "#!/bin/sh\n", mode: 0o755) }, "is a file"),
                          ({ try FileManager.default.createSymbolicLink(atPath: bin + "/mcp", withDestinationPath: "/usr/bin/true") },
                           "is a symlink to /usr/bin/true"),
                          // Into this root's current/, but not to a path ending in its own name.
                          ({ try FileManager.default.createSymbolicLink(atPath: bin + "/mcp", withDestinationPath: root + "/current/bin/mcp-old") },
                           "is a symlink to \(root)/current/bin/mcp-old")] as [(() throws -> Void, String)] {
      try? FileManager.default.removeItem(atPath: bin + "/mcp")
      try setUp()
      let before = Gen.snapshot(bin)
      let out = try Gen.run(root, "expose", [bin])
      #expect(out.status == 1)
      #expect(Gen.isOneLineError(out.stderrText), "\(out.stderrText)")
      #expect(out.stderrText.hasPrefix("error: \(bin)/mcp \(what) that mcp-gen did not create; nothing was changed"), "\(out.stderrText)")
      #expect(out.stderrText.contains("hint: mcp-gen expose --force \(bin)"))
      #expect(Gen.snapshot(bin) == before)

      let forced = try Gen.ok(root, "expose", ["--force", bin])
      #expect(forced.stdoutText == "replaced  \(bin)/mcp -> \(root)/current/bin/mcp\n")
      #expect(Self.listing(bin) == ["mcp -> \(root)/current/bin/mcp"])
    }

    try FileManager.default.removeItem(atPath: bin + "/mcp")
    try FileManager.default.createDirectory(atPath: bin + "/mcp", withIntermediateDirectories: true)
    let out = try Gen.run(root, "expose", ["--force", bin])
    #expect(out.status == 1)
    #expect(Gen.isOneLineError(out.stderrText), "\(out.stderrText)")
    #expect(out.stderrText.hasPrefix("error: \(bin)/mcp is a directory"), "\(out.stderrText)")
    #expect(Self.listing(bin) == ["mcp file"])
  }

  @Test("--remove takes away exactly this root's links and leftover temporary links; foreign files and another root's links stay")
  func remove() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let other = scratch.at("other-root")
    let bin = scratch.at("bin")
    try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
    try Gen.makeRelease(at: scratch.at("tools"), version: "1.0")
    try Gen.write(scratch.at("tools/bin/mcp-admin"), "#!/bin/sh\necho admin\n", mode: 0o755)
    try Gen.write(scratch.at("tools/bin/README"), "not a command\n", mode: 0o644)
    try Gen.ok(root, "switch", [scratch.at("tools")])
    try Gen.ok(other, "switch", [CLI.fixture("mcp-1.0")])

    let out = try Gen.ok(root, "expose", [bin])
    #expect(out.stdoutText == "created   \(bin)/mcp -> \(root)/current/bin/mcp\ncreated   \(bin)/mcp-admin -> \(root)/current/bin/mcp-admin\n")
    try FileManager.default.createDirectory(atPath: scratch.at("elsewhere"), withIntermediateDirectories: true)
    try Gen.ok(other, "expose", [scratch.at("elsewhere")])
    try FileManager.default.moveItem(atPath: scratch.at("elsewhere/mcp"), toPath: bin + "/mcp-other")
    try Gen.write(bin + "/notes", "mine\n")
    try FileManager.default.createSymbolicLink(atPath: bin + "/tool", withDestinationPath: "/usr/bin/true")
    // A link pointing into this root's current/ under a name that does not match: not ours.
    try FileManager.default.createSymbolicLink(atPath: bin + "/renamed", withDestinationPath: root + "/current/bin/mcp")
    // What a crash between symlinkat and rename leaves.
    try FileManager.default.createSymbolicLink(atPath: bin + "/.mcp-gen-tmp-1-00", withDestinationPath: root + "/current/bin/mcp")

    let removed = try Gen.ok(root, "expose", ["--remove", bin])
    #expect(removed.stdoutText == "removed   \(bin)/mcp -> \(root)/current/bin/mcp\nremoved   \(bin)/mcp-admin -> \(root)/current/bin/mcp-admin\n")
    #expect(Self.listing(bin) == [
      "mcp-other -> \(other)/current/bin/mcp", "notes file", "renamed -> \(root)/current/bin/mcp", "tool -> /usr/bin/true",
    ])

    let again = try Gen.ok(root, "expose", ["--remove", bin])
    #expect(again.stdoutText.isEmpty)
    #expect(again.stderrText.hasPrefix("nothing to remove"), "\(again.stderrText)")
  }

  @Test("the config's expose list is what gets linked; links no longer declared are removed; bad lists are refused")
  func configList() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let bin = scratch.at("bin")
    try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
    try Gen.makeRelease(at: scratch.at("tools"), version: "1.0")
    try FileManager.default.createDirectory(atPath: scratch.at("tools/libexec/mcp"), withIntermediateDirectories: true)
    try Gen.write(scratch.at("tools/libexec/mcp/mcp-serve"), "#!/bin/sh\necho serving\n", mode: 0o755)
    try FileManager.default.createSymbolicLink(atPath: scratch.at("tools/bin/mcp-serve-link"), withDestinationPath: "../libexec/mcp/mcp-serve")
    try Gen.ok(root, "switch", [scratch.at("tools")])

    // Default: executables directly in bin/, symlinks to executables included.
    let first = try Gen.ok(root, "expose", [bin])
    #expect(Self.listing(bin) == ["mcp -> \(root)/current/bin/mcp", "mcp-serve-link -> \(root)/current/bin/mcp-serve-link"], "\(first.stdoutText)")
    #expect(try CLI.runProcess(bin + "/mcp-serve-link", [], environment: Gen.childEnvironment).stdoutText == "serving\n")

    func configure(_ json: String) throws {
      try Data(json.utf8).write(to: URL(fileURLWithPath: root + "/config.json"))
    }
    try configure(#"{"expose": ["libexec/mcp/mcp-serve", "bin/mcp"]}"#)
    let shown = try Gen.ok(root, "config", ["--json"])
    let object = try #require(try Gen.json(shown) as? [String: [String: Any]])
    #expect(object["expose"]?["value"] as? [String] == ["libexec/mcp/mcp-serve", "bin/mcp"])
    #expect(object["expose"]?["from"] as? String == "config.json")

    let out = try Gen.ok(root, "expose", [bin])
    #expect(out.stdoutText == """
      created   \(bin)/mcp-serve -> \(root)/current/libexec/mcp/mcp-serve
      unchanged \(bin)/mcp -> \(root)/current/bin/mcp
      removed   \(bin)/mcp-serve-link -> \(root)/current/bin/mcp-serve-link (no longer declared)

      """)
    #expect(Self.listing(bin) == ["mcp -> \(root)/current/bin/mcp", "mcp-serve -> \(root)/current/libexec/mcp/mcp-serve"])
    #expect(try CLI.runProcess(bin + "/mcp-serve", [], environment: Gen.childEnvironment).stdoutText == "serving\n")

    // Lists the file refuses outright, and entries the current release does not satisfy.
    let before = Gen.snapshot(bin)
    let bad: [(String, String)] = [
      (#"{"expose": ["/usr/bin/mcp"]}"#, "is absolute"),
      (#"{"expose": ["bin/../bin/mcp"]}"#, "has a . or .. component"),
      (#"{"expose": ["bin//mcp"]}"#, "has an empty component"),
      (#"{"expose": ["bin/mcp", "libexec/mcp"]}"#, "two paths end in 'mcp'"),
      (#"{"expose": "bin/mcp"}"#, "expose must be a list"),
      (#"{"expose": ["bin/missing"]}"#, "bin/missing (listed under expose in config.json) is not in the current release"),
      (#"{"expose": ["libexec/mcp"]}"#, "libexec/mcp (listed under expose in config.json) is a directory in the current release"),
      (#"{"expose": ["share/mcp/VERSION"]}"#, "is not an executable file in the current release"),
    ]
    for (json, message) in bad {
      try configure(json)
      let out = try Gen.run(root, "expose", [bin])
      #expect(out.status == 1, "\(json)")
      #expect(Gen.isOneLineError(out.stderrText), "\(json): \(out.stderrText)")
      #expect(out.stderrText.contains(message), "\(json): \(out.stderrText)")
      #expect(Gen.snapshot(bin) == before, "\(json) changed \(bin)")
    }
  }

  @Test("nothing current, no root, a missing directory, a single-file release: one error line each, nothing created")
  func refusals() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let bin = scratch.at("bin")
    try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)

    let noRoot = try Gen.run(root, "expose", [bin])
    #expect(noRoot.status == 1)
    #expect(Gen.isOneLineError(noRoot.stderrText), "\(noRoot.stderrText)")
    #expect(!FileManager.default.fileExists(atPath: root))

    try Gen.ok(root, "add", [CLI.fixture("mcp-1.0")])
    let nothing = try Gen.run(root, "expose", [bin])
    #expect(nothing.status == 1)
    #expect(Gen.isOneLineError(nothing.stderrText), "\(nothing.stderrText)")
    #expect(nothing.stderrText == "error: nothing is current, so there is nothing to expose; switch to a release first\nhint: mcp-gen switch PATH\n")

    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let missing = try Gen.run(root, "expose", [scratch.at("no-such-dir")])
    #expect(missing.status == 1)
    #expect(missing.stderrText.hasPrefix("error: \(scratch.at("no-such-dir")) does not exist"), "\(missing.stderrText)")
    #expect(!FileManager.default.fileExists(atPath: scratch.at("no-such-dir")))

    let usage = try Gen.run(root, "expose", ["--force", "--remove", bin])
    #expect(usage.status == 64)

    try Gen.ok(root, "switch", [CLI.fixture("mcp-single")])
    let single = try Gen.run(root, "expose", [bin])
    #expect(single.status == 1)
    #expect(Gen.isOneLineError(single.stderrText), "\(single.stderrText)")
    #expect(single.stderrText.contains("is a single file"), "\(single.stderrText)")
    #expect(Self.listing(bin).isEmpty)
  }

  @Test("--json: directory, generation, and each link with its change")
  func json() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let bin = scratch.at("bin")
    try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let out = try Gen.ok(root, "expose", ["--json", bin])
    let object = try #require(try Gen.json(out) as? [String: Any])
    #expect(object["directory"] as? String == bin)
    #expect(Gen.int(object["generation"]) == 1)
    let links = try #require(object["links"] as? [[String: Any]])
    #expect(links.count == 1)
    #expect(links.first?["name"] as? String == "mcp")
    #expect(links.first?["target"] as? String == root + "/current/bin/mcp")
    #expect(links.first?["change"] as? String == "created")
  }
}
