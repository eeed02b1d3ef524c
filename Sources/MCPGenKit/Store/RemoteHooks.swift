import MCPGenSystem
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
  func storedName(_ key: StoreKey, _ path: [UInt8]) -> [UInt8] {
    path == ManifestEntry.rootPath ? key.bytes : key.bytes + [0x2F] + path
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
