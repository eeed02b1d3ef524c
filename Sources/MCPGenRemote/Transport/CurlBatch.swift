import Dispatch
import MCPGenKit
import MCPGenSystem
import Synchronization
import SystemPackage

extension CurlFetcher {
  /// Runs every request from one curl process, or, for a large batch, from up to
  /// `options.processes` of them (`shardCount`), each with its share of the requests, in turn
  /// (the first to the first process, the second to the second...), and of `options.parallel`:
  /// curl is one thread, and a pull of 9,000 objects kept it busy on one core while another
  /// was partly idle. Each is `curl --parallel --parallel-max N --config -`, whose configuration (on stdin, from an in-memory file) has one operation per cap class
  /// (the options of every transfer, `--retry`, a `max-filesize`, then the `url` and `output`
  /// of each request of the class) and a `--write-out` line per transfer on stderr
  /// (unbuffered: each arrives when its transfer ends; stdout would hold them in a buffer until
  /// curl exits): its index, curl's exit code, the HTTP status and the size. A reader thread
  /// turns those lines into events (one reader per process); this thread checks each finished
  /// file (status, size on disk against the report and the cap) and hands it to `completed`
  /// while curl goes on with the others.
  ///
  /// The cap: `--max-filesize` refuses an announced length above the request's class, the
  /// power of two at or above its own cap (an operation per request instead, with every option
  /// again, cost curl 0.2 s of CPU to read for 9,000 objects); past its own cap, the finished
  /// file is refused as too long. A body without a length is watched instead: every 100 ms the
  /// files of the transfers that can be running (curl starts them in its order, so they are
  /// among the first unfinished ones) are measured, and one past its class kills curl. A
  /// download thus never exceeds twice its cap and what arrives in 100 ms. The batch's other
  /// unfinished requests then fail too (every process is killed).
  ///
  /// Retries are curl's own here (`--retry`, transient errors only, waiting 1 s then twice as
  /// long each time): it truncates a file before it tries again.
  public func fetchAll(
    _ requests: [FetchRequest], progress: ((FetchProgress) -> Void)?,
    completed: (Int, Result<Int, FetchError>) -> Bool
  ) throws(FetchError) {
    // curl's order: by cap class, and the caller's order within a class.
    let classes = requests.map { Self.capClass($0.maxLength) }
    let order = requests.indices.sorted { (classes[$0], $0) < (classes[$1], $1) }
    try fetchInCurlOrder(order.map { requests[$0] }, progress: progress) { index, result in completed(order[index], result) }
  }

  /// The cap class of a request: the smallest power of two at or above its cap (1 for a cap of
  /// 0 or 1; `Int.max` above the largest power of two an `Int` holds).
  static func capClass(_ maxLength: Int) -> Int {
    if maxLength <= 1 { return 1 }
    if maxLength > 1 << (Int.bitWidth - 2) { return Int.max }
    return 1 << (Int.bitWidth - (maxLength - 1).leadingZeroBitCount)
  }

  /// How many curl processes a batch of `count` requests is split across: one for a small batch
  /// (a process start is some milliseconds), else `options.processes`, at most one per core.
  public func shardCount(_ count: Int) -> Int {
    count < Self.smallestSplitBatch ? 1 : max(1, min(options.processes, Syscall.onlineCores()))
  }

  /// A batch smaller than this runs from one curl process.
  public static let smallestSplitBatch = 256

