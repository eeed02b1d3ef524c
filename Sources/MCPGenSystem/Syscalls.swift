#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CMCPGenShims
import SystemPackage

/// Every libc call the engine makes, each in one place.
///
/// Each returns `Result<_, Errno>` and retries `EINTR` (except `close`, which must never be
/// retried on Linux: the descriptor is gone even when it reports EINTR). Callers that know the
/// path turn a failure into a `SystemCallError` once. Debug builds can force an errno on the Nth
/// call of any of them (see `FaultInjection`), which is how the per-syscall error tests run.
public enum Syscall {
  /// `openat(2)`.
  public static func openat(
    _ dir: CInt, _ path: UnsafePointer<CChar>, _ flags: OpenFlags, _ mode: mode_t = 0
  ) -> Result<CInt, Errno> {
    call("openat") { Glibc.openat(dir, path, flags.rawValue, mode) }
  }

  /// `openat2(2)` with `RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH`.
  public static func openat2Beneath(
    _ dir: CInt, _ path: UnsafePointer<CChar>, _ flags: OpenFlags, _ mode: mode_t = 0
  ) -> Result<CInt, Errno> {
    call("openat2") { mcpgen_openat2_beneath(dir, path, flags.rawValue, mode) }
  }

  /// `openat2(2)` with `RESOLVE_BENEATH` alone: symlinks inside `dir` are followed, a path or
  /// link that leads out of it fails with `EXDEV`.
  public static func openat2Within(_ dir: CInt, _ path: UnsafePointer<CChar>, _ flags: OpenFlags) -> Result<CInt, Errno> {
    call("openat2") { mcpgen_openat2_within(dir, path, flags.rawValue) }
  }

  /// `close(2)`; never retried.
  public static func close(_ fd: CInt) -> Result<Void, Errno> {
    call("close", retry: false) { Glibc.close(fd) }.map { _ in () }
  }

