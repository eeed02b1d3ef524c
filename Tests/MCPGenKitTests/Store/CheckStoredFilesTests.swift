import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// `Store.storedFiles(holding:)` and `Store.checkStoredFiles`: which stored files a pull may
/// share. As root, a stored file that only root could have changed since it was stored (sealed:
/// root's, its stored mode, immutable, below trusted directories) is taken as its manifest
/// records it; any other is hashed.
@Suite("stored files checked for a pull")
struct CheckStoredFilesTests {
  /// A stored release (AddVerifiedTests' tree) and its entries `bin/tool` and `share/a.txt`.
  static func stored(_ dir: TestDirectory) throws -> (store: Store, tool: ManifestEntry, alpha: ManifestEntry, entry: FilePath) {
    let (store, _) = try Store.makeTest(in: dir)
    let (work, manifest) = try AddVerifiedTests.tree(dir, store)
    _ = try store.addVerified(Array("tree".utf8), in: work, manifest: manifest, key: manifest.key, recordedSource: AddVerifiedTests.source, label: nil)
    let tool = try #require(manifest.entries.first { $0.path == Array("bin/tool".utf8) })
    let alpha = try #require(manifest.entries.first { $0.path == Array("share/a.txt".utf8) })
    return (store, tool, alpha, store.entryPath(manifest.key))
  }

  /// Descriptors enough for every directory of the stored release and every file checked.
  static let budget = 64

  /// Writes `text` over the stored file at `path` (same size), clearing its flag as root; the
  /// flag is left cleared.
  static func overwrite(_ path: FilePath, _ text: String) throws {
    if TestEnvironment.immutableFlagWorks { #expect(try ProcessRunner.run("/usr/bin/chattr", ["-i", path.string]).status == 0) }
    let fd = withCPath(path) { open($0, O_WRONLY | O_TRUNC | O_CLOEXEC) }
    try #require(fd >= 0, "cannot open \(path) for writing: errno \(errno)")
    defer { close(fd) }
    let bytes = Array(text.utf8)
    #expect(write(fd, bytes, bytes.count) == bytes.count)
  }

  /// `overwrite`, then the flag set again as root: a stored file changed in a way only root
  /// could have, which the sealed rule takes without reading where it applies.
  static func resealed(_ path: FilePath, _ text: String) throws {
    try overwrite(path, text)
    #expect(try ProcessRunner.run("/usr/bin/chattr", ["+i", path.string]).status == 0)
  }

  @Test("the stored files holding wanted contents come from the stored manifests; each is taken, with its descriptor while the budget allows")
  func takenByManifest() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, tool, alpha, entry) = try Self.stored(dir)
    let nowhere = SHA256.hash(Array("no release has this".utf8))
    let found = try store.storedFiles(holding: [tool.digest!: tool.size, alpha.digest!: alpha.size, nowhere: 3])
    #expect(found.map(\.digest) == [tool.digest!, alpha.digest!].sorted())
    for f in found {
      let e = f.digest == tool.digest ? tool : alpha
      #expect(f.path == e.path && f.kind == e.kind && f.size == e.size)
    }
    #expect(try store.storedFiles(holding: [alpha.digest!: alpha.size + 1]).isEmpty, "a content with another size is another content")

