import MCPGenKit
import MCPGenSystem
import SystemPackage

/// The `RemoteFetcher` of mcp-gen: the `curl` program, run as a child process.
///
/// Why the program and not libcurl: mcp-gen is a static executable (a `switch` in 15 ms depends
/// on its start-up), and Debian ships no static libraries for libcurl's own dependencies, so
/// linking libcurl would make every command dynamic. One curl process drives many transfers
/// (`fetchAll`; a large batch is split between one per core, two at most), so a pull pays a
/// process start or two, not one per object.
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
    /// Transfers run at once in `fetchAll` (`--parallel-max`, shared by its processes).
    public var parallel: Int = 16
    /// curl processes a large `fetchAll` is split across, at most one per core: curl is one
    /// thread, and one process downloading 9,000 objects was the busy one on a two-core machine.
    public var processes: Int = 2

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
    fetchBodies([(url, maxLength)])[0]
  }

  public func fetchInOrder(_ requests: [(url: String, maxLength: Int)]) throws(FetchError) -> [Result<[UInt8], FetchError>] {
    if cancelled() { throw .cancelled }
    let answers = fetchBodies(requests)
    if answers.contains(where: { if case .failure(let f) = $0 { f.error == .cancelled } else { false } }) { throw .cancelled }
    return answers.map { $0.mapError(\.error) }
  }

  /// One attempt at each request from one curl process, one transfer after the other (`--next`
  /// between them). Their bodies arrive back to back on curl's stdout, and each transfer's
  /// `--write-out` report (stderr) says how many of those bytes are its own. Reading stops past
  /// the sum of the caps, killing curl: the request then over its own cap is the one too long.
  private func fetchBodies(_ requests: [(url: String, maxLength: Int)]) -> [Result<[UInt8], Failure>] {
    var arguments = ["-q"]
    for (index, request) in requests.enumerated() {
      if index > 0 { arguments.append("--next") }
      arguments += CurlProgram.transferArguments(options) + [
        "--max-filesize", String(max(request.maxLength, 1)),
        // The report goes to stderr: stdout is the body.
        "--write-out", "%{stderr}\n" + CurlReport.format,
        "--url", request.url,
      ]
    }
    let everyURL = requests.map(\.url).joined(separator: ", ")
    let run: CurlRun
    do {
      run = try CurlRun(program, arguments, cancelled: cancelled)
    } catch {
      return requests.map { .failure(Failure(error: error.withURL($0.url), transient: false)) }
    }
    let limit = requests.reduce(0) { $0 + max($1.maxLength, 0) }
    var body: [UInt8] = []
    var tooLong = false
    var readError: Errno? = nil
    let chunk = 64 * 1024
    var buffer = [UInt8](repeating: 0, count: chunk)
    reading: while true {
      // Never more than one byte past the caps: that byte is the proof of "too long".
      let wanted = min(chunk, limit + 1 - body.count)
      let n = buffer.withUnsafeMutableBytes { raw in run.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<wanted])) }
      switch n {
      case .success(0):
        break reading
      case .success(let n):
        body.append(contentsOf: buffer[0..<n])
        if body.count > limit {
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
    func everyOne(_ error: FetchError) -> [Result<[UInt8], Failure>] {
      requests.map { _ in .failure(Failure(error: error, transient: false)) }
    }
    if run.wasCancelled { return everyOne(.cancelled) }
    if let readError {
      return everyOne(.unreachable(url: everyURL, reason: "cannot read from curl: \(readError.description)"))
    }
    let reports = CurlReport.byTransfer(in: done.errorOutput, count: requests.count)
    // Each body is the next `size` bytes of stdout, in order; what curl wrote must add up.
    var answers: [Result<[UInt8], Failure>] = []
    var offset = 0
    var overCap = false
    for (index, request) in requests.enumerated() {
      guard let report = reports[index] else {
        if tooLong && !overCap {
          overCap = true
          answers.append(.failure(Failure(error: .tooLong(url: request.url, limit: request.maxLength), transient: false)))
        } else {
          let why = done.lastErrorLine.map { "curl \(done.statusText): \($0)" } ?? "curl \(done.statusText) without a report"
          answers.append(.failure(Failure(error: .unreachable(url: request.url, reason: why), transient: false)))
        }
        continue
      }
      let end = min(offset + report.size, body.count)
      if let (error, transient) = report.failure(url: request.url, maxLength: request.maxLength) {
        if case .tooLong = error { overCap = true }
        answers.append(.failure(Failure(error: error, transient: transient)))
      } else if end - offset != report.size || (index == requests.count - 1 && !done.succeeded) {
        // curl said this one went well: then the bytes must be there, and its own status (that
        // of its last transfer) must say so too.
        let why = "curl \(done.statusText) after \(end - offset) of \(report.size) bytes"
        answers.append(.failure(Failure(error: .unreachable(url: request.url, reason: why), transient: false)))
      } else {
        answers.append(.success(Array(body[offset..<end])))
      }
      offset = end
    }
    // Bytes no report accounts for: no body can be told from the next, so none is taken.
    if offset != body.count && !tooLong {
      let why = "curl wrote \(body.count) bytes where its reports account for \(offset)"
      return everyOne(.unreachable(url: everyURL, reason: why))
    }
    return answers
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