  /// `read(2)`.
  public static func read(_ fd: CInt, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Result<Int, Errno> {
    call("read") { Glibc.read(fd, buffer, count) }
  }

  /// `pread(2)`.
  public static func pread(
    _ fd: CInt, _ buffer: UnsafeMutableRawPointer, _ count: Int, _ offset: off_t
  ) -> Result<Int, Errno> {
    call("pread") { Glibc.pread(fd, buffer, count, offset) }
  }

  /// `write(2)`.
  public static func write(_ fd: CInt, _ buffer: UnsafeRawPointer, _ count: Int) -> Result<Int, Errno> {
    call("write") { Glibc.write(fd, buffer, count) }
  }

  /// `pwrite(2)`.
  public static func pwrite(
    _ fd: CInt, _ buffer: UnsafeRawPointer, _ count: Int, _ offset: off_t
  ) -> Result<Int, Errno> {
    call("pwrite") { Glibc.pwrite(fd, buffer, count, offset) }
  }

  /// `lseek(2)`.
  static func lseek(_ fd: CInt, _ offset: off_t, _ whence: CInt) -> Result<off_t, Errno> {
    call("lseek") { Glibc.lseek(fd, offset, whence) }
  }

  /// `ftruncate(2)`.
  public static func ftruncate(_ fd: CInt, _ length: off_t) -> Result<Void, Errno> {
    call("ftruncate") { Glibc.ftruncate(fd, length) }.map { _ in () }
  }

  /// `fstat(2)`.
  public static func fstat(_ fd: CInt) -> Result<FileInfo, Errno> {
    var st = stat()
    return call("fstat") { Glibc.fstat(fd, &st) }.map { _ in FileInfo(st) }
  }

  /// `fcntl(2)` with `F_GETFL`: the file status flags of an open descriptor.
  public static func getStatusFlags(_ fd: CInt) -> Result<OpenFlags, Errno> {
    call("fcntl") { Glibc.fcntl(fd, F_GETFL) }.map { OpenFlags(rawValue: $0) }
  }

  /// `fcntl(2)` with `F_SETFL`.
  public static func setStatusFlags(_ fd: CInt, _ flags: OpenFlags) -> Result<Void, Errno> {
    call("fcntl") { Glibc.fcntl(fd, F_SETFL, flags.rawValue) }.map { _ in () }
  }

  /// `fstatat(2)`; `AT_SYMLINK_NOFOLLOW` unless `follow`.
  public static func fstatat(_ dir: CInt, _ path: UnsafePointer<CChar>, follow: Bool = false) -> Result<FileInfo, Errno> {
    var st = stat()
    let flags = follow ? 0 : AT_SYMLINK_NOFOLLOW
    return call("fstatat") { Glibc.fstatat(dir, path, &st, flags) }.map { _ in FileInfo(st) }
  }

  /// `mkdirat(2)`.
  public static func mkdirat(_ dir: CInt, _ path: UnsafePointer<CChar>, _ mode: mode_t) -> Result<Void, Errno> {
    call("mkdirat") { Glibc.mkdirat(dir, path, mode) }.map { _ in () }
  }

  /// `symlinkat(2)`.
  public static func symlinkat(
    _ target: UnsafePointer<CChar>, _ dir: CInt, _ path: UnsafePointer<CChar>
  ) -> Result<Void, Errno> {
    call("symlinkat") { Glibc.symlinkat(target, dir, path) }.map { _ in () }
  }

  /// `readlinkat(2)`, returning the target bytes (never NUL-terminated on disk).
  public static func readlinkat(_ dir: CInt, _ path: UnsafePointer<CChar>) -> Result<[UInt8], Errno> {
    readlinkat(dir, path) { Array($0) }
  }

  /// `readlinkat(2)`, handing the target bytes to `body` where they were read (on the stack for
  /// the usual short target: `list` reads 10,000s of links and keeps only their keys).
  public static func readlinkat<R>(
    _ dir: CInt, _ path: UnsafePointer<CChar>, _ body: (UnsafeBufferPointer<UInt8>) -> R
  ) -> Result<R, Errno> {
    var capacity = 256
    while true {
      let result = withUnsafeTemporaryAllocation(of: CChar.self, capacity: capacity) { buffer in
        call("readlinkat") { Glibc.readlinkat(dir, path, buffer.baseAddress!, capacity) }.map { n in
          n < capacity ? buffer.withMemoryRebound(to: UInt8.self) { body(UnsafeBufferPointer(rebasing: $0[0..<n])) } : nil
        }
      }
      switch result {
      case .failure(let e): return .failure(e)
      case .success(let value?): return .success(value)
      case .success(nil): capacity *= 4  // Possibly truncated: read again with room to spare.
      }
    }
  }

  /// `linkat(2)` of the open file `fd` (an `O_TMPFILE` one) as `name` in `dir`: with
  /// `AT_EMPTY_PATH`, which needs `CAP_DAC_READ_SEARCH`, else through `/proc/self/fd/N` with
  /// `AT_SYMLINK_FOLLOW` (libglnx does the same). Fails with `EEXIST` when `name` exists.
  public static func linkOpenFile(_ fd: CInt, _ dir: CInt, _ name: UnsafePointer<CChar>) -> Result<Void, Errno> {
    let direct = call("linkat") { Glibc.linkat(fd, "", dir, name, mcpgen_at_empty_path) }
    switch direct {
    case .success: return .success(())
    case .failure(let e) where e == .noSuchFileOrDirectory || e == .notPermitted || e == .permissionDenied
      || e == .invalidArgument:
      return call("linkat") { Glibc.linkat(AT_FDCWD, "/proc/self/fd/\(fd)", dir, name, AT_SYMLINK_FOLLOW) }.map { _ in () }
    case .failure(let e): return .failure(e)
    }
  }

  /// `renameat(2)`.
  public static func renameat(
    _ oldDir: CInt, _ old: UnsafePointer<CChar>, _ newDir: CInt, _ new: UnsafePointer<CChar>
  ) -> Result<Void, Errno> {
    call("renameat") { Glibc.renameat(oldDir, old, newDir, new) }.map { _ in () }
  }

  /// `renameat2(2)` with `RENAME_NOREPLACE`.
  public static func renameatNoReplace(
    _ oldDir: CInt, _ old: UnsafePointer<CChar>, _ newDir: CInt, _ new: UnsafePointer<CChar>
  ) -> Result<Void, Errno> {
    call("renameat2") { mcpgen_renameat_noreplace(oldDir, old, newDir, new) }.map { _ in () }
  }

  /// `renameat2(2)` with `RENAME_EXCHANGE`: both names exist before, during and after.
  public static func renameatExchange(
    _ oldDir: CInt, _ old: UnsafePointer<CChar>, _ newDir: CInt, _ new: UnsafePointer<CChar>
  ) -> Result<Void, Errno> {
    call("renameat2") { mcpgen_renameat_exchange(oldDir, old, newDir, new) }.map { _ in () }
  }

  /// `unlinkat(2)`; `AT_REMOVEDIR` when `directory`.
  public static func unlinkat(_ dir: CInt, _ path: UnsafePointer<CChar>, directory: Bool) -> Result<Void, Errno> {
    call("unlinkat") { Glibc.unlinkat(dir, path, directory ? AT_REMOVEDIR : 0) }.map { _ in () }
  }

  /// `fchmod(2)`.
  public static func fchmod(_ fd: CInt, _ mode: mode_t) -> Result<Void, Errno> {
    call("fchmod") { Glibc.fchmod(fd, mode) }.map { _ in () }
  }

  /// `fsync(2)`.
  public static func fsync(_ fd: CInt) -> Result<Void, Errno> {
    call("fsync") { Glibc.fsync(fd) }.map { _ in () }
  }

  /// `syncfs(2)`.
  public static func syncfs(_ fd: CInt) -> Result<Void, Errno> {
    call("syncfs") { mcpgen_syncfs(fd) }.map { _ in () }
  }

  /// `sync_file_range(2)` with `SYNC_FILE_RANGE_WRITE`.
  public static func startWriteback(_ fd: CInt, _ offset: Int64, _ length: Int64) -> Result<Void, Errno> {
    call("sync_file_range") { mcpgen_start_writeback(fd, offset, length) }.map { _ in () }
  }

  /// Maps in the whole pages of a large fresh buffer with one `madvise(MADV_POPULATE_WRITE)`
  /// (Linux 5.14) instead of one page fault each as a read fills it: a megabytes-long journal
  /// costs a thousand faults otherwise. Only a hint: on older kernels nothing happens.
  public static func populate(_ buffer: UnsafeMutableRawBufferPointer) {
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    guard buffer.count >= 64 * page, let base = buffer.baseAddress else { return }
    let start = (Int(bitPattern: base) + page - 1) & ~(page - 1)
    let end = (Int(bitPattern: base) + buffer.count) & ~(page - 1)
    guard end > start, let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return }
    _ = madvise(aligned, end - start, populateWrite)
  }

