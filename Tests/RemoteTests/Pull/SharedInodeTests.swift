import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit
import MCPGenRemote
import MCPGenSystem
import Synchronization
import SystemPackage
import Testing

/// A pull stores the objects it verified as they are (no copy) and shares the files an earlier
/// release has with it (hard links to the stored inodes; store-layout.md sections 3 and 15).
@Suite("pull: no copies, shared inodes")
struct SharedInodeTests {
  static let files: [String: String] = [
    "lib/a.txt": "alpha\n", "lib/copy.txt": "alpha\n", "lib/b.txt": String(repeating: "b", count: 5000),
    "bin/tool*": "#!/bin/sh\necho tool\n", "VERSION": "1.0\n",
  ]

  static func lstat(_ path: String) -> stat? {
    var st = stat()
    return Glibc.lstat(path, &st) == 0 ? st : nil
  }

  /// Whether the file at `path` carries FS_IMMUTABLE_FL.
  static func isImmutable(_ path: String) -> Bool {
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    guard case .success(let flags) = Syscall.getInodeFlags(fd) else { return false }
    return flags.contains(.immutable)
  }

  @Test("every stored file is the inode its download had in partial/tree (no copy), one content is one inode, and audit finds nothing")
  func objectsStoredAsThey() throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    let key = try f.remote.publish(try f.scratch.release("r1", Self.files))
    // Before each object's download, the inodes of the downloads verified so far, each
    // renamed to its first use in the tree.
    let seen = Mutex<[String: ino_t]>([:])
    let tree = f.partial + "/tree"
    let fetcher = FileFetcher(beforeObject: {
      for path in FileManager.default.subpaths(atPath: tree) ?? [] {
        if let st = SharedInodeTests.lstat(tree + "/" + path), st.st_mode & S_IFMT == S_IFREG { seen.withLock { $0[path] = st.st_ino } }
      }
    })
    let result = try f.pull(fetcher: fetcher)
    #expect(result.key == key)
    let entry = f.scratch.at("root/store/\(key.hex)")
    let recorded = seen.withLock { $0 }
    #expect(recorded.count >= 2, "downloads seen before later ones: \(recorded.count)")
    var matched = 0
    for (path, _) in Self.files {
      let relative = path.hasSuffix("*") ? String(path.dropLast()) : path
      guard let inode = recorded[relative] else { continue }
      #expect(Self.lstat(entry + "/" + relative)?.st_ino == inode, "\(relative) is not its download's inode")
      matched += 1
    }
    #expect(matched >= 2)
    let a = Self.lstat(entry + "/lib/a.txt")
    let copy = Self.lstat(entry + "/lib/copy.txt")
    #expect(a?.st_ino == copy?.st_ino, "one content, one mode: one inode")
    #expect(a?.st_nlink == 2)
    #expect(a.map { $0.st_mode & 0o7777 } == 0o444)
    #expect(Self.lstat(entry + "/bin/tool").map { $0.st_mode & 0o7777 } == 0o555)
    #expect(try Oracle.key(entry) == key.hex)
    #expect(try f.store.audit().problems.isEmpty)
  }

  @Test("an update shares its unchanged files with the stored release and downloads only the changed one")
  func updateShares() throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    let first = try f.remote.publish(try f.scratch.release("r1", Self.files))
    _ = try f.pull()
    var changed = Self.files
    changed["VERSION"] = "1.1\n"
    let second = try f.remote.publish(try f.scratch.release("r2", changed))
    let fetcher = FileFetcher()
    let result = try f.pull(fetcher: fetcher)
    #expect(result.key == second)
    #expect(fetcher.objectFetches.count == 1)
    #expect(result.copiedFiles == 3)
    let old = f.scratch.at("root/store/\(first.hex)")
    let new = f.scratch.at("root/store/\(second.hex)")
    for file in ["lib/a.txt", "lib/copy.txt", "lib/b.txt", "bin/tool"] {
      let (o, n) = (Self.lstat(old + "/" + file), Self.lstat(new + "/" + file))
      #expect(o != nil && o?.st_ino == n?.st_ino, "\(file) is not shared")
    }
    #expect(Self.lstat(new + "/lib/a.txt")?.st_nlink == 4)
    #expect(Self.lstat(new + "/lib/b.txt")?.st_nlink == 2)
    #expect(Self.lstat(old + "/VERSION")?.st_ino != Self.lstat(new + "/VERSION")?.st_ino)
    #expect(try Oracle.key(old) == first.hex)
    #expect(try Oracle.key(new) == second.hex)
    #expect(try f.store.audit().problems.isEmpty)
    if result.added?.immutability == .applied {
      for entry in [old, new] {
        for file in ["lib/a.txt", "lib/b.txt", "bin/tool", "VERSION"] {
          #expect(Self.isImmutable(entry + "/" + file), "\(entry)/\(file) lost its flag")
        }
      }
    }
  }

  @Test("an update sharing one immutable stored file under hundreds of paths links every one of them (no thread finds its flag set)")
  func manyUsesOfOneSharedFile() throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    var files: [String: String] = ["VERSION": "1.0\n"]
    for i in 0..<400 { files["d\(i % 20)/same\(i)"] = "one content\n" }
    for i in 0..<200 { files["u/f\(i)"] = "unique \(i)\n" }
    _ = try f.remote.publish(try f.scratch.release("r1", files))
    _ = try f.pull()
    files["VERSION"] = "1.1\n"
    let second = try f.remote.publish(try f.scratch.release("r2", files))
    let result = try f.pull()
    #expect(result.key == second)
    // 400 names in each entry, one inode.
    #expect(Self.lstat(f.scratch.at("root/store/\(second.hex)/d3/same3"))?.st_nlink == 800)
    #expect(try f.store.audit().problems.isEmpty)
  }

  @Test(
    "gc removing either of two entries that share inodes leaves the other whole and immutable",
    .enabled(if: TestEnvironment.immutableFlagWorks, "needs root and a file system that supports chattr +i"),
    arguments: [true, false])
  func gcKeepsSharedFlags(removeOld: Bool) throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    let first = try f.remote.publish(try f.scratch.release("r1", Self.files))
    // The entry gc keeps is the current one; the other was never switched to (grace 0).
    _ = try f.pull(switching: !removeOld)
    var changed = Self.files
    changed["VERSION"] = "1.1\n"
    let second = try f.remote.publish(try f.scratch.release("r2", changed))
    let result = try f.pull(switching: removeOld)
    #expect(result.added?.immutability == .applied)
    let (gone, kept) = removeOld ? (first, second) : (second, first)
    let shared = Self.lstat(f.scratch.at("root/store/\(first.hex)/lib/b.txt"))
    #expect(shared?.st_nlink == 2 && shared?.st_ino == Self.lstat(f.scratch.at("root/store/\(second.hex)/lib/b.txt"))?.st_ino)

    let report = try f.store.collectGarbage(keep: 1, grace: 0)
    #expect(report.removedEntries == [gone])
    #expect(try f.store.keys() == [kept])
    let entry = f.scratch.at("root/store/\(kept.hex)")
    for file in ["lib/a.txt", "lib/copy.txt", "lib/b.txt", "bin/tool", "VERSION"] {
      #expect(Self.isImmutable(entry + "/" + file), "\(file) lost its immutable flag when gc removed the other entry")
    }
    #expect(Self.lstat(entry + "/lib/b.txt")?.st_nlink == 1)
    #expect(try Oracle.key(entry) == kept.hex)
    #expect(try f.store.audit().problems.isEmpty)
  }
}
