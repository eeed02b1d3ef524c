import MCPGenSystem
import SystemPackage

/// What `add` did.
public struct AddResult: Sendable {
  public var key: StoreKey
  public var path: FilePath
  public var files: Int
  public var bytes: UInt64
  /// False when the key was stored already and nothing was copied.
  public var isNew: Bool
  /// Whether stored inodes were made immutable; `nil` when nothing was copied.
  public var immutability: ImmutabilityReport?
}

public enum ImmutabilityReport: Sendable, Equatable {
  case applied
  case notRoot
  case unsupported(reason: String)
}

extension Store {
  /// Hashes `source`, the release, without storing it, counting what is read in `progress`.
  public static func hash(_ source: FilePath, progress: ProgressCounters? = nil) throws(MCPGenError) -> Manifest {
    try progress.tracking("hashing") { () throws(MCPGenError) in
      try ReleaseHasher.manifest(scanning: source, progress: progress)
    }
  }

  /// Stores the release at `source` under its key.
  ///
  /// Steps, and what a crash at each leaves:
  /// 1. scan the source; if a stored manifest is as long as this release's will be, hash it
  ///    first: nothing written;
  /// 2. if `store/<key>` exists, stop: nothing copied;
  /// 3. copy into `store/.tmp-<pid>-<random>` (created exclusively, flocked so cleanup can tell
  ///    a live copy from a dead one), hashing the bytes as they are written; set modes 0444/0555;
  ///    `syncfs`, re-reading the copy's structure meanwhile to compare it with the manifest; as
  ///    root, mark every inode immutable: a crash leaves only the temporary, never `store/<key>`;
  /// 4. under the lock: write `manifests/<key>` durably, `renameat2(RENAME_NOREPLACE)` the copy
  ///    to `store/<key>`, fsync `store/` (as root: mark the entry's root immutable and `syncfs`,
  ///    which makes the flags durable too): the entry appears whole or not at all.
  ///
  /// A new entry is journaled (`add`) unless `journaled` is false (`switch PATH` records the add
  /// in its own journal line), with `label`, or the label found in it (`labelToRecord`). A
  /// release stored already gets a line only when that changes its label.
  public func add(_ source: FilePath, journaled: Bool = true, label: ReleaseLabel? = nil) throws(MCPGenError) -> AddResult {
    try add(source, journaled: journaled, recordedSource: nil, label: label)
  }

  /// Stores a release that must have the key `expected` (a pulled release, whose key the remote
  /// signed): one that hashes to any other key is refused with `.untrusted` before it is stored,
  /// its temporary copy removed. The journal records `recordedSource` as its source. Usable
  /// while the caller holds the lock (`withLock` nests).
  public func add(
    _ source: FilePath, expecting expected: StoreKey, recordedSource: [UInt8], label: ReleaseLabel?
  ) throws(MCPGenError) -> AddResult {
    try add(source, journaled: true, recordedSource: recordedSource, label: label, expecting: expected)
  }

  /// `recordedSource` replaces the path as the source the journal records.
  func add(
    _ source: FilePath, journaled: Bool, recordedSource: [UInt8]?, label: ReleaseLabel? = nil, expecting expected: StoreKey? = nil
  ) throws(MCPGenError) -> AddResult {
    let release = try TreeScanner.scan(source)
    try Store.requirePublic(release)
    let result = try add(scanned: release, journaled: journaled, recordedSource: recordedSource, label: label, expecting: expected)
    if journaled, !result.isNew {
      try recordLabelOfStored(result.key, given: label, source: recordedSource ?? absolute(source).bytes)
    }
    return result
  }

