#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import SystemPackage

extension ChildProcess {
  /// A program started with `posix_spawn(3)` and waited for on the caller's thread: the one spawn
  /// routine, under `run` and under the curl transport. No Swift concurrency and no other thread:
  /// callers block while the program runs (the engine holds the root's lock, the fetcher is
  /// synchronous) and may themselves be threads of Swift's cooperative pool, which must never
  /// need another thread of that pool to finish.
  ///
  /// The program gets an empty signal mask and default actions for the signals mcp-gen handles or
  /// ignores (it inherits neither the mask of the thread that started it nor SIGPIPE ignored).
  /// A caller that reads its output through its own pipe can `signal` it while it runs, and must
  /// `wait` for it exactly once (`run` does both itself).
  public final class Spawned: Sendable {
    public let pid: Int32
    /// Polls readable once the program has ended (`pidfd_open(2)`), so `run` can wait for several
    /// programs, a deadline and a cancel at once on one thread; -1 when the kernel has none.
    let pidFD: CInt
    let ownProcessGroup: Bool
    let label: String
    /// Whether it was reaped: after that its pid may belong to another process, so `signal`
    /// checks this under the lock, and `wait` reaps under it.
    private let reaped = Mutex<Bool>(false)
    /// stdout and stderr collected in in-memory files (-1: handed to a descriptor, or merged).
    private let outputFD: CInt
    private let errorFD: CInt

    /// Starts `spec`. Its handed descriptors are closed here once it started, or failed to.
    public static func start(_ spec: Spec) throws(StartFailure) -> Spawned {
      defer {
        spec.input?.close()
        spec.output?.close()
        spec.errorOutput?.close()
      }
      let label = spec.shownName
      func fail(_ what: String, _ e: Errno) -> StartFailure { .couldNotStart(label, "\(what): \(e)") }
      var opened: [CInt] = []
      defer { for fd in opened { _ = Syscall.close(fd) } }
      func memfd(_ name: String) throws(StartFailure) -> CInt {
        switch Syscall.memfd("mcp-gen-\(label)-\(name)") {
        case .success(let fd):
          opened.append(fd)
          return fd
        case .failure(let e): throw fail("memfd_create", e)
        }
      }
      let stdin: CInt
      if let input = spec.input {
        stdin = input.fd
      } else {
        switch withCString(Array("/dev/null".utf8), { Syscall.openat(AT_FDCWD, $0, [.readOnly, .closeOnExec]) }) {
        case .success(let fd):
          opened.append(fd)
          stdin = fd
        case .failure(let e): throw fail("open /dev/null", e)
        }
      }
      let collectedError = spec.errorOutput == nil ? try memfd("stderr") : -1
      let collectedOutput = spec.output == nil && !spec.errorIntoOutput ? try memfd("stdout") : -1
      let stderr = spec.errorOutput?.fd ?? collectedError
      let stdout = spec.output?.fd ?? (spec.errorIntoOutput ? stderr : collectedOutput)

      let environment = spec.childEnvironment()
      let executable: [UInt8]
      switch spec.program {
      case .path(let path): executable = path.bytes
      case .name(let name) where name.contains("/"): executable = Array(name.utf8)
      case .name(let name):
        guard let found = searchPath(name, environment) else { throw .notInstalled(label) }
        executable = found
      }
      let argv = [executable] + spec.arguments
      switch Syscall.spawn(
        executable, argv, environment, stdin: stdin, stdout: stdout, stderr: stderr,
        workingDirectory: spec.workingDirectory?.bytes, ownProcessGroup: spec.ownProcessGroup)
      {
      case .success(let pid):
        // The collected output stays open here until `wait` reads it.
        opened.removeAll { $0 == collectedError || $0 == collectedOutput }
        let pidFD = (try? Syscall.pidfdOpen(pid).get()) ?? -1
        return Spawned(
          pid: pid, pidFD: pidFD, ownProcessGroup: spec.ownProcessGroup, label: label,
          outputFD: collectedOutput, errorFD: collectedError)
      case .failure(let e) where e == .noSuchFileOrDirectory || e == .permissionDenied:
        // The same errors come from a working directory that is missing or closed to us.
        if let directory = spec.workingDirectory, !isSearchable(directory.bytes) {
          throw .couldNotStart(label, "cannot enter \(directory.displayString): \(e)")
        }
        throw .notInstalled(label)
      case .failure(let e):
        throw fail("posix_spawn", e)
      }
    }

