#if canImport(Glibc)
import Glibc
#endif
@testable import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

@Suite("After the swap: current serves what was verified")
struct ConfirmCurrentTests {
  /// A stored fixture, verified, with generation 1 made current.
  struct Swapped {
    let dir: TestDirectory
    let store: Store
    let key: StoreKey
    var verified: VerifiedEntry

    /// `progress`: the counters the store reports its work to (options are fixed at open).
    init(progress: ProgressCounters? = nil) throws {
      dir = try TestDirectory()
      store = try Store.makeTest(in: dir, options: StoreOptions(progress: progress)).0
      key = try store.add(TestEnvironment.fixture("mcp-1.0")).key
      verified = try store.requireIntact(key, what: "release")
      try store.createGeneration(1, key)
      try store.pointCurrent(at: 1)
    }

    /// Runs `body` on a stored file with its immutable flag (as root) and write bit lifted.
    func unsealed(_ relative: String, _ body: (String) throws -> Void) throws {
      let file = store.entryPath(key).string + "/" + relative
      if TestEnvironment.immutableFlagWorks { #expect(try ProcessRunner.run("/usr/bin/chattr", ["-i", file]).status == 0) }
      #expect(chmod(file, 0o755) == 0)
      try body(file)
      #expect(chmod(file, 0o555) == 0)
    }
  }

  @Test("an untouched entry passes, also when it was stored a moment ago (then it is hashed again)")
  func untouched() throws {
    // The re-hash is a `verifying` phase of the store's progress: each one starts a new step and
    // counts the files it hashed.
    let progress = ProgressCounters()
    var s = try Swapped(progress: progress)
    defer { s.dir.remove() }
    let files = s.verified.release.fileIndices.count
    #expect(files > 0)

    // Stored a moment ago: its files changed within a second of the verification, so their
    // change times cannot prove them unchanged, and the entry is hashed once more.
    let fresh = progress.snapshot()
    try s.store.confirmCurrent(1, s.key, verified: s.verified)
    let rehashed = progress.snapshot()
    #expect(rehashed.step == fresh.step + 1, "the recently stored entry was not hashed again")
    #expect(rehashed.files == files, "\(rehashed.files) files hashed again, the entry has \(files)")

    s.verified.began += 3600  // as if stored long before the verification: no second hash
    try s.store.confirmCurrent(1, s.key, verified: s.verified)
    #expect(progress.snapshot().step == rehashed.step, "an entry stored long before its verification was hashed again")
  }

  @Test("a file rewritten in place between the verification and the swap is caught without reading it again")
  func rewrittenInPlace() throws {
    var s = try Swapped()
    defer { s.dir.remove() }
    s.verified.began += 3600  // only the inode, size and change time can tell
    try s.unsealed("bin/mcp") { file in
      let fd = open(file, O_WRONLY)
      #expect(fd >= 0)
      #expect(pwrite(fd, "X", 1, 40) == 1)  // same size, one byte different
      close(fd)
    }
    #expect {
      try s.store.confirmCurrent(1, s.key, verified: s.verified)
    } throws: { error in
      let message = (error as? MCPGenError)?.message ?? ""
      return message.contains("/current/bin/mcp is not what was verified a moment before")
    }
  }

  @Test("an entry that gained a file after the verification is caught")
  func gainedFile() throws {
    var s = try Swapped()
    defer { s.dir.remove() }
    s.verified.began += 3600
    let bin = s.store.entryPath(s.key).string + "/bin"
    if TestEnvironment.immutableFlagWorks { #expect(try ProcessRunner.run("/usr/bin/chattr", ["-i", bin]).status == 0) }
    #expect(chmod(bin, 0o755) == 0)
    let fd = open(bin + "/extra", O_WRONLY | O_CREAT, 0o444)
    #expect(fd >= 0)
    close(fd)
    #expect(chmod(bin, 0o555) == 0)
    #expect(throws: MCPGenError.self) { try s.store.confirmCurrent(1, s.key, verified: s.verified) }
  }
}
