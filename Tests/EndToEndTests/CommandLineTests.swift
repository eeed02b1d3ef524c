import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// The command line as operators type it: global options on either side of the subcommand, a
/// bare `mcp-gen`, a mistyped subcommand, `-q`, and errors under `--json`.
@Suite("command line: global options anywhere, usage errors, --json errors")
struct CommandLineTests {
  /// A root with one generation.
  static func populated(_ scratch: Scratch) throws -> String {
    let root = scratch.at("root")
    try Gen.ok(root, "switch", ["--no-checks", CLI.fixture("mcp-1.0")])
    return root
  }

  @Test("global options before the subcommand mean what they mean after it", arguments: [
    ["--root", "ROOT", "--json", "list"], ["--root=ROOT", "list", "--json"], ["--json", "--root", "ROOT", "list"],
    ["--lock-timeout", "5", "--quiet", "--no-color", "--root", "ROOT", "list", "--json"],
    ["-q", "--root", "ROOT", "--json", "list"], ["--root", "ROOT", "list", "-q", "--json"],
  ])
  func globalOptionsFirst(_ arguments: [String]) throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.populated(scratch)
    let expected = try CLI.run(["list", "--root", root, "--json"])
    #expect(expected.status == 0)
    let out = try CLI.run(arguments.map { $0.replacingOccurrences(of: "ROOT", with: root) })
    #expect(out.status == 0, "\(arguments): \(out.stderrText)")
    #expect(out.stderr.isEmpty, "\(arguments): \(out.stderrText)")
    #expect(out.stdoutText == expected.stdoutText, "\(arguments)")
  }

  @Test("a global option before the subcommand reaches it: --root R switch creates R; the journal records the command line as typed")
  func globalOptionsReachTheCommand() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let out = try CLI.run(["--root", root, "-q", "switch", "--no-checks", CLI.fixture("mcp-1.0")])
    #expect(out.status == 0, "\(out.stderrText)")
    #expect(Gen.currentGeneration(root) == 1)
    let journal = try Gen.journal(root)
    #expect(journal.last?["command"] as? String == "mcp-gen --root \(root) -q switch --no-checks \(CLI.fixture("mcp-1.0"))")
  }

  @Test("--help and --version keep their meaning, also after global options")
  func helpAndVersion() throws {
    let version = try CLI.run(["--version"])
    #expect(version.status == 0 && !version.stdout.isEmpty)
    let help = try CLI.run(["--help"])
    #expect(help.status == 0 && help.stdoutText.contains("SUBCOMMANDS:"))
    let afterRoot = try CLI.run(["--root", "/nonexistent", "--help"])
    #expect(afterRoot.status == 0)
    #expect(afterRoot.stdoutText == help.stdoutText)
    let sub = try CLI.run(["--root", "/nonexistent", "list", "--help"])
    #expect(sub.status == 0 && sub.stdoutText.contains("USAGE: mcp-gen list"), "\(sub.stdoutText)")
  }

  @Test("a bare mcp-gen prints usage on stderr and exits 64; so does one with only global options")
  func bare() throws {
    for arguments in [[], ["--root", "/nonexistent"], ["-q"]] {
      let out = try CLI.run(arguments)
      #expect(out.status == 64, "\(arguments)")
      #expect(out.stdout.isEmpty, "\(arguments): \(out.stdoutText)")
      #expect(out.stderrText.contains("USAGE: mcp-gen <subcommand>"), "\(arguments): \(out.stderrText)")
      #expect(out.stderrText.contains("SUBCOMMANDS:"), "\(arguments)")
    }
  }

  @Test("a mistyped subcommand: one error line with the nearest name, a hint, exit 64", arguments: [
    ("lsit", "list"), ("stauts", "status"), ("rollbak", "rollback"), ("dcotor", "doctor"), ("Switch", "switch"), ("gcc", "gc"),
  ])
  func didYouMean(_ typed: String, _ meant: String) throws {
    for arguments in [[typed], ["--root", "/nonexistent", typed, "1"]] {
      let out = try CLI.run(arguments)
      #expect(out.status == 64, "\(arguments)")
      #expect(out.stdout.isEmpty)
      #expect(out.stderrLines == ["error: unknown subcommand '\(typed)'; did you mean '\(meant)'?", "hint: mcp-gen \(meant) --help"],
              "\(arguments): \(out.stderrText)")
    }
  }

  @Test("a word like no subcommand: no guess, the general help")
  func noGuess() throws {
    let out = try CLI.run(["frobnicate"])
    #expect(out.status == 64)
    #expect(out.stderrLines == ["error: unknown subcommand 'frobnicate'", "hint: mcp-gen --help"], "\(out.stderrText)")
  }

  @Test("-q is --quiet: no progress line even when forced")
  func shortQuiet() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let file = scratch.at("f")
    try Gen.write(file, String(repeating: "x", count: 1 << 20))
    let quiet = try CLI.run(["hash", "-q", file], environment: ["MCP_GEN_PROGRESS": "always"])
    #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.stderrText.debugDescription)")
  }

  // MARK: --json errors

  @Test("--json: an error is also an object {error, hint, exit} on stdout, the text stays on stderr")
  func jsonErrors() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.populated(scratch)
    let out = try CLI.run(["show", "--root", root, "--json", "99"])
    #expect(out.status == 1)
    let object = try #require(try Gen.json(out) as? [String: Any], "\(out.stdoutText)")
    #expect(Set(object.keys) == ["error", "hint", "exit"])
    #expect(object["error"] as? String == "there is no generation 99")
    #expect(object["hint"] as? String == "mcp-gen list")
    #expect(Gen.int(object["exit"]) == 1)
    #expect(out.stderrLines == ["error: there is no generation 99", "hint: mcp-gen list"])

    // A usage error too, with its exit status; and without a hint, null.
    let usage = try CLI.run(["--json", "list", "--bogus"])
    #expect(usage.status == 64)
    let u = try #require(try Gen.json(usage) as? [String: Any], "\(usage.stdoutText)")
    #expect(Gen.int(u["exit"]) == 64)
    #expect((u["error"] as? String)?.contains("--bogus") == true)
    #expect(u["hint"] as? String == "mcp-gen list --help")

    let lock = try CLI.run(["rollback", "--root", root, "--json"])  // nothing to undo: one generation
    #expect(lock.status != 0)
    let l = try #require(try Gen.json(lock) as? [String: Any], "\(lock.stdoutText)")
    #expect(Gen.int(l["exit"]) == Int(lock.status))
    #expect(l["hint"] is NSNull || l["hint"] is String)

    // Without --json, stdout stays empty.
    let plain = try CLI.run(["show", "--root", root, "99"])
    #expect(plain.status == 1 && plain.stdout.isEmpty)
  }

  @Test("--json: a command that printed its document before failing prints no second one")
  func jsonErrorAfterDocument() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.populated(scratch)
    let out = try CLI.run(["check", "--root", root, "--json", "--check", "false"])
    #expect(out.status == 4)
    let object = try #require(try Gen.json(out) as? [String: Any], "stdout must be one document: \(out.stdoutText)")
    #expect(object["passed"] as? Bool == false)
    #expect(out.stderrText.hasPrefix("error: health check `false` failed"))
  }
}

