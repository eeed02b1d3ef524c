import MCPGenSystem
import Synchronization
import SystemPackage

/// What `pull` (MCPGenRemote) needs of the root beside `add` and `switch`: the `remotes/`
/// directory (store-layout.md section 15), read access to stored files so that a file already
/// in some release is copied locally instead of downloaded, and the removal of trees it made.
extension Store {
  /// `<root>/remotes`: one directory per remote (`remotes/NAME/`).
  public static let remotesName = Array("remotes".utf8)
  /// `remotes/NAME/partial`: a pull's downloads in flight; gc removes it when no pull holds it.
  public static let partialName = Array("partial".utf8)

  /// `<root>/remotes`; with `create`, made (0755, durable) when missing; nil when missing and
  /// not created.
  public func remotesDirectory(create: Bool) throws(MCPGenError) -> DirectoryFD? {
    try attempt("open \(path.appending(bytes: Store.remotesName).displayString)") { () throws(SystemCallError) -> DirectoryFD? in
      if create { try root.ensureDirectory(Store.remotesName, mode: 0o755) }
      do throws(SystemCallError) {
        return try root.openDirectory(Store.remotesName)
      } catch where error.errno == .noSuchFileOrDirectory && !create {
        return nil
      }
    }
  }

  /// Opens the stored file `path` of release `key` for reading (`.` names a single-file
  /// release itself); no symlink is followed on the way.
  public func openStoredFile(_ key: StoreKey, _ path: [UInt8]) throws(SystemCallError) -> FileFD {
    try entries.openFile(storedName(key, path), flags: [.readOnly, .nonBlocking])
  }

  /// The name below `store/` of the stored file `path` of release `key`.
  private func storedName(_ key: StoreKey, _ path: [UInt8]) -> [UInt8] {
    path == ManifestEntry.rootPath ? key.bytes : key.bytes + [0x2F] + path
  }

  /// Which of `files` still hold exactly the bytes a pull wants of them: each is opened as
  /// `openStoredFile` does, must be a regular file of the wanted size, and its bytes must hash
  /// to the wanted digest (on every core, read or mapped as audit reads; the size and change
  /// time again after the read, so a file written meanwhile is not taken). A file that cannot
  /// be opened or read is not taken either: the caller gets the content elsewhere. Returns
  /// the indices of the files taken, with the descriptor their bytes were read through for
  /// the first `keepOpen` indices (to link the inode that was checked), else nil.
  public func checkStoredFiles(
    _ files: [StoredFileWanted], keepOpen: Int, progress: ProgressCounters?
  ) throws(MCPGenError) -> [Int: FileFD?] {
    let taken = Mutex<[Int: FileFD?]>([:])
    let bytes = files.reduce(UInt64(0)) { $0 + $1.size }
    try ParallelWork.run(Array(files.indices), bytes: bytes, progress: progress) { (i, worker) throws(MCPGenError) in
      let wanted = files[i]
      guard let file = try? openStoredFile(wanted.key, wanted.path), let before = try? file.stat(), before.type == .regular,
        UInt64(before.size) == wanted.size,
        let (digest, count) = try? worker.digest(file, size: wanted.size), count == wanted.size, digest == wanted.digest,
        let after = try? file.stat(), after.size == before.size, after.changed == before.changed
      else { return }
      taken.withLock { $0[i] = i < keepOpen ? file : nil }
    }
    return taken.withLock { $0 }
  }

  /// Links the stored file `path` of release `key` (a file inside a directory entry, never an
  /// entry's root) as `newName` in `directory`, a tree being assembled in the root for
  /// `addVerified`: the new entry shares the stored inode instead of a copy of it
  /// (store-layout.md section 3). `file` is that stored file, opened by `openStoredFile` (and
  /// hashed by the caller); it is linked through its descriptor, so the new name is the inode
  /// the caller checked, whatever became of its path since. An immutable inode cannot be
  /// linked, so its flag is cleared for the `linkat` and set again (`Immutability.whileCleared`);
  /// as root it is set afterwards in any case, which also repairs a file whose flag an earlier
  /// run, killed between the two, left cleared.
  public func linkStoredFile(
    _ file: FileFD, _ key: StoreKey, _ path: [UInt8], to directory: DirectoryFD, as newName: [UInt8]
  ) throws(SystemCallError) {
    try Immutability.whileCleared(file.fd, always: Store.marksImmutable) { () throws(SystemCallError) in
      #if DEBUG
      FaultInjection.killPoint("link-flag-cleared")
      #endif
      do throws(SystemCallError) {
        try file.link(to: directory, as: newName)
      } catch where error.errno == .noSuchFileOrDirectory {
        // Neither AT_EMPTY_PATH nor /proc (a container without it): linked by its name in
        // store/, and the new name must then be the inode opened.
        try entries.link(storedName(key, path), to: directory, as: newName)
        guard try directory.stat(newName).isSameFile(as: try file.stat()) else {
          try? directory.unlink(newName)
          throw SystemCallError("linkat", path: directory.path.appending(bytes: newName), errno: .noSuchFileOrDirectory)
        }
      }
    }
  }

  /// Every stored release with its manifest (checked against its key); a release whose
  /// manifest cannot be read is left out (audit reports it).
  public func storedManifests() throws(MCPGenError) -> [(key: StoreKey, manifest: Manifest)] {
    var out: [(key: StoreKey, manifest: Manifest)] = []
    for key in try keys() {
      guard let manifest = try? readManifest(key) else { continue }
      out.append((key, manifest))
    }
    return out
  }

  /// Removes `name` in `parent` and everything below it (made read-only or immutable by mcp-gen
  /// or not); nothing when it is missing.
  public static func removeTree(_ name: [UInt8], in parent: DirectoryFD) throws(SystemCallError) {
    try TreeRemover.remove(name, in: parent)
  }

  /// Whether some other open file holds `flock` on `name` in `dir` (a running pull's partial/).
  public func isHeld(_ name: [UInt8], in dir: DirectoryFD) throws(SystemCallError) -> Bool {
    try isLive(name, in: dir)
  }
}

/// A stored file a pull would use: `path` of release `key` (`.` for a single-file release),
/// wanted with exactly `size` bytes that hash to `digest`.
public struct StoredFileWanted: Sendable {
  public var key: StoreKey
  public var path: [UInt8]
  public var size: UInt64
  public var digest: Digest

  public init(key: StoreKey, path: [UInt8], size: UInt64, digest: Digest) {
    self.key = key
    self.path = path
    self.size = size
    self.digest = digest
  }
}
