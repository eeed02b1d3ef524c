import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// A stored release is readable by everyone: `add` and `switch PATH` refuse a source with a
/// file others cannot read, or a directory they cannot enter, instead of publishing it.
@Suite("add: files others cannot read")
struct PrivateSourceTests {
  @Test(
    "a 0600 file, a 0640 file, a 0700 or 0750 directory, a 0700 release root, a 0600 single file: add and switch refuse, naming it; nothing stored",
    arguments: [
      ("share/mcp/secret.key", "file", mode_t(0o600)),
      ("share/mcp/secret.key", "file", mode_t(0o640)),
      ("bin/private-tool", "file", mode_t(0o700)),
      ("share/private", "directory", mode_t(0o700)),
      ("share/private", "directory", mode_t(0o754)),
      (".", "directory", mode_t(0o700)),
      ("", "single", mode_t(0o600)),
    ] as [(String, String, mode_t)])
  func refused(relative: String, kind: String, mode: mode_t) throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    var release = scratch.at("release")
    var named = release + "/" + relative
    switch kind {
    case "single":
      release = scratch.at("tool")
      named = release
      try Gen.write(release, "#!/bin/sh\necho private\n", mode: mode)
    case "directory" where relative == ".":
      try Gen.makeRelease(at: release, version: "1.0")
      named = release
      chmod(release, mode)
    case "directory":
      try Gen.makeRelease(at: release, version: "1.0")
      try FileManager.default.createDirectory(atPath: named, withIntermediateDirectories: true)
      try Gen.write(named + "/data", "data\n", mode: 0o644)
      chmod(named, mode)
    default:
      try Gen.makeRelease(at: release, version: "1.0")
      try Gen.write(named, "secret\n", mode: mode)
    }
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let before = Gen.snapshot(root)

    for command in ["add", "switch"] {
      let out = try Gen.run(root, command, [release])
      let what = kind == "directory" ? "directory others cannot enter" : "file others cannot read"
      let fix = kind == "directory" ? "o+rx" : "o+r"
      #expect(out.status == 1, "\(command) \(relative) \(String(mode, radix: 8)): \(out.stderrText)")
      #expect(Gen.isOneLineError(out.stderrText), "\(out.stderrText)")
      #expect(out.stderrText.hasPrefix("error: \(named) is a \(what) (mode 0\(String(mode, radix: 8)))"), "\(out.stderrText)")
      #expect(out.stderrText.contains("make it readable if it is meant to ship"), "\(out.stderrText)")
      #expect(out.stderrText.hasSuffix("hint: chmod \(fix) \(named)\n"), "\(out.stderrText)")
      #expect(Gen.snapshot(root) == before, "\(command) changed the root")
    }

    // Made readable, it is stored.
    chmod(named, kind == "directory" ? 0o755 : (mode & 0o100 != 0 ? 0o755 : 0o644))
    try Gen.ok(root, "add", [release])
  }

  @Test("add --git is not refused: its tree is extracted with git's modes into a private temporary", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/git")))
  func gitUnaffected() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let repo = scratch.at("repo")
    try Gen.makeRelease(at: repo, version: "git")
    chmod(repo, 0o700)
    for arguments in [["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "v1"], ["tag", "v1"]] {
      let out = try CLI.runProcess("/usr/bin/git", ["-C", repo] + arguments, environment: Gen.childEnvironment)
      try #require(out.status == 0, "git \(arguments): \(out.stderrText)")
    }
    let out = try Gen.run(root, "add", ["--git", repo, "v1"])
    #expect(out.status == 0, "\(out.stderrText)")
  }
}
