#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// As root, stored inodes carry `chattr +i`, so not even root can write into an entry.
/// Skipped unless running as root on a file system (and in a container) where the flag works;
/// `TestEnvironment.immutableFlagWorks` probes that with chattr/lsattr on the scratch space.
@Suite(
  "Stored entries are immutable, even for root",
  .enabled(if: TestEnvironment.immutableFlagWorks, "needs root and a file system that supports chattr +i")
)
struct ImmutabilityTests {
  @Test("a stored file cannot be opened for writing, a stored directory cannot gain a file")
  func writesRefused() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, _) = try Store.makeTest(in: dir)
    let result = try store.add(TestEnvironment.fixture("mcp-1.0"))
    #expect(result.immutability == .applied)
    let entry = store.entryPath(result.key)

    // Control: mode 0444 alone does not stop root.
    try dir.writeFile("plain", "x", mode: 0o444)
    let plain = withCPath(dir.at("plain")) { open($0, O_WRONLY | O_CLOEXEC) }
    #expect(plain >= 0)
    if plain >= 0 { close(plain) }

    for relative in ["share/mcp/VERSION", "bin/mcp"] {
      let p = entry.appending(relative)
      let fd = withCPath(p) { open($0, O_WRONLY | O_CLOEXEC) }
      let saved = errno
      #expect(fd == -1, "\(relative) opened for writing")
      #expect(saved == EPERM, "\(relative): errno \(saved)")
      if fd >= 0 { close(fd) }
    }
    for relative in ["new-file", "share/new-file", "share/mcp/new-file"] {
      let p = entry.appending(relative)
      let fd = withCPath(p) { open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
      let saved = errno
      #expect(fd == -1, "\(relative) was created")
      #expect(saved == EPERM, "\(relative): errno \(saved)")
      if fd >= 0 { close(fd) }
    }
    // Neither can the entry be renamed or removed.
    let renamed = withCPath(entry) { from in withCPath(dir.at("root/store/moved")) { rename(from, $0) } }
    #expect(renamed == -1)
    #expect(try Store.hash(entry).key == result.key)
    #expect(try TestEnvironment.isImmutable(entry.appending("bin/mcp").string))
    #expect(try TestEnvironment.isImmutable(entry.string))
  }

  @Test("a single-file entry is immutable at its final name")
  func singleFile() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, _) = try Store.makeTest(in: dir)
    let result = try store.add(TestEnvironment.fixture("mcp-single"))
    let fd = withCPath(result.path) { open($0, O_WRONLY | O_CLOEXEC) }
    let saved = errno
    #expect(fd == -1)
    #expect(saved == EPERM)
    if fd >= 0 { close(fd) }
    #expect(try TestEnvironment.isImmutable(result.path.string))
  }

  @Test("running a Python release from the store as root writes no __pycache__ into it")
  func pythonCannotWriteBytecode() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, _) = try Store.makeTest(in: dir)
    try dir.makeDirectory("app")
    try dir.writeFile("app/script.py", "import helper\nprint(helper.greeting())\n", mode: 0o755)
    try dir.writeFile("app/helper.py", "def greeting():\n    return 'hello from the store'\n")
    let result = try store.add(dir.at("app"))
    let entry = store.entryPath(result.key)
    let env = ProcessRunner.environment(removing: ["PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"])

    // Control: the same release outside the store does get a __pycache__.
    let control = try ProcessRunner.run("/usr/bin/env", ["python3", dir.at("app/script.py").string], environment: env)
    #expect(control.status == 0, "\(control.stderrText)")
    #expect(TestDirectory.exists(dir.at("app/__pycache__")), "python3 did not write bytecode even where it could")

    let run = try ProcessRunner.run("/usr/bin/env", ["python3", entry.appending("script.py").string], environment: env)
    #expect(run.status == 0, "\(run.stderrText)")
    #expect(run.stdoutText == "hello from the store\n")
    #expect(!TestDirectory.exists(entry.appending("__pycache__")))
    #expect(try TestDirectory.list(entry) == [Array("helper.py".utf8), Array("script.py".utf8)])
    #expect(try Store.hash(entry).key == result.key)
  }

  @Test("statx tells an immutable file from one without the flag, by name, without following a symlink")
  func statxAttribute() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try dir.writeFile("flagged", "x")
    try dir.writeFile("plain", "x")
    _ = withCPath(dir.at("link")) { symlink("flagged", $0) }
    #expect(try ProcessRunner.run("/usr/bin/chattr", ["+i", dir.at("flagged").string]).status == 0)
    defer { _ = try? ProcessRunner.run("/usr/bin/chattr", ["-i", dir.at("flagged").string]) }
    let top = try DirectoryFD.open(dir.location)
    #expect(top.isImmutable(Array("flagged".utf8)) == true)
    #expect(top.isImmutable(Array("plain".utf8)) == false)
    #expect(top.isImmutable(Array("link".utf8)) == false, "the symlink itself carries no flag")
    #expect(top.isImmutable(Array("missing".utf8)) == nil)
  }
}
