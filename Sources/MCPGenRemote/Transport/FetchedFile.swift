import MCPGenSystem
import SystemPackage

/// The destination files of a batch (`FetchRequest.destination`): written, measured, removed.
///
/// Not durable on purpose: a fetched file is still unverified. Whoever verifies it (pull, against
/// the signed manifest) makes it durable when it moves it into the store.
enum FetchedFile {
  /// Writes `body` to `path`, replacing what was there (never following a symlink there).
  static func write(_ body: [UInt8], to path: FilePath, url: String) -> Result<Void, FetchError> {
    let flags: OpenFlags = [.writeOnly, .create, .truncate, .noFollow, .closeOnExec]
    let opened = withCString(path.bytes) { Syscall.openat(Syscall.currentDirectoryFD, $0, flags, 0o644) }
    switch opened {
    case .failure(let e):
      return .failure(.unreachable(url: url, reason: "cannot write \(path.displayString): \(e.description)"))
    case .success(let fd):
      defer { _ = Syscall.close(fd) }
      var offset = 0
      while offset < body.count {
        let n = body[offset...].withUnsafeBytes { Syscall.write(fd, $0.baseAddress!, $0.count) }
        switch n {
        case .success(let n): offset += n
        case .failure(let e):
          return .failure(.unreachable(url: url, reason: "cannot write \(path.displayString): \(e.description)"))
        }
      }
      return .success(())
    }
  }

  /// The size of the file at `path` (not following a symlink), nil when there is none.
  static func size(_ path: FilePath) -> Int? {
    switch withCString(path.bytes, { Syscall.fstatat(Syscall.currentDirectoryFD, $0, follow: false) }) {
    case .success(let st): return Int(st.size)
    case .failure: return nil
    }
  }

  /// Removes the file at `path`, if any.
  static func remove(_ path: FilePath) {
    _ = withCString(path.bytes) { Syscall.unlinkat(Syscall.currentDirectoryFD, $0, directory: false) }
  }
}
