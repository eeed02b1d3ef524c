import MCPGenKit
import MCPGenSystem
import Synchronization
import SystemPackage

/// `remotes/NAME/partial/`: a pull's work in flight (store-layout.md section 15).
///
/// ```
/// partial/objects/<64 hex>   a verified object: its bytes hash to its name (its first use's
///                            stored mode when downloaded, 0644 when copied)
/// partial/objects/.tmp-*     an object being written; never trusted, removed on the next pull
/// partial/tree               the release assembled from the objects, handed to the engine's add
/// ```
///
/// The pull holds `flock(LOCK_EX)` on `partial/` while it runs (besides the root's lock), so a
/// `gc --dry-run`, which takes no lock, can tell a live pull's directory from a dead one's.
/// An object gets its digest as name only after its bytes hashed to it; a pull that resumes
/// hashes the objects it finds again before it trusts them (their data may not have reached
/// the disk before a power cut: only their names were made durable by nothing), so a killed
/// pull never downloads a verified object twice and never trusts a torn one.
final class PartialDirectory: Sendable {
  static let objectsName = Array("objects".utf8)
  static let treeName = Array("tree".utf8)

  let remote: DirectoryFD
  let dir: DirectoryFD
  let objects: DirectoryFD

  /// Opens (creating, 0700) `partial/` and `partial/objects/` of the remote's directory and
  /// takes the flock on `partial/`.
  init(in remote: DirectoryFD) throws(MCPGenError) {
    self.remote = remote
    (dir, objects) = try attempting("prepare \(remote.path.appending(bytes: Store.partialName).displayString)") {
      () throws(SystemCallError) -> (DirectoryFD, DirectoryFD) in
      try remote.ensureDirectory(Store.partialName, mode: 0o700)
      let dir = try remote.openDirectory(Store.partialName)
      try Syscall.flock(dir.fd, [.exclusive, .nonBlocking]).get("flock", dir.path)
      try dir.ensureDirectory(PartialDirectory.objectsName, mode: 0o700)
      return (dir, try dir.openDirectory(PartialDirectory.objectsName))
    }
  }

  /// Objects of an earlier pull that still hash to their names and are `needed` (digest to
  /// size); every other file in `objects/` (temporaries, mismatches, objects of no use) is
  /// removed. Then the verified contents of a leftover `tree/` (a pull killed after it gave
  /// the objects' names up to the tree it stores) are taken back (`salvageTree`), and the
  /// tree is removed.
  func verifiedObjects(needed: [Digest: UInt64], progress: ProgressCounters?) throws(MCPGenError) -> Set<Digest> {
    let hasher = StreamHasher()
    var kept = try attempting("check \(objects.path.displayString)") { () throws(SystemCallError) -> Set<Digest> in
      var kept = Set<Digest>()
      for name in try objects.list() {
        if let digest = Digest(hex: name), name.count == 64, let size = needed[digest],
          let file = try? objects.openFile(name, flags: [.readOnly, .nonBlocking]),
          let st = try? file.stat(), st.type == .regular, UInt64(st.size) == size,
          let read = try? hasher.run(file, limit: size, progress: progress),
          !read.overflow, read.digest == digest, read.size == size
        {
          kept.insert(digest)
          continue
        }
        try Store.removeTree(name, in: objects)
      }
      return kept
    }
    try salvageTree(needed: needed, kept: &kept, hasher: hasher, progress: progress)
    return kept
  }

