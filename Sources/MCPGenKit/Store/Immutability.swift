import MCPGenSystem
import Synchronization
import SystemPackage

/// Marks stored inodes immutable (`chattr +i`) when running as root.
///
/// Modes 0444/0555 do not stop root: a Python release run by root from the store would write
/// `__pycache__` into it. `FS_IMMUTABLE_FL` does, as OSTree uses it for deployments. Code that
/// must remove an entry clears the flag first (`TreeRemover`). Store entries may share file
/// inodes (store-layout.md section 3), so code that clears a file's flag to unlink or link it
/// goes through `whileCleared`, which sets it again while the inode still has a name.
final class Immutability: Sendable {
  enum Status: Sendable, Equatable {
    /// Every stored inode but symlinks carries the flag.
    case applied
    /// Not running as root: read-only modes are the protection.
    case notRoot
    /// The file system (or the container) refused the flag; the reason says which.
    case unsupported(String)
  }

  private let enabled: Bool
  private let refusal = Mutex<String?>(nil)
  private let gaveUp = Atomic<Bool>(false)

  init() { enabled = Syscall.effectiveUserID() == 0 }

  var status: Status {
    if !enabled { return .notRoot }
    if let reason = refusal.withLock({ $0 }) { return .unsupported(reason) }
    return .applied
  }

  /// Whether `mark` still sets flags: running as root, and no refusal seen yet.
  var isMarking: Bool { enabled && !gaveUp.load(ordering: .relaxed) }

  /// Sets the flag on `fd`. Only real I/O errors throw; "not supported here" is remembered once
  /// and later calls do nothing.
  func mark(_ fd: CInt, _ path: FilePath) throws(SystemCallError) {
    guard enabled, !gaveUp.load(ordering: .relaxed) else { return }
    let flags: InodeFlags
    switch Syscall.getInodeFlags(fd) {
    case .success(let f): flags = f
    case .failure(let e): return try giveUp(e, path)
    }
    if flags.contains(.immutable) { return }
    switch Syscall.setInodeFlags(fd, flags.union(.immutable)) {
    case .success: return
    case .failure(let e): try giveUp(e, path)
    }
  }

  private func giveUp(_ e: Errno, _ path: FilePath) throws(SystemCallError) {
    let reason: String
    switch e {
    case .notPermitted: reason = "the kernel refused it (no CAP_LINUX_IMMUTABLE)"
    case .inappropriateIOCTLForDevice, .notSupported, .invalidArgument:
      reason = "the file system does not support it"
    default: throw SystemCallError("ioctl(FS_IOC_SETFLAGS)", path: path, errno: e)
    }
    refusal.withLock { if $0 == nil { $0 = reason } }
    gaveUp.store(true, ordering: .relaxed)
  }

  /// Clears the flag if set; silently does nothing where flags are unsupported.
  static func clear(_ fd: CInt) {
    guard case .success(let flags) = Syscall.getInodeFlags(fd), flags.contains(.immutable) else { return }
    _ = Syscall.setInodeFlags(fd, flags.subtracting(.immutable))
  }

  /// Runs `body` (an unlink or a link of the inode open as `fd`) with the inode's immutable
  /// flag cleared, then sets the flag again if the inode still has a name (its link count by
  /// `fstat` after `body`, success or not) and the flag was set, or `always` (the inode is a
  /// store entry's: gc deleting garbage). A file shared by two store entries so keeps its
  /// protection in the other one when one entry is deleted. Where flags are not supported, or
  /// not running as root, it only runs `body`.
  ///
  /// A kill between the clear and the set leaves the inode without its flag; what sets it again
  /// is said in store-layout.md section 3 (the gc that deletes the rest of the garbage, with
  /// `always`; the next pull that shares the file: `Store.linkStoredFile` marks it).
  static func whileCleared<R>(_ fd: CInt, always: Bool = false, _ body: () throws(SystemCallError) -> R) throws(SystemCallError) -> R {
    guard case .success(let flags) = Syscall.getInodeFlags(fd) else { return try body() }
    let wasSet = flags.contains(.immutable)
    guard wasSet || always else { return try body() }
    if wasSet { _ = Syscall.setInodeFlags(fd, flags.subtracting(.immutable)) }
    #if DEBUG
    // Where a kill costs another entry its flag: the inode has a name besides this one.
    if case .success(let st) = Syscall.fstat(fd), st.linkCount > 1 { FaultInjection.killPoint("shared-flag-cleared") }
    #endif
    defer {
      if case .success(let st) = Syscall.fstat(fd), st.linkCount > 0 { _ = Syscall.setInodeFlags(fd, flags.union(.immutable)) }
    }
    return try body()
  }
}
