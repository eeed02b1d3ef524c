import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// `Store.addVerified`: a tree built and verified inside the root is stored where it is, without
/// a copy, with the checks of add's steps 4 to 7 (store-layout.md section 4).
@Suite("add of a verified tree built in the root")
struct AddVerifiedTests {
  /// A tree at `<root>/work/tree` (work/ 0700), its manifest, and the open `work/`.
  static func tree(_ dir: TestDirectory, _ store: Store) throws -> (DirectoryFD, Manifest) {
    try dir.makeDirectory("root/work", mode: 0o700)
    try dir.makeDirectory("root/work/tree")
    try dir.makeDirectory("root/work/tree/bin")
    try dir.makeDirectory("root/work/tree/share")
    try dir.writeFile("root/work/tree/bin/tool", "#!/bin/sh\necho tool\n", mode: 0o755)
    try dir.writeFile("root/work/tree/share/a.txt", "alpha\n")
    try dir.writeFile("root/work/tree/share/empty", "")
    _ = withCPath(dir.at("root/work/tree/share/link")) { symlink("a.txt", $0) }
    let manifest = try Store.hash(dir.at("root/work/tree"))
    return (try DirectoryFD.open(dir.at("root/work")), manifest)
  }

  static let source = Array("test".utf8)

  @Test("the tree's own inodes become the entry (no copy); modes are the manifest's, 0444/0555; audit finds nothing; the journal has the add")
  func storedInPlace() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, _) = try Store.makeTest(in: dir)
    let (work, manifest) = try Self.tree(dir, store)
    // Modes come from the manifest, not from the tree: a wrong one is set right.
    try dir.chmod(Array("root/work/tree/share/a.txt".utf8), 0o755)
    try dir.chmod(Array("root/work/tree/bin/tool".utf8), 0o700)
    let before = try TestDirectory.lstat(dir.at("root/work/tree/share/a.txt")).st_ino

    let result = try store.addVerified(Array("tree".utf8), in: work, manifest: manifest, key: manifest.key, recordedSource: Self.source, label: nil)

    #expect(result.isNew)
    #expect(result.key == manifest.key)
    let entry = store.entryPath(manifest.key)
    let stored = try TestDirectory.lstat(entry.appending("share/a.txt"))
    #expect(stored.st_ino == before, "the file was copied instead of stored in place")
    #expect(stored.st_mode & 0o7777 == 0o444)
    #expect(try TestDirectory.lstat(entry.appending("bin/tool")).st_mode & 0o7777 == 0o555)
    #expect(try TestDirectory.lstat(entry.appending("share")).st_mode & 0o7777 == 0o555)
    #expect(!FileManager.default.fileExists(atPath: dir.at("root/work/tree").string))
    #expect(try store.readManifest(manifest.key) == manifest)
    #expect(try Oracle.key(entry.string) == manifest.key.hex)
    #expect(try store.audit().problems.isEmpty)
    let last = try store.readJournal().records.last
    #expect(last?.operation == .add)
    #expect(last?.key == manifest.key)
    #expect(last?.source == Self.source)
  }

  @Test("a tree that differs from its manifest in a size, a type, a symlink target, an extra name or a missing one is refused; nothing stored")
  func alteredTreeRefused() throws {
    let changes: [(String, (TestDirectory) throws -> Void)] = [
      ("a file grew", { try $0.append("root/work/tree/share/a.txt", "more\n") }),
      ("a file made a directory", {
        _ = withCPath($0.at("root/work/tree/share/a.txt")) { unlink($0) }
        try $0.makeDirectory("root/work/tree/share/a.txt")
      }),
      ("an extra file", { try $0.writeFile("root/work/tree/share/extra", "x") }),
      ("a missing file", { _ = withCPath($0.at("root/work/tree/bin/tool")) { unlink($0) } }),
      ("a symlink target", {
        _ = withCPath($0.at("root/work/tree/share/link")) { unlink($0) }
        _ = withCPath($0.at("root/work/tree/share/link")) { symlink("other", $0) }
      }),
    ]
    for (what, change) in changes {
      let dir = try TestDirectory()
      defer { dir.remove() }
      let (store, _) = try Store.makeTest(in: dir)
      let (work, manifest) = try Self.tree(dir, store)
      try change(dir)
      let error = #expect(throws: MCPGenError.self, "\(what)") {
        _ = try store.addVerified(Array("tree".utf8), in: work, manifest: manifest, key: manifest.key, recordedSource: Self.source, label: nil)
      }
      #expect(error?.code == .untrusted, "\(what): \(String(describing: error))")
      #expect(try store.keys().isEmpty, "\(what)")
      #expect(try dir.storeNames(dir.at("root").string).isEmpty, "\(what)")
      #expect(FileManager.default.fileExists(atPath: dir.at("root/work/tree").string), "\(what): the tree is left for the caller")
    }
  }

  @Test("a manifest that is not the key, or an empty file named with another digest, is refused before anything is written")
  func wrongKeyRefused() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, _) = try Store.makeTest(in: dir)
    let (work, manifest) = try Self.tree(dir, store)
    let other = StoreKey(SHA256.hash(Array("other".utf8)))
    #expect(throws: MCPGenError.self) {
      _ = try store.addVerified(Array("tree".utf8), in: work, manifest: manifest, key: other, recordedSource: Self.source, label: nil)
    }
    // The one empty file's digest (that of no bytes) replaced by another in the manifest's bytes.
    let none = SHA256.hash([]).hexBytes
    let wrong = SHA256.hash(Array("not empty".utf8)).hexBytes
    var bytes = manifest.serialized()
    let at = (0...(bytes.count - none.count)).first { Array(bytes[$0..<$0 + none.count]) == none }!
    bytes.replaceSubrange(at..<at + none.count, with: wrong)
    let lying = try Manifest(parsing: bytes)
    let error = #expect(throws: MCPGenError.self) {
      _ = try store.addVerified(Array("tree".utf8), in: work, manifest: lying, key: lying.key, recordedSource: Self.source, label: nil)
    }
    #expect(error?.code == .untrusted)
    #expect(error?.message.contains("not \(lying.key.short) as signed") == true)
    #expect(try store.keys().isEmpty)
  }
}