  /// Refuses a release with a file others cannot read, or a directory others cannot read or
  /// enter (no `S_IROTH`, or no `S_IXOTH` for a directory), the release's own root included.
  ///
  /// Stored, every file becomes 0444 or 0555: a release is a public artifact, served as it is.
  /// A file someone made 0600 is most likely a secret (a key, a token) that belongs in
  /// configuration, and storing it would publish it; the operator decides, by making it
  /// readable, that it is meant to ship. Symlinks have no modes of their own.
  static func requirePublic(_ release: ScannedRelease) throws(MCPGenError) {
    var hidden: [Int] = []
    for (i, e) in release.entries.enumerated() where i < release.modes.count {
      let mode = release.modes[i]
      switch e.kind {
      case .symlink: continue
      case .directory: if !FilePermissions(rawValue: mode).isSuperset(of: [.otherRead, .otherExecute]) { hidden.append(i) }
      case .file, .executable: if !FilePermissions(rawValue: mode).contains(.otherRead) { hidden.append(i) }
      }
    }
    guard let first = hidden.first else { return }
    let e = release.entries[first]
    let shown = e.path == ManifestEntry.rootPath ? release.path : release.path.appending(bytes: e.path)
    let mode = "0" + String(release.modes[first], radix: 8)
    let (what, fix) = e.kind == .directory ? ("directory others cannot enter", "o+rx") : ("file others cannot read", "o+r")
    let more = hidden.count > 1 ? " (and \(hidden.count - 1) more)" : ""
    throw MCPGenError(
      .invalidInput,
      "\(shown.displayString) is a \(what) (mode \(mode))\(more), but a stored release is readable by everyone; make it readable if it is meant to ship (secrets belong in configuration, not in a release); nothing was stored",
      hint: "chmod \(fix) \(shown.displayString)", path: shown)
  }

  /// Stores a release scanned earlier; every file must still be as the scan saw it.
  func add(
    scanned release: ScannedRelease, journaled: Bool = true, recordedSource: [UInt8]? = nil, label: ReleaseLabel? = nil,
    expecting expectedKey: StoreKey? = nil
  ) throws(MCPGenError) -> AddResult {
    let source = release.path
    // Hashing before copying costs a whole extra read of the release. It is only worth it when
    // the key may be stored already: a manifest's length follows from the scan alone, so a
    // release whose length no stored manifest has cannot be in the store.
    var expected: Manifest? = nil
    let (files, bytes) = (release.fileIndices.count, release.byteCount)
    if try mayHold(release) {
      let manifest: Manifest
      do {
        manifest = try options.progress.tracking("hashing", files: files, bytes: bytes) { () throws(MCPGenError) in
          try ReleaseHasher.manifest(of: release, progress: options.progress)
        }
      } catch where Cancellation.requested {
        throw MCPGenError(.cancelled, Store.nothingAdded)
      }
      try Store.requireKey(manifest.key, expectedKey, release.path)
      if try contains(manifest.key) {
        // A crash between the rename and sealing left the entry root without its flag: seal it now.
        _ = try? sealRoot(of: manifest.key, manifest, Immutability())
        return AddResult(
          key: manifest.key, path: entryPath(manifest.key), files: manifest.fileCount, bytes: manifest.byteCount,
          isNew: false)
      }
      expected = manifest
    }

    let temp = Store.temporaryName()
    let immutability = Immutability()
    var stored = false
    do {
      let (guardFD, manifest) = try options.progress.tracking("copying", files: files, bytes: bytes) { () throws(MCPGenError) in
        try copy(release, expected, to: temp, immutability)
      }
      // The copy is whole and durable, but not stored yet: a cancel still undoes all of it.
      try Cancellation.check(Store.nothingAdded)
      let key = manifest.key
      try Store.requireKey(key, expectedKey, release.path)
      let result = try commit(
        temp, in: entries, manifest, immutability, journaled: journaled,
        source: recordedSource ?? absolute(source).bytes, label: label, stored: &stored)
      if !result.isNew {
        try? TreeRemover.remove(temp, in: entries)  // Stored already (by another process, or before).
      }
      withExtendedLifetime(guardFD) {}
      return result
    } catch {
      if !stored {
        try? TreeRemover.remove(temp, in: entries)
        // A copy stopped by a cancel fails in whatever step it was in: say what happened.
        if Cancellation.requested { throw MCPGenError(.cancelled, Store.nothingAdded) }
      }
      throw error
    }
  }

  static let nothingAdded = "cancelled: nothing was added"

