#if canImport(Glibc)
import Glibc
#endif
import CMCPGenShims
import SystemPackage

/// An open directory that every operation is relative to.
///
/// The engine opens `<root>` once and reaches everything below it through descriptors, never by
/// re-resolving absolute paths, so a directory swapped for a symlink mid-operation cannot redirect
/// a read or a write. Multi-component paths are resolved with `openat2(RESOLVE_NO_SYMLINKS |
/// RESOLVE_BENEATH)` (falling back to one `O_NOFOLLOW` component at a time where the kernel lacks
/// it). `path` is kept only to name things in errors.
///
/// Sendable: both fields are constants, and the kernel serializes the `*at` calls made through a
/// shared descriptor. `list` reads a `dup` that shares the descriptor's offset, so one directory
/// is listed by one thread at a time.
public final class DirectoryFD: Sendable {
  public let fd: CInt
  public let path: FilePath

  public init(fd: CInt, path: FilePath) {
    self.fd = fd
    self.path = path
  }

  deinit { _ = Syscall.close(fd) }

  public static let directoryFlags: OpenFlags = [.readOnly, .directory, .closeOnExec, .noFollow]

  /// Opens an absolute or working-directory-relative path as a directory (symlinks followed:
  /// the operator named it).
  public static func open(_ path: FilePath) throws(SystemCallError) -> DirectoryFD {
    let fd = try withCString(path.bytes) { (p) throws(SystemCallError) in
      try Syscall.openat(AT_FDCWD, p, [.readOnly, .directory, .closeOnExec]).get("open", path)
    }
    return DirectoryFD(fd: fd, path: path)
  }

  /// Opens a directory below this one; no component may be a symlink.
  public func openDirectory(_ relative: [UInt8]) throws(SystemCallError) -> DirectoryFD {
    if relative.isEmpty || relative == [0x2E] {
      let fd = try withCString([0x2E]) { (p) throws(SystemCallError) in
        try Syscall.openat(self.fd, p, DirectoryFD.directoryFlags).get("openat", path)
      }
      return DirectoryFD(fd: fd, path: path)
    }
    let fd = try openBeneath(relative, DirectoryFD.directoryFlags, 0)
    return DirectoryFD(fd: fd, path: path.appending(bytes: relative))
  }

  /// Opens a file below this one (`O_NOFOLLOW` on every component); the caller owns the result.
  public func openFile(_ relative: [UInt8], flags: OpenFlags, mode: mode_t = 0) throws(SystemCallError) -> FileFD {
    let fd = try openBeneath(relative, flags.union([.closeOnExec, .noFollow]), mode)
    return FileFD(fd: fd, in: path, at: relative)
  }

  /// What `openRegularFile` found at a name.
  public enum RegularFileOpening {
    case regular(FileFD)
    /// Something else (`.symlink` for a symbolic link, which is never followed).
    case other(FileKind)
  }

  /// Opens `relative` only if it is a regular file, for files in the root that every command
  /// reads (the journal, the configuration).
  ///
  /// A FIFO put in a regular file's place would block `open(2)` until some writer came along, and
  /// then every read: any user who could make one would hang every command. `O_NONBLOCK` makes
  /// the open return at once whatever is there, `fstat` says what it is, and only a regular file
  /// is handed back, with `O_NONBLOCK` cleared again. A symbolic link is never followed
  /// (`O_NOFOLLOW`; `ELOOP` is told apart from other failures by an `fstatat`).
  public func openRegularFile(_ relative: [UInt8], flags: OpenFlags, mode: mode_t = 0) throws(SystemCallError) -> RegularFileOpening {
    let file: FileFD
    do {
      file = try openFile(relative, flags: flags.union(.nonBlocking), mode: mode)
    } catch where error.errno == .tooManySymbolicLinkLevels {
      if let st = try? stat(relative), st.type == .symlink { return .other(.symlink) }
      throw error
    }
    let st = try file.stat()
    guard st.type == .regular else { return .other(st.type) }
    let status = try Syscall.getStatusFlags(file.fd).get("fcntl", file.path)
    try Syscall.setStatusFlags(file.fd, status.subtracting(.nonBlocking)).get("fcntl", file.path)
    return .regular(file)
  }

  private func openBeneath(_ relative: [UInt8], _ flags: OpenFlags, _ mode: mode_t) throws(SystemCallError) -> CInt {
    let fast = withCString(relative) { Syscall.openat2Beneath(fd, $0, flags, mode) }
    switch fast {
    case .success(let fd): return fd
    case .failure(let e) where e == .noFunction || e == .notPermitted || e == .fileNameTooLong
      || e == .invalidArgument:
      return try openByComponents(relative, flags, mode)
    case .failure(let e):
      throw SystemCallError("open", path: path.appending(bytes: relative), errno: e)
    }
  }

