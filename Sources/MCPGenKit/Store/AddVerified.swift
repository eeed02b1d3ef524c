import MCPGenSystem
import SystemPackage

extension Store {
  /// Stores a release tree that the caller built inside the root and verified, without copying
  /// it or reading its files again (store-layout.md section 4, "a tree built in the root").
  ///
  /// `name` in `parent` is the tree (a directory, or one regular file): `parent` lies in the
  /// root's file system, is owned by the user running mcp-gen and closed to others (0700), and
  /// every regular file's bytes were hashed against `manifest`, whose SHA-256 must be `key` (a
  /// pull's signed key). Steps, and what a crash at each leaves:
  /// 1. `store/<key>` exists: nothing to do (the tree is left to the caller);
  /// 2. `flock` the tree; give every file its stored mode (0444, or 0555 with the manifest's
  ///    `x`; `fchmod`, whatever the umask) unless it has it already (a file shared with a stored
  ///    entry is immutable and has it);
  /// 3. add's steps 4 and 5 on the tree where it is (`sealAndCheck`): directories sealed
  ///    deepest first, `syncfs`, the structure re-read from disk must equal the manifest (types,
  ///    sizes, execute bits, symlink targets, no extra names), files marked immutable as root;
  /// 4. add's steps 6 and 7 (`commit`): the manifest, `renameat2(RENAME_NOREPLACE)` of the tree
  ///    to `store/<key>`, the entry root sealed, `syncfs`, the journal's `add` line with
  ///    `recordedSource` and `label`.
  ///
  /// As root, until 4 renames it, the tree stays where the caller built it, which is as safe as add's
  /// `store/.tmp-*`: both are in the root's file system, closed to others, flocked while in use
  /// and removed by gc when their process is gone (section 15 for a pull's `partial/`); and a
  /// resumed pull can take back the verified contents of a tree left there. On an error
  /// before the rename nothing is stored and the tree is left where it is, for the caller.
  /// Without root (no flags, so the caller keeps its own names for the files) the tree is moved
  /// to `store/.tmp-<pid>-<hex>` first: a directory renamed into another needs write permission
  /// on itself, which the sealed tree lacks; a failure removes it.
  ///
  /// File contents are not compared again: only the caller (root, or the store's owner) could
  /// have changed them after it verified them, in a directory nobody else can enter. A change
  /// of type, size, execute bit, target or name is refused by the structure check of step 3.
  ///
  /// `sharesStoredFiles`: the caller linked some files of a stored entry into the tree; they
  /// are immutable already, and the flag pass looks before it opens (`statx`).
  public func addVerified(
    _ name: [UInt8], in parent: DirectoryFD, manifest: Manifest, key: StoreKey, recordedSource: [UInt8], label: ReleaseLabel?,
    sharesStoredFiles: Bool = false
  ) throws(MCPGenError) -> AddResult {
    let shown = parent.path.appending(bytes: name)
    guard manifest.key == key else {
      throw MCPGenError(
        .untrusted, "the release assembled in \(shown.displayString) has the key \(manifest.key.short), not \(key.short) as signed; nothing was stored, run the command again",
        path: shown)
    }
    // An empty file has no object to verify: its digest must be that of no bytes, else the
    // tree's key is another one (the one add would find by hashing).
    let none = SHA256.hash([])
    if manifest.entries.contains(where: { $0.kind.isRegularFile && $0.size == 0 && $0.digest != none }) {
      var entries = manifest.entries
      for i in entries.indices where entries[i].kind.isRegularFile && entries[i].size == 0 { entries[i].digest = none }
      try Store.requireKey(Manifest(sorted: entries).key, key, shown)
    }
    return try withLock { () throws(MCPGenError) -> AddResult in
      if try contains(key) {
        // A crash between the rename and sealing left the entry root without its flag: seal it now.
        _ = try? sealRoot(of: key, manifest, Immutability())
        try recordLabelOfStored(key, given: label, source: recordedSource)
        return AddResult(key: key, path: entryPath(key), files: manifest.fileCount, bytes: manifest.byteCount, isNew: false)
      }
      let immutability = Immutability()
      try Cancellation.check(Store.nothingAdded)
      // Without root, renaming a directory into another one needs write permission on it (its
      // `..` changes), which a sealed 0555 tree lacks: the tree moves to store/.tmp-* first, as
      // add's copy is made there, and the final rename stays within store/. Root keeps it where
      // it was built (the caller may then take its contents back after a kill).
      var (name, parent) = (name, parent)
      var moved = false
      if !Store.marksImmutable {
        let temp = Store.temporaryName()
        try attempt("store \(shown.displayString)") { () throws(SystemCallError) in
          try parent.renameNoReplace(name, to: entries, as: temp)
          try entries.sync()
          try parent.sync()
        }
        (name, parent, moved) = (temp, entries, true)
      }
      var stored = false
      do throws(MCPGenError) {
        let guardFD = try prepareVerified(name, in: parent, manifest, immutability, sharesStoredFiles: sharesStoredFiles)
        #if DEBUG
        FaultInjection.killPoint("verified-tree-sealed")
        #endif
        // Sealed and durable, but not stored yet: a cancel still leaves nothing stored.
        try Cancellation.check(Store.nothingAdded)
        let result = try commit(
          name, in: parent, manifest, immutability, journaled: true, source: recordedSource, label: label, stored: &stored)
        if moved && !result.isNew { try? TreeRemover.remove(name, in: entries) }
        withExtendedLifetime(guardFD) {}
        return result
      } catch {
        if moved && !stored { try? TreeRemover.remove(name, in: entries) }
        throw error
      }
    }
  }