  /// `MADV_POPULATE_WRITE`, which Glibc's headers may predate.
  private static let populateWrite: CInt = 23

  /// Raises the soft limit on open descriptors to the hard limit (at most `wanted`) and returns
  /// the soft limit now in force. Many systems start processes at 1,024 with a far higher hard
  /// limit, which exists to be raised by programs that need more.
  public static func raiseOpenFileLimit(to wanted: rlim_t) -> rlim_t {
    var limit = rlimit()
    guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
    let target = min(wanted, limit.rlim_max)
    if limit.rlim_cur < target {
      var raised = limit
      raised.rlim_cur = target
      if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { return target }
    }
    return limit.rlim_cur
  }

  /// Makes the kernel's descriptor table of this process hold `count` descriptors now, in one
  /// step (a duplicate at descriptor `count - 1` or above, `F_DUPFD`, which never replaces an
  /// open one, closed again), instead of doubling it step by step as descriptors are opened: in
  /// a process with threads each of those steps waits for an RCU grace period
  /// (`expand_fdtable`). Measured on a pull that opens 1,050 directories: 33 ms of opens
  /// became 3 ms. The table never shrinks; past the descriptor limit this does nothing.
  public static func growDescriptorTable(to count: Int) {
    guard count > 1, let top = CInt(exactly: count - 1) else { return }
    let duplicate = Glibc.fcntl(2, F_DUPFD_CLOEXEC, top)
    if duplicate >= 0 { _ = Glibc.close(duplicate) }
  }

  /// `flock(2)`.
  public static func flock(_ fd: CInt, _ operation: LockOperation) -> Result<Void, Errno> {
    call("flock") { mcpgen_flock(fd, operation.rawValue) }.map { _ in () }
  }

  /// `geteuid(2)`; cannot fail.
  public static func effectiveUserID() -> uid_t { Glibc.geteuid() }

  /// `getpid(2)`; cannot fail.
  public static func processID() -> pid_t { Glibc.getpid() }

