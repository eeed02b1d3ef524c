#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

public enum FileStatus {
  /// Whether anything (even a dangling symlink) is at `path`.
  public static func exists(_ path: FilePath) throws(SystemCallError) -> Bool {
    switch withCString(path.bytes, { Syscall.fstatat(AT_FDCWD, $0) }) {
    case .success: return true
    case .failure(let e) where e == .noSuchFileOrDirectory || e == .notDirectory: return false
    case .failure(let e): throw SystemCallError("stat", path: path, errno: e)
    }
  }
}
