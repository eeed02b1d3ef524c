import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit
import MCPGenSystem
import SystemPackage

/// Where things are, and who we run as.
enum TestEnvironment {
  /// The package root, found from this file: `<root>/Tests/MCPGenKitTests/Support/TestDirectory.swift`.
  static let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { url.deleteLastPathComponent() }
    return url.path
  }()

  /// Scratch space on the build directory's file system (never /tmp: tmpfs has no inode flags).
  static var scratchRoot: String { packageRoot + "/.build-test-scratch" }

  static func fixture(_ name: String) -> FilePath { FilePath(packageRoot + "/fixtures/" + name) }

  static let fixtureNames = ["mcp-1.0", "mcp-1.1", "mcp-broken", "mcp-single"]

  static var isRoot: Bool { geteuid() == 0 }

  /// Whether `chattr +i` works in the scratch space (root, CAP_LINUX_IMMUTABLE, a file system
  /// with inode flags). Probed once by setting and reading back the flag on a scratch file.
  static let immutableFlagWorks: Bool = {
    guard isRoot, let dir = try? TestDirectory() else { return false }
    defer { dir.remove() }
    guard (try? dir.writeFile("probe", [])) != nil else { return false }
    let probe = dir.at("probe").string
    guard let set = try? ProcessRunner.run("/usr/bin/chattr", ["+i", probe]), set.status == 0,
      let shown = try? ProcessRunner.run("/usr/bin/lsattr", ["-d", probe]), shown.status == 0
    else { return false }
    // lsattr prints "----i---------e------- path": the flags come before the first space.
    return shown.stdoutText.split(separator: " ").first?.contains("i") == true
  }()
}

struct TestFailure: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// Throws a `TestFailure` naming `call`, `path` and `errno` when `result` is -1.
@discardableResult
func check(_ result: CInt, _ call: String, _ path: FilePath) throws -> CInt {
  if result == -1 { throw TestFailure("\(call) \(path): \(String(cString: strerror(errno)))") }
  return result
}

/// Calls `body` with `path`'s bytes as a C string (names may be any bytes but NUL and "/").
@discardableResult
func withCPath<R>(_ path: FilePath, _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
  let cString = path.bytes.map { CChar(bitPattern: $0) } + [0]
  return try cString.withUnsafeBufferPointer { try body($0.baseAddress!) }
}

/// A fresh directory under `<package>/.build-test-scratch/`, on the same file system as the build.
///
/// Names are bytes: everything here goes through Glibc with raw byte paths, since Foundation
/// cannot create names that are not valid UTF-8. Call `remove()` when done (`defer`): it clears
/// `chattr +i` first, which stored entries carry when the tests run as root.
final class TestDirectory: @unchecked Sendable {
  let path: FilePath

