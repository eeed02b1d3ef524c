#if canImport(Glibc)
import Glibc
#endif
import CMCPGenShims

// Swift names for the C constants and types the engine passes to and reads from this target, so
// that no engine file needs to import Glibc for them. Each value is the C one, unchanged.

/// The kernel's `struct stat` under a Swift name. Engine code reads its `st_` fields; a struct of
/// Swift fields (kind, mode, size, inode, device, uid, change time) is the next step.
public typealias FileStat = stat

/// The file type bits of `st_mode` (`S_IFMT` and its values).
public enum FileType {
  @inlinable public static var mask: UInt32 { S_IFMT }
  @inlinable public static var regular: UInt32 { S_IFREG }
  @inlinable public static var directory: UInt32 { S_IFDIR }
  @inlinable public static var symlink: UInt32 { S_IFLNK }
  @inlinable public static var fifo: UInt32 { S_IFIFO }
  @inlinable public static var socket: UInt32 { S_IFSOCK }
  @inlinable public static var characterDevice: UInt32 { S_IFCHR }
  @inlinable public static var blockDevice: UInt32 { S_IFBLK }
}

/// Permission bits of `st_mode` the engine tests (`S_IXUSR`, `S_IROTH`, `S_IXOTH`, `S_ISVTX`).
public enum PermissionBits {
  @inlinable public static var ownerExecute: UInt32 { S_IXUSR }
  @inlinable public static var otherRead: UInt32 { S_IROTH }
  @inlinable public static var otherExecute: UInt32 { S_IXOTH }
  @inlinable public static var sticky: UInt32 { S_ISVTX }
}

/// `open(2)` flags (`O_*`), combined with `|` as in C.
public enum OpenFlags {
  @inlinable public static var readOnly: CInt { O_RDONLY }
  @inlinable public static var writeOnly: CInt { O_WRONLY }
  @inlinable public static var readWrite: CInt { O_RDWR }
  @inlinable public static var accessMode: CInt { O_ACCMODE }
  @inlinable public static var create: CInt { O_CREAT }
  @inlinable public static var exclusive: CInt { O_EXCL }
  @inlinable public static var truncate: CInt { O_TRUNC }
  @inlinable public static var append: CInt { O_APPEND }
  @inlinable public static var noFollow: CInt { O_NOFOLLOW }
  @inlinable public static var nonBlocking: CInt { O_NONBLOCK }
  @inlinable public static var closeOnExec: CInt { O_CLOEXEC }
  @inlinable public static var directory: CInt { O_DIRECTORY }
  @inlinable public static var noControllingTerminal: CInt { O_NOCTTY }
  /// `O_PATH`, which Swift's Glibc module does not import.
  @inlinable public static var pathOnly: CInt { mcpgen_o_path }
}

/// `flock(2)` operations (`LOCK_*`), combined with `|` as in C.
public enum LockOperation {
  @inlinable public static var shared: CInt { LOCK_SH }
  @inlinable public static var exclusive: CInt { LOCK_EX }
  @inlinable public static var unlock: CInt { LOCK_UN }
  @inlinable public static var nonBlocking: CInt { LOCK_NB }
}

/// The signals the engine sends or names.
public enum SignalNumber {
  @inlinable public static var interrupt: Int32 { SIGINT }
  @inlinable public static var terminate: Int32 { SIGTERM }
  @inlinable public static var kill: Int32 { SIGKILL }
}

extension Syscall {
  /// `AT_FDCWD`: a path relative to the working directory.
  @inlinable public static var currentDirectoryFD: CInt { AT_FDCWD }
}

/// Flags of `statvfs.f_flag`.
public enum FileSystemFlags {
  /// `ST_RDONLY`: mounted read-only.
  @inlinable public static var readOnly: UInt { UInt(ST_RDONLY) }
}

/// Inode flags of `FS_IOC_GETFLAGS` / `FS_IOC_SETFLAGS`.
public enum InodeFlags {
  /// `FS_IMMUTABLE_FL` (`chattr +i`).
  @inlinable public static var immutable: CInt { mcpgen_fs_immutable_fl }
}
