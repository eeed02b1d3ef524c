import MCPGenSystem
import SystemPackage

/// The exclusive kernel lock that serializes every change to a root: `flock(2)` on `<root>/lock`.
///
/// The file is never deleted, so a killed holder cannot leave a stale lock: the kernel drops the
/// lock with the holder's last descriptor. The holder writes its PID and command into the file,
/// so a waiter that gives up can say who is in the way. Readers take no lock.
public final class StoreLock {
  static let name = Array("lock".utf8)
  /// Readable and writable by its owner only.
  static let mode: UInt32 = 0o600
  private let file: FileFD

  private init(file: FileFD) { self.file = file }

  /// Waits up to `timeout` seconds for the lock.
  static func acquire(in root: DirectoryFD, timeout: Double, commandLine: [UInt8]) throws(MCPGenError) -> StoreLock {
    let path = root.path.appending(bytes: name)
    let file: FileFD
    do {
      // 0600: a user who can open the lock can flock it and so block every change.
      file = try root.openFile(name, flags: [.readWrite, .create], mode: mode)
    } catch let e where e.errno == .isDirectory || e.errno == .tooManySymbolicLinkLevels {
      throw MCPGenError(.io, "\(path.displayString) is not a regular file; move it out of the way and run the command again", path: path, cause: e)
    } catch {
      throw MCPGenError(error, doing: "open the lock")
    }
    let st = try attempt("open the lock") { () throws(SystemCallError) in try file.stat() }
    if st.type != .regular {
      throw MCPGenError(.io, "\(path.displayString) is not a regular file; move it out of the way and run the command again", path: path)
    }
    // A lock made by an older mcp-gen (0644), or under another umask: tighten it, when ours.
    // The mode, not the umask, decides (open's mode is masked by it; fchmod's is not).
    if st.uid == Syscall.effectiveUserID() && st.permissions.rawValue != mode {
      try attempt("make the lock private") { () throws(SystemCallError) in try file.changeMode(mode) }
    }
    let deadline = monotonicSeconds() + max(0, timeout)
    var pause = 0.002
    while true {
      switch Syscall.flock(file.fd, [.exclusive, .nonBlocking]) {
      case .success:
        let lock = StoreLock(file: file)
        lock.recordHolder(commandLine)
        return lock
      case .failure(let e) where e == .wouldBlock:
        try Cancellation.check()  // Ctrl-C while waiting: nothing was done yet.
        if monotonicSeconds() >= deadline {
          let holder = String(decoding: (try? file.readAll()) ?? [], as: UTF8.self)
            .split(separator: "\n").first.map(String.init) ?? "unknown process"
          throw MCPGenError(
            .lockTimeout,
            "another mcp-gen holds \(path.displayString) (\(holder)) and did not finish within \(formatSeconds(timeout)) s; wait for it or pass a longer --lock-timeout",
            hint: "mcp-gen status (once it is free), then the same command with --lock-timeout 300 to wait longer", path: path)
        }
        sleepSeconds(min(pause, max(0.001, deadline - monotonicSeconds())))
        pause = min(pause * 2, 0.05)
      case .failure(let e):
        throw MCPGenError(SystemCallError("flock", path: path, errno: e), doing: "lock")
      }
    }
  }

  /// Best effort: the holder line is advice for a waiter, never relied on for correctness.
  private func recordHolder(_ commandLine: [UInt8]) {
    let line = StoreLock.holderLine(pid: Syscall.processID(), commandLine: commandLine)
    _ = Syscall.ftruncate(file.fd, 0)
    _ = line.withUnsafeBytes { Syscall.pwrite(file.fd, $0.baseAddress!, $0.count, 0) }
  }

  /// `pid <pid>: <command line>` and a newline: what the lock file says while the lock is held.
  /// The command line is written as UTF-8 text (bytes that are not UTF-8 become U+FFFD), since
  /// waiters show the line in messages.
  static func holderLine(pid: Int32, commandLine: [UInt8]) -> [UInt8] {
    Array("pid \(pid): \(String(decoding: commandLine, as: UTF8.self))\n".utf8)
  }

  /// Releases the lock now (it is released anyway when the value goes away or the process dies).
  public func release() {
    _ = Syscall.ftruncate(file.fd, 0)
    _ = Syscall.flock(file.fd, LockOperation.unlock)
  }

  deinit { release() }
}

func formatSeconds(_ s: Double) -> String {
  s == s.rounded() ? String(Int(s)) : String(s)
}