  init() throws {
    mkdir(TestEnvironment.scratchRoot, 0o755)  // EEXIST is fine.
    var template = Array((TestEnvironment.scratchRoot + "/t-XXXXXX").utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    guard made != nil else {
      throw TestFailure("mkdtemp in \(TestEnvironment.scratchRoot): \(String(cString: strerror(errno)))")
    }
    path = FilePath(String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
  }

  /// `chattr -R -i` (failures ignored: the file system may not support flags), then `rm -rf`.
  ///
  /// `chattr -R` joins names into whole paths and gives up past PATH_MAX; a tree that survives
  /// is unflagged again by a shell that descends one `cd` at a time, then removed.
  func remove() {
    let p = path.string
    if TestEnvironment.isRoot {
      _ = try? ProcessRunner.run("/usr/bin/chattr", ["-R", "-f", "-i", p])
    } else {
      _ = try? ProcessRunner.run("/bin/chmod", ["-R", "u+rwX", p])
    }
    _ = try? ProcessRunner.run("/bin/rm", ["-rf", "--", p])
    if TestEnvironment.isRoot && TestDirectory.exists(path) {
      _ = try? ProcessRunner.run("/bin/bash", ["-c", TestDirectory.unflagScript, "unflag", p])
      _ = try? ProcessRunner.run("/bin/rm", ["-rf", "--", p])
    }
  }

  private static let unflagScript = """
    unflag() {
      chattr -f -i . 2>/dev/null
      local e
      for e in * .[!.]* ..?*; do
        [ -e "$e" ] || continue
        [ -L "$e" ] && continue
        chattr -f -i -- "$e" 2>/dev/null
        if [ -d "$e" ]; then ( cd -- "$e" && unflag ); fi
      done
    }
    cd -- "$1" && unflag
    """

  // MARK: Paths

  func at(_ relative: [UInt8]) -> FilePath { path.appending(bytes: relative) }
  func at(_ relative: String) -> FilePath { at(Array(relative.utf8)) }
  func at(bytes relative: [UInt8]) -> FilePath { at(relative) }

  // MARK: Making things (modes are set with chmod afterwards, so the umask does not matter)

  func makeDirectory(_ relative: [UInt8], mode: mode_t = 0o755) throws {
    let p = at(relative)
    try withCPath(p) { try check(mkdir($0, 0o700), "mkdir", p) }
    try chmod(relative, mode)
  }

  func makeDirectory(_ relative: String, mode: mode_t = 0o755) throws {
    try makeDirectory(Array(relative.utf8), mode: mode)
  }

  func writeFile(_ relative: [UInt8], _ contents: [UInt8], mode: mode_t = 0o644) throws {
    let p = at(relative)
    let fd = try withCPath(p) { try check(open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600), "open", p) }
    defer { close(fd) }
    var offset = 0
    while offset < contents.count {
      let n = contents[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      try check(CInt(n == -1 ? -1 : 0), "write", p)
      offset += n
    }
    try check(fchmod(fd, mode), "fchmod", p)
  }

  func writeFile(_ relative: String, _ contents: String, mode: mode_t = 0o644) throws {
    try writeFile(Array(relative.utf8), Array(contents.utf8), mode: mode)
  }

  func writeFile(_ relative: String, _ contents: [UInt8], mode: mode_t = 0o644) throws {
    try writeFile(Array(relative.utf8), contents, mode: mode)
  }

  /// Appends `contents` to an existing file.
  func append(_ relative: String, _ contents: String) throws {
    let p = at(relative)
    let fd = try withCPath(p) { try check(open($0, O_WRONLY | O_APPEND | O_CLOEXEC), "open", p) }
    defer { close(fd) }
    let bytes = Array(contents.utf8)
    let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard n == bytes.count else { throw TestFailure("short write to \(p)") }
  }

  /// Overwrites an existing file's first bytes in place: same inode, same size when
  /// `contents` is no longer than the file.
  func overwrite(_ relative: String, _ contents: String) throws {
    let p = at(relative)
    let fd = try withCPath(p) { try check(open($0, O_WRONLY | O_CLOEXEC), "open", p) }
    defer { close(fd) }
    let bytes = Array(contents.utf8)
    let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    guard n == bytes.count else { throw TestFailure("short write to \(p)") }
  }

  func symlink(_ relative: [UInt8], to target: [UInt8]) throws {
    let p = at(relative)
    let t = target.map { CChar(bitPattern: $0) } + [0]
    try withCPath(p) { link in try check(Glibc.symlink(t, link), "symlink", p) }
  }

  func symlink(_ relative: String, to target: String) throws {
    try symlink(Array(relative.utf8), to: Array(target.utf8))
  }

  func hardLink(_ relative: String, to existing: String) throws {
    let p = at(relative)
    let e = at(existing)
    try withCPath(e) { old in try withCPath(p) { new in try check(link(old, new), "link", p) } }
  }

  func makeFIFO(_ relative: String) throws {
    let p = at(relative)
    try withCPath(p) { try check(mkfifo($0, 0o644), "mkfifo", p) }
  }

  /// Binds an AF_UNIX socket at `relative`; the socket inode stays after the descriptor closes.
  func makeSocket(_ relative: String) throws {
    let p = at(relative)
    let bytes = p.bytes
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
  func makeCharacterDevice(_ relative: String, major: UInt32, minor: UInt32) throws {
    let p = at(relative)
    // makedev(3) is a macro; this is glibc's encoding.
    let dev = dev_t(minor & 0xff) | (dev_t(major & 0xfff) << 8) | (dev_t(minor & ~0xff) << 12)
      | (dev_t(major & ~0xfff) << 32)
    try withCPath(p) { try check(mknod($0, S_IFCHR | 0o600, dev), "mknod", p) }
  }

  // MARK: Changing things

  func chmod(_ relative: [UInt8], _ mode: mode_t) throws {
    let p = at(relative)
    try withCPath(p) { try check(Glibc.chmod($0, mode), "chmod", p) }
  }

  func chmod(_ relative: String, _ mode: mode_t) throws { try chmod(Array(relative.utf8), mode) }

  func chown(_ relative: String, uid: uid_t, gid: gid_t) throws {
    let p = at(relative)
    try withCPath(p) { try check(lchown($0, uid, gid), "lchown", p) }
  }

  /// Sets access and modification time of `relative` (not following symlinks).
  func setTime(_ relative: String, seconds: Int) throws {
    let p = at(relative)
    var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
    try withCPath(p) { try check(utimensat(AT_FDCWD, $0, &times, AT_SYMLINK_NOFOLLOW), "utimensat", p) }
  }

  // MARK: Looking at things

  func lstat(_ relative: String) throws -> stat { try TestDirectory.lstat(at(relative)) }

  static func lstat(_ path: FilePath) throws -> stat {
    var st = stat()
    try withCPath(path) { try check(Glibc.lstat($0, &st), "lstat", path) }
    return st
  }

  static func exists(_ path: FilePath) -> Bool {
    var st = stat()
    return withCPath(path) { Glibc.lstat($0, &st) } == 0
  }

  /// Every name in the directory at `path` except `.` and `..`, as raw bytes, sorted.
  static func list(_ path: FilePath) throws -> [[UInt8]] {
    guard let dir = withCPath(path, { opendir($0) }) else {
      throw TestFailure("opendir \(path): \(String(cString: strerror(errno)))")
    }
    defer { closedir(dir) }
    var names: [[UInt8]] = []
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: &entry.pointee.d_name) { raw in
        Array(raw.prefix { $0 != 0 })
      }
      if name == [0x2E] || name == [0x2E, 0x2E] { continue }
      names.append(name)
    }
    return names.sorted { $0.lexicographicallyPrecedes($1) }
  }
}
