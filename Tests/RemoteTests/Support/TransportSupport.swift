import Foundation
import MCPGenRemote
import Synchronization

/// What the transport tests need of the machine.
enum TransportSupport {
  static let curlInstalled = FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")
  static let serverTools = curlInstalled && Nginx.isInstalled && FaultServer.isAvailable

  /// A fetcher with short timeouts (a stalled server fails in about `speedTime` seconds), no
  /// retries unless asked.
  static func fetcher(
    retries: Int = 0, retryDelay: Double = 0.05, speedTime: Int = 2, speedLimit: Int = 1, parallel: Int = 8, processes: Int = 2,
    cancelled: @escaping @Sendable () -> Bool = { false }, proxy: [String: String] = [:]
  ) throws -> CurlFetcher {
    var options = CurlFetcher.Options()
    options.connectTimeout = 5
    options.retries = retries
    options.retryDelay = retryDelay
    options.lowSpeedTime = speedTime
    options.lowSpeedLimit = speedLimit
    options.parallel = parallel
    options.processes = processes
    // Never this process's proxy variables: tests run in parallel and must not share them.
    var program = try CurlProgram()
    program.proxyEnvironment = proxy
    return CurlFetcher(program: program, options: options, cancelled: cancelled)
  }

  /// When `cancelOnceRunning` raised its flag, and whether curl was running then.
  final class Raised: Sendable {
    private let state = Mutex<(at: Date, wasRunning: Bool)>((.distantFuture, false))
    var at: Date { state.withLock { $0.at } }
    var wasRunning: Bool { state.withLock { $0.wasRunning } }
    fileprivate func record(_ running: Bool) { state.withLock { $0 = (Date(), running) } }
  }

  /// Raises `flag` as soon as a curl for `needle` runs (or after 120 s), from another thread.
  static func cancelOnceRunning(_ needle: String, _ flag: CancelFlag) -> Raised {
    let raised = Raised()
    DispatchQueue.global().async {
      let deadline = Date().addingTimeInterval(120)
      var running = false
      while !running && Date() < deadline {
        running = curlProcesses(containing: needle).count == 1
        if !running { usleep(20_000) }
      }
      usleep(200_000)  // Let it get going.
      raised.record(running)
      flag.raise()
    }
    return raised
  }
}

extension Nginx {
  /// Starts one from a Dispatch thread (see `FaultServer.start`).
  static func start(serving root: String) async throws -> Nginx {
    try await blocking { try Nginx(serving: root) }
  }
}

extension FaultServer {
  /// Starts one from a Dispatch thread: waiting for Python to start must not hold a thread of
  /// the cooperative pool, which the fetcher's own tasks need (see `blocking`).
  static func start(upstream: String? = nil) async throws -> FaultServer {
    try await blocking { try FaultServer(upstream: upstream) }
  }
}

/// A flag a test raises to cancel a download.
final class CancelFlag: Sendable {
  private let raised = Atomic<Bool>(false)
  func raise() { raised.store(true, ordering: .sequentiallyConsistent) }
  var isRaised: Bool { raised.load(ordering: .sequentiallyConsistent) }
}

/// Runs blocking work (a fetch) on a Dispatch thread and waits for it without holding a thread of
/// Swift's cooperative pool: the fetcher starts curl from a task of that pool and blocks until it
/// ends, so tests running in parallel on the pool's few threads (two on two cores) would
/// otherwise starve it. The CLI calls the fetcher from its main thread, outside the pool.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
  try await withCheckedThrowingContinuation { continuation in
    DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
  }
}

/// `blocking`, for a body whose failure is the value under test (a `FetchError`).
func outcome<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async -> Result<T, FetchError> {
  await timedOutcome(body).0
}

/// `outcome`, with the moment the body returned: measured on the thread that ran it, since the
/// test itself may resume late when other tests keep the cooperative pool busy.
func timedOutcome<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async -> (Result<T, FetchError>, Date) {
  await withCheckedContinuation { continuation in
    DispatchQueue.global().async {
      let result: Result<T, FetchError>
      do {
        result = .success(try body())
      } catch let error as FetchError {
        result = .failure(error)
      } catch {
        result = .failure(.unreachable(url: "", reason: "not a FetchError: \(error)"))
      }
      continuation.resume(returning: (result, Date()))
    }
  }
}

/// A count shared between threads.
final class Counter: Sendable {
  private let count = Atomic<Int>(0)
  func add() { count.add(1, ordering: .relaxed) }
  var value: Int { count.load(ordering: .relaxed) }
}

/// A moment recorded by the thread that reaches it.
final class Started: Sendable {
  private let moment = Mutex<Date>(.distantFuture)
  func now() { moment.withLock { $0 = Date() } }
  var at: Date { moment.withLock { $0 } }
}
