import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// Throws a `TestFailure` naming `call`, `path` and `errno` when `result` is -1.
@discardableResult
public func check(_ result: CInt, _ call: String, _ path: FilePath) throws -> CInt {
  if result == -1 { throw TestFailure("\(call) \(path): \(String(cString: strerror(errno)))") }
  return result
}

/// Calls `body` with `path`'s bytes as a C string (names may be any bytes but NUL and "/").
@discardableResult
public func withCPath<R>(_ path: FilePath, _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
  let cString = path.rawBytes.map { CChar(bitPattern: $0) } + [0]
  return try cString.withUnsafeBufferPointer { try body($0.baseAddress!) }
}

extension ScratchDirectory where Path == FilePath {
  public func at(_ relative: [UInt8]) -> FilePath { file(relative) }
  public func at(bytes relative: [UInt8]) -> FilePath { file(relative) }
}

/// Making, changing and looking at files in a scratch directory by raw byte names, through Glibc
/// (Foundation cannot create names that are not valid UTF-8). Modes are set with chmod
/// afterwards, so the umask does not matter.
extension ScratchDirectory {
  /// `relative` below the directory, as bytes.
  public func file(_ relative: [UInt8]) -> FilePath { location.appending(raw: relative) }
  public func file(_ relative: String) -> FilePath { file(Array(relative.utf8)) }

  /// Names in `<root>/store/` (keys, and anything left behind).
  public func storeNames(_ root: String) throws -> [String] {
    try Self.list(FilePath(root + "/store")).map { String(decoding: $0, as: UTF8.self) }.sorted()
  }

  // MARK: Making things (modes are set with chmod afterwards, so the umask does not matter)

  public func makeDirectory(_ relative: [UInt8], mode: mode_t = 0o755) throws {
    let p = file(relative)
    try withCPath(p) { try check(mkdir($0, 0o700), "mkdir", p) }
    try chmod(relative, mode)
  }

  public func makeDirectory(_ relative: String, mode: mode_t = 0o755) throws {
    try makeDirectory(Array(relative.utf8), mode: mode)
  }