  /// `getpwuid_r(3)`: the name of user `uid`, nil when it has none.
  public static func userName(of uid: uid_t) -> String? {
    var entry = passwd()
    var result: UnsafeMutablePointer<passwd>? = nil
    var buffer = [CChar](repeating: 0, count: 1024)
    if getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, let found = result, let name = found.pointee.pw_name {
      return String(cString: name)
    }
    return nil
  }

  /// `kill(2)` with signal 0: whether process `pid` exists (EPERM means it does, owned by
  /// another user).
  public static func processExists(_ pid: pid_t) -> Bool {
    Glibc.kill(pid, 0) == 0 || Glibc.errno == EPERM
  }

  /// `kill(2)` with signal 0 failed with `ESRCH`: process `pid` is certainly gone (any other
  /// answer, including EPERM, leaves it possibly alive).
  public static func processIsGone(_ pid: pid_t) -> Bool {
    Glibc.kill(pid, 0) != 0 && Glibc.errno == ESRCH
  }

  /// `getcwd(3)`: the working directory, nil when it cannot be read (removed, too long).
  public static func currentDirectory() -> [UInt8]? {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    guard Glibc.getcwd(&buffer, buffer.count) != nil else { return nil }
    return buffer.withUnsafeBufferPointer { cStringBytes($0.baseAddress!) }
  }

  /// `sysconf(_SC_NPROCESSORS_ONLN)`: the online cores, at least 1.
  public static func onlineCores() -> Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

  /// `mmap(2)` of `length` bytes of `fd` at `offset`, read-only and shared; nil when it fails
  /// (the caller reads instead).
  public static func mapReadOnly(_ fd: CInt, offset: Int64, length: Int) -> UnsafeRawPointer? {
    guard let base = Glibc.mmap(nil, length, PROT_READ, MAP_SHARED, fd, off_t(offset)), base != MAP_FAILED else {
      return nil
    }
    return UnsafeRawPointer(base)
  }

  /// `munmap(2)` of what `mapReadOnly` returned.
  public static func unmap(_ base: UnsafeRawPointer, length: Int) {
    _ = Glibc.munmap(UnsafeMutableRawPointer(mutating: base), length)
  }

  /// `memfd_create(2)` with `MFD_CLOEXEC`: an in-memory file that collects a child's output.
  public static func memfd(_ name: String) -> Result<CInt, Errno> {
    call("memfd_create") { mcpgen_memfd(name) }
  }

  /// `getpwnam_r(3)`: the uid of the user called `name`, nil when there is no such user.
  public static func userID(named name: String) -> Result<uid_t?, Errno> {
    var entry = passwd()
    var found: UnsafeMutablePointer<passwd>? = nil
    var capacity = 1024
    while true {
      let r: CInt = withUnsafeTemporaryAllocation(of: CChar.self, capacity: capacity) { buffer in
        Glibc.getpwnam_r(name, &entry, buffer.baseAddress!, capacity, &found)
      }
      // getpwnam_r returns the error number instead of setting errno.
      if r == ERANGE && capacity < 1 << 20 { capacity *= 4; continue }
      if r == EINTR { continue }
      if r != 0 { return .failure(Errno(rawValue: r)) }
      return .success(found.map { $0.pointee.pw_uid })
    }
  }

  /// The names of this process's environment variables (`environ(7)`).
  public static func environmentNames() -> [String] {
    var names: [String] = []
    var p = Glibc.environ
    while let entry = p.pointee {
      let bytes = cStringBytes(entry)
      names.append(String(decoding: bytes.prefix { $0 != UInt8(ascii: "=") }, as: UTF8.self))
      p += 1
    }
    return names
  }

  /// `pipe2(2)` with `O_CLOEXEC`: the read end, then the write end.
  public static func pipe() -> Result<(read: CInt, write: CInt), Errno> {
    var fds: (CInt, CInt) = (-1, -1)
    return call("pipe2") {
      withUnsafeMutableBytes(of: &fds) { mcpgen_pipe_cloexec($0.baseAddress!.assumingMemoryBound(to: CInt.self)) }
    }.map { _ in (fds.0, fds.1) }
  }

  /// `kill(2)` of the process group `group`.
  public static func killGroup(_ group: pid_t, _ signal: CInt) -> Result<Void, Errno> {
    call("kill") { Glibc.kill(-group, signal) }.map { _ in () }
  }

  /// `kill(2)` of the one process `pid`.
  public static func kill(_ pid: pid_t, _ signal: CInt) -> Result<Void, Errno> {
    call("kill") { Glibc.kill(pid, signal) }.map { _ in () }
  }