/// A small tmpfs at `mountPoint`, with a root holding one generation, then remounted read-only.
/// Nil (after saying why) where mounting is not permitted.
enum ReadOnlyRoot {
  static func make(_ scratch: Scratch) throws -> (root: String, unmount: () -> Void)? {
    let mountPoint = scratch.at("ro")
    try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
    guard geteuid() == 0, let mount = Rel.mountPath,
      let mounted = try? CLI.runProcess(mount, ["-t", "tmpfs", "-o", "size=16m", "tmpfs", mountPoint], environment: nil),
      mounted.status == 0
    else {
      print("skipped: a root on a read-only mount (mounting a tmpfs is not permitted here)")
      return nil
    }
    let unmount = {
      let u = try? CLI.runProcess(Rel.umountPath ?? "/usr/bin/umount", [mountPoint], environment: nil)
      if u?.status != 0 { _ = try? CLI.runProcess(Rel.umountPath ?? "/usr/bin/umount", ["-l", mountPoint], environment: nil) }
    }
    let root = mountPoint + "/root"
    do {
      try Gen.ok(root, "switch", ["--no-checks", CLI.fixture("mcp-1.0")])
      let remount = try CLI.runProcess(mount, ["-o", "remount,ro", mountPoint], environment: nil)
      try #require(remount.status == 0, "remount,ro: \(remount.stderrText)")
    } catch {
      unmount()
      throw error
    }
    return (root, unmount)
  }
}

@Suite("a read-only root: the error says so, doctor reports it")
struct ReadOnlyRootTests {
  @Test("EROFS: the error names the read-only file system and what to do, not a user who may write there")
  func readOnlyError() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    guard let (root, unmount) = try ReadOnlyRoot.make(scratch) else { return }
    defer { unmount() }
    let out = try Gen.run(root, "switch", ["--no-checks", CLI.fixture("mcp-1.1")])
    #expect(out.status == 1)
    #expect(Gen.isOneLineError(out.stderrText), "\(out.stderrText)")
    #expect(out.stderrText.contains("Read-only file system"), "\(out.stderrText)")
    #expect(out.stderrText.contains("the file system is read-only: remount it read-write, or choose another --root"), "\(out.stderrText)")
    #expect(!out.stderrText.contains("run as a user who may write there"), "\(out.stderrText)")
  }

  @Test("doctor: a read-only root is a problem (exit 1) with the fix; a writable one is ok")
  func doctorReadOnly() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    guard let (root, unmount) = try ReadOnlyRoot.make(scratch) else { return }
    defer { unmount() }
    let f = try DoctorTests.findings(root)
    #expect(f.status == 1)
    #expect(DoctorTests.status(f.byCheck, "writable") == "problem")
    #expect(DoctorTests.message(f.byCheck, "writable").contains("is on a read-only file system"), "\(DoctorTests.message(f.byCheck, "writable"))")
    let hint = DoctorTests.hint(f.byCheck, "writable") ?? ""
    #expect(hint.contains("mount -o remount,rw") && hint.contains("another --root"), "\(hint)")
    let text = try Gen.run(root, "doctor")
    #expect(text.stdoutText.contains("problem  writable   "), "\(text.stdoutText)")
  }
}
