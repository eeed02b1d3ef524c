import Dispatch
import MCPGenSystem
import Synchronization

/// Work started on another thread now and joined later, for two independent reads that would
/// otherwise wait for each other (the journal and the generation links of `list`).
final class Background<Value: Sendable>: Sendable {
  private let done = DispatchSemaphore(value: 0)
  private let result = Mutex<Result<Value, MCPGenError>?>(nil)

  init(_ work: @escaping @Sendable () throws(MCPGenError) -> Value) {
    DispatchQueue.global().async { [self] in
      let outcome: Result<Value, MCPGenError>
      do throws(MCPGenError) { outcome = .success(try work()) } catch { outcome = .failure(error) }
      result.withLock { $0 = outcome }
      done.signal()
    }
  }

  /// Waits for the work and returns its value or rethrows its error.
  func value() throws(MCPGenError) -> Value {
    done.wait()
    done.signal()  // later calls return at once
    return try result.withLock { $0! }.get()
  }
}
