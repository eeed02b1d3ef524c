import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Commands a release declares through a symlink that leaves the release: `expose` never links
/// them, `switch` and `rollback` refuse to make such a release current without `--force`.
@Suite("expose: commands that lead out of the release")
struct ExposeEscapeTests {
  /// A release whose bin/ holds `mcp` (a file), `inner` (a link that stays inside), `tool` (an
  /// absolute link to `outside`) and `up` (a relative link climbing out of the release).
  static func makeEscapingRelease(at path: String, outside: String) throws {
    try Gen.makeRelease(at: path, version: "escape")
    try FileManager.default.createDirectory(atPath: path + "/libexec", withIntermediateDirectories: true)
    try Gen.write(path + "/libexec/inner", "#!/bin/sh\necho inner\n", mode: 0o755)
    try FileManager.default.createSymbolicLink(atPath: path + "/bin/inner", withDestinationPath: "../libexec/inner")
    try FileManager.default.createSymbolicLink(atPath: path + "/bin/tool", withDestinationPath: outside + "/tool")
    try FileManager.default.createSymbolicLink(atPath: path + "/bin/up", withDestinationPath: "../../outside/tool")
  }

  @Test("switch refuses a release whose bin/tool -> /outside/tool, naming it; --force switches; expose links only what stays inside and names what it skipped")
  func switchAndExpose() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let bin = scratch.at("bin")
    let outside = scratch.at("outside")
    try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
    try Gen.write(outside + "/tool", "#!/bin/sh\necho 'not from the store'\n", mode: 0o755)
    let release = scratch.at("release")
    try Self.makeEscapingRelease(at: release, outside: outside)

    // The dry run, which stores nothing, says so too (resolved on the manifest alone).
    let dry = try Gen.run(root, "switch", ["--dry-run", release])
    #expect(dry.status == 1, "\(dry.stderrText)")
    #expect(dry.stderrText.hasPrefix("error: bin/tool is a symlink to \(outside)/tool, which leads out of the release"), "\(dry.stderrText)")
    let storedByDryRun = (try? scratch.storeNames(root)) ?? []
    #expect(storedByDryRun.isEmpty, "the dry run stored \(storedByDryRun)")

    let refused = try Gen.run(root, "switch", [release])
    #expect(refused.status == 1, "\(refused.stderrText)")
    #expect(Gen.isOneLineError(refused.stderrText), "\(refused.stderrText)")
    #expect(refused.stderrText.hasPrefix("error: bin/tool is a symlink to \(outside)/tool, which leads out of the release"), "\(refused.stderrText)")
    #expect(refused.stderrText.contains("; and 1 more"), "\(refused.stderrText)")
    #expect(refused.stderrText.contains("pass --force"), "\(refused.stderrText)")
    #expect(Gen.currentGeneration(root) == nil, "nothing may be current after the refusal")

    try Gen.ok(root, "switch", ["--force", release])
    #expect(Gen.currentGeneration(root) == 1)

    let out = try Gen.ok(root, "expose", [bin])
    #expect(out.stdoutText == """
      skipped   bin/tool is a symlink to \(outside)/tool, which leads out of the release; not linked
      skipped   bin/up is a symlink to ../../outside/tool, which leads out of the release; not linked
      created   \(bin)/inner -> \(root)/current/bin/inner
      created   \(bin)/mcp -> \(root)/current/bin/mcp

      """)
    #expect(ExposeTests.listing(bin) == ["inner -> \(root)/current/bin/inner", "mcp -> \(root)/current/bin/mcp"])
    #expect(try CLI.runProcess(bin + "/inner", [], environment: Gen.childEnvironment).stdoutText == "inner\n")

    let json = try Gen.ok(root, "expose", ["--json", bin])
    let object = try #require(try Gen.json(json) as? [String: Any])
    let skipped = try #require(object["skipped"] as? [[String: Any]])
    #expect(skipped.map { $0["path"] as? String } == ["bin/tool", "bin/up"])
    #expect(skipped.map { $0["target"] as? String } == [outside + "/tool", "../../outside/tool"])
    #expect(skipped.allSatisfy { $0["reason"] as? String == "leads out of the release" })
  }

  @Test("a link of ours whose command now leads out of the release is removed, and said why")
  func oldLinkRemoved() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let bin = scratch.at("bin")
    try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
    try Gen.makeRelease(at: scratch.at("r1"), version: "1")
    try Gen.write(scratch.at("r1/bin/tool"), "#!/bin/sh\necho tool\n", mode: 0o755)
    try Gen.makeRelease(at: scratch.at("r2"), version: "2")
    try FileManager.default.createSymbolicLink(atPath: scratch.at("r2/bin/tool"), withDestinationPath: "/usr/bin/true")
    try Gen.ok(root, "switch", [scratch.at("r1")])
    try Gen.ok(root, "expose", [bin])
    try Gen.ok(root, "switch", ["--force", scratch.at("r2")])
    let out = try Gen.ok(root, "expose", [bin])
    #expect(out.stdoutText.contains("removed   \(bin)/tool -> \(root)/current/bin/tool (it now leads out of the release)\n"), "\(out.stdoutText)")
    #expect(ExposeTests.listing(bin) == ["mcp -> \(root)/current/bin/mcp"])
  }

  @Test("rollback to a generation whose commands lead out of its release: refused, naming the command, unless --force")
  func rollbackRefused() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let outside = scratch.at("outside")
    try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
    try Self.makeEscapingRelease(at: scratch.at("bad"), outside: outside)
    try Gen.ok(root, "switch", ["--force", scratch.at("bad")])
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])

    for arguments in [["1"], []] {
      let before = Gen.snapshot(root)
      let out = try Gen.run(root, "rollback", arguments)
      #expect(out.status == 1, "rollback \(arguments): \(out.stderrText)")
      #expect(Gen.isOneLineError(out.stderrText), "\(out.stderrText)")
      #expect(out.stderrText.hasPrefix("error: bin/tool is a symlink to \(outside)/tool, which leads out of the release"), "\(out.stderrText)")
      #expect(Gen.snapshot(root) == before, "rollback \(arguments) changed the root")
    }
    try Gen.ok(root, "rollback", ["--force", "1"])
    #expect(Gen.currentGeneration(root) == 1)
  }

  @Test("switch warns, one line per command, when a command the previous release declared is gone")
  func vanishedCommandWarning() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.makeRelease(at: scratch.at("r1"), version: "1")
    try Gen.write(scratch.at("r1/bin/mcp-admin"), "#!/bin/sh\necho admin\n", mode: 0o755)
    try Gen.makeRelease(at: scratch.at("r2"), version: "2")
    try Gen.ok(root, "switch", [scratch.at("r1")])

    let out = try Gen.ok(root, "switch", [scratch.at("r2")])
    let warnings = out.stderrLines.filter { $0.hasPrefix("warning:") }
    #expect(warnings == ["warning: bin/mcp-admin, a command of generation 1, is not in generation 2: links exposed to it through current now dangle"], "\(out.stderrText)")

    // Nothing declared goes missing the other way round.
    let back = try Gen.ok(root, "switch", [scratch.at("r1")])
    #expect(!back.stderrText.contains("warning:"), "\(back.stderrText)")
  }
}