  /// The fallback: one `openat(O_NOFOLLOW)` per component.
  private func openByComponents(_ relative: [UInt8], _ flags: OpenFlags, _ mode: mode_t) throws(SystemCallError) -> CInt {
    let components = relative.split(separator: 0x2F, omittingEmptySubsequences: true).map(Array.init)
    var current: CInt = -1
    defer { if current >= 0 { _ = Syscall.close(current) } }
    for (i, component) in components.enumerated() {
      if component == [0x2E, 0x2E] {
        throw SystemCallError("open", path: path.appending(bytes: relative), errno: .notPermitted)
      }
      let base = current >= 0 ? current : fd
      let last = i == components.count - 1
      let opened = try withCString(component) { (p) throws(SystemCallError) in
        try Syscall.openat(base, p, last ? flags : DirectoryFD.directoryFlags, mode)
          .get("openat", path.appending(bytes: relative))
      }
      if current >= 0 { _ = Syscall.close(current) }
      current = opened
    }
    let result = current
    current = -1
    return result
  }

  /// `fstatat` without following a final symlink. Intermediate components must be directories
  /// this process created or verified; use `openDirectory` first for untrusted paths.
  public func stat(_ name: [UInt8]) throws(SystemCallError) -> FileInfo {
    try withCString(name) { (p) throws(SystemCallError) in
      try Syscall.fstatat(fd, p).get("fstatat", path.appending(bytes: name))
    }
  }

  /// Whether the inode at `name` (not followed) carries the immutable flag, by `statx`; nil
  /// when that cannot be told (the file system does not report it, or statx failed).
  public func isImmutable(_ name: [UInt8]) -> Bool? {
    try? withCString(name) { Syscall.isImmutable(at: fd, $0) }.get()
  }

  /// Like `stat`, but a missing entry is an answer (`nil`), not an error.
  public func statIfPresent(_ name: [UInt8]) throws(SystemCallError) -> FileInfo? {
    switch withCString(name, { Syscall.fstatat(fd, $0) }) {
    case .success(let st): return st
    case .failure(let e) where e == .noSuchFileOrDirectory: return nil
    case .failure(let e): throw SystemCallError("fstatat", path: path.appending(bytes: name), errno: e)
    }
  }

  /// What a program opening `relative` would reach, provided every symlink on the way stays
  /// beneath this directory: `fstat` of an `O_PATH` descriptor opened with
  /// `openat2(RESOLVE_BENEATH)`. A path or link that leads out fails with `EXDEV`
  /// (`.improperLink`); a kernel without openat2 (before 5.6, or a seccomp filter) with `ENOSYS`
  /// or `EPERM`.
  public func statWithin(_ relative: [UInt8]) -> Result<FileInfo, Errno> {
    let opened = withCString(relative) { Syscall.openat2Within(fd, $0, [.pathOnly, .closeOnExec]) }
    switch opened {
    case .failure(let e): return .failure(e)
    case .success(let file):
      defer { _ = Syscall.close(file) }
      return Syscall.fstat(file)
    }
  }

  public func fstat() throws(SystemCallError) -> FileInfo {
    try Syscall.fstat(fd).get("fstat", path)
  }

  public func makeDirectory(_ name: [UInt8], mode: mode_t) throws(SystemCallError) {
    try withCString(name) { (p) throws(SystemCallError) in
      try Syscall.mkdirat(fd, p, mode).get("mkdirat", path.appending(bytes: name))
    }
  }

  /// Creates the directory unless it exists already as a directory. A new one gets exactly
  /// `mode` (`fchmod`: the umask would otherwise decide, and a root made under `umask 077` would
  /// lock out the service that reads it), and is made durable (fsync of this directory) before
  /// anything is put in it: otherwise a power cut could lose the directory, and with it
  /// everything later made durable inside it.
  public func ensureDirectory(_ name: [UInt8], mode: mode_t) throws(SystemCallError) {
    switch withCString(name, { Syscall.mkdirat(fd, $0, mode) }) {
    case .success:
      try openDirectory(name).changeMode(mode)
      try sync()
    case .failure(let e) where e == .fileExists:
      let st = try stat(name)
      if st.type != .directory {
        throw SystemCallError("mkdirat", path: path.appending(bytes: name), errno: .notDirectory)
      }
    case .failure(let e): throw SystemCallError("mkdirat", path: path.appending(bytes: name), errno: e)
    }
  }

  public func makeSymlink(_ name: [UInt8], target: [UInt8]) throws(SystemCallError) {
    try withCString(target) { (t) throws(SystemCallError) in
      try withCString(name) { (p) throws(SystemCallError) in
        try Syscall.symlinkat(t, fd, p).get("symlinkat", path.appending(bytes: name))
      }
    }
  }

