import MCPGenSystem
import SystemPackage

/// A release as found on disk: its entries (root first, then sorted by path bytes), with file
/// digests still unknown, and the handles needed to read it.
public struct ScannedRelease: Sendable {
  public enum Source: Sendable {
    case directory(DirectoryFD)
    case file(FileFD)
  }

  public let path: FilePath
  public let source: Source
  public internal(set) var entries: [ManifestEntry]
  /// What each file entry was when scanned, to notice it replaced or written to later.
  var identities: [Int: FileIdentity]
  /// Permission bits (07777) of each entry, in the order of `entries`; audit checks them.
  public internal(set) var modes: [UInt32] = []

  public var fileIndices: [Int] { entries.indices.filter { entries[$0].kind.isRegularFile } }
  public var byteCount: UInt64 { entries.reduce(0) { $0 + ($1.kind.isRegularFile ? $1.size : 0) } }

  /// The length of this release's serialized manifest, known before any file is read.
  var manifestLength: Int {
    entries.reduce(Manifest.header.count) { total, e in
      total + 6 + String(e.size).utf8.count + (e.kind.isRegularFile ? 64 : 1) + e.path.count + e.target.count
    }
  }

  /// File indices largest first, so the big files start early and the threads finish together.
  var hashingOrder: [Int] { fileIndices.sorted { entries[$0].size > entries[$1].size } }

  /// Opens file entry `index` for reading and checks it is still the file that was scanned.
  func open(_ index: Int) throws(MCPGenError) -> FileFD {
    let entry = entries[index]
    switch source {
    case .file(let file):
      if let scanned = identities[index] { try TreeScanner.check(file, against: scanned, entry.path, in: path) }
      return file
    case .directory(let dir):
      return try TreeScanner.openFile(entry.path, in: dir, as: identities[index], releasePath: path)
    }
  }

  /// Checks, after reading entry `index` through `file`, that nothing wrote to it meanwhile:
  /// its change time still is the one the scan saw (the kernel updates it on every write), so
  /// the bytes read are the file as scanned, not a mix of two versions.
  func checkUnchanged(_ index: Int, _ file: FileFD) throws(MCPGenError) {
    guard let scanned = identities[index] else { return }
    try TreeScanner.check(file, against: scanned, entries[index].path, in: path)
  }

  func changed(_ entry: ManifestEntry, _ what: String) -> MCPGenError {
    TreeScanner.changed(entry.path, what, in: path)
  }
}

/// Walks a release without following any symlink inside it.
public enum TreeScanner {
  /// Scans `path`: a regular file or a directory. A symlink given as `path` itself is followed
  /// (the operator named it); symlinks inside are recorded, never followed. FIFOs, sockets and
  /// devices are refused before anything is written.
  public static func scan(_ path: FilePath) throws(MCPGenError) -> ScannedRelease {
    try scan(path, onFile: nil).release
  }

  /// `scan(_:)`, showing each regular file to `onFile` as soon as it is found (see `walk`).
  static func scan(_ path: FilePath, onFile: FileSink?) throws(MCPGenError) -> (release: ScannedRelease, order: [Int]) {
    let probe = try attempt("read release") { () throws(SystemCallError) in
      try withCString(path.bytes) { (p) throws(SystemCallError) in
        try Syscall.openat(Syscall.currentDirectoryFD, p, [.pathOnly, .closeOnExec]).get("open", path)
      }
    }
    let top = try attempt("read release") { () throws(SystemCallError) in
      defer { _ = Syscall.close(probe) }
      return try Syscall.fstat(probe).get("fstat", path)
    }
    switch top.type {
    case .directory:
      let dir = try attempt("read release") { () throws(SystemCallError) in try DirectoryFD.open(path) }
      try requireSame(top, try attempt("read release") { () throws(SystemCallError) in try dir.fstat() }, path)
      return try walk(dir, path, onFile: onFile)
    case .regular:
      let file = try attempt("read release") { () throws(SystemCallError) in
        let fd = try withCString(path.bytes) { (p) throws(SystemCallError) in
          try Syscall.openat(Syscall.currentDirectoryFD, p, [.readOnly, .closeOnExec, .noControllingTerminal, .nonBlocking]).get("open", path)
        }
        return FileFD(fd: fd, path: path)
      }
      let st = try attempt("read release") { () throws(SystemCallError) in try file.stat() }
      try requireSame(top, st, path)
      let entry = ManifestEntry(path: ManifestEntry.rootPath, kind: kind(of: st), size: UInt64(st.size))
      var release = ScannedRelease(path: path, source: .file(file), entries: [entry], identities: [0: identity(st)])
      release.modes = [UInt32(st.permissions.rawValue)]
      return (release, [])
    default:
      throw unsupported(top, path)
    }
  }

