#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What the command-line face may ask of the operating system: whether a descriptor is a
/// terminal and how wide it is, an environment variable, writing its output, and ending the
/// process. The CLI imports this target and the engine, never the system target, so a syscall in
/// the CLI does not compile.
public enum Terminal {
  /// Whether `fd` is a terminal (`isatty(3)`).
  public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

  /// The width of the terminal on `fd` in columns, nil when it is not a terminal or does not say
  /// (`ioctl(2)` with `TIOCGWINSZ`).
  public static func columns(_ fd: Int32) -> Int? {
    var size = winsize()
    let ok = withUnsafeMutablePointer(to: &size) { ioctl(fd, UInt(TIOCGWINSZ), $0) } == 0
    return ok ? Int(size.ws_col) : nil
  }

  /// Writes all of `bytes` to `fd`, retrying `EINTR` and short writes; stops silently when the
  /// reader is gone (stdout piped into `head`): there is nothing more to say then (`write(2)`).
  public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        return
      }
      offset += n
    }
  }

  /// Ends the process with `status` (`exit(3)`).
  public static func exit(_ status: Int32) -> Never { Glibc.exit(status) }
}

/// The value of the environment variable `name`, nil when it is not set (`getenv(3)`).
public func environmentValue(_ name: String) -> String? {
  getenv(name).map { String(cString: $0) }
}

/// Seconds on the monotonic clock (`clock_gettime(2)` with `CLOCK_MONOTONIC`): for intervals
/// only, never for a time of day.
public func monotonicSeconds() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// The process's arguments as the exact bytes the shell passed (`argv`); `CommandLine.arguments`
/// repairs invalid UTF-8, which would change a path.
public func commandLineBytes() -> [[UInt8]] {
  (0..<Int(CommandLine.argc)).map { i in
    guard let p = CommandLine.unsafeArgv[i] else { return [] }
    return Array(UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: strlen(p)))
  }
}

/// The bytes of the environment variable `name` (no UTF-8 repair: a path stays exact), nil when
/// it is not set (`getenv(3)`).
public func environmentBytes(_ name: String) -> [UInt8]? {
  getenv(name).map { Array(UnsafeBufferPointer(start: UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self), count: strlen($0))) }
}