  public func readSymlink(_ name: [UInt8]) throws(SystemCallError) -> [UInt8] {
    try withCString(name) { (p) throws(SystemCallError) in
      try Syscall.readlinkat(fd, p).get("readlinkat", path.appending(bytes: name))
    }
  }

  /// The target of the link `name` handed to `body` in place; nil when there is no such entry.
  public func readSymlinkIfPresent<R>(
    _ name: UnsafePointer<CChar>, _ body: (UnsafeBufferPointer<UInt8>) -> R
  ) throws(SystemCallError) -> R? {
    switch Syscall.readlinkat(fd, name, body) {
    case .success(let value): return value
    case .failure(let e) where e == .noSuchFileOrDirectory: return nil
    case .failure(let e): throw SystemCallError("readlinkat", path: path.appending(bytes: cStringBytes(name)), errno: e)
    }
  }

  /// Like `readSymlink`, but a missing entry is `nil`.
  public func readSymlinkIfPresent(_ name: [UInt8]) throws(SystemCallError) -> [UInt8]? {
    try withCString(name) { (p) throws(SystemCallError) in try readSymlinkIfPresent(p) { Array($0) } }
  }

  /// `renameat`: atomically replaces `newName` in `directory` if it exists.
  public func rename(_ name: [UInt8], to directory: DirectoryFD, as newName: [UInt8]) throws(SystemCallError) {
    try withCString(name) { (o) throws(SystemCallError) in
      try withCString(newName) { (n) throws(SystemCallError) in
        try Syscall.renameat(fd, o, directory.fd, n).get("renameat", directory.path.appending(bytes: newName))
      }
    }
  }

  /// `renameat2(RENAME_NOREPLACE)`: fails with EEXIST instead of replacing.
  public func renameNoReplace(_ name: [UInt8], to directory: DirectoryFD, as newName: [UInt8]) throws(SystemCallError) {
    try withCString(name) { (o) throws(SystemCallError) in
      try withCString(newName) { (n) throws(SystemCallError) in
        try Syscall.renameatNoReplace(fd, o, directory.fd, n).get("renameat2", directory.path.appending(bytes: newName))
      }
    }
  }

  /// `renameat2(RENAME_EXCHANGE)`: `name` here and `otherName` in `directory` swap places in one
  /// step; a reader of either name never finds it missing.
  public func exchange(_ name: [UInt8], with directory: DirectoryFD, _ otherName: [UInt8]) throws(SystemCallError) {
    try withCString(name) { (o) throws(SystemCallError) in
      try withCString(otherName) { (n) throws(SystemCallError) in
        try Syscall.renameatExchange(fd, o, directory.fd, n).get("renameat2", directory.path.appending(bytes: otherName))
      }
    }
  }

  public func unlink(_ name: [UInt8], directory: Bool = false) throws(SystemCallError) {
    try withCString(name) { (p) throws(SystemCallError) in
      try Syscall.unlinkat(fd, p, directory: directory).get("unlinkat", path.appending(bytes: name))
    }
  }

  /// Every name in the directory except `.` and `..`, unsorted.
  public func list() throws(SystemCallError) -> [[UInt8]] {
    try Syscall.listDirectory(fd).get("readdir", path)
  }

  /// Calls `body` with each name but `.` and `..`, valid only during the call.
  public func forEachName(_ body: (UnsafeBufferPointer<UInt8>) -> Void) throws(SystemCallError) {
    try Syscall.listDirectory(fd, body).get("readdir", path)
  }

  /// Makes the directory's entries (creates, renames, unlinks) durable.
  public func sync() throws(SystemCallError) {
    try Syscall.fsync(fd).get("fsync", path)
  }

  /// Makes everything written on this directory's file system durable in one call.
  public func syncFileSystem() throws(SystemCallError) {
    try Syscall.syncfs(fd).get("syncfs", path)
  }

  public func changeMode(_ mode: mode_t) throws(SystemCallError) {
    try Syscall.fchmod(fd, mode).get("fchmod", path)
  }

  /// Gives the regular file `name` here the permission bits `mode`, unless `fstatat` shows it
  /// has them already: only a file whose mode differs is opened (`O_NOFOLLOW`, `O_NONBLOCK`)
  /// and `fchmod`ed, and only if what was opened is still a regular file. Anything else is left
  /// as it is, for the caller's own check of types.
  public func changeModeIfDifferent(_ name: [UInt8], to mode: UInt32) throws(SystemCallError) {
    let st = try stat(name)
    guard st.type == .regular, UInt32(st.permissions.rawValue) & 0o7777 != mode else { return }
    let file = try openFile(name, flags: [.readOnly, .noFollow, .nonBlocking])
    guard try file.stat().type == .regular else { return }
    try file.changeMode(mode_t(mode))
  }

