import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one way the tests run a program: arguments as bytes, an environment, optional stdin
/// bytes, optionally as another user (through `setpriv`), and a deadline after which the child
/// is killed. stdout and stderr go to unlinked temporary files, never pipes: a grandchild that
/// inherits them cannot hold the test up, and a kill at the deadline loses nothing written.
public enum ProcessRunner {
  /// Who a child runs as, by `setpriv --reuid --regid --clear-groups`.
  public struct User: Sendable {
    public var uid: UInt32
    public var gid: UInt32
    public init(uid: UInt32, gid: UInt32) {
      self.uid = uid
      self.gid = gid
    }
    public static let nobody = User(uid: 65534, gid: 65534)
  }

  public static let setpriv = TestEnvironment.tool(["/usr/bin/setpriv", "/bin/setpriv"])

  /// Runs `executable ARGS` to completion or `timeout` seconds, whichever comes first.
  /// - Parameters:
  ///   - environment: the child's whole environment; nil inherits this process's.
  ///   - stdin: bytes to read on stdin; nil is /dev/null.
  ///   - outputIn: the directory for the temporary output files (default: the scratch root).
  public static func run(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil, stdin: [UInt8]? = nil,
    as user: User? = nil, timeout: Double = 600, outputIn: String? = nil
  ) throws -> ProcessOutput {
    try start(executable, arguments, environment: environment, stdin: stdin, as: user, outputIn: outputIn)
      .finish(timeout: timeout)
  }

  /// `run` with the executable and arguments as bytes (names that are not UTF-8).
  public static func run(
    bytes executable: [UInt8], _ arguments: [[UInt8]], environment: [String: String]? = nil, stdin: [UInt8]? = nil,
    as user: User? = nil, timeout: Double = 600, outputIn: String? = nil
  ) throws -> ProcessOutput {
    try start(bytes: executable, arguments, environment: environment, stdin: stdin, as: user, outputIn: outputIn)
      .finish(timeout: timeout)
  }

  /// Starts `executable ARGS` and returns at once; `finish` waits with the deadline.
  public static func start(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil, stdin: [UInt8]? = nil,
    as user: User? = nil, outputIn: String? = nil
  ) throws -> RunningProcess {
    try start(
      bytes: Array(executable.utf8), arguments.map { Array($0.utf8) }, environment: environment, stdin: stdin,
      as: user, outputIn: outputIn)
  }

  public static func start(
    bytes executable: [UInt8], _ arguments: [[UInt8]], environment: [String: String]? = nil, stdin: [UInt8]? = nil,
    as user: User? = nil, outputIn: String? = nil
  ) throws -> RunningProcess {
    var program = executable
    var argv = arguments
    if let user {
      guard let setpriv else { throw TestFailure("setpriv is not installed: cannot run as uid \(user.uid)") }
      argv = ["--reuid=\(user.uid)", "--regid=\(user.gid)", "--clear-groups"].map { Array($0.utf8) } + [program] + argv
      program = Array(setpriv.utf8)
    }
    let dir = outputIn ?? TestEnvironment.scratchRoot
    if outputIn == nil { mkdir(dir, 0o755) }  // EEXIST is fine.
    let input = try stdin.map { try temporaryFile(in: dir, holding: $0) } ?? Glibc.open("/dev/null", O_RDONLY | O_CLOEXEC)
    defer { close(input) }
    let out = try temporaryFile(in: dir, holding: [])
    let err: CInt
    do { err = try temporaryFile(in: dir, holding: []) } catch {
      close(out)
      throw error
    }
    let child: TestProcess
    do {
      child = try TestProcess(
        executable: program, arguments: argv, stdin: input, stdout: out, stderr: err, environment: environment)
    } catch {
      close(out)
      close(err)
      throw error
    }
    return RunningProcess(child: child, stdout: out, stderr: err)
  }

  /// This process's environment with `removing` taken out and `adding` put in.
  public static func environment(removing: [String] = [], adding: [String: String] = [:]) -> [String: String] {
    var env = ProcessInfo.processInfo.environment
    for name in removing { env.removeValue(forKey: name) }
    env.merge(adding) { _, new in new }
    return env
  }

  /// An open, already unlinked file in `dir` holding `bytes`, positioned at its start.
  static func temporaryFile(in dir: String, holding bytes: [UInt8]) throws -> CInt {
    // mkostemp is not imported; a random name opened O_EXCL is the same thing, O_CLOEXEC from
    // the start (a child another test spawns meanwhile must not inherit it).
    var fd: CInt = -1
    for _ in 0..<100 where fd < 0 {
      let name = dir + "/.run-\(UInt64.random(in: 0...UInt64.max))"
      fd = Glibc.open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
      if fd >= 0 { unlink(name) } else if errno != EEXIST { break }
    }
    guard fd >= 0 else { throw TestFailure("cannot make a temporary file in \(dir): \(String(cString: strerror(errno)))") }
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      guard n > 0 else {
        close(fd)
        throw TestFailure("write to a temporary file in \(dir): \(String(cString: strerror(errno)))")
      }
      offset += n
    }
    lseek(fd, 0, SEEK_SET)
    return fd
  }
}

/// A child started by `ProcessRunner.start`, its output collecting in unlinked files.
/// `@unchecked Sendable` for the same reason as `TestProcess`, whose state is its only mutable part.
public final class RunningProcess: @unchecked Sendable {
  public let child: TestProcess
  public let started: Double
  private let stdoutFD: CInt
  private let stderrFD: CInt

  init(child: TestProcess, stdout: CInt, stderr: CInt) {
    self.child = child
    self.stdoutFD = stdout
    self.stderrFD = stderr
    self.started = TestClock.now()
  }

  public var pid: pid_t { child.pid }

  public var isRunning: Bool { !child.poll() }

  /// Waits for the child, killing it (SIGKILL) once `timeout` seconds have passed since it
  /// started; what it wrote so far. May be called again: it reads the whole output each time.
  public func finish(timeout: Double = 600) -> ProcessOutput {
    var timedOut = false
    var pause = 0.000_05
    while !child.poll() {
      if TestClock.now() - started > timeout {
        timedOut = true
        child.kill()
        break
      }
      TestClock.sleep(pause)
      pause = min(pause * 2, 0.002)
    }
    let status = child.wait()
    return ProcessOutput(
      exitCode: TestProcess.exitCode(status), signal: TestProcess.signal(status), timedOut: timedOut,
      seconds: TestClock.now() - started, stdout: Self.readAll(stdoutFD), stderr: Self.readAll(stderrFD))
  }

  private static func readAll(_ fd: CInt) -> [UInt8] {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(bytes.count)) }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { return bytes }
      bytes += buffer[0..<n]
    }
  }

  deinit {
    close(stdoutFD)
    close(stderrFD)
  }
}
