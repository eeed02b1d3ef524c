import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit
import MCPGenSystem
import Testing

@Suite("mcp-gen add")
struct AddCommandTests {
  @Test("prints the entry path; a second run prints it again and says it was already stored")
  func addTwice() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let key = try CLI.oracleKey(CLI.fixture("mcp-1.0"))

    let first = try CLI.run(["add", "--root", root, CLI.fixture("mcp-1.0")])
    #expect(first.status == 0, "\(first.stderrText)")
    #expect(first.stdoutText == "\(root)/store/\(key)\n")
    #expect(!first.stderrText.contains("already stored"))

    let second = try CLI.run(["add", "--root", root, CLI.fixture("mcp-1.0")])
    #expect(second.status == 0, "\(second.stderrText)")
    #expect(second.stdoutText == first.stdoutText)
    #expect(second.stderrText.contains("already stored"))
    #expect(try scratch.storeNames(root) == [key])
  }

  @Test("--json prints one object: key, path, files, bytes, new, label, labelFrom")
  func json() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let key = try CLI.oracleKey(CLI.fixture("mcp-1.0"))

    let out = try CLI.run(["add", "--json", "--root", root, CLI.fixture("mcp-1.0")])
    #expect(out.status == 0, "\(out.stderrText)")
    #expect(out.stdoutText.hasSuffix("}\n"))
    #expect(out.stdoutText.filter { $0 == "\n" }.count == 1)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout)) as? [String: Any])
    #expect(Set(object.keys) == ["key", "path", "files", "bytes", "new", "label", "labelFrom"])
    #expect(object["label"] is NSNull)  // the fixture's VERSION is in share/mcp/, not at the top
    #expect(object["key"] as? String == key)
    #expect(object["path"] as? String == "\(root)/store/\(key)")
    #expect((object["files"] as? NSNumber)?.intValue == 3)
    #expect((object["bytes"] as? NSNumber)?.intValue == 794 + 4 + 195)
    #expect((object["new"] as? NSNumber)?.boolValue == true)

    let again = try CLI.run(["add", "--json", "--root", root, CLI.fixture("mcp-1.0")])
    let object2 = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout)) as? [String: Any])
    #expect((object2["new"] as? NSNumber)?.boolValue == false)
    #expect(object2["key"] as? String == key)
  }

  @Test("a release holding a FIFO: exit 1, nothing on stdout, one error line naming it, nothing stored")
  func fifo() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let tree = scratch.at("tree")
    try FileManager.default.createDirectory(atPath: tree + "/sub", withIntermediateDirectories: true)
    try Data("x\n".utf8).write(to: URL(fileURLWithPath: tree + "/file"))
    #expect(mkfifo(tree + "/sub/pipe", 0o644) == 0)

    let out = try CLI.run(["add", "--root", root, tree])

    #expect(out.status == 1)
    #expect(out.stdout.isEmpty)
    #expect(out.stderrLines.count == 1, "\(out.stderrText)")
    #expect(out.stderrText.hasPrefix("error: "))
    #expect(out.stderrText.contains(tree + "/sub/pipe"))
    #expect(try scratch.storeNames(root) == [])
  }

  @Test("a missing path: exit 1, one error line")
  func missing() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let out = try CLI.run(["add", "--root", root, scratch.at("nothing-here")])
    #expect(out.status == 1)
    #expect(out.stdout.isEmpty)
    #expect(out.stderrLines.count == 1, "\(out.stderrText)")
    #expect(out.stderrText.hasPrefix("error: "))
    #expect(out.stderrText.contains(scratch.at("nothing-here")))
  }

  @Test("--root naming a regular file: exit 1, one line saying it is not a directory")
  func rootIsAFile() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let file = scratch.at("a-file")
    try Data("not a root\n".utf8).write(to: URL(fileURLWithPath: file))
    let out = try CLI.run(["add", "--root", file, CLI.fixture("mcp-1.0")])
    #expect(out.status == 1)
    #expect(out.stdout.isEmpty)
    #expect(out.stderrLines.count == 1, "\(out.stderrText)")
    #expect(out.stderrText.hasPrefix("error: "))
    #expect(out.stderrText.contains("not a directory"))
    #expect(try String(contentsOfFile: file, encoding: .utf8) == "not a root\n")
  }

  @Test(
    "a failed system call during the copy leaves no entry and no temporary",
    arguments: ["write:ENOSPC:1", "write:EIO:3", "fchmod:EIO:2", "syncfs:EIO:1", "renameat2:EIO:1"])
  func injectedFault(fault: String) throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let out = try CLI.run(["add", "--root", root, CLI.fixture("mcp-1.0")], environment: ["MCP_GEN_FAULT": fault])
    // A release build ignores MCP_GEN_FAULT: then the add simply succeeds.
    try #require(out.status != 0, "MCP_GEN_FAULT had no effect (release build?)")
    #expect(out.status == 1)
    #expect(out.stdout.isEmpty)
    #expect(out.stderrText.hasPrefix("error: "))
    #expect(try scratch.storeNames(root) == [])
    // The same add then succeeds.
    let retry = try CLI.run(["add", "--root", root, CLI.fixture("mcp-1.0")])
    #expect(retry.status == 0, "\(retry.stderrText)")
    #expect(try scratch.storeNames(root) == [try CLI.oracleKey(CLI.fixture("mcp-1.0"))])
  }

  /// The copy of each file must be of the very file scanned, unchanged (same inode, size and
  /// change time after it was read): a release rewritten in place while it is copied is not
  /// stored. The file is changed after add opened it (its identity checked then) and before it
  /// is read; the root is fresh, so no manifest could be of this release and `add` copies
  /// without hashing first: only the re-check after the copy can tell.
  @Test("a file rewritten in place (same size) while add copies it: source changed (exit 1), nothing stored, no store/.tmp-*")
  func changedWhileCopied() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let release = scratch.at("release")
    try Gen.makeRelease(at: release, version: "1.0")
    let file = release + "/bin/mcp"
    // Debug builds: every file, once opened, waits 2 s before it is read and copied; the file is
    // changed during that wait.
    var environment = Gen.childEnvironment
    environment["MCP_GEN_DEBUG_COPY_DELAY"] = "2"
    let s = try Rel.spawn(["add", "--root", root, release], outputIn: scratch.path, environment: environment)
    // The copy has begun (its store/.tmp-* exists) and holds the file open.
    let opened = Rel.poll(timeout: 30, while: { Gen.isRunning(s.pid) }) {
      Rel.storeTemporary(root) != nil && Rel.hasOpen(s.pid, file)
    }
    let fd = open(file, O_WRONLY)
    #expect(fd >= 0)
    #expect(pwrite(fd, "X", 1, 1) == 1)  // "#!" -> "#X": same size, one byte different
    close(fd)
    let run = Rel.finish(s, timeout: 30)
    try #require(opened, "add did not open \(file) for its copy: \(run)")
    #expect(run.exitCode == 1, "\(run)")
    #expect(run.stdout.isEmpty)
    #expect(run.stderrText.hasPrefix("error: \(file) changed while mcp-gen was reading it; nothing was stored"), "\(run)")
    #expect(Rel.stderrIsEmptyOrOneLineError(run.stderrText), "\(run)")
    #expect(try scratch.storeNames(root) == [])
    #expect(Rel.leftovers(root).isEmpty, "\(Rel.leftovers(root))")
    #expect(Rel.listNames(root + "/manifests").isEmpty)
    #expect(try Gen.journal(root).isEmpty)
  }
}

@Suite("mcp-gen add: failures after the entry is in place")
struct AddAfterRenameFailureTests {
  /// `fsync` #3 of an add is `fsync(store/)` right after the rename (1: manifest file,
  /// 2: manifests/). The entry then exists; it must not stay writable for root.
  @Test(
    "an fsync failure after the rename still leaves an immutable entry",
    .enabled(if: geteuid() == 0, "needs root for chattr +i"))
  func sealedDespiteFsyncFailure() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let key = try CLI.oracleKey(CLI.fixture("mcp-1.0"))
    let failed = try CLI.run(["add", "--root", root, CLI.fixture("mcp-1.0")], environment: ["MCP_GEN_FAULT": "fsync:EIO:3"])
    try #require(failed.status != 0, "MCP_GEN_FAULT had no effect (release build?)")
    let again = try CLI.run(["add", "--root", root, CLI.fixture("mcp-1.0")])
    #expect(again.status == 0)
    #expect(try CLI.isImmutable("\(root)/store/\(key)"), "store/\(key) is not immutable")
  }
}