    private init(pid: Int32, pidFD: CInt, ownProcessGroup: Bool, label: String, outputFD: CInt, errorFD: CInt) {
      self.pid = pid
      self.pidFD = pidFD
      self.ownProcessGroup = ownProcessGroup
      self.label = label
      self.outputFD = outputFD
      self.errorFD = errorFD
    }

    deinit {
      for fd in [pidFD, outputFD, errorFD] where fd >= 0 { _ = Syscall.close(fd) }
    }

    /// Sends `signal` to it (to its process group when it leads one) unless it was reaped
    /// already: then its pid may be another process's.
    public func signal(_ signal: CInt) {
      reaped.withLock { done in
        if !done { _ = ownProcessGroup ? Syscall.killGroup(pid, signal) : Syscall.kill(pid, signal) }
      }
    }

    /// Whether it has ended (not reaped yet), without blocking.
    func hasEnded() -> Bool {
      if pidFD >= 0 {
        guard case .success(let events) = Syscall.pollReadable([pidFD], milliseconds: 0) else { return false }
        return events[0] != 0
      }
      return Syscall.hasExited(pid)
    }

    /// Waits for it to end, reaps it, and returns how it ended and the output it wrote (when
    /// collected). Call once.
    public func wait() -> Finished {
      // Wait without reaping, then reap under the lock: `signal` never sees a reused pid.
      _ = Syscall.waitForExit(pid)
      let status = reaped.withLock { done -> Termination in
        done = true
        switch Syscall.reap(pid) {
        case .success(let raw):
          return raw & 0x7F == 0 ? .exited((raw >> 8) & 0xFF) : .signaled(raw & 0x7F)
        case .failure:
          return .signaled(SIGKILL)
        }
      }
      return Finished(
        status: status, timedOut: false, cancelledBy: nil,
        output: outputFD >= 0 ? ChildProcess.head(outputFD) : [],
        errorOutput: errorFD >= 0 ? ChildProcess.tail(errorFD) : [])
    }
  }

  /// The first directory of the child's `PATH` (else /usr/bin:/bin) holding an executable file
  /// `name`, as execvp(3) would find it; empty entries (the working directory) are skipped.
  static func searchPath(_ name: String, _ environment: [[UInt8]]) -> [UInt8]? {
    let prefix = Array("PATH=".utf8)
    let path = environment.last { $0.starts(with: prefix) }.map { Array($0.dropFirst(prefix.count)) }
      ?? Array("/usr/bin:/bin".utf8)
    for directory in path.split(separator: 0x3A, omittingEmptySubsequences: true) {
      let candidate = Array(directory) + [0x2F] + Array(name.utf8)
      if isExecutableFile(candidate) { return candidate }
    }
    return nil
  }

  /// `access(2)` with X_OK and `stat(2)`: a regular file we may execute.
  static func isExecutableFile(_ path: [UInt8]) -> Bool {
    withCString(path) { p in
      var st = stat()
      return access(p, X_OK) == 0 && stat(p, &st) == 0 && st.st_mode & S_IFMT == S_IFREG
    }
  }

  /// `access(2)` with X_OK of a directory.
  static func isSearchable(_ path: [UInt8]) -> Bool {
    withCString(path) { access($0, X_OK) == 0 }
  }
}

extension ChildProcess.Spec {
  /// `environment` when set, else this process's without `removingFromEnvironment` and with
  /// `settingEnvironment`, as `NAME=value` entries.
  func childEnvironment() -> [[UInt8]] {
    if let environment {
      return environment.sorted { $0.key < $1.key }.map { Array("\($0.key)=\($0.value)".utf8) }
    }
    let dropped = Set(removingFromEnvironment).union(settingEnvironment.keys).map { Array($0.utf8) + [0x3D] }
    var entries: [[UInt8]] = []
    var p = environ
    while let entry = p.pointee {
      let bytes = Array(UnsafeRawBufferPointer(start: entry, count: strlen(entry)))
      if !dropped.contains(where: { bytes.starts(with: $0) }) { entries.append(bytes) }
      p = p.advanced(by: 1)
    }
    return entries + settingEnvironment.sorted { $0.key < $1.key }.map { Array("\($0.key)=\($0.value)".utf8) }
  }
}