  /// Steps 6 and 7 of an add (store-layout.md section 4), shared by `add` and `addVerified`:
  /// `name` in `parent` is a sealed, durable tree (or file) whose structure matched `manifest`.
  /// Under the lock: the manifest is written durably, the tree renamed to `store/<key>` with
  /// `RENAME_NOREPLACE`, the entry's root sealed and the whole made durable (a `syncfs` as root,
  /// else an fsync of `store/`), and the add journaled. When the key is stored already the
  /// tree is left where it is (the caller removes it) and `isNew` is false. `stored` becomes
  /// true with the rename: from there on, an error says the entry is in place.
  func commit(
    _ name: [UInt8], in parent: DirectoryFD, _ manifest: Manifest, _ immutability: Immutability, journaled: Bool,
    source: @autoclosure () -> [UInt8], label: ReleaseLabel?, stored: inout Bool
  ) throws(MCPGenError) -> AddResult {
    let key = manifest.key
    var result = AddResult(
      key: key, path: entryPath(key), files: manifest.fileCount, bytes: manifest.byteCount, isNew: false)
    try withLock { () throws(MCPGenError) in
      try storeManifest(manifest, key)
      do throws(SystemCallError) {
        try parent.renameNoReplace(name, to: entries, as: key.bytes)
      } catch let e where e.errno == .fileExists || e.errno == .directoryNotEmpty {
        return
      } catch {
        throw MCPGenError(error, doing: "store entry")
      }
      stored = true
      result.isNew = true
      // The entry is in place from here on: a failure must say so, not "nothing changed".
      do throws(MCPGenError) {
        try attempt("seal store entry") { () throws(SystemCallError) in
          // Sealed, the entry's inodes carry flags set since the copy's syncfs: one syncfs
          // makes them durable together with the rename. Unsealed, fsync store/ suffices
          // (and the tree's old directory, when it was renamed from elsewhere in the root).
          if try sealRoot(of: key, manifest, immutability) {
            try entries.syncFileSystem()
          } else {
            try entries.sync()
            if parent.fd != entries.fd { try parent.sync() }
          }
        }
        if journaled {
          // Read from the entry now in place, under the lock that orders it with other labels.
          var recorded = label
          if recorded == nil { recorded = labelToRecord(key, given: nil, history: try history()) }
          try journal(.add, from: nil, to: nil, key: key, source: source(), extra: recorded?.journalFields ?? [])
        }
      } catch {
        var e = error
        e.message = "\(entryPath(key).displayString) is stored, but finishing the add failed (\(error.message)); run the command again to finish it"
        throw e
      }
    }
    if result.isNew {
      switch immutability.status {
      case .applied: result.immutability = .applied
      case .notRoot: result.immutability = .notRoot
      case .unsupported(let why): result.immutability = .unsupported(reason: why)
      }
    }
    return result
  }

  /// A release whose key was signed elsewhere (a pull) must hash to exactly that key.
  static func requireKey(_ key: StoreKey, _ expected: StoreKey?, _ source: FilePath) throws(MCPGenError) {
    guard let expected, key != expected else { return }
    throw MCPGenError(
      .untrusted,
      "the release assembled in \(source.displayString) has the key \(key.short), not \(expected.short) as signed; nothing was stored, run the pull again",
      path: source)
  }

  /// Whether some stored manifest is exactly as long as `release`'s manifest will be.
  func mayHold(_ release: ScannedRelease) throws(MCPGenError) -> Bool {
    let length = release.manifestLength
    return try attempt("list manifests") { () throws(SystemCallError) in
      for name in try manifests.list() where StoreKey(bytes: name) != nil {
        guard let st = try? manifests.stat(name) else { continue }
        if st.size == length { return true }
      }
      return false
    }
  }