  public func writeFile(_ relative: [UInt8], _ contents: [UInt8], mode: mode_t = 0o644) throws {
    let p = file(relative)
    let fd = try withCPath(p) { try check(open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600), "open", p) }
    defer { close(fd) }
    try Self.writeAll(fd, contents, p)
    try check(fchmod(fd, mode), "fchmod", p)
  }

  /// Writes all of `contents` to `fd` (the file `p`), looping over short writes.
  static func writeAll(_ fd: CInt, _ contents: [UInt8], _ p: FilePath) throws {
    var offset = 0
    while offset < contents.count {
      let n = contents[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
      try check(CInt(n == -1 ? -1 : 0), "write", p)
      offset += n
    }
  }

  public func writeFile(_ relative: String, _ contents: String, mode: mode_t = 0o644) throws {
    try writeFile(Array(relative.utf8), Array(contents.utf8), mode: mode)
  }

  public func writeFile(_ relative: String, _ contents: [UInt8], mode: mode_t = 0o644) throws {
    try writeFile(Array(relative.utf8), contents, mode: mode)
  }

  /// Appends `contents` to an existing file.
  public func append(_ relative: String, _ contents: String) throws {
    let p = file(relative)
    let fd = try withCPath(p) { try check(open($0, O_WRONLY | O_APPEND | O_CLOEXEC), "open", p) }
    defer { close(fd) }
    let bytes = Array(contents.utf8)
    let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    guard n == bytes.count else { throw TestFailure("short write to \(p)") }
  }

  /// Overwrites an existing file's first bytes in place: same inode, same size when
  /// `contents` is no longer than the file.
  public func overwrite(_ relative: String, _ contents: String) throws {
    let p = file(relative)
    let fd = try withCPath(p) { try check(open($0, O_WRONLY | O_CLOEXEC), "open", p) }
    defer { close(fd) }
    let bytes = Array(contents.utf8)
    let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    guard n == bytes.count else { throw TestFailure("short write to \(p)") }
  }

  public func symlink(_ relative: [UInt8], to target: [UInt8]) throws {
    let p = file(relative)
    let t = target.map { CChar(bitPattern: $0) } + [0]
    try withCPath(p) { link in try check(Glibc.symlink(t, link), "symlink", p) }
  }

  public func symlink(_ relative: String, to target: String) throws {
    try symlink(Array(relative.utf8), to: Array(target.utf8))
  }

  public func hardLink(_ relative: String, to existing: String) throws {
    let p = file(relative)
    let e = file(existing)
    try withCPath(e) { old in try withCPath(p) { new in try check(link(old, new), "link", p) } }
  }

  public func makeFIFO(_ relative: String) throws {
    let p = file(relative)
    try withCPath(p) { try check(mkfifo($0, 0o644), "mkfifo", p) }
  }

  /// Binds an AF_UNIX socket at `relative`; the socket inode stays after the descriptor closes.
  public func makeSocket(_ relative: String) throws {
    let p = file(relative)
    let bytes = p.rawBytes
    var address = sockaddr_un()
    let capacity = MemoryLayout.size(ofValue: address.sun_path)
    guard bytes.count < capacity else { throw TestFailure("socket path too long for sun_path: \(p)") }
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      for (i, b) in bytes.enumerated() { raw[i] = b }
      raw[bytes.count] = 0
    }
    let fd = try check(socket(AF_UNIX, CInt(SOCK_STREAM.rawValue), 0), "socket", p)
    defer { close(fd) }
    let rc = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    try check(rc, "bind", p)
  }

  /// `mknod(S_IFCHR)`; needs root.
  public func makeCharacterDevice(_ relative: String, major: UInt32, minor: UInt32) throws {
    let p = file(relative)
    // makedev(3) is a macro; this is glibc's encoding.
    let dev = dev_t(minor & 0xff) | (dev_t(major & 0xfff) << 8) | (dev_t(minor & ~0xff) << 12)
      | (dev_t(major & ~0xfff) << 32)
    try withCPath(p) { try check(mknod($0, S_IFCHR | 0o600, dev), "mknod", p) }
  }

  // MARK: Changing things

  public func chmod(_ relative: [UInt8], _ mode: mode_t) throws {
    let p = file(relative)
    try withCPath(p) { try check(Glibc.chmod($0, mode), "chmod", p) }
  }

  public func chmod(_ relative: String, _ mode: mode_t) throws { try chmod(Array(relative.utf8), mode) }

  public func chown(_ relative: String, uid: uid_t, gid: gid_t) throws {
    let p = file(relative)
    try withCPath(p) { try check(lchown($0, uid, gid), "lchown", p) }
  }

  /// Sets access and modification time of `relative` (not following symlinks).
  public func setTime(_ relative: String, seconds: Int) throws {
    let p = file(relative)
    var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
    try withCPath(p) { try check(utimensat(AT_FDCWD, $0, &times, AT_SYMLINK_NOFOLLOW), "utimensat", p) }
  }

  // MARK: Looking at things

  public func lstat(_ relative: String) throws -> stat { try Self.lstat(file(relative)) }

  public static func lstat(_ path: FilePath) throws -> stat {
    var st = stat()
    try withCPath(path) { try check(Glibc.lstat($0, &st), "lstat", path) }
    return st
  }

  public static func exists(_ path: FilePath) -> Bool {
    var st = stat()
    return withCPath(path) { Glibc.lstat($0, &st) } == 0
  }

  /// Every name in the directory at `path` except `.` and `..`, as raw bytes, sorted.
  public static func list(_ path: FilePath) throws -> [[UInt8]] {
    let fd = withCPath(path) { Glibc.open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    guard fd >= 0 else { throw TestFailure("open \(path): \(String(cString: strerror(errno)))") }
    return RawDirectory.names(fd: fd)
  }
}

extension ScratchDirectory where Path == String {
  /// Writes `bytes` to `relative` (replacing it), making the directories above it first.
  ///
  /// Opened close-on-exec, not through Foundation: tests run in parallel and spawn processes at
  /// any moment, and a child that inherits the write descriptor of a script this writes keeps
  /// its inode busy, so that running the script fails with ETXTBSY for as long as the child lives.
  public func write(_ relative: String, _ bytes: [UInt8]) throws {
    let file = at(relative)
    try FileManager.default.createDirectory(
      atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    let fd = try check(open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644), "open", FilePath(file))
    defer { close(fd) }
    try Self.writeAll(fd, bytes, FilePath(file))
  }

  /// The bytes of `relative`, or nil when it cannot be read.
  public func read(_ relative: String) -> [UInt8]? {
    FileManager.default.contents(atPath: at(relative)).map { Array($0) }
  }
}
