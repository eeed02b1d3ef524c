import MCPGenSystem
import SystemPackage

/// Who, if anyone, holds the root's lock.
///
/// A shared lock is tried without waiting and dropped at once: it fails exactly when a changing
/// command holds the exclusive lock, and it never makes anyone wait for more than that instant.
/// The holder's own line in the file (`pid N: COMMAND`) says who it is.
enum LockCheck {
  /// The finding, and whether a changing command holds the lock right now.
  static func run(_ root: DirectoryFD, now: Int64) -> (finding: DoctorFinding, held: Bool) {
    let finding = examine(root, now: now)
    return (finding, finding.status == .warning)  // Every warning here is a holder.
  }

  private static func examine(_ root: DirectoryFD, now: Int64) -> DoctorFinding {
    let path = root.path.appending(bytes: StoreLock.name)
    let file: FileFD
    do {
      // O_NONBLOCK: a FIFO put there must not hang the doctor.
      file = try root.openFile(StoreLock.name, flags: [.readOnly, .nonBlocking])
    } catch let e where e.errno == .noSuchFileOrDirectory {
      return DoctorFinding("lock", .ok, "free (no command has taken it yet)")
    } catch let e where e.errno == .tooManySymbolicLinkLevels {
      return notRegular(path)
    } catch let e where e.errno == .permissionDenied {
      // The lock is 0600 so that no other user can hold it; only its owner can test it.
      return DoctorFinding("lock", .warning, "cannot tell who holds \(path.displayString): only its owner may open it",
                           hint: "run mcp-gen doctor as \((try? root.stat(StoreLock.name)).map { Clock.userName($0.uid) } ?? "root")")
    } catch {
      return DoctorFinding("lock", .problem, "cannot open \(path.displayString): \(error.errno.description)",
                           hint: "run as a user who may read the root")
    }
    guard let st = try? file.stat() else {
      return DoctorFinding("lock", .problem, "cannot read \(path.displayString)", hint: "run as a user who may read the root")
    }
    guard st.type == .regular else { return notRegular(path) }

    switch Syscall.flock(file.fd, [.shared, .nonBlocking]) {
    case .success:
      _ = Syscall.flock(file.fd, LockOperation.unlock)
      return DoctorFinding("lock", .ok, "free")
    case .failure(let e) where e == .wouldBlock:
      return held(file, since: Int64(st.modified.seconds), now: now)
    case .failure(let e):
      return DoctorFinding("lock", .problem, "cannot test \(path.displayString): flock: \(e.description)",
                           hint: "check the file system of the root")
    }
  }

  /// The holder wrote `pid N: COMMAND` when it took the lock, so the file's mtime is when.
  private static func held(_ file: FileFD, since: Int64, now: Int64) -> DoctorFinding {
    let written = LockHolder.parse(LockHolder.firstLine(file))
    let age = Doctor.age(now - since)
    guard let pid = written.pid else {
      // Nothing written (yet, or ever: anything that can open the file can flock it): ask the
      // kernel. The file's mtime says nothing about when such a holder took it.
      guard let st = try? file.stat() else { return unnamed(age) }
      let holders = LockHolders.holders(of: st)
      guard !holders.isEmpty else { return unnamed(age) }
      let named = holders.map { h in "pid \(h.pid)" + (h.command.map { ": " + displayName($0) } ?? "") }.joined(separator: ", ")
      return DoctorFinding("lock", .warning, "held by \(named) (per /proc/locks; it wrote no name into the lock)",
                           hint: "see it with: ps -o pid,etime,args -p \(holders.map { String($0.pid) }.joined(separator: ","))")
    }
    let shown = displayName(written.command ?? [])
    if Syscall.processIsGone(pid) {
      return DoctorFinding("lock", .warning,
        "held for \(age), by a process that inherited it from pid \(pid) (\(shown)), which has ended",
        hint: "fuser -v \(Doctor.shellWord(file.path)) names it; end it once it is safe to")
    }
    return DoctorFinding("lock", .warning, "held for \(age) by pid \(pid): \(shown)",
                         hint: "wait for it to finish (see it with: ps -o pid,etime,args -p \(pid))")
  }

  private static func unnamed(_ age: String) -> DoctorFinding {
    DoctorFinding("lock", .warning, "held for \(age) by a process that has not written its name yet",
                  hint: "run mcp-gen doctor again in a moment")
  }

  private static func notRegular(_ path: FilePath) -> DoctorFinding {
    DoctorFinding("lock", .problem, "\(path.displayString) is not a regular file, so every changing command fails",
                  hint: "mv \(Doctor.shellWord(path)) \(Doctor.shellWord(path)).broken")
  }
}