  /// `fetchAll` of requests already in curl's order (`completed` gets indices in `requests`).
  private func fetchInCurlOrder(
    _ requests: [FetchRequest], progress: ((FetchProgress) -> Void)?,
    completed: (Int, Result<Int, FetchError>) -> Bool
  ) throws(FetchError) {
    if requests.isEmpty { return }
    if cancelled() { throw .cancelled }

    // Request k goes to process k % shards, which knows it as its k / shards-th transfer.
    let shards = shardCount(requests.count)
    let parallel = max(1, options.parallel / shards)
    let arguments = [
      "-q", "--no-progress-meter", "--silent", "--parallel", "--parallel-immediate", "--parallel-max", String(parallel), "--config", "-",
    ]
    let events = BatchEvents(readers: shards)
    var runs: [CurlRun] = []
    defer {
      // Only when a process could not be started: those already running are stopped and
      // nothing they wrote is left (the loop's way out waits for every process itself).
      if !runs.isEmpty && runs.count < shards {
        for run in runs { run.kill() }
        events.drainAndWait(started: runs.count)
        for run in runs { _ = run.wait() }
        BatchState(requests).removeUnfinished()
      }
    }
    for shard in 0..<shards {
      let config: CInt
      switch Self.configuration(stride(from: shard, to: requests.count, by: shards).map { requests[$0] }, options) {
      case .success(let fd): config = fd
      case .failure(let error): throw error
      }
      let run = try CurlRun(program, arguments, input: config, readingErrors: true, cancelled: cancelled)
      runs.append(run)
      DispatchQueue.global().async { events.read(run, shard: shard) }
    }
    func killAll() { for run in runs { run.kill() } }

    var batch = BatchState(requests)
    var stopped = false
    var overLimit: Int? = nil
    var lastTick = monotonicSeconds()
    var rate = RateMeter(started: lastTick)
    receiving: while true {
      let (reports, ended) = events.next(timeout: 0.1)
      for (shard, report) in reports {
        let index = report.index * shards + shard
        guard report.index >= 0, index < requests.count, !batch.done[index] else { continue }
        let result = check(report, requests[index])
        batch.finish(index, result)
        if !completed(index, result) {
          stopped = true
          killAll()
          break receiving
        }
      }
      if ended { break }
      let now = monotonicSeconds()
      if now - lastTick >= 0.1 {
        lastTick = now
        let (running, offender) = batch.measureRunning(window: shards * (2 * parallel + 16))
        if let offender, overLimit == nil {
          overLimit = offender
          killAll()
        }
        let bytes = batch.finishedBytes + running
        progress?(FetchProgress(
          files: batch.finishedCount, totalFiles: requests.count, bytes: bytes,
          bytesPerSecond: rate.add(bytes, at: now), seconds: now - rate.started))
      }
    }
    // Every curl has ended or was killed: each reader sees the end of its stderr, then the
    // pipes close.
    events.drainAndWait()
    let finished = runs.map { $0.wait() }
    if runs.contains(where: \.wasCancelled) && !stopped {
      batch.removeUnfinished()
      throw .cancelled
    }
    if stopped {
      batch.removeUnfinished()
      return
    }
    // Whatever curl did not report: the request that went past its cap, and the ones it took
    // down with it, or curl died.
    let why: String
    if let overLimit {
      why = "stopped with \(requests[overLimit].url), which sent more than \(requests[overLimit].maxLength) bytes"
    } else {
      why = "curl \((finished.first { !$0.succeeded } ?? finished[0]).statusText) before finishing it"
    }
    let now = monotonicSeconds()
    for index in requests.indices where !batch.done[index] {
      let request = requests[index]
      FetchedFile.remove(request.destination)
      let result: Result<Int, FetchError> = index == overLimit
        ? .failure(.tooLong(url: request.url, limit: request.maxLength))
        : .failure(.unreachable(url: request.url, reason: why))
      batch.finish(index, result)
      if !completed(index, result) {
        batch.removeUnfinished()
        return
      }
    }
    progress?(FetchProgress(
      files: batch.finishedCount, totalFiles: requests.count, bytes: batch.finishedBytes,
      bytesPerSecond: rate.add(batch.finishedBytes, at: now), seconds: now - rate.started))
  }

  /// The verdict on one finished transfer: curl's report, then the file itself.
  private func check(_ report: CurlReport, _ request: FetchRequest) -> Result<Int, FetchError> {
    if let (error, _) = report.failure(url: request.url, maxLength: request.maxLength) {
      FetchedFile.remove(request.destination)
      return .failure(error)
    }
    // curl creates the file at the first byte: an empty body leaves none.
    if report.size == 0 && FetchedFile.size(request.destination) == nil {
      if case .failure(let error) = FetchedFile.write([], to: request.destination, url: request.url) { return .failure(error) }
    }
    guard let size = FetchedFile.size(request.destination) else {
      return .failure(.unreachable(url: request.url, reason: "curl reported \(report.size) bytes but wrote no file"))
    }
    if size > request.maxLength {
      FetchedFile.remove(request.destination)
      return .failure(.tooLong(url: request.url, limit: request.maxLength))
    }
    guard size == report.size else {
      FetchedFile.remove(request.destination)
      return .failure(.unreachable(url: request.url, reason: "curl reported \(report.size) bytes, the file has \(size)"))
    }
    return .success(size)
  }