  /// Takes back into `objects/` every content of a leftover `tree/` that is `needed`, not
  /// `kept` yet, and still hashes to its digest, then removes the tree.
  ///
  /// A pull gives up the objects' names once their tree is assembled (an immutable inode can
  /// be neither linked nor unlinked, and the store marks the tree's files immutable): killed
  /// after that, the tree holds the only copy. A file with one link is the tree's own: its
  /// flag (if the killed run set it) is cleared and it is linked back under its digest. A file
  /// with more links may be a stored entry's inode (shared, section 3), whose flag must stay:
  /// it is copied instead, hashed as it is copied.
  private func salvageTree(needed: [Digest: UInt64], kept: inout Set<Digest>, hasher: StreamHasher, progress: ProgressCounters?) throws(MCPGenError) {
    let present = try attempting("check \(dir.path.displayString)") { () throws(SystemCallError) -> Bool in
      try dir.statIfPresent(PartialDirectory.treeName) != nil
    }
    guard present else { return }
    let wantedSizes = Set(needed.filter { !kept.contains($0.key) }.values)
    if !wantedSizes.isEmpty, let tree = try? TreeScanner.scan(PartialDirectory.treeName, in: dir) {
      for e in tree.entries where e.kind.isRegularFile && wantedSizes.contains(e.size) {
        let (parentPath, name) = e.path == [0x2E] ? ([], PartialDirectory.treeName) : splitLast(PartialDirectory.treeName + [0x2F] + e.path)
        guard let parent = try? (parentPath.isEmpty ? dir : dir.openDirectory(parentPath)),
          let file = try? parent.openFile(name, flags: [.readOnly, .nonBlocking]), let st = try? file.stat(), st.type == .regular
        else { continue }
        guard let read = try? hasher.run(file, limit: e.size, progress: progress), !read.overflow,
          read.size == e.size, needed[read.digest] == e.size, !kept.contains(read.digest)
        else { continue }
        if st.linkCount > 1 {
          // Copied from a fresh descriptor, and named only if the copy hashes to the digest.
          if let again = try? parent.openFile(name, flags: [.readOnly, .nonBlocking]),
            (try? copyIn(from: again, read.digest, size: e.size, hasher: hasher, progress: nil)) == true
          {
            kept.insert(read.digest)
          }
          continue
        }
        if case .success(let flags) = Syscall.getInodeFlags(file.fd), flags.contains(.immutable) {
          _ = Syscall.setInodeFlags(file.fd, flags.subtracting(.immutable))
        }
        if (try? parent.link(name, to: objects, as: read.digest.hexBytes)) != nil { kept.insert(read.digest) }
      }
    }
    try attempting("remove \(dir.path.appending(bytes: PartialDirectory.treeName).displayString)") { () throws(SystemCallError) in
      try Store.removeTree(PartialDirectory.treeName, in: dir)
    }
  }

  /// Gives up the names of the objects (once the tree links them all): the store marks the
  /// tree's files immutable, and an immutable inode's other names could not be unlinked.
  /// Killed after this, a resumed pull takes the contents back from the tree (`salvageTree`).
  func dropObjects() throws(MCPGenError) {
    try attempting("remove \(objects.path.displayString)") { () throws(SystemCallError) in
      for name in try objects.list() { try objects.unlink(name) }
    }
  }

  /// Copies `size` bytes from `source` (a stored file) into `objects/<digest>`, hashing them;
  /// false (and nothing left behind) when they are not the object's bytes.
  func copyIn(
    from source: FileFD, _ digest: Digest, size: UInt64, hasher: StreamHasher, progress: ProgressCounters?
  ) throws(SystemCallError) -> Bool {
    let temp = Store.temporaryName()
    let file = try objects.openFile(temp, flags: [.writeOnly, .create, .exclusive], mode: 0o644)
    do throws(SystemCallError) {
      let copied = try hasher.run(source, limit: size, into: file, progress: progress)
      guard !copied.overflow, copied.size == size, copied.digest == digest else {
        try objects.unlink(temp)
        return false
      }
      try file.changeMode(0o644)
      try objects.rename(temp, to: objects, as: digest.hexBytes)
      return true
    } catch {
      try? objects.unlink(temp)
      throw error
    }
  }

  /// Removes `partial/` entirely (the pull is over), then fsyncs the remote's directory.
  func remove() {
    _ = try? Store.removeTree(Store.partialName, in: remote)
    _ = try? remote.sync()
  }
}
