#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import SystemPackage

extension ChildProcess {
  /// A program started with `posix_spawn(3)` and waited for with `waitid(2)`/`waitpid(2)` on the
  /// caller's thread: no Swift concurrency, unlike `run`.
  ///
  /// For callers that block while the program runs (curl, under a synchronous fetch) and may
  /// themselves be threads of Swift's cooperative pool: a `run` started from there needs a free
  /// thread of that pool to start and to reap the program, and when every thread of the pool
  /// (one per core) blocks the same way, none is left. The caller reads the program's output
  /// through its own pipe, can `signal` it while it runs, and must `wait` for it exactly once.
  ///
  /// The program stays in mcp-gen's process group (Ctrl-C at a terminal reaches it too), with an
  /// empty signal mask and default actions for the signals mcp-gen handles or ignores: it
  /// inherits neither the mask of the thread that started it nor SIGPIPE ignored.
  public final class Spawned: Sendable {
    public let pid: Int32
    /// Whether it was reaped: after that its pid may belong to another process, so `signal`
    /// checks this under the lock, and `wait` reaps under it.
    private let reaped = Mutex<Bool>(false)
    /// stderr collected in an in-memory file, when the caller gave no descriptor for it.
    private let errorFD: CInt
    private let label: String

    /// Starts `executable` (an absolute path) with `arguments` (after `argv[0]`) and exactly
    /// `environment`. `input` (else /dev/null), `output` and `errorOutput` (else collected, the
    /// last `outputLimit` bytes kept) are closed here once it started, or failed to.
    public static func start(
      executable: FilePath, _ arguments: [[UInt8]], input: HandedDescriptor? = nil, output: HandedDescriptor? = nil,
      errorOutput: HandedDescriptor? = nil, environment: [String: String]
    ) throws(StartFailure) -> Spawned {
      defer {
        input?.close()
        output?.close()
        errorOutput?.close()
      }
      let label = executable.lastComponent?.string ?? executable.string
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
      if let input {
        stdin = input.fd
      } else {
        switch withCString(Array("/dev/null".utf8), { Syscall.openat(AT_FDCWD, $0, [.readOnly, .closeOnExec]) }) {
        case .success(let fd):
          opened.append(fd)
          stdin = fd
        case .failure(let e): throw fail("open /dev/null", e)
        }
      }
      let stdout: CInt
      if let output { stdout = output.fd } else { stdout = try memfd("stdout") }
      let collected: CInt
      if errorOutput == nil { collected = try memfd("stderr") } else { collected = -1 }
      let stderr = errorOutput?.fd ?? collected

      let argv = [executable.bytes] + arguments
      let envp = environment.sorted { $0.key < $1.key }.map { Array("\($0.key)=\($0.value)".utf8) }
      switch Syscall.spawn(executable.bytes, argv, envp, stdin: stdin, stdout: stdout, stderr: stderr) {
      case .success(let pid):
        // The collected stderr stays open here until `wait` reads it.
        if let i = opened.firstIndex(of: collected) { opened.remove(at: i) }
        return Spawned(pid: pid, errorFD: collected, label: label)
      case .failure(let e) where e == .noSuchFileOrDirectory:
        throw .notInstalled(label)
      case .failure(let e):
        throw fail("posix_spawn", e)
      }
    }

    private init(pid: Int32, errorFD: CInt, label: String) {
      self.pid = pid
      self.errorFD = errorFD
      self.label = label
    }

    deinit {
      if errorFD >= 0 { _ = Syscall.close(errorFD) }
    }

    /// Sends `signal` unless it was reaped already (then its pid may be another process's).
    public func signal(_ signal: CInt) {
      reaped.withLock { done in
        if !done { _ = Syscall.kill(pid, signal) }
      }
    }

    /// Waits for it to end, reaps it, and returns how it ended and the stderr it wrote (when
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
      return Finished(status: status, timedOut: false, cancelledBy: nil, output: [], errorOutput: errorFD >= 0 ? ChildProcess.tail(errorFD) : [])
    }
  }
}