  /// `fstatvfs(3)`.
  public static func fstatvfs(_ fd: CInt) -> Result<FileSystemInfo, Errno> {
    var st = statvfs()
    return call("fstatvfs") { Glibc.fstatvfs(fd, &st) }.map { _ in FileSystemInfo(st) }
  }

  /// `ioctl(FS_IOC_GETFLAGS)`.
  public static func getInodeFlags(_ fd: CInt) -> Result<InodeFlags, Errno> {
    var flags: CInt = 0
    return call("ioctl") { mcpgen_get_inode_flags(fd, &flags) }.map { _ in InodeFlags(rawValue: flags) }
  }

  /// Whether the inode at `name` in `dirfd` (not followed) is immutable, by `statx(2)`'s
  /// attributes; `.notSupported` where the file system does not report the attribute.
  public static func isImmutable(at dirfd: CInt, _ name: UnsafePointer<CChar>) -> Result<Bool, Errno> {
    call("statx") { mcpgen_is_immutable_at(dirfd, name) }.map { $0 == 1 }
  }

  /// `ioctl(FS_IOC_SETFLAGS)`.
  public static func setInodeFlags(_ fd: CInt, _ flags: InodeFlags) -> Result<Void, Errno> {
    call("ioctl") { mcpgen_set_inode_flags(fd, flags.rawValue) }.map { _ in () }
  }

  /// `fdopendir(3)` + `readdir(3)` + `closedir(3)` on a duplicate of `fd`: every name but
  /// `.` and `..`, as raw bytes, in the order the file system returns them.
  public static func listDirectory(_ fd: CInt) -> Result<[[UInt8]], Errno> {
    var names: [[UInt8]] = []
    return listDirectory(fd) { names.append(Array($0)) }.map { names }
  }

  /// Calls `body` with each name in the directory but `.` and `..`, in the bytes `readdir`
  /// returned (valid only during the call): a directory of 10,000 generations needs no array
  /// per name.
  public static func listDirectory(_ fd: CInt, _ body: (UnsafeBufferPointer<UInt8>) -> Void) -> Result<Void, Errno> {
    let dupFD: CInt
    switch call("dup", { Glibc.dup(fd) }) {
    case .success(let d): dupFD = d
    case .failure(let e): return .failure(e)
    }
    guard let dir = Glibc.fdopendir(dupFD) else {
      let e = Errno(rawValue: Glibc.errno)
      _ = Glibc.close(dupFD)
      return .failure(e)
    }
    defer { Glibc.closedir(dir) }
    Glibc.rewinddir(dir)
    while true {
      Glibc.errno = 0
      guard let entry = Glibc.readdir(dir) else {
        if Glibc.errno != 0 { return .failure(Errno(rawValue: Glibc.errno)) }
        return .success(())
      }
      withUnsafePointer(to: &entry.pointee.d_name) { tuple in
        tuple.withMemoryRebound(to: UInt8.self, capacity: 256) { bytes in
          let name = UnsafeBufferPointer(start: bytes, count: Glibc.strlen(UnsafeRawPointer(bytes).assumingMemoryBound(to: CChar.self)))
          if name.count == 1 && name[0] == 0x2E || name.count == 2 && name[0] == 0x2E && name[1] == 0x2E { return }
          body(name)
        }
      }
    }
  }

  static func call<I: FixedWidthInteger>(
    _ name: StaticString, retry: Bool = true, _ body: () -> I
  ) -> Result<I, Errno> {
    #if DEBUG
    if let forced = FaultInjection.shared.fault(for: name) { return .failure(forced) }
    #endif
    while true {
      let r = body()
      if r != -1 { return .success(r) }
      let e = Errno(rawValue: Glibc.errno)
      if retry && e == .interrupted { continue }
      return .failure(e)
    }
  }
}

