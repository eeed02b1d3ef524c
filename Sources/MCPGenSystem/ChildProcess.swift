#if canImport(Glibc)
import Glibc
#endif
import CMCPGenShims
import Subprocess
import Synchronization
import SystemPackage

/// Runs an external program (git, tar) to completion with swift-subprocess: no shell, arguments as
/// bytes, stdout and stderr collected into in-memory files and kept only up to `outputLimit`
/// bytes each, or wired to a descriptor the caller owns (one end of a pipe).
///
/// Unlike a health check, such a program stays in mcp-gen's process group, so an interrupt from the
/// terminal stops it together with mcp-gen.
public enum ChildProcess {
  public static let outputLimit = 4096

  /// How the program ended: its status and the (bounded) output it wrote.
  public struct Finished: Sendable {
    public var status: TerminationStatus
    /// The first `outputLimit` bytes of stdout (empty when stdout went to a descriptor).
    public var output: [UInt8]
    /// The last `outputLimit` bytes of stderr.
    public var errorOutput: [UInt8]

    public var succeeded: Bool { status.isSuccess }

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
    /// No such program on `PATH`.
    case notInstalled(String)
    case couldNotStart(String, String)
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

  /// Runs `program` (looked up on `PATH`) and waits for it.
  ///
  /// `input`, when given, becomes stdin (else stdin is empty); `output`, when given, becomes
  /// stdout (else stdout is collected). Both are closed here once the child has started.
  /// The environment is this process's, without `removed`, with `added` set.
  public static func run(
    _ program: String, _ arguments: [[UInt8]], input: HandedDescriptor? = nil, output: HandedDescriptor? = nil,
    removingFromEnvironment removed: [String] = [], setting added: [String: String] = [:]
  ) async throws(StartFailure) -> Finished {
    defer {
      input?.close()
      output?.close()
    }
    let errorFD = mcpgen_memfd("mcp-gen-\(program)-stderr")
    guard errorFD >= 0 else { throw .couldNotStart(program, "memfd_create: \(Errno(rawValue: errno))") }
    defer { _ = Syscall.close(errorFD) }
    let outputFD = output == nil ? mcpgen_memfd("mcp-gen-\(program)-stdout") : -1
    guard output != nil || outputFD >= 0 else { throw .couldNotStart(program, "memfd_create: \(Errno(rawValue: errno))") }
    defer { if outputFD >= 0 { _ = Syscall.close(outputFD) } }

    // No input given: stdin is /dev/null, never mcp-gen's own (a prompt must not wait for it).
    let nullFD = input == nil
      ? (try? withCString(Array("/dev/null".utf8), { Syscall.openat(AT_FDCWD, $0, O_RDONLY | O_CLOEXEC) }).get()) ?? -1 : -1
    defer { if nullFD >= 0 { _ = Syscall.close(nullFD) } }
    guard input != nil || nullFD >= 0 else { throw .couldNotStart(program, "cannot open /dev/null") }

    var overrides: [Environment.Key: String?] = [:]
    for name in removed { overrides[Environment.Key(stringLiteral: name)] = .some(nil) }
    for (name, value) in added { overrides[Environment.Key(stringLiteral: name)] = .some(value) }
    let environment = Environment.inherit.updating(overrides)
    let stdin = FileDescriptor(rawValue: input?.fd ?? nullFD)
    let stdout = FileDescriptor(rawValue: output?.fd ?? outputFD)
    let stderr = FileDescriptor(rawValue: errorFD)

    // Raw-byte arguments reach the child through strdup(3): each needs its own terminating NUL.
    let argv = Arguments(arguments.map { $0 + [0] })
    let status: TerminationStatus
    do {
      let execution = try await Subprocess.run(
        .name(program), arguments: argv, environment: environment,
        input: .fileDescriptor(stdin, closeAfterSpawningProcess: false),
        output: .fileDescriptor(stdout, closeAfterSpawningProcess: false),
        error: .fileDescriptor(stderr, closeAfterSpawningProcess: false)
      ) { _ in
        input?.close()
        output?.close()
      }
      status = execution.terminationStatus
    } catch let e as SubprocessError where e.code == .executableNotFound {
      throw .notInstalled(program)
    } catch {
      throw .couldNotStart(program, "\(error)")
    }
    return Finished(
      status: status, output: outputFD >= 0 ? head(outputFD) : [], errorOutput: tail(errorFD))
  }

  private static func head(_ fd: CInt) -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: outputLimit)
    let n = buffer.withUnsafeMutableBytes { raw in
      (try? Syscall.pread(fd, raw.baseAddress!, raw.count, 0).get()) ?? 0
    }
    return Array(buffer[0..<n])
  }

  /// The last `limit` bytes of the file `fd` (output collected in an in-memory file).
  public static func tail(_ fd: CInt, limit: Int = outputLimit) -> [UInt8] {
    guard case .success(let st) = Syscall.fstat(fd), st.st_size > 0 else { return [] }
    let count = min(Int(st.st_size), limit)
    var buffer = [UInt8](repeating: 0, count: count)
    let n = buffer.withUnsafeMutableBytes { raw in
      (try? Syscall.pread(fd, raw.baseAddress!, count, st.st_size - off_t(count)).get()) ?? 0
    }
    return Array(buffer[0..<n])
  }
}