  /// Copies the release into `store/<temp>`, hashing the bytes written, and returns the
  /// descriptor that holds the copy's flock and the manifest of what was copied. With
  /// `expected`, every file must match it.
  func copy(
    _ release: ScannedRelease, _ expected: Manifest?, to temp: [UInt8], _ immutability: Immutability
  ) throws(MCPGenError) -> (AnyObject, Manifest) {
    var items = release.entries
    if release.entries.count == 1, release.entries[0].kind.isRegularFile {
      let file = try attempt("create temporary copy") { () throws(SystemCallError) in
        let f = try entries.openFile(temp, flags: [.writeOnly, .create, .exclusive], mode: 0o600)
        try Syscall.flock(f.fd, LockOperation.exclusive).get("flock", f.path)
        return f
      }
      // Not marked immutable yet: an immutable inode cannot be renamed into place (sealRoot does it).
      items[0].digest = try FileWorker(progress: options.progress).copyFile(release, 0, expected?.entries[0].digest, to: file)
      try attempt("make the copy durable") { () throws(SystemCallError) in try entries.syncFileSystem() }
      return (file, Manifest(sorted: items))
    }

    let dir = try attempt("create temporary copy") { () throws(SystemCallError) in
      try entries.makeDirectory(temp, mode: 0o700)
      let d = try entries.openDirectory(temp)
      try Syscall.flock(d.fd, LockOperation.exclusive).get("flock", d.path)
      return d
    }
    // Directories this copy made, kept open (up to a bound) so each file is created relative to
    // its parent's descriptor without resolving the path again.
    let parents = DirectoryCache(root: dir, limit: DirectoryCache.limit)
    try attempt("create temporary copy") { () throws(SystemCallError) in
      for e in items.dropFirst() where e.kind == .directory || e.kind == .symlink {
        let (parent, name) = splitLast(e.path)
        let parentDir = try parents.directory(parent)
        if e.kind == .directory {
          try parentDir.makeDirectory(name, mode: 0o700)
          try parents.remember(e.path)
        } else {
          try parentDir.makeSymlink(name, target: e.target)
        }
      }
    }
    let digests = DigestSlots(count: items.count)
    try ParallelWork.run(release.hashingOrder, bytes: release.byteCount, progress: options.progress) { (i, worker) throws(MCPGenError) in
      let (parent, name) = splitLast(items[i].path)
      let file = try attempt("create temporary copy") { () throws(SystemCallError) in
        try parents.directory(parent).openFile(name, flags: [.writeOnly, .create, .exclusive], mode: 0o600)
      }
      digests.set(i, try worker.copyFile(release, i, expected?.entries[i].digest, to: file))
    }
    for i in release.fileIndices { items[i].digest = digests.get(i) }
    try sealAndCheck(dir, release.entries, parents, immutability) {
      MCPGenError(
        .sourceChanged,
        "the copy of \(release.path.displayString) does not match what was read; nothing was stored, run the command again once the release is no longer changing",
        path: release.path)
    }
    return (dir, Manifest(sorted: items))
  }

  /// Steps 4 and 5 of an add on the tree `dir` (a copy, or a tree a pull built): seals its
  /// directories deepest first (0555, immutable), its root 0555; `syncfs`, re-reading the
  /// structure from disk meanwhile, which must equal `expected` (types, sizes, execute bits,
  /// symlink targets, names: entries without digests) or `mismatch()` is thrown; then, as
  /// root, marks every file immutable. `sharesStoredFiles`: some files may be a stored entry's
  /// (a pull's tree), immutable already.
  func sealAndCheck(
    _ dir: DirectoryFD, _ expected: [ManifestEntry], _ parents: DirectoryCache, _ immutability: Immutability,
    sharesStoredFiles: Bool = false, mismatch: () -> MCPGenError
  ) throws(MCPGenError) {
    // Deepest first, so no directory is sealed before its children are.
    try attempt("seal temporary copy") { () throws(SystemCallError) in
      for e in expected.dropFirst().reversed() where e.kind == .directory {
        let d = try dir.openDirectory(e.path)
        try d.changeMode(0o555)
        try immutability.mark(d.fd, d.path)
      }
      try dir.changeMode(0o555)
    }
    // The copy's own structure, read back from disk, must be the expected one. The re-read
    // needs the CPU while the syncfs waits for the disk, so the two run at once.
    let structure = Background { () throws(MCPGenError) in try TreeScanner.scan(directory: dir) }
    let synced = Result { () throws(SystemCallError) in try dir.syncFileSystem() }
    let copied = try structure.value()
    try attempt("make the copy durable") { () throws(SystemCallError) in try synced.get() }
    guard copied.entries == expected else { throw mismatch() }
    try markFilesImmutable(expected, parents, immutability, sharesStoredFiles: sharesStoredFiles)
  }

  /// Marks every file of the tree immutable, once their data is on disk.
  ///
  /// ext4 writes a regular file's dirty pages back synchronously before it sets the flag
  /// (`ext4_ioctl_setflags`): marking each file right after its copy would cost one synchronous
  /// write per file. After the copy's syncfs the pages are clean; the syncfs that follows the
  /// rename into the store makes the flags durable.
  ///
  /// A file shared with a stored entry has the flag already: with `sharesStoredFiles`, each file
  /// is looked at first (`statx`, one call), and only one without the flag is opened and marked.
  private func markFilesImmutable(
    _ entries: [ManifestEntry], _ parents: DirectoryCache, _ immutability: Immutability, sharesStoredFiles: Bool
  ) throws(MCPGenError) {
    guard immutability.isMarking else { return }
    // The byte count only decides whether threads are worth starting: a mark costs about as
    // much as reading a small file.
    let files = entries.indices.filter { entries[$0].kind.isRegularFile }
    try ParallelWork.run(files, bytes: UInt64(files.count) << 14) { (i, _) throws(MCPGenError) in
      try attempt("seal temporary copy") { () throws(SystemCallError) in
        let (parent, name) = splitLast(entries[i].path)
        let directory = try parents.directory(parent)
        if sharesStoredFiles && directory.isImmutable(name) == true { return }
        let file = try directory.openFile(name, flags: [.readOnly, .noFollow, .nonBlocking])
        try immutability.mark(file.fd, file.path)
      }
    }
  }