  /// The configuration curl reads from stdin, in an in-memory file (a pipe could not hold
  /// thousands of transfers before curl reads them). `requests` come sorted by cap class: an
  /// operation per class.
  static func configuration(_ requests: [FetchRequest], _ options: Options) -> Result<CInt, FetchError> {
    var text: [UInt8] = []
    // Appended in place: a line per URL and per output, thousands of them before curl can
    // start, and temporary arrays for each took 19 ms of a full pull's start.
    func line<Value: Collection<UInt8>>(_ name: String, _ value: Value?) {
      text.append(contentsOf: name.utf8)
      if let value {
        text.append(contentsOf: " = \"".utf8)
        appendQuoted(value, to: &text)
        text.append(0x22)
      }
      text.append(0x0A)
    }
    // The lines every transfer has, made once (a pull has thousands of transfers).
    for (name, value) in CurlProgram.transferOptions(options) where name != "show-error" {
      // Without show-error: the reports carry curl's reasons, nothing else is on stderr.
      line(name, value?.utf8)
    }
    line("retry", String(max(0, options.retries)).utf8)
    // Not quoted again: curl's own escapes (\t, \n) are what it must read.
    text += Array("write-out = \"%{stderr}\(CurlReport.format)\"\n".utf8)
    let common = text
    text = []
    text.reserveCapacity(requests.count * 300)
    var operationClass = 0
    for request in requests {
      let capClass = Self.capClass(request.maxLength)
      if capClass != operationClass {
        if operationClass != 0 { line("next", nil as [UInt8]?) }
        text += common
        line("max-filesize", String(capClass).utf8)
        operationClass = capClass
      }
      line("url", request.url.utf8)
      line("output", request.destination.bytes)
    }
    let fd: CInt
    switch Syscall.memfd("mcp-gen-curl-config") {
    case .success(let f): fd = f
    case .failure(let e): return .failure(.unreachable(url: "", reason: "memfd_create: \(e.description)"))
    }
    var offset = 0
    while offset < text.count {
      // pwrite leaves the file offset at 0, where curl starts reading.
      let n = text[offset...].withUnsafeBytes { Syscall.pwrite(fd, $0.baseAddress!, $0.count, .init(offset)) }
      switch n {
      case .success(let n): offset += n
      case .failure(let e):
        _ = Syscall.close(fd)
        return .failure(.unreachable(url: "", reason: "cannot write curl's configuration: \(e.description)"))
      }
    }
    return .success(fd)
  }

  /// A value inside double quotes of a curl configuration file.
  static func quoted(_ value: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    appendQuoted(value, to: &out)
    return out
  }

  static func appendQuoted<Value: Collection<UInt8>>(_ value: Value, to out: inout [UInt8]) {
    for byte in value {
      switch byte {
      case 0x5C: out.append(0x5C); out.append(0x5C)
      case 0x22: out.append(0x5C); out.append(0x22)
      case 0x0A: out.append(0x5C); out.append(0x6E)
      case 0x0D: out.append(0x5C); out.append(0x72)
      case 0x09: out.append(0x5C); out.append(0x74)
      case 0x0B: out.append(0x5C); out.append(0x76)
      default: out.append(byte)
      }
    }
  }
}

extension FetchError {
  /// The reason of an `.unreachable`, else a short description.
  var reasonText: String {
    switch self {
    case .unreachable(_, let reason): return reason
    case .notFound(let url): return "\(url) was not found"
    case .status(let url, let code): return "\(url) answered HTTP \(code)"
    case .tooLong(let url, let limit): return "\(url) sent more than \(limit) bytes"
    case .cancelled: return "cancelled"
    }
  }
}

/// Which requests of a batch are finished, and how many bytes they hold.
private struct BatchState {
  let requests: [FetchRequest]
  var done: [Bool]
  var finishedCount = 0
  var finishedBytes: UInt64 = 0
  /// Every request before this index is finished.
  var firstUnfinished = 0

