import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`: no Foundation machinery in the way, so a kill can
/// be timed to the millisecond, and no pipes, so a grandchild that keeps a descriptor open cannot
/// make a test wait forever. Signals start at their defaults and unblocked, whatever the test
/// thread's mask was. `ProcessRunner` builds on it; tests that time kills use it directly.
///
/// `@unchecked Sendable`: `reaped` is written by whoever waits, and a test waits for its child on
/// one thread (a child shared between threads would need a lock around the wait).
public final class TestProcess: @unchecked Sendable {
  public let pid: pid_t
  private var reaped: Int32? = nil

  /// Starts `executable ARGS` with stdin on /dev/null and stdout and stderr into the files
  /// `stdout` and `stderr` (created or truncated).
  public convenience init(
    _ executable: String, _ arguments: [String], stdout: String = "/dev/null", stderr: String = "/dev/null",
    environment: [String: String] = CLI.environment()
  ) throws {
    let input = try Self.open("/dev/null", O_RDONLY)
    defer { close(input) }
    let output = try Self.open(stdout, O_WRONLY | O_CREAT | O_TRUNC)
    defer { close(output) }
    let errors = try Self.open(stderr, O_WRONLY | O_CREAT | O_TRUNC)
    defer { close(errors) }
    try self.init(
      executable: Array(executable.utf8), arguments: arguments.map { Array($0.utf8) },
      stdin: input, stdout: output, stderr: errors, environment: environment)
  }

  /// Starts `executable ARGS` (names and arguments as bytes) with the given descriptors as its
  /// stdin, stdout and stderr. `environment` nil: this process's own.
  public init(
    executable: [UInt8], arguments: [[UInt8]], stdin: CInt, stdout: CInt, stderr: CInt,
    environment: [String: String]?
  ) throws {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, stdin, 0)
    posix_spawn_file_actions_adddup2(&actions, stdout, 1)
    posix_spawn_file_actions_adddup2(&actions, stderr, 2)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attributes, &none)
    var all = sigset_t()
    sigfillset(&all)
    sigdelset(&all, SIGKILL)
    sigdelset(&all, SIGSTOP)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

    let environmentBytes = (environment ?? ProcessInfo.processInfo.environment).map { Array("\($0.key)=\($0.value)".utf8) }
    let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map(Self.cString) + [nil]
    let envp: [UnsafeMutablePointer<CChar>?] = environmentBytes.map(Self.cString) + [nil]
    defer {
      for p in argv { free(p) }
      for p in envp { free(p) }
    }
    let path = Self.cString(executable)
    defer { free(path) }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
    guard rc == 0 else {
      throw TestFailure("posix_spawn \(String(decoding: executable, as: UTF8.self)): \(String(cString: strerror(rc)))")
    }
    self.pid = pid
  }

  public func kill(_ signal: Int32 = SIGKILL) { _ = Glibc.kill(pid, signal) }

  /// Waits for the child; the raw wait status.
  @discardableResult
  public func wait() -> Int32 {
    if let reaped { return reaped }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    reaped = status
    return status
  }

  /// Whether the child has exited (reaping it if so), without blocking.
  public func poll() -> Bool {
    if reaped != nil { return true }
    var status: Int32 = 0
    if waitpid(pid, &status, WNOHANG) == pid {
      reaped = status
      return true
    }
    return false
  }

  /// Exit code, or nil when it was killed by a signal.
  public static func exitCode(_ status: Int32) -> Int32? { status & 0x7f == 0 ? (status >> 8) & 0xff : nil }

  public static func signal(_ status: Int32) -> Int32? {
    let s = status & 0x7f
    return s != 0 && s != 0x7f ? s : nil
  }

  deinit {
    if reaped == nil {
      kill()
      wait()
    }
  }

  private static func open(_ path: String, _ flags: CInt) throws -> CInt {
    let fd = Glibc.open(path, flags | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw TestFailure("open \(path): \(String(cString: strerror(errno)))") }
    return fd
  }

  /// A malloc'd NUL-terminated copy of `bytes` (freed by the caller).
  private static func cString(_ bytes: [UInt8]) -> UnsafeMutablePointer<CChar> {
    let p = malloc(bytes.count + 1)!.assumingMemoryBound(to: CChar.self)
    for (i, b) in bytes.enumerated() { p[i] = CChar(bitPattern: b) }
    p[bytes.count] = 0
    return p
  }
}