  /// The entry root can only be made immutable once it sits at its final name (an immutable inode
  /// cannot be renamed). A crash before this leaves a correct entry that is merely not immutable.
  /// Returns whether the entry is sealed (running as root where flags are supported).
  @discardableResult
  func sealRoot(of key: StoreKey, _ manifest: Manifest, _ immutability: Immutability) throws(SystemCallError) -> Bool {
    guard case .applied = immutability.status else { return false }
    if manifest.isSingleFile {
      let f = try entries.openFile(key.bytes, flags: [.readOnly, .nonBlocking])
      try immutability.mark(f.fd, f.path)
    } else {
      let d = try entries.openDirectory(key.bytes)
      try immutability.mark(d.fd, d.path)
    }
    return immutability.isMarking
  }
}

extension FileWorker {
  /// Copies one file, hashing exactly the bytes written, and returns their digest. The source
  /// must still be the file scanned, unchanged, and match `expected` when there is one.
  func copyFile(
    _ release: ScannedRelease, _ index: Int, _ expected: Digest?, to destination: FileFD
  ) throws(MCPGenError) -> Digest {
    let entry = release.entries[index]
    let source = try release.open(index)
    #if DEBUG
    FileWorker.debugCopyDelay()
    #endif
    let (digest, size) = try attempt("copy") { () throws(SystemCallError) in
      var copy = WritebackCopy(to: destination)
      let checked = release.identities[index] != nil  // checkUnchanged below catches a file that grew
      let result = try self.digest(source, size: checked ? entry.size : nil) { (chunk) throws(SystemCallError) in
        // A file of gigabytes is not copied to its end after a cancel (the caller reports it).
        if try copy.write(chunk), Cancellation.requested { throw SystemCallError("write", path: destination.path, errno: .canceled) }
      }
      try copy.finish()
      return result
    }
    guard size == entry.size, expected == nil || digest == expected else {
      throw release.changed(entry, "changed")
    }
    try release.checkUnchanged(index, source)
    try attempt("seal copy") { () throws(SystemCallError) in
      try destination.changeMode(UInt32(entry.kind.storedMode))
    }
    return digest
  }
}

/// Open directories of a copy in progress, by relative path. Filled by one thread before the
/// parallel copy starts and only read during it.
// Unchecked: written by one thread before the workers start, only read while they run, so no
// lock is taken on every file's lookup.
final class DirectoryCache: @unchecked Sendable {
  private let root: DirectoryFD
  private let limit: Int
  private var open: [[UInt8]: DirectoryFD] = [:]

  /// Half of the descriptors the process may open, so the copy's own files and the source's
  /// always fit.
  static var limit: Int { Int(Syscall.raiseOpenFileLimit(to: 16_384) / 2) }

  init(root: DirectoryFD, limit: Int) {
    self.root = root
    self.limit = limit
  }

  func remember(_ path: [UInt8]) throws(SystemCallError) {
    guard open.count < limit else { return }
    open[path] = try root.openDirectory(path)
  }

  func directory(_ path: [UInt8]) throws(SystemCallError) -> DirectoryFD {
    if path.isEmpty { return root }
    if let d = open[path] { return d }
    return try root.openDirectory(path)
  }
}

#if DEBUG
extension FileWorker {
  /// Debug builds only: `MCP_GEN_DEBUG_COPY_DELAY=SECONDS` sleeps before each file is copied, so
  /// a test can interrupt an `add` while it copies without needing gigabytes. The sleep comes
  /// after the source file is opened (and its identity checked): a test can change the file
  /// between the open and the read, where only the checks after the copy can see it.
  static let copyDelay: Double = environmentValue("MCP_GEN_DEBUG_COPY_DELAY").flatMap { Double($0) } ?? 0

  static func debugCopyDelay() {
    if copyDelay > 0 { sleepSeconds(copyDelay) }
  }
}
#endif