  public func fileSystemStats() throws(SystemCallError) -> FileSystemInfo {
    try Syscall.fstatvfs(fd).get("fstatvfs", path)
  }
}

/// An open file, closed when the value goes away.
///
/// Sendable: its fields are constants. `read` and `write` move the one file offset that every
/// holder shares: threads that share a file read it at explicit offsets (`pread`) instead.
public final class FileFD: Sendable {
  public let fd: CInt
  private let base: FilePath
  private let relative: [UInt8]?

  /// Where the file is, for messages. Built only when asked for: hashing opens thousands of
  /// files whose paths are never shown.
  public var path: FilePath { relative.map { base.appending(bytes: $0) } ?? base }

  public init(fd: CInt, path: FilePath) {
    self.fd = fd
    self.base = path
    self.relative = nil
  }

  public init(fd: CInt, in directory: FilePath, at relative: [UInt8]) {
    self.fd = fd
    self.base = directory
    self.relative = relative
  }

  deinit { _ = Syscall.close(fd) }

  public func stat() throws(SystemCallError) -> FileInfo {
    try Syscall.fstat(fd).get("fstat", path)
  }

  /// Reads up to `count` bytes; 0 means end of file.
  public func read(into buffer: UnsafeMutableRawPointer, count: Int) throws(SystemCallError) -> Int {
    try Syscall.read(fd, buffer, count).get("read", path)
  }

  /// Writes all of `buffer`, looping over short writes.
  public func writeAll(_ buffer: UnsafeRawBufferPointer) throws(SystemCallError) {
    var offset = 0
    while offset < buffer.count {
      offset += try Syscall.write(fd, buffer.baseAddress! + offset, buffer.count - offset).get("write", path)
    }
  }

  public func writeAll(_ bytes: [UInt8]) throws(SystemCallError) {
    // Array's closures rethrow untyped errors, so the typed error travels out as a Result.
    try bytes.withUnsafeBytes { raw in Result { () throws(SystemCallError) in try writeAll(raw) } }.get()
  }

  public func changeMode(_ mode: mode_t) throws(SystemCallError) {
    try Syscall.fchmod(fd, mode).get("fchmod", path)
  }

  public func sync() throws(SystemCallError) {
    try Syscall.fsync(fd).get("fsync", path)
  }

  /// Starts writing `length` bytes from `offset` to disk without waiting; not a durability
  /// point (a later fsync or syncfs is), only a head start for it.
  public func startWriteback(offset: UInt64, length: UInt64) throws(SystemCallError) {
    try Syscall.startWriteback(fd, Int64(offset), Int64(length)).get("sync_file_range", path)
  }

  /// Moves the file position to `offset` from the start (`lseek(SEEK_SET)`): the next `read`
  /// starts there (the journal's tail after its checkpoint).
  public func seek(to offset: Int64) throws(SystemCallError) {
    _ = try Syscall.lseek(fd, off_t(offset), SEEK_SET).get("lseek", path)
  }

  /// Up to `count` bytes at `offset` (`pread`); fewer only at the end of the file.
  public func read(at offset: Int64, count: Int) throws(SystemCallError) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: count)
    var filled = 0
    while filled < count {
      let n = try out.withUnsafeMutableBytes { raw in
        Result { () throws(SystemCallError) in
          try Syscall.pread(fd, raw.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled)).get("pread", path)
        }
      }.get()
      if n == 0 { break }
      filled += n
    }
    return Array(out[..<filled])
  }

  public func truncate(to length: Int) throws(SystemCallError) {
    try Syscall.ftruncate(fd, off_t(length)).get("ftruncate", path)
  }

  /// Reads the whole file (for small files: manifests, the journal, the lock holder), into one
  /// buffer sized from `fstat`, growing only if the file grows meanwhile.
  public func readAll() throws(SystemCallError) -> [UInt8] {
    var out: [UInt8] = []
    var capacity = max(Int(try stat().size), 0) + 4096
    while true {
      var failure: SystemCallError? = nil
      var filledUp = false
      // Uninitialized: zero-filling first would touch every page once more before read(2) does.
      let part = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
        Syscall.populate(UnsafeMutableRawBufferPointer(buffer))
        while count < buffer.count {
          do throws(SystemCallError) {
            let n = try read(into: buffer.baseAddress! + count, count: buffer.count - count)
            if n == 0 { return }
            count += n
          } catch {
            failure = error
            return
          }
        }
        filledUp = true
      }
      if let failure { throw failure }
      if out.isEmpty { out = part } else { out += part }
      if !filledUp { return out }
      capacity = max(out.count, 65536)
    }
  }
}