  /// Scans `name` inside `parent` (a store entry) without following it if it is a symlink.
  public static func scan(_ name: [UInt8], in parent: DirectoryFD) throws(MCPGenError) -> ScannedRelease {
    try scan(name, in: parent, onFile: nil).release
  }

  static func scan(
    _ name: [UInt8], in parent: DirectoryFD, onFile: FileSink?
  ) throws(MCPGenError) -> (release: ScannedRelease, order: [Int]) {
    let st = try attempt("read store entry") { () throws(SystemCallError) in try parent.stat(name) }
    switch st.type {
    case .directory:
      let dir = try attempt("read store entry") { () throws(SystemCallError) in try parent.openDirectory(name) }
      return try walk(dir, dir.path, onFile: onFile)
    case .regular:
      let file = try attempt("read store entry") { () throws(SystemCallError) in
        try parent.openFile(name, flags: [.readOnly, .noControllingTerminal, .nonBlocking])
      }
      let opened = try attempt("read store entry") { () throws(SystemCallError) in try file.stat() }
      try requireSame(st, opened, file.path)
      let entry = ManifestEntry(path: ManifestEntry.rootPath, kind: kind(of: st), size: UInt64(st.size))
      var release = ScannedRelease(path: file.path, source: .file(file), entries: [entry], identities: [0: identity(st)])
      release.modes = [UInt32(st.permissions.rawValue)]
      return (release, [])
    default:
      throw unsupported(st, parent.path.appending(bytes: name))
    }
  }

  /// Scans a directory already open (a store entry or a temporary copy).
  public static func scan(directory: DirectoryFD) throws(MCPGenError) -> ScannedRelease {
    try walk(directory, directory.path).release
  }

  typealias FileSink = (FoundFile, UInt64) -> Void

  /// A regular file as the walk finds it: `found` numbers files in discovery order.
  struct FoundFile: Sendable {
    var found: Int
    var path: [UInt8]
    var identity: FileIdentity
    /// The tree's root and its display path, to open the file by.
    var root: DirectoryFD
    var releasePath: FilePath
  }