  init(_ requests: [FetchRequest]) {
    self.requests = requests
    done = Array(repeating: false, count: requests.count)
  }

  mutating func finish(_ index: Int, _ result: Result<Int, FetchError>) {
    done[index] = true
    finishedCount += 1
    if case .success(let size) = result { finishedBytes += UInt64(size) }
    while firstUnfinished < done.count && done[firstUnfinished] { firstUnfinished += 1 }
  }

  /// Bytes in the files of the first `window` unfinished requests, and the first of them past
  /// its cap.
  func measureRunning(window: Int) -> (bytes: UInt64, overLimit: Int?) {
    var bytes: UInt64 = 0
    var overLimit: Int? = nil
    var seen = 0
    var index = firstUnfinished
    while index < requests.count && seen < window {
      if !done[index] {
        seen += 1
        if let size = FetchedFile.size(requests[index].destination) {
          bytes += UInt64(size)
          // Past its class, which curl's --max-filesize holds only for an announced length; up
          // to there, the finished file is refused on its own (`check`), the batch goes on.
          if size > CurlFetcher.capClass(requests[index].maxLength) && overLimit == nil { overLimit = index }
        }
      }
      index += 1
    }
    return (bytes, overLimit)
  }

  func removeUnfinished() {
    for index in requests.indices where !done[index] { FetchedFile.remove(requests[index].destination) }
  }
}

/// Bytes per second over the last three seconds.
private struct RateMeter {
  let started: Double
  private var samples: [(time: Double, bytes: UInt64)] = []

  init(started: Double) {
    self.started = started
    samples = [(started, 0)]
  }

  mutating func add(_ bytes: UInt64, at time: Double) -> Double {
    samples.append((time, bytes))
    while samples.count > 2 && time - samples[1].time >= 3 { samples.removeFirst() }
    let first = samples[0]
    let seconds = time - first.time
    return seconds > 0 && bytes >= first.bytes ? Double(bytes - first.bytes) / seconds : 0
  }
}

/// The report lines of a batch's curl processes (their stderr), each read on its own thread so
/// that curl never blocks on a full pipe while `completed` works (curl is one thread: a blocked
/// write stops every transfer of that process).
private final class BatchEvents: Sendable {
  /// Reports with the process (shard) that wrote them, and how many readers reached their end.
  private let state = Mutex<(reports: [(Int, CurlReport)], ended: Int)>(([], 0))
  private let available = DispatchSemaphore(value: 0)
  private let finished = DispatchSemaphore(value: 0)
  private let readers: Int

  init(readers: Int) { self.readers = readers }

  func read(_ run: CurlRun, shard: Int) {
    var pending: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
      let n = buffer.withUnsafeMutableBytes { run.read(into: $0) }
      guard case .success(let count) = n, count > 0 else { break }
      pending += buffer[0..<count]
      // curl writes each report to its unbuffered stderr a few bytes at a time (a write per
      // field and per tab): read at once, this thread would wake for every one of them, some
      // 150,000 reads for 9,000 transfers. Pausing lets a read take what came in the meantime.
      sleepSeconds(0.002)
      guard let lastNewline = pending.lastIndex(of: 0x0A) else { continue }
      let reports = pending[..<lastNewline].split(separator: 0x0A).compactMap { CurlReport(line: $0) }
      pending.removeSubrange(...lastNewline)
      if !reports.isEmpty {
        state.withLock { $0.reports += reports.map { (shard, $0) } }
        available.signal()
      }
    }
    state.withLock { $0.ended += 1 }
    available.signal()
    finished.signal()
  }

  /// The reports that arrived, waiting up to `timeout` seconds for one; `ended` once every
  /// curl's stderr is closed (these are then the last).
  func next(timeout: Double) -> (reports: [(Int, CurlReport)], ended: Bool) {
    _ = available.wait(timeout: .now() + .milliseconds(Int(timeout * 1000)))
    return state.withLock { s in
      defer { s.reports = [] }
      return (s.reports, s.ended == readers)
    }
  }

  /// Waits for every reader started to reach the end of its curl's stderr.
  func drainAndWait(started: Int? = nil) {
    for _ in 0..<(started ?? readers) { finished.wait() }
  }
}
