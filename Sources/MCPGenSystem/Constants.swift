#if canImport(Glibc)
import Glibc
#endif
import CMCPGenShims

// Swift names for the C constants the engine passes to this target, as option sets, so that no
// engine file needs to import Glibc for them. Each raw value is the C one, unchanged. What the
// engine reads back has Swift types too (FileInfo, FileKind, FileSystemInfo).

/// `open(2)` flags (`O_*`). `readOnly` is the empty set (`O_RDONLY` is 0).
public struct OpenFlags: OptionSet, Sendable, Hashable {
  public let rawValue: CInt
  @inlinable public init(rawValue: CInt) { self.rawValue = rawValue }

  @inlinable public static var readOnly: OpenFlags { OpenFlags([]) }
  @inlinable public static var writeOnly: OpenFlags { OpenFlags(rawValue: O_WRONLY) }
  @inlinable public static var readWrite: OpenFlags { OpenFlags(rawValue: O_RDWR) }
  @inlinable public static var create: OpenFlags { OpenFlags(rawValue: O_CREAT) }
  @inlinable public static var exclusive: OpenFlags { OpenFlags(rawValue: O_EXCL) }
  @inlinable public static var truncate: OpenFlags { OpenFlags(rawValue: O_TRUNC) }
  @inlinable public static var append: OpenFlags { OpenFlags(rawValue: O_APPEND) }
  @inlinable public static var noFollow: OpenFlags { OpenFlags(rawValue: O_NOFOLLOW) }
  @inlinable public static var nonBlocking: OpenFlags { OpenFlags(rawValue: O_NONBLOCK) }
  @inlinable public static var closeOnExec: OpenFlags { OpenFlags(rawValue: O_CLOEXEC) }
  @inlinable public static var directory: OpenFlags { OpenFlags(rawValue: O_DIRECTORY) }
  @inlinable public static var noControllingTerminal: OpenFlags { OpenFlags(rawValue: O_NOCTTY) }
  /// `O_PATH`, which Swift's Glibc module does not import.
  @inlinable public static var pathOnly: OpenFlags { OpenFlags(rawValue: mcpgen_o_path) }

  /// Whether these flags open for reading only (`flags & O_ACCMODE == O_RDONLY`).
  public var isReadOnly: Bool { rawValue & O_ACCMODE == O_RDONLY }
}

/// `flock(2)` operations (`LOCK_*`).
public struct LockOperation: OptionSet, Sendable, Hashable {
  public let rawValue: CInt
  @inlinable public init(rawValue: CInt) { self.rawValue = rawValue }

  @inlinable public static var shared: LockOperation { LockOperation(rawValue: LOCK_SH) }
  @inlinable public static var exclusive: LockOperation { LockOperation(rawValue: LOCK_EX) }
  @inlinable public static var unlock: LockOperation { LockOperation(rawValue: LOCK_UN) }
  @inlinable public static var nonBlocking: LockOperation { LockOperation(rawValue: LOCK_NB) }
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

/// Inode flags of `FS_IOC_GETFLAGS` / `FS_IOC_SETFLAGS` (`chattr`).
public struct InodeFlags: OptionSet, Sendable, Hashable {
  public let rawValue: CInt
  @inlinable public init(rawValue: CInt) { self.rawValue = rawValue }

  /// `FS_IMMUTABLE_FL` (`chattr +i`).
  @inlinable public static var immutable: InodeFlags { InodeFlags(rawValue: mcpgen_fs_immutable_fl) }
}