  /// Walks the tree under `root`. `onFile` sees each regular file as soon as it is found;
  /// `order[found]` is then that file's index in the returned entries.
  static func walk(
    _ root: DirectoryFD, _ path: FilePath, onFile: FileSink? = nil
  ) throws(MCPGenError) -> (release: ScannedRelease, order: [Int]) {
    // What each entry was on disk, carried with it through the sort (no per-path hashing).
    struct Found {
      var entry: ManifestEntry
      var identity: FileIdentity?
      var mode: UInt32
      var found = -1
    }
    var files = 0
    let rootMode = try attempt("read release") { () throws(SystemCallError) in UInt32(try root.fstat().permissions.rawValue) }
    var found: [Found] = []
    var pending: [[UInt8]] = [[]]
    while let relative = pending.popLast() {
      let dir = try attempt("read release") { () throws(SystemCallError) in
        relative.isEmpty ? root : try root.openDirectory(relative)
      }
      let names = try attempt("list release directory") { () throws(SystemCallError) in try dir.list() }
      for name in names {
        let child = relative.isEmpty ? name : relative + [0x2F] + name
        let st = try attempt("read release") { () throws(SystemCallError) in try dir.stat(name) }
        let mode = UInt32(st.permissions.rawValue)
        switch st.type {
        case .directory:
          found.append(Found(entry: ManifestEntry(path: child, kind: .directory, size: 0), mode: mode))
          pending.append(child)
        case .regular:
          let id = identity(st)
          found.append(Found(entry: ManifestEntry(path: child, kind: kind(of: st), size: UInt64(st.size)), identity: id, mode: mode, found: files))
          onFile?(FoundFile(found: files, path: child, identity: id, root: root, releasePath: path), UInt64(st.size))
          files += 1
        case .symlink:
          let target = try attempt("read symlink") { () throws(SystemCallError) in try dir.readSymlink(name) }
          found.append(Found(entry: ManifestEntry(path: child, kind: .symlink, size: UInt64(target.count), target: target), mode: mode))
        default:
          throw unsupported(st, path.appending(bytes: child))
        }
      }
    }
    found.sort { $0.entry.path.lexicographicallyPrecedes($1.entry.path) }
    let rootEntry = ManifestEntry(path: ManifestEntry.rootPath, kind: .directory, size: 0)
    var identities: [Int: FileIdentity] = [:]
    var order = [Int](repeating: 0, count: files)
    for (i, f) in found.enumerated() where f.found >= 0 {
      identities[i + 1] = f.identity
      order[f.found] = i + 1
    }
    var release = ScannedRelease(path: path, source: .directory(root), entries: [rootEntry] + found.map(\.entry), identities: identities)
    release.modes = [rootMode] + found.map(\.mode)
    return (release, order)
  }

  /// Opens `relative` in `dir` for reading; with `scanned`, it must still be that file, unchanged.
  static func openFile(
    _ relative: [UInt8], in dir: DirectoryFD, as scanned: FileIdentity?, releasePath: FilePath
  ) throws(MCPGenError) -> FileFD {
    let file: FileFD
    do {
      file = try dir.openFile(relative, flags: [.readOnly, .noControllingTerminal, .nonBlocking])
    } catch let e where e.errno == .noSuchFileOrDirectory || e.errno == .tooManySymbolicLinkLevels {
      throw changed(relative, "was removed or replaced", in: releasePath)
    } catch {
      throw MCPGenError(error, doing: "read")
    }
    if let scanned { try check(file, against: scanned, relative, in: releasePath) }
    return file
  }

  static func check(_ file: FileFD, against scanned: FileIdentity, _ relative: [UInt8], in releasePath: FilePath) throws(MCPGenError) {
    let st = try attempt("read") { () throws(SystemCallError) in try file.stat() }
    if st.type != .regular || !scanned.isSameFile(st) { throw changed(relative, "was replaced", in: releasePath) }
    if !scanned.isUnchanged(st) { throw changed(relative, "changed", in: releasePath) }
  }

  static func changed(_ relative: [UInt8], _ what: String, in releasePath: FilePath) -> MCPGenError {
    let where_ = relative == ManifestEntry.rootPath ? releasePath : releasePath.appending(bytes: relative)
    return MCPGenError(
      .sourceChanged,
      "\(where_.displayString) \(what) while mcp-gen was reading it; nothing was stored, run the command again once the release is no longer changing",
      path: where_)
  }

  static func kind(of st: FileInfo) -> ManifestEntry.Kind {
    switch st.type {
    case .directory: return .directory
    case .symlink: return .symlink
    default: return st.permissions.contains(.ownerExecute) ? .executable : .file
    }
  }

  static func identity(_ st: FileInfo) -> FileIdentity { FileIdentity(st) }

  private static func requireSame(_ a: FileInfo, _ b: FileInfo, _ path: FilePath) throws(MCPGenError) {
    if a.device != b.device || a.inode != b.inode {
      throw MCPGenError(.sourceChanged, "\(path.displayString) was replaced while mcp-gen opened it; run the command again", path: path)
    }
  }

  private static func unsupported(_ st: FileInfo, _ path: FilePath) -> MCPGenError {
    let what: String
    switch st.type {
    case .fifo: what = "a FIFO"
    case .socket: what = "a socket"
    case .characterDevice: what = "a character device"
    case .blockDevice: what = "a block device"
    default: what = "of an unknown file type"
    }
    return MCPGenError(
      .unsupportedFileType,
      "\(path.displayString) is \(what); a release may hold only files, directories and symlinks, remove it and run the command again",
      path: path)
  }
}

