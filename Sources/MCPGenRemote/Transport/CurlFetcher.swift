import MCPGenKit
import MCPGenSystem
import SystemPackage

/// The `RemoteFetcher` of mcp-gen: the `curl` program, run as a child process.
///
/// Why the program and not libcurl: mcp-gen is a static executable (a `switch` in 15 ms depends
/// on its start-up), and Debian ships no static libraries for libcurl's own dependencies, so
/// linking libcurl would make every command dynamic. One curl process drives many transfers
/// (`fetchAll`), so a pull pays one process start, not one per object.
///
/// Both calls block the calling thread until curl is done; curl is started and reaped on that
/// thread (`posix_spawn`, `waitpid`), so any thread may call them, one of Swift's cooperative
/// pool included.
///
/// A single `fetch` streams curl's stdout through a pipe and stops reading at `maxLength + 1`
/// bytes, killing curl: an endless body (the specification's endless-data attack) costs at most
/// that much memory, whatever the server announced. `--max-filesize` refuses an announced length
/// above the cap before any byte is read.
public struct CurlFetcher: RemoteFetcher {
  /// Timeouts and retries.
  public struct Options: Sendable {
    /// Seconds to establish a connection (`--connect-timeout`).
    public var connectTimeout: Double = 15
    /// A transfer slower than `lowSpeedLimit` bytes per second for `lowSpeedTime` seconds is
    /// cut (`--speed-limit`, `--speed-time`): a stalled server cannot hold a pull for ever.
    public var lowSpeedLimit: Int = 1
    public var lowSpeedTime: Int = 30
    /// Further attempts after a transient failure (timeout, refused or cut connection, 408, 429,
    /// 500, 502, 503, 504). `fetch` waits `retryDelay`, then twice as long each time; `fetchAll`
    /// leaves them to curl's `--retry` (transient errors only, 1 s, then twice as long).
    public var retries: Int = 3
    public var retryDelay: Double = 1
    /// Transfers one curl runs at once in `fetchAll` (`--parallel-max`).
    public var parallel: Int = 16

    public init() {}
  }

  public let program: CurlProgram
  public let options: Options
  /// Polled every 20 ms while curl runs: true kills curl and ends the download with
  /// `FetchError.cancelled`. By default a cancel signal (SIGINT, SIGTERM; `Cancellation`).
  let cancelled: @Sendable () -> Bool

  public init(
    program: CurlProgram, options: Options = Options(), cancelled: @escaping @Sendable () -> Bool = { Cancellation.requested }
  ) {
    self.program = program
    self.options = options
    self.cancelled = cancelled
  }

  /// The trusted curl of the system (`CurlProgram.searchPath`).
  public init(options: Options = Options()) throws(MCPGenError) {
    self.init(program: try CurlProgram(), options: options)
  }

  public func fetch(_ url: String, maxLength: Int) throws(FetchError) -> [UInt8] {
    var delay = options.retryDelay
    var attempt = 0
    while true {
      if cancelled() { throw .cancelled }
      // Retried here rather than with `--retry`: curl cannot rewind a pipe, so a retry after
      // part of the body would append the new body to the old part.
      switch fetchOnce(url, maxLength: maxLength) {
      case .success(let body):
        return body
      case .failure(let failure):
        guard failure.transient, attempt < options.retries else { throw failure.error }
        attempt += 1
        sleep(delay)
        delay *= 2
      }
    }
  }

  /// Sleeps in 20 ms steps, so that a cancel ends the wait at once.
  func sleep(_ seconds: Double) {
    let deadline = monotonicSeconds() + seconds
    while !cancelled() {
      let left = deadline - monotonicSeconds()
      if left <= 0 { return }
      sleepSeconds(min(left, 0.02))
    }
  }

  private func fetchOnce(_ url: String, maxLength: Int) -> Result<[UInt8], Failure> {
    let arguments = CurlProgram.commandLine(options) + [
      "--max-filesize", String(max(maxLength, 1)),
      // The report goes to stderr: stdout is the body.
      "--write-out", "%{stderr}\n" + CurlReport.format,
      "--url", url,
    ]
    let run: CurlRun
    do {
      run = try CurlRun(program, arguments, cancelled: cancelled)
    } catch {
      return .failure(Failure(error: error.withURL(url), transient: false))
    }
    var body: [UInt8] = []
    var tooLong = false
    var readError: Errno? = nil
    let chunk = 64 * 1024
    var buffer = [UInt8](repeating: 0, count: chunk)
    reading: while true {
      // Never more than one byte past the cap: that byte is the proof of "too long".
      let wanted = min(chunk, maxLength + 1 - body.count)
      let n = buffer.withUnsafeMutableBytes { raw in run.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<wanted])) }
      switch n {
      case .success(0):
        break reading
      case .success(let n):
        body.append(contentsOf: buffer[0..<n])
        if body.count > maxLength {
          tooLong = true
          run.kill()
          break reading
        }
      case .failure(let e):
        readError = e
        run.kill()
        break reading
      }
    }
    let done = run.wait()
    if run.wasCancelled { return .failure(Failure(error: .cancelled, transient: false)) }
    if tooLong { return .failure(Failure(error: .tooLong(url: url, limit: maxLength), transient: false)) }
    if let readError {
      return .failure(Failure(error: .unreachable(url: url, reason: "cannot read from curl: \(readError.description)"), transient: false))
    }
    guard let report = CurlReport.last(in: done.errorOutput) else {
      let why = done.lastErrorLine.map { "curl \(done.statusText): \($0)" } ?? "curl \(done.statusText) without a report"
      return .failure(Failure(error: .unreachable(url: url, reason: why), transient: false))
    }
    if let (error, transient) = report.failure(url: url, maxLength: maxLength) {
      return .failure(Failure(error: error, transient: transient))
    }
    // curl said all went well: then its status must say so too, and the size must agree.
    guard done.succeeded, report.size == body.count else {
      return .failure(Failure(
        error: .unreachable(url: url, reason: "curl \(done.statusText) after \(body.count) of \(report.size) bytes"),
        transient: false))
    }
    return .success(body)
  }

  struct Failure: Error {
    var error: FetchError
    var transient: Bool
  }
}

extension FetchError {
  /// The same failure, naming `url` (errors raised before a URL was known carry "").
  func withURL(_ url: String) -> FetchError {
    switch self {
    case .unreachable(_, let reason): return .unreachable(url: url, reason: reason)
    default: return self
    }
  }
}

extension ChildProcess.StartFailure {
  func fetchError(_ url: String) -> FetchError {
    switch self {
    case .notInstalled(let program): return .unreachable(url: url, reason: "\(program) is not installed")
    case .couldNotStart(let program, let why): return .unreachable(url: url, reason: "cannot start \(program): \(why)")
    }
  }
}
