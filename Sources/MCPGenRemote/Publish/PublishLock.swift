import MCPGenKit
import MCPGenSystem

/// `flock(2)` on `<remote>/.publish.lock`, held by every command that writes the remote: a
/// timer's `--refresh` and a `publish` never write two snapshots of one version. The file is
/// never deleted (a killed holder's lock goes with its descriptor); clients never read it.
public final class PublishLock {
  private let file: FileFD

  private init(file: FileFD) { self.file = file }

  deinit { _ = Syscall.flock(file.fd, LockOperation.unlock) }

  /// Waits up to `timeout` seconds for the lock, then fails with `.lockTimeout`.
  static func acquire(_ remote: RemoteDirectory, timeout: Double) throws(MCPGenError) -> PublishLock {
    let path = remote.path.appending(bytes: RemoteDirectory.lockName)
    let file: FileFD
    do {
      guard case .regular(let opened) = try remote.root.openRegularFile(RemoteDirectory.lockName, flags: [.readWrite, .create], mode: 0o600) else {
        throw MCPGenError(.io, "\(path.displayString) is not a regular file; move it away and run the command again", path: path)
      }
      file = opened
    } catch let e as SystemCallError {
      throw MCPGenError(e, doing: "open the publish lock")
    } catch let e as MCPGenError {
      throw e
    } catch {
      throw MCPGenError(.io, "cannot open the publish lock: \(error)")
    }
    let deadline = monotonicSeconds() + max(0, timeout)
    var pause = 0.005
    while true {
      switch Syscall.flock(file.fd, [.exclusive, .nonBlocking]) {
      case .success:
        return PublishLock(file: file)
      case .failure(.wouldBlock):
        if monotonicSeconds() >= deadline {
          throw MCPGenError(
            .lockTimeout,
            "another publish holds \(path.displayString) and did not finish within \(Int(timeout)) s; wait for it or pass a longer --lock-timeout",
            path: path)
        }
        sleepSeconds(min(pause, max(0.001, deadline - monotonicSeconds())))
        pause = min(pause * 2, 0.1)
      case .failure(let e):
        throw MCPGenError(SystemCallError("flock", path: path, errno: e), doing: "lock the remote")
      }
    }
  }
}