extension Syscall {
  /// `posix_spawn(3)` of `path` with `argv` and `envp`, stdin, stdout and stderr made from the
  /// given descriptors (`posix_spawn_file_actions_adddup2`), an empty signal mask and default
  /// actions for SIGPIPE, SIGINT, SIGTERM and SIGQUIT (`posix_spawnattr_setsigmask`,
  /// `posix_spawnattr_setsigdefault`), started in `workingDirectory` when given
  /// (`posix_spawn_file_actions_addchdir_np`), as leader of a new process group with
  /// `ownProcessGroup` (`POSIX_SPAWN_SETPGROUP`, group 0). Returns the child's pid.
  public static func spawn(
    _ path: [UInt8], _ argv: [[UInt8]], _ envp: [[UInt8]], stdin: CInt, stdout: CInt, stderr: CInt,
    workingDirectory: [UInt8]? = nil, ownProcessGroup: Bool = false
  ) -> Result<pid_t, Errno> {
    #if DEBUG
    if let forced = FaultInjection.shared.fault(for: "posix_spawn") { return .failure(forced) }
    #endif
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, stdin, 0)
    posix_spawn_file_actions_adddup2(&actions, stdout, 1)
    posix_spawn_file_actions_adddup2(&actions, stderr, 2)
    if let workingDirectory {
      let rc = withCString(workingDirectory) { mcpgen_spawn_addchdir(&actions, $0) }
      if rc != 0 { return .failure(Errno(rawValue: rc)) }
    }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var mask = sigset_t()
    sigemptyset(&mask)
    posix_spawnattr_setsigmask(&attributes, &mask)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGPIPE, SIGINT, SIGTERM, SIGQUIT] { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
    if ownProcessGroup {
      posix_spawnattr_setpgroup(&attributes, 0)
      flags |= POSIX_SPAWN_SETPGROUP
    }
    posix_spawnattr_setflags(&attributes, Int16(flags))

    // Each string its own NUL-terminated copy; the arrays end with a null pointer.
    let cArguments = argv.map { bytes in bytes.withUnsafeBufferPointer { cString($0) } } + [nil]
    let cEnvironment = envp.map { bytes in bytes.withUnsafeBufferPointer { cString($0) } } + [nil]
    defer { for p in cArguments + cEnvironment { free(p) } }
    var pid: pid_t = 0
    let rc = withCString(path) { p in posix_spawn(&pid, p, &actions, &attributes, cArguments, cEnvironment) }
    return rc == 0 ? .success(pid) : .failure(Errno(rawValue: rc))
  }

  /// `waitid(2)` with `P_PID`, `WEXITED | WNOWAIT`: returns once `pid` has ended, leaving it to
  /// be reaped.
  public static func waitForExit(_ pid: pid_t) -> Result<Void, Errno> {
    var info = siginfo_t()
    return call("waitid") { waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) }.map { _ in () }
  }

  /// `waitid(2)` with `P_PID`, `WEXITED | WNOHANG | WNOWAIT`: whether `pid` has ended, leaving
  /// it to be reaped.
  public static func hasExited(_ pid: pid_t) -> Bool {
    var info = siginfo_t()
    // The kernel sets si_signo to SIGCHLD when it found the child ended, 0 when not.
    guard case .success = call("waitid", { waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) }) else {
      return true  // Nothing to wait for: reaping will say how it ended.
    }
    return info.si_signo == SIGCHLD
  }

  /// `pidfd_open(2)`: a descriptor (close-on-exec) that polls readable once `pid` has ended.
  public static func pidfdOpen(_ pid: pid_t) -> Result<CInt, Errno> {
    call("pidfd_open") { mcpgen_pidfd_open(pid) }
  }

  /// `poll(2)` of `fds` for readability, at most `milliseconds` (-1: no limit); the `revents` of
  /// each, in order. EINTR returns all zero (the caller looks again).
  public static func pollReadable(_ fds: [CInt], milliseconds: Int32) -> Result<[Int16], Errno> {
    var entries = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
    let n = Glibc.poll(&entries, nfds_t(entries.count), milliseconds)
    if n == -1 {
      let e = Errno(rawValue: Glibc.errno)
      return e == .interrupted ? .success(fds.map { _ in 0 }) : .failure(e)
    }
    return .success(entries.map(\.revents))
  }

  /// `waitpid(2)`: reaps `pid` and returns its raw wait status.
  public static func reap(_ pid: pid_t) -> Result<Int32, Errno> {
    var status: Int32 = 0
    return call("waitpid") { waitpid(pid, &status, 0) }.map { _ in status }
  }
}

/// A malloc'd NUL-terminated copy of `bytes` (freed by the caller).
private func cString(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeMutablePointer<CChar>? {
  let p = malloc(bytes.count + 1)!.assumingMemoryBound(to: CChar.self)
  if let base = bytes.baseAddress { memcpy(p, base, bytes.count) }
  p[bytes.count] = 0
  return p
}
