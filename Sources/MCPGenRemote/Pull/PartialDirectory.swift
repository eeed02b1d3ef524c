import MCPGenKit
import MCPGenSystem
import Synchronization
import SystemPackage

/// `remotes/NAME/partial/`: a pull's work in flight (store-layout.md section 15).
///
/// ```
/// partial/objects/<64 hex>   a verified object: its bytes hash to its name (0644)
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
final class PartialDirectory: @unchecked Sendable {
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
  /// removed.
  func verifiedObjects(needed: [Digest: UInt64], progress: ProgressCounters?) throws(MCPGenError) -> Set<Digest> {
    try attempting("check \(objects.path.displayString)") { () throws(SystemCallError) -> Set<Digest> in
      var kept = Set<Digest>()
      for name in try objects.list() {
        if let digest = Digest(hex: name), name.count == 64, let size = needed[digest],
          let file = try? objects.openFile(name, flags: [.readOnly, .nonBlocking]),
          let st = try? file.stat(), st.type == .regular, UInt64(st.size) == size,
          let read = try? StreamCopy.run(from: file, into: nil, limit: size, progress: progress),
          !read.overflow, read.digest == digest, read.size == size
        {
          kept.insert(digest)
          continue
        }
        try Store.removeTree(name, in: objects)
      }
      return kept
    }
  }

  /// Copies `size` bytes from `source` (a stored file) into `objects/<digest>`, hashing them;
  /// false (and nothing left behind) when they are not the object's bytes.
  func copyIn(from source: FileFD, _ digest: Digest, size: UInt64, progress: ProgressCounters?) throws(SystemCallError) -> Bool {
    let temp = Store.temporaryName()
    let file = try objects.openFile(temp, flags: [.writeOnly, .create, .exclusive], mode: 0o644)
    do throws(SystemCallError) {
      let copied = try StreamCopy.run(from: source, into: file, limit: size, progress: progress)
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