  /// Whether stored inodes get `FS_IMMUTABLE_FL` (running as root): a caller that hard-links
  /// files into a tree for `addVerified` must then give up their other names first.
  public static let marksImmutable: Bool = Syscall.effectiveUserID() == 0

  /// Steps 2 and 3 of `addVerified`; returns the descriptor that holds the tree's flock.
  private func prepareVerified(
    _ name: [UInt8], in parent: DirectoryFD, _ manifest: Manifest, _ immutability: Immutability, sharesStoredFiles: Bool
  ) throws(MCPGenError) -> AnyObject {
    let shown = parent.path.appending(bytes: name)
    let expected = manifest.entries.map { (e) -> ManifestEntry in
      var e = e
      e.digest = nil
      return e
    }
    let mismatch = {
      MCPGenError(
        .untrusted,
        "the release assembled in \(shown.displayString) does not match its manifest; nothing was stored, run the command again",
        path: shown)
    }
    if manifest.isSingleFile {
      let root = manifest.entries[0]
      let file = try attempt("store \(shown.displayString)") { () throws(SystemCallError) -> FileFD in
        let file = try parent.openFile(name, flags: [.readOnly, .nonBlocking])
        try Syscall.flock(file.fd, LockOperation.exclusive).get("flock", file.path)
        return file
      }
      let matches = try attempt("store \(shown.displayString)") { () throws(SystemCallError) -> Bool in
        let st = try file.stat()
        guard st.type == .regular, UInt64(st.size) == root.size else { return false }
        try Store.giveStoredMode(file, root)
        // Not marked immutable yet: an immutable inode cannot be renamed into place (sealRoot does it).
        try parent.syncFileSystem()
        return TreeScanner.kind(of: try file.stat()) == root.kind
      }
      guard matches else { throw mismatch() }
      return file
    }
    let (dir, parents) = try attempt("store \(shown.displayString)") { () throws(SystemCallError) in
      let dir = try parent.openDirectory(name)
      try Syscall.flock(dir.fd, LockOperation.exclusive).get("flock", dir.path)
      let parents = DirectoryCache(root: dir, limit: DirectoryCache.limit)
      for e in expected.dropFirst() where e.kind == .directory {
        do throws(SystemCallError) {
          try parents.remember(e.path)
        } catch where error.errno == .noSuchFileOrDirectory || error.errno == .notDirectory || error.errno == .tooManySymbolicLinkLevels {
          // Missing or not a directory: the structure check says so, in one message.
        }
      }
      return (dir, parents)
    }
    let files = expected.indices.filter { expected[$0].kind.isRegularFile }
    do {
      try ParallelWork.run(files, bytes: UInt64(files.count) << 14) { (i, _) throws(MCPGenError) in
        try attempt("store \(shown.displayString)") { () throws(SystemCallError) in
          let (parentPath, leaf) = splitLast(expected[i].path)
          // Looked at by name first: most files have their mode already (the caller gave it,
          // or they are shared with a stored entry), and only the others are opened.
          try parents.directory(parentPath).changeModeIfDifferent(leaf, to: UInt32(expected[i].kind.storedMode))
        }
      }
    } catch where error.cause?.errno == .noSuchFileOrDirectory || error.cause?.errno == .tooManySymbolicLinkLevels
      || error.cause?.errno == .notDirectory
    {
      throw mismatch()
    }
    try sealAndCheck(dir, expected, parents, immutability, sharesStoredFiles: sharesStoredFiles, mismatch: mismatch)
    return dir
  }

  /// `fchmod` to the stored mode of `entry` (0444, or 0555 with its `x`), unless the file has
  /// it already: a file shared with a stored entry is immutable (no `fchmod`) and has it.
  private static func giveStoredMode(_ file: FileFD, _ entry: ManifestEntry) throws(SystemCallError) {
    let st = try file.stat()
    guard st.type == .regular else { return }  // The structure check refuses it.
    let wanted = UInt32(entry.kind.storedMode)
    if UInt32(st.permissions.rawValue) & 0o7777 != wanted { try file.changeMode(wanted) }
  }
}
