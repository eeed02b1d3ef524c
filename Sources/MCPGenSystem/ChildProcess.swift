#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import SystemPackage

/// The one runner of external programs: git and tar for `add --git`, the health checks and the
/// restart command. Built on posix_spawn (`Spawned`) and run on the caller's thread alone, so it
/// may be called from any thread, a Swift task's included: no shell, arguments as bytes, stdin from
/// /dev/null unless a descriptor is handed in, stdout and stderr collected into in-memory files
/// (a service left running by a restart command can never block us on a full pipe) and kept
/// only up to `outputLimit` bytes each, or wired to a descriptor the caller owns.
///
/// What differs between the two uses is in `Spec`: a check runs in a process group of its own
/// with a timeout, so the whole tree it started can be killed, and gets mcp-gen's cancelling
/// signal forwarded to that group; git and tar stay in mcp-gen's process group, so an interrupt
/// from the terminal stops them together with mcp-gen.
public enum ChildProcess {
  public static let outputLimit = 4096

  /// What to run and how.
  public struct Spec: Sendable {
    public enum Program: Sendable {
      /// Looked up on the child's `PATH` (this process's unless the spec changes it; /usr/bin:/bin
      /// when there is none), as execvp(3) does.
      case name(String)
      case path(FilePath)
    }

    public var program: Program
    /// Without the program name (argv[0] is the program as given).
    public var arguments: [[UInt8]]
    /// Where it starts; nil: mcp-gen's working directory.
    public var workingDirectory: FilePath? = nil
    /// The environment is this process's, without these names, with `settingEnvironment` set.
    public var removingFromEnvironment: [String] = []
    public var settingEnvironment: [String: String] = [:]
    /// Exactly this environment instead (the two above are then ignored).
    public var environment: [String: String]? = nil
    /// Its stdin; nil: /dev/null, never mcp-gen's own (a prompt must not wait on it).
    public var input: HandedDescriptor? = nil
    /// Its stdout; nil: collected (`Finished.output`).
    public var output: HandedDescriptor? = nil
    /// Its stderr; nil: collected (`Finished.errorOutput`).
    public var errorOutput: HandedDescriptor? = nil
    /// Stdout and stderr into one collected file, interleaved as written (`Finished.errorOutput`).
    public var errorIntoOutput = false
    /// A process group of its own (`POSIX_SPAWN_SETPGROUP`), which the timeout and a
    /// forwarded cancel signal to as a whole.
    public var ownProcessGroup = false
    /// Seconds after which its process group gets SIGKILL (only with `ownProcessGroup`).
    public var timeout: Double? = nil
    /// Forwarding of mcp-gen's cancelling signal to its process group (only with
    /// `ownProcessGroup`).
    public var cancellation: CancelForwarding? = nil

    public init(_ program: Program, _ arguments: [[UInt8]]) {
      self.program = program
      self.arguments = arguments
    }

    var shownName: String {
      switch program {
      case .name(let name): return name
      case .path(let path): return path.lastComponent.map { $0.string } ?? path.displayString
      }
    }
  }

  /// How a cancel reaches a child in its own process group: `signal` is polled every `poll`
  /// seconds (a signal handler may only set a flag); the first signal it returns is sent to the
  /// group once the child's pid is known, and SIGKILL follows `grace` seconds later if it still
  /// runs.
  public struct CancelForwarding: Sendable {
    public var signal: @Sendable () -> Int32?
    public var grace: Double
    public var poll: Double

    public init(grace: Double, poll: Double = 0.02, signal: @escaping @Sendable () -> Int32?) {
      (self.signal, self.grace, self.poll) = (signal, grace, poll)
    }
  }

  /// How the program ended.
  public enum Termination: Sendable, Equatable {
    case exited(Int32)
    case signaled(Int32)
  }

  /// How the program ended: its status and the (bounded) output it wrote.
  public struct Finished: Sendable {
    public var status: Termination
    /// Killed by the watchdog when its timeout passed.
    public var timedOut: Bool
    /// The cancelling signal that was forwarded to its process group, if one was.
    public var cancelledBy: Int32?
    /// The first `outputLimit` bytes of stdout (empty when stdout went to a descriptor, or into
    /// `errorOutput`).
    public var output: [UInt8]
    /// The last `outputLimit` bytes of stderr (of stdout and stderr with `errorIntoOutput`).
    public var errorOutput: [UInt8]

