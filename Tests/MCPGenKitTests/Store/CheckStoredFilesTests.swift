import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// `Store.checkStoredFiles`: which stored files a pull may share, by their bytes.
@Suite("stored files checked for a pull")
struct CheckStoredFilesTests {
  @Test("a stored file is taken only with the wanted size and digest; the first keepOpen keep the descriptor that read them")
  func takenByBytes() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, _) = try Store.makeTest(in: dir)
    let (work, manifest) = try AddVerifiedTests.tree(dir, store)
    _ = try store.addVerified(Array("tree".utf8), in: work, manifest: manifest, key: manifest.key, recordedSource: AddVerifiedTests.source, label: nil)
    let key = manifest.key
    let tool = try #require(manifest.entries.first { $0.path == Array("bin/tool".utf8) })
    let alpha = try #require(manifest.entries.first { $0.path == Array("share/a.txt".utf8) })
    let wanted = [
      StoredFileWanted(key: key, path: tool.path, size: tool.size, digest: tool.digest!),
      StoredFileWanted(key: key, path: alpha.path, size: alpha.size, digest: alpha.digest!),
      StoredFileWanted(key: key, path: alpha.path, size: alpha.size, digest: tool.digest!),  // other bytes
      StoredFileWanted(key: key, path: alpha.path, size: alpha.size + 1, digest: alpha.digest!),  // other size
      StoredFileWanted(key: key, path: Array("share/missing".utf8), size: 1, digest: alpha.digest!),
      StoredFileWanted(key: key, path: Array("share/link".utf8), size: alpha.size, digest: alpha.digest!),  // a symlink
    ]
    let taken = try store.checkStoredFiles(wanted, keepOpen: 1, progress: nil)
    #expect(Set(taken.keys) == [0, 1])
    // Index 0 kept its descriptor: the stored inode itself.
    let kept = try #require(taken[0] ?? nil)
    let stored = try TestDirectory.lstat(store.entryPath(key).appending("bin/tool"))
    #expect(try kept.stat().inode == UInt64(stored.st_ino))
    #expect(taken[1] != nil && taken[1]! == nil, "past keepOpen: taken, without a descriptor")
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