    let taken = try store.checkStoredFiles(found, descriptors: Self.budget, progress: nil)
    #expect(Set(taken.keys) == [0, 1])
    let kept = try #require(taken[0] ?? nil)
    let stored = try TestDirectory.lstat(entry.appending(String(decoding: found[0].path, as: UTF8.self)))
    #expect(try kept.stat().inode == UInt64(stored.st_ino), "the descriptor kept is not the stored inode")
    #expect(taken[1] != nil && taken[1]! != nil, "within the budget: taken with its descriptor")
    let none = try store.checkStoredFiles(found, descriptors: 0, progress: nil)
    #expect(Set(none.keys) == [0, 1], "without descriptors to spare, each is still taken (hashed)")
    #expect(none.values.allSatisfy { $0 == nil }, "past the budget: taken, without a descriptor")
  }

  @Test("a stored file changed since it was stored is not taken; as root, one sealed again is taken without being read, and audit finds it")
  func changedFile() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, _, alpha, entry) = try Self.stored(dir)
    let found = try store.storedFiles(holding: [alpha.digest!: alpha.size])
    let path = entry.appending("share/a.txt")
    try Self.overwrite(path, "ALPHA\n")
    #expect(try store.checkStoredFiles(found, descriptors: Self.budget, progress: nil).isEmpty, "a file without its flag must be hashed")
    guard TestEnvironment.immutableFlagWorks else { return }
    #expect(try ProcessRunner.run("/usr/bin/chattr", ["+i", path.string]).status == 0)
    // Only root can have done that; the pull trusts root's seal, audit reads every byte.
    #expect(Set(try store.checkStoredFiles(found, descriptors: Self.budget, progress: nil).keys) == [0])
    #expect(try !store.audit().problems.isEmpty)
  }

  @Test(
    "as root, a sealed stored file whose directories do not fit the descriptor budget is hashed",
    .enabled(if: TestEnvironment.immutableFlagWorks, "needs root and a file system that supports chattr +i"))
  func directoriesPastBudget() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, _, alpha, entry) = try Self.stored(dir)
    let found = try store.storedFiles(holding: [alpha.digest!: alpha.size])
    let path = entry.appending("share/a.txt")
    try Self.resealed(path, "ALPHA\n")
    #expect(Set(try store.checkStoredFiles(found, descriptors: Self.budget, progress: nil).keys) == [0], "sealed below trusted directories: taken")
    // Two descriptors: one for directories, which store/ already takes; share/ is not opened.
    #expect(try store.checkStoredFiles(found, descriptors: 2, progress: nil).isEmpty, "share/ past the budget: a.txt must be hashed, and it does not match")
  }

  @Test(
    "as root, a sealed stored file below a directory others may write or own (nobody), owned by nobody, or with another mode, is hashed",
    .enabled(if: TestEnvironment.immutableFlagWorks, "needs root and a file system that supports chattr +i"))
  func unsealedPlaces() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, tool, alpha, entry) = try Self.stored(dir)
    let found = try store.storedFiles(holding: [alpha.digest!: alpha.size, tool.digest!: tool.size])
    let index = try #require(found.firstIndex { $0.digest == alpha.digest })
    let path = entry.appending("share/a.txt")
    try Self.resealed(path, "ALPHA\n")
    let share = entry.appending("share")
    #expect(try ProcessRunner.run("/usr/bin/chattr", ["-i", share.string]).status == 0)
    #expect(chmod(share.string, 0o775) == 0)
    let taken = try store.checkStoredFiles(found, descriptors: Self.budget, progress: nil)
    #expect(taken[index] == nil, "share/ is group-writable: its file must be hashed, and it does not match")
    #expect(taken.count == 1, "bin/tool, below trusted directories, is taken")

    #expect(chmod(share.string, 0o555) == 0)
    // Another user's directory, then another user's file (nobody could have swapped or written it).
    let nobody: uid_t = 65534
    #expect(chown(share.string, nobody, gid_t(0)) == 0)
    #expect(try store.checkStoredFiles(found, descriptors: Self.budget, progress: nil)[index] == nil, "share/ is nobody's: its file must be hashed")
    #expect(chown(share.string, 0, gid_t(0)) == 0)
    #expect(try ProcessRunner.run("/usr/bin/chattr", ["-i", path.string]).status == 0)
    #expect(chown(path.string, nobody, gid_t(0)) == 0)
    #expect(try ProcessRunner.run("/usr/bin/chattr", ["+i", path.string]).status == 0)
    #expect(try store.checkStoredFiles(found, descriptors: Self.budget, progress: nil)[index] == nil, "a.txt is nobody's: it must be hashed")
    #expect(try ProcessRunner.run("/usr/bin/chattr", ["-i", path.string]).status == 0)
    #expect(chown(path.string, 0, gid_t(0)) == 0)
    #expect(chmod(path.string, 0o644) == 0)
    #expect(try ProcessRunner.run("/usr/bin/chattr", ["+i", path.string]).status == 0)
    #expect(try store.checkStoredFiles(found, descriptors: Self.budget, progress: nil)[index] == nil, "mode 0644 is not the stored mode: hashed")
  }

  @Test("growing the descriptor table leaves every open descriptor as it was")
  func descriptorTableGrowth() throws {
    var fds: [CInt] = []
    defer { for fd in fds { close(fd) } }
    for _ in 0..<3 { fds.append(open("/dev/null", O_RDONLY | O_CLOEXEC)) }
    let high = fcntl(fds[0], F_DUPFD_CLOEXEC, 3_000)
    #expect(high >= 3_000)
    fds.append(high)
    Syscall.growDescriptorTable(to: Int(high) + 1)
    Syscall.growDescriptorTable(to: 5_000)
    for fd in fds { #expect(fcntl(fd, F_GETFD) >= 0, "descriptor \(fd) was closed") }
    // The table holds 5,000 now: a duplicate at 4,999 needs no growth, and succeeds.
    let top = fcntl(fds[0], F_DUPFD_CLOEXEC, 4_999)
    #expect(top >= 4_999)
    if top >= 0 { close(top) }
  }
}
