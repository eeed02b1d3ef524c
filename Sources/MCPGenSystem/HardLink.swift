#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage

extension Syscall {
  /// `linkat(2)` without `AT_SYMLINK_FOLLOW`: a symlink at `old` is linked itself, never followed.
  public static func linkat(
    _ oldDir: CInt, _ old: UnsafePointer<CChar>, _ newDir: CInt, _ new: UnsafePointer<CChar>
  ) -> Result<Void, Errno> {
    call("linkat") { Glibc.linkat(oldDir, old, newDir, new, 0) }.map { _ in () }
  }

  /// The calling thread's `pthread_self(3)`, as a number: tells which thread holds something.
  public static func currentThread() -> UInt { UInt(pthread_self()) }
}

extension DirectoryFD {
  /// `linkat`: a second name `newName` in `directory` for the file `name` here (no replacing:
  /// EEXIST when the new name is taken).
  public func link(_ name: [UInt8], to directory: DirectoryFD, as newName: [UInt8]) throws(SystemCallError) {
    try withCString(name) { (o) throws(SystemCallError) in
      try withCString(newName) { (n) throws(SystemCallError) in
        try Syscall.linkat(fd, o, directory.fd, n).get("linkat", directory.path.appending(bytes: newName))
      }
    }
  }
}

extension FileFD {
  /// `linkat` of this open file as `newName` in `directory` (`Syscall.linkOpenFile`:
  /// `AT_EMPTY_PATH`, else `/proc/self/fd`): the new name is this inode, whatever became of the
  /// name it was opened by. `ENOENT` when neither way is open to the process; `EEXIST` when the
  /// new name is taken.
  public func link(to directory: DirectoryFD, as newName: [UInt8]) throws(SystemCallError) {
    try withCString(newName) { (n) throws(SystemCallError) in
      try Syscall.linkOpenFile(fd, directory.fd, n).get("linkat", directory.path.appending(bytes: newName))
    }
  }
}
