#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// How a scratch directory hands out paths: `String` for the end-to-end tests, `FilePath` (any
/// bytes) for the unit tests. The directory itself is the same either way.
public protocol ScratchPath: Sendable {
  init(scratchPath: FilePath)
}

extension String: ScratchPath {
  public init(scratchPath: FilePath) { self = scratchPath.string }
}

extension FilePath: ScratchPath {
  public init(scratchPath: FilePath) { self = scratchPath }
}

/// A fresh directory for one test, removed by `remove()` (call it in a `defer`).
///
/// By default it is private (0700, from `mkdtemp`) under `<package>/.build-test-scratch/`, on the
/// build's file system, where inode flags work. A test that runs something as another user
/// (`nobody`) asks for `forOtherUsers`: the checkout may sit in a directory other users cannot
/// enter (root's home is 0700), so such a scratch is made in /tmp instead, 0711, so that the other
/// user can reach what the test puts there and list nothing else.
///
/// `remove()` walks the tree through descriptors, clearing the immutable and append-only flags
/// that stored entries carry when the tests run as root, so it also removes trees whose paths are
/// longer than PATH_MAX (where `chattr -R` and `rm -rf` give up).
public final class ScratchDirectory<Path: ScratchPath>: Sendable {
  public let path: Path
  /// The same directory as bytes, whatever `Path` is.
  public let location: FilePath

  public init(forOtherUsers: Bool = false) throws {
    let base = forOtherUsers ? "/tmp" : TestEnvironment.scratchRoot
    if !forOtherUsers { Glibc.mkdir(base, 0o755) }  // EEXIST is fine.
    var template = Array((base + (forOtherUsers ? "/mcp-gen-test-XXXXXX" : "/t-XXXXXX")).utf8CString)
    guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
      throw TestFailure("mkdtemp in \(base): \(String(cString: strerror(errno)))")
    }
    location = FilePath(String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    path = Path(scratchPath: location)
    if forOtherUsers { Glibc.chmod(location.string, 0o711) }
  }

  public func at(_ relative: String) -> Path { Path(scratchPath: location.appending(raw: Array(relative.utf8))) }

  /// Removes the directory and everything below it (see the type's comment).
  public func remove() { Self.removeTree(location) }

  /// Deletes `path` and everything below it through descriptors, clearing each inode's
  /// immutable and append-only flags first (as root) and making directories searchable.
  public static func removeTree(_ path: FilePath) {
    let bytes = path.rawBytes
    let slash = bytes.lastIndex(of: 0x2F)
    let name = Array(slash.map { bytes[($0 + 1)...] } ?? bytes[...])
    let parent: [UInt8] = slash.map { $0 == 0 ? [0x2F] : Array(bytes[..<$0]) } ?? [0x2E]
    guard !name.isEmpty else { return }
    let fd = withCName(parent) { Glibc.open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    guard fd >= 0 else { return }
    removeEntry(fd, name)
    close(fd)
  }

  private static func removeEntry(_ dir: CInt, _ name: [UInt8]) {
    var st = stat()
    guard withCName(name, { fstatat(dir, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 else { return }
    switch st.st_mode & S_IFMT {
    case S_IFDIR:
      _ = withCName(name) { fchmodat(dir, $0, 0o700, 0) }
      let fd = withCName(name) { openat(dir, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
      guard fd >= 0 else { return }
      clearFlags(fd)
      fchmod(fd, 0o700)
      for child in RawDirectory.names(fd: Glibc.dup(fd)) { removeEntry(fd, child) }
      close(fd)
      _ = withCName(name) { unlinkat(dir, $0, AT_REMOVEDIR) }
    case S_IFREG:
      let fd = withCName(name) { openat(dir, $0, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC) }
      if fd >= 0 {
        clearFlags(fd)
        close(fd)
      }
      _ = withCName(name) { unlinkat(dir, $0, 0) }
    default:
      _ = withCName(name) { unlinkat(dir, $0, 0) }
    }
  }

  /// Clears FS_IMMUTABLE_FL and FS_APPEND_FL (needs root; a file system without flags refuses,
  /// which is fine: nothing there is flagged).
  private static func clearFlags(_ fd: CInt) {
    guard geteuid() == 0 else { return }
    let getFlags: UInt = 0x8008_6601  // FS_IOC_GETFLAGS
    let setFlags: UInt = 0x4008_6602  // FS_IOC_SETFLAGS
    let flagged: CLong = 0x10 | 0x20  // FS_IMMUTABLE_FL | FS_APPEND_FL
    var flags: CLong = 0
    guard ioctl(fd, getFlags, &flags) == 0, flags & flagged != 0 else { return }
    flags &= ~flagged
    _ = ioctl(fd, setFlags, &flags)
  }

  private static func withCName<R>(_ name: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
    let c = name.map { CChar(bitPattern: $0) } + [0]
    return c.withUnsafeBufferPointer { body($0.baseAddress!) }
  }
}

/// The end-to-end tests' scratch: paths as `String`.
public typealias Scratch = ScratchDirectory<String>

/// The unit tests' scratch: paths as `FilePath` (any bytes but NUL).
public typealias TestDirectory = ScratchDirectory<FilePath>

/// Reading a directory as raw byte names.
public enum RawDirectory {
  /// The names in the directory open at `fd` (without `.` and `..`), sorted; closes `fd`.
  public static func names(fd: CInt) -> [[UInt8]] {
    guard let dir = fdopendir(fd) else {
      close(fd)
      return []
    }
    defer { closedir(dir) }
    var names: [[UInt8]] = []
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: &entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
      if name == [0x2E] || name == [0x2E, 0x2E] { continue }
      names.append(name)
    }
    return names.sorted { $0.lexicographicallyPrecedes($1) }
  }
}

/// FilePath as raw bytes. MCPGenTerminal has the same; the support keeps its own few lines so
/// that it imports none of the targets its tests check.
extension FilePath {
  var rawBytes: [UInt8] { withPlatformString { p in Array(UnsafeBufferPointer(start: p, count: strlen(p))).map { UInt8(bitPattern: $0) } } }

  init(rawBytes: [UInt8]) {
    let c = rawBytes.map { CChar(bitPattern: $0) } + [0]
    self = c.withUnsafeBufferPointer { FilePath(platformString: $0.baseAddress!) }
  }

  /// `self/relative`, where `relative` may hold slashes.
  func appending(raw relative: [UInt8]) -> FilePath { FilePath(rawBytes: rawBytes + [0x2F] + relative) }
}
