#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// What `stat(2)` says of a file, in Swift fields: the engine never sees C's `struct stat`.
public struct FileInfo: Sendable, Equatable {
  public var type: FileKind
  /// The permission bits of `st_mode`, with set-user-ID, set-group-ID and sticky.
  public var permissions: FilePermissions
  public var size: Int64
  public var uid: UInt32
  public var gid: UInt32
  public var device: UInt64
  public var inode: UInt64
  public var linkCount: UInt64
  /// `st_mtim`.
  public var modified: FileTime
  /// `st_ctim`.
  public var changed: FileTime

  /// The type and permission bits together, as `st_mode` (for showing a mode in octal).
  public var mode: UInt32 { type.modeBits | UInt32(permissions.rawValue) }

  /// Whether this and `other` are the same file (device and inode).
  public func isSameFile(as other: FileInfo) -> Bool { device == other.device && inode == other.inode }

  @inlinable
  init(_ st: stat) {
    type = FileKind(mode: st.st_mode)
    permissions = FilePermissions(rawValue: st.st_mode & 0o7777)
    size = Int64(st.st_size)
    uid = st.st_uid
    gid = st.st_gid
    device = UInt64(st.st_dev)
    inode = UInt64(st.st_ino)
    linkCount = UInt64(st.st_nlink)
    modified = FileTime(seconds: Int64(st.st_mtim.tv_sec), nanoseconds: Int64(st.st_mtim.tv_nsec))
    changed = FileTime(seconds: Int64(st.st_ctim.tv_sec), nanoseconds: Int64(st.st_ctim.tv_nsec))
  }
}

/// A file time stamp: seconds since the epoch and the nanoseconds within that second.
public struct FileTime: Sendable, Equatable, Hashable {
  public var seconds: Int64
  public var nanoseconds: Int64

  public init(seconds: Int64, nanoseconds: Int64) {
    self.seconds = seconds
    self.nanoseconds = nanoseconds
  }
}

/// The file type of `st_mode` (`S_IFMT`).
public enum FileKind: Sendable, Equatable, Hashable {
  case regular, directory, symlink, fifo, socket, characterDevice, blockDevice
  /// A type Linux does not define: `st_mode`'s type bits as they were.
  case unknown(UInt32)

  @inlinable
  public init(mode: UInt32) {
    switch mode & S_IFMT {
    case S_IFREG: self = .regular
    case S_IFDIR: self = .directory
    case S_IFLNK: self = .symlink
    case S_IFIFO: self = .fifo
    case S_IFSOCK: self = .socket
    case S_IFCHR: self = .characterDevice
    case S_IFBLK: self = .blockDevice
    default: self = .unknown(mode & S_IFMT)
    }
  }

  /// The `S_IF*` bits of the type.
  public var modeBits: UInt32 {
    switch self {
    case .regular: return S_IFREG
    case .directory: return S_IFDIR
    case .symlink: return S_IFLNK
    case .fifo: return S_IFIFO
    case .socket: return S_IFSOCK
    case .characterDevice: return S_IFCHR
    case .blockDevice: return S_IFBLK
    case .unknown(let bits): return bits
    }
  }
}

/// What `statvfs(3)` says of a file system, in the fields the engine reads.
public struct FileSystemInfo: Sendable {
  /// Bytes an unprivileged user may still write (`f_bavail * f_frsize`).
  public var availableBytes: UInt64
  /// The file system's size in bytes (`f_blocks * f_frsize`).
  public var totalBytes: UInt64
  /// Inodes in all (`f_files`); 0 where the file system does not count them.
  public var totalInodes: UInt64
  /// Inodes an unprivileged user may still use (`f_favail`).
  public var availableInodes: UInt64
  /// Mounted read-only (`ST_RDONLY` in `f_flag`).
  public var isReadOnly: Bool

  init(_ st: statvfs) {
    availableBytes = UInt64(st.f_bavail) * UInt64(st.f_frsize)
    totalBytes = UInt64(st.f_blocks) * UInt64(st.f_frsize)
    totalInodes = UInt64(st.f_files)
    availableInodes = UInt64(st.f_favail)
    isReadOnly = st.f_flag & UInt(ST_RDONLY) != 0
  }
}