/// Computes file digests of a scanned release in parallel and returns its manifest.
public enum ReleaseHasher {
  /// Scans the release at `path` and hashes its files while the scan is still going.
  public static func manifest(scanning path: FilePath, progress: ProgressCounters? = nil) throws(MCPGenError) -> Manifest {
    var hashed = try StreamingHash.run(stopOnError: true, progress: progress) { (sink) throws(MCPGenError) in
      try TreeScanner.scan(path, onFile: sink)
    }
    if case .file = hashed.release.source { return try manifest(of: hashed.release, progress: progress) }
    for (i, digest) in hashed.digests { hashed.release.entries[i].digest = digest }
    return Manifest(sorted: hashed.release.entries)
  }

  public static func manifest(of release: ScannedRelease, progress: ProgressCounters? = nil) throws(MCPGenError) -> Manifest {
    var entries = release.entries
    let digests = DigestSlots(count: entries.count)
    try ParallelWork.run(release.hashingOrder, bytes: release.byteCount, progress: progress) { (i, worker) throws(MCPGenError) in
      let e = release.entries[i]
      digests.set(i, try worker.digest(scanned: release.open(i), e.path, size: e.size, release.identities[i], in: release.path))
    }
    for i in release.fileIndices { entries[i].digest = digests.get(i) }
    return Manifest(entries: entries)
  }
}

extension FileWorker {
  /// Hashes a file a scan found: it must still have the scanned size and, with `identity`, be
  /// the same file (inode, type) and not have been written to while it was read. One check
  /// after the read covers both: a file opened without a check first is only ever read.
  func digest(
    scanned file: FileFD, _ relative: [UInt8], size: UInt64, _ identity: FileIdentity?, in releasePath: FilePath
  ) throws(MCPGenError) -> Digest {
    let (digest, read): (Digest, UInt64)
    do {
      (digest, read) = try attempt("read") { () throws(SystemCallError) in
        try self.digest(file, size: identity == nil ? nil : size)
      }
    } catch {
      // A read that failed on a file swapped in since the scan (pread cannot read a FIFO) is
      // reported as the swap it is.
      if let identity { try TreeScanner.check(file, against: identity, relative, in: releasePath) }
      throw error
    }
    if read != size { throw TreeScanner.changed(relative, "changed size", in: releasePath) }
    if let identity { try TreeScanner.check(file, against: identity, relative, in: releasePath) }
    return digest
  }
}

/// One slot per entry, each written by exactly one worker thread.
// Unchecked and unsafe: worker threads write their slots without a lock (each slot by exactly
// one worker), and the slots are read only after ParallelWork.run has joined them all; an array
// written from several threads would copy on write.
final class DigestSlots: @unchecked Sendable {
  private let slots: UnsafeMutableBufferPointer<Digest?>
  init(count: Int) { slots = .allocate(capacity: count); slots.initialize(repeating: nil) }
  deinit { slots.deinitialize(); slots.deallocate() }
  func set(_ i: Int, _ d: Digest) { slots[i] = d }
  func get(_ i: Int) -> Digest? { slots[i] }
}

/// A file's inode, size and change time as one stat saw them.
struct FileIdentity: Sendable, Equatable {
  var device: UInt64
  var inode: UInt64
  var size: Int64
  var changeSeconds: Int
  var changeNanoseconds: Int

  init(_ st: FileInfo) {
    device = st.device
    inode = st.inode
    size = st.size
    changeSeconds = Int(st.changed.seconds)
    changeNanoseconds = Int(st.changed.nanoseconds)
  }

  func isSameFile(_ st: FileInfo) -> Bool { device == st.device && inode == st.inode }

  func isUnchanged(_ st: FileInfo) -> Bool {
    size == st.size && changeSeconds == Int(st.changed.seconds) && changeNanoseconds == Int(st.changed.nanoseconds)
  }
}