    public var succeeded: Bool { status == .exited(0) }

    private var errorLines: [ArraySlice<UInt8>] {
      errorOutput.split(separator: 0x0A).filter { !$0.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D } }
    }

    /// The last non-empty line of stderr, for one-line messages (git ends on its reason).
    public var lastErrorLine: String? { errorLines.last.map { displayName(Array($0)) } }

    /// The first non-empty line of stderr (tar starts with the cause, ends on a summary).
    public var firstErrorLine: String? { errorLines.first.map { displayName(Array($0)) } }

    public var statusText: String {
      switch status {
      case .exited(let code): return "exited with status \(code)"
      case .signaled(let signal): return "was killed by signal \(signal)"
      }
    }
  }

  /// Why the program did not run at all.
  public enum StartFailure: Error, Sendable {
    /// No such program on `PATH` (or at the path), or not executable.
    case notInstalled(String)
    case couldNotStart(String, String)

    /// `program: why`, for one-line reports.
    public var reason: String {
      switch self {
      case .notInstalled(let program): return "\(program): not found, or not executable"
      case .couldNotStart(let program, let why): return "\(program): \(why)"
      }
    }
  }

  /// A descriptor handed to a child as stdin or stdout, closed in this process exactly once:
  /// as soon as the child is started (so the other end of a pipe sees end-of-file when the child
  /// is done), or when starting it failed.
  public final class HandedDescriptor: Sendable {
    private let state: Mutex<CInt>

    public init(_ fd: CInt) { state = Mutex(fd) }

    public var fd: CInt { state.withLock { $0 } }

    public func close() {
      let fd = state.withLock { (fd) -> CInt in
        defer { fd = -1 }
        return fd
      }
      if fd >= 0 { _ = Syscall.close(fd) }
    }
  }

  /// Runs `spec` and waits for it, blocking the calling thread (the engine is synchronous and
  /// may hold the root's lock meanwhile). Needs no other thread: callable from a Swift task.
  public static func run(_ spec: Spec) -> Result<Finished, StartFailure> {
    run([spec])[0]
  }

  /// Runs all of `specs` at the same time (a pipeline: `git archive | tar -x`) and waits for
  /// all of them on the calling thread.
  public static func run(_ specs: [Spec]) -> [Result<Finished, StartFailure>] {
    var results = [Result<Finished, StartFailure>?](repeating: nil, count: specs.count)
    var watched: [Watched] = []
    for (i, spec) in specs.enumerated() {
      if spec.ownProcessGroup, let signal = spec.cancellation?.signal() {
        for handed in [spec.input, spec.output, spec.errorOutput] { handed?.close() }
        results[i] = .success(Finished(status: .signaled(signal), timedOut: false, cancelledBy: signal, output: [], errorOutput: []))
        continue
      }
      do {
        watched.append(Watched(index: i, spec: spec, child: try Spawned.start(spec), started: monotonicSeconds()))
      } catch {
        results[i] = .failure(error)
      }
    }
    for (i, finished) in waitForAll(watched) { results[i] = .success(finished) }
    return results.map { $0! }
  }

  /// The first `outputLimit` bytes of the file `fd` (output collected in an in-memory file).
  static func head(_ fd: CInt) -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: outputLimit)
    let n = buffer.withUnsafeMutableBytes { raw in
      (try? Syscall.pread(fd, raw.baseAddress!, raw.count, 0).get()) ?? 0
    }
    return Array(buffer[0..<n])
  }

  /// The last `limit` bytes of the file `fd` (output collected in an in-memory file).
  static func tail(_ fd: CInt, limit: Int = outputLimit) -> [UInt8] {
    guard case .success(let st) = Syscall.fstat(fd), st.size > 0 else { return [] }
    let count = min(Int(st.size), limit)
    var buffer = [UInt8](repeating: 0, count: count)
    let n = buffer.withUnsafeMutableBytes { raw in
      (try? Syscall.pread(fd, raw.baseAddress!, count, off_t(st.size) - off_t(count)).get()) ?? 0
    }
    return Array(buffer[0..<n])
  }
}
