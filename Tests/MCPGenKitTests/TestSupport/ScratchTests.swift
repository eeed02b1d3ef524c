#if canImport(Glibc)
import Glibc
#endif
import SystemPackage
import Testing

/// The shared scratch directory (Tests/MCPGenTestSupport/Scratch.swift).
@Suite("test support: the scratch directory")
struct ScratchTests {
  @Test("private (0700) under the scratch root by default; 0711 under /tmp for other users")
  func modes() throws {
    let mine = try Scratch()
    defer { mine.remove() }
    let shared = try Scratch(forOtherUsers: true)
    defer { shared.remove() }
    #expect(try TestDirectory.lstat(mine.location).st_mode & 0o7777 == 0o700)
    #expect(mine.path.hasPrefix(TestEnvironment.scratchRoot + "/"))
    #expect(try TestDirectory.lstat(shared.location).st_mode & 0o7777 == 0o711)
    #expect(shared.path.hasPrefix("/tmp/"))
  }

  @Test(
    "remove() deletes immutable and append-only inodes, also below paths longer than PATH_MAX",
    .enabled(if: TestEnvironment.immutableFlagWorks, "needs root and a file system with chattr +i"))
  func removeFlaggedDeepTree() throws {
    let dir = try Scratch()
    // 25 components of 200 bytes: over 5,000 bytes, beyond what `chattr -R` and `rm -rf` reach.
    let script = """
      cd "$1" || exit 1
      for i in $(seq 25); do mkdir "$2" && cd "$2" || exit 1; done
      echo deep > file && echo log > log && chattr +i file . && chattr +a log
      """
    let component = String(repeating: "d", count: 200)
    let made = try ProcessRunner.run("/bin/bash", ["-c", script, "make", dir.path, component])
    #expect(made.status == 0, "\(made)")
    try dir.writeFile("top", "x")
    try dir.chmod("top", 0o444)
    #expect(try ProcessRunner.run("/usr/bin/chattr", ["+i", dir.at("top")]).status == 0)
    dir.remove()
    #expect(!TestDirectory.exists(dir.location))
  }

  @Test("TestDirectory hands out byte paths: a name that is not UTF-8 is made and listed as it is")
  func bytePaths() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let name: [UInt8] = [0x61, 0xFF, 0x0A]
    try dir.writeFile(name, [1, 2, 3])
    #expect(try TestDirectory.list(dir.path) == [name])
    #expect(try TestDirectory.lstat(dir.at(name)).st_size == 3)
  }
}
