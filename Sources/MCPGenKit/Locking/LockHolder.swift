import MCPGenSystem
import SystemPackage

/// The command holding a root's lock right now, as its own line in the lock file says
/// (`pid N: COMMAND`, written when it took the lock).
public struct LockHolder: Sendable, Equatable {
  /// nil when the holder has not written its line yet.
  public var pid: Int32?
  public var command: [UInt8]?

  /// Who holds the lock of `root`, or nil when it is free (or cannot be told: no lock file yet,
  /// one this user may not read, or something other than a regular file).
  ///
  /// A shared lock is tried without waiting and dropped at once, as `doctor` does: it fails
  /// exactly when a changing command holds the exclusive lock. Takes no lock beyond that instant.
  static func current(in root: DirectoryFD) -> LockHolder? {
    // O_NONBLOCK: a FIFO put in place of the lock must not hang `status`.
    guard let file = try? root.openFile(StoreLock.name, flags: [.readOnly, .nonBlocking, .noFollow]),
      let st = try? file.stat(), st.type == .regular
    else { return nil }
    switch Syscall.flock(file.fd, [.shared, .nonBlocking]) {
    case .success:
      _ = Syscall.flock(file.fd, LockOperation.unlock)
      return nil
    case .failure(let e) where e == .wouldBlock:
      let written = parse(firstLine(file))
      if written.pid != nil { return written }
      // Nothing written (yet, or ever: whoever can open the file can flock it): ask the kernel.
      return LockHolders.holders(of: st).first.map { LockHolder(pid: $0.pid, command: $0.command) } ?? written
    case .failure:
      return nil
    }
  }

  /// At most the first 4 KiB: the holder's line is short, and the file is not to be trusted.
  static func firstLine(_ file: FileFD) -> [UInt8] {
    let bytes = (try? file.read(at: 0, count: 4096)) ?? []
    return Array(bytes.prefix { $0 != 0x0A })
  }

  /// `pid N: COMMAND`; a holder that has not written it yet is known only to exist.
  static func parse(_ line: [UInt8]) -> LockHolder {
    let prefix = Array("pid ".utf8)
    guard line.starts(with: prefix), let colon = line.firstIndex(of: UInt8(ascii: ":")),
      let pid = Int32(String(decoding: line[prefix.count..<colon], as: UTF8.self)), pid > 0
    else { return LockHolder(pid: nil, command: nil) }
    return LockHolder(pid: pid, command: Array(line[(colon + 1)...].drop { $0 == 0x20 }))
  }
}
