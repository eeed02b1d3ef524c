import MCPGenSystem
import Synchronization
import SystemPackage

/// A regular file of a stored release as that release's manifest records it. Only the store
/// makes these (`Store.storedFiles(holding:)`, from manifests checked against their keys), so
/// `digest` is the digest the store verified when it stored the file.
public struct StoredFile: Sendable {
  public let digest: Digest
  public let size: UInt64
  /// The release, and the file's path in it (`.` for a single-file release).
  public let key: StoreKey
  public let path: [UInt8]
  public let kind: ManifestEntry.Kind
}

/// What a pull takes from the root besides `add` and `switch`: stored files that already hold
/// a content it needs (store-layout.md section 15, step 4).
extension Store {
  /// For each wanted content (digest and size) that a regular file of some stored release has,
  /// one such file, by the stored manifests (each checked against its key; one that cannot be
  /// read is skipped, audit reports it), in digest order.
  public func storedFiles(holding wanted: [Digest: UInt64]) throws(MCPGenError) -> [StoredFile] {
    guard !wanted.isEmpty else { return [] }
    var found: [Digest: StoredFile] = [:]
    for key in try keys() {
      guard let manifest = try? readManifest(key) else { continue }
      for e in manifest.entries where e.kind.isRegularFile {
        guard let d = e.digest, found[d] == nil, wanted[d] == e.size else { continue }
        found[d] = StoredFile(digest: d, size: e.size, key: key, path: e.path, kind: e.kind)
      }
      if found.count == wanted.count { break }
    }
    return found.values.sorted { $0.digest < $1.digest }
  }

  /// Which of `files` still hold the bytes their manifests record, so that a pull may share
  /// them. Each must be a regular file of the recorded size, and then either
  /// - **sealed** (as root): owned by root, with its stored mode and the immutable flag, every
  ///   directory from `store/` down to it trusted (section 4a's rule: owned by root, not
  ///   writable by group or others). Its bytes cannot have changed since the store verified
  ///   them without root clearing the flag first, and its name cannot have moved: it is taken
  ///   without being read. (`audit` reads it, as it reads every stored file.)
  /// - or else hashed (on every core, read or mapped as audit reads; the size and change time
  ///   again after the read, so a file written meanwhile is not taken) to its digest.
  /// A file that cannot be opened or read is not taken: the caller gets the content elsewhere.
  /// Holds at most `descriptors` descriptors at once: the trusted directories up to half of
  /// them (files below the others are hashed), the files kept open the rest.
  /// Returns the indices of the files taken, with the descriptor their bytes were judged
  /// through for the first indices the budget allows (to link the inode that was checked),
  /// else nil.
  public func checkStoredFiles(
    _ files: [StoredFile], descriptors: Int, progress: ProgressCounters?
  ) throws(MCPGenError) -> [Int: FileFD?] {
    let taken = Mutex<[Int: FileFD?]>([:])
    let bytes = files.reduce(UInt64(0)) { $0 + $1.size }
    let sealed = Store.marksImmutable ? trustedDirectories(holding: files, limit: descriptors / 2) : [:]
    let keepOpen = descriptors - sealed.count
    try ParallelWork.run(Array(files.indices), bytes: bytes, progress: progress) { (i, worker) throws(MCPGenError) in
      let wanted = files[i]
      let (parent, leaf) = splitLast(storedName(wanted.key, wanted.path))
      let directory = sealed[parent]
      let opened: FileFD?
      if let directory { opened = try? directory.openFile(leaf, flags: [.readOnly, .nonBlocking]) } else { opened = try? openStoredFile(wanted.key, wanted.path) }
      guard let file = opened, let before = try? file.stat(), before.type == .regular, UInt64(before.size) == wanted.size
      else { return }
      if directory != nil && Store.isSealed(file, before, wanted.kind) {
        progress?.add(bytes: wanted.size)
        progress?.add(files: 1)
      } else {
        guard let (digest, count) = try? worker.digest(file, size: wanted.size), count == wanted.size, digest == wanted.digest,
          let after = try? file.stat(), after.size == before.size, after.changed == before.changed
        else { return }
      }
      taken.withLock { $0[i] = i < keepOpen ? file : nil }
    }
    return taken.withLock { $0 }
  }

  /// A stored file only root could have changed since it was stored: owned by root, the stored
  /// mode of its kind (no write bit), `FS_IMMUTABLE_FL` set.
  private static func isSealed(_ file: FileFD, _ st: FileInfo, _ kind: ManifestEntry.Kind) -> Bool {
    guard st.uid == 0, UInt32(st.permissions.rawValue) & 0o7777 == UInt32(kind.storedMode),
      case .success(let flags) = Syscall.getInodeFlags(file.fd)
    else { return false }
    return flags.contains(.immutable)
  }

  /// The directories holding `files`, by their names below `store/` (`""` is `store/` itself),
  /// opened one component at a time without following symlinks, and kept only when they and
  /// every directory above them up to `store/` are trusted. Opened once each, before the files
  /// are looked at on several threads; at most `limit` are kept open (the rest: hashed).
  private func trustedDirectories(holding files: [StoredFile], limit: Int) -> [[UInt8]: DirectoryFD] {
    var judged: [[UInt8]: DirectoryFD?] = [:]
    func trusted(_ st: FileInfo?, _ path: FilePath) -> Bool {
      guard let st, st.type == .directory else { return false }
      return TrustedPath.problems(of: st, at: path, last: true).isEmpty
    }
    judged[[]] = trusted(try? Syscall.fstat(entries.fd).get(), entries.path) ? entries : nil
    func open(_ path: [UInt8]) -> DirectoryFD? {
      if let known = judged[path] { return known }
      let (parent, name) = splitLast(path)
      var opened: DirectoryFD? = nil
      if let up = open(parent), judged.count < limit, let d = try? up.openDirectory(name), trusted(try? Syscall.fstat(d.fd).get(), d.path) {
        opened = d
      }
      judged[path] = opened
      return opened
    }
    for f in files { _ = open(splitLast(storedName(f.key, f.path)).parent) }
    return judged.compactMapValues { $0 }
  }
}
