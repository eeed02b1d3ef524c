import Dispatch
import MCPGenSystem
import Synchronization

/// Work started on another thread now and joined later, for work that would otherwise wait
/// for other work: two independent reads (the journal and the generation links of `list`), a
/// pull's writeback started while it assembles its tree.
public final class Background<Value: Sendable>: Sendable {
  private let done = DispatchSemaphore(value: 0)
  private let result = Mutex<Result<Value, MCPGenError>?>(nil)

  public init(_ work: @escaping @Sendable () throws(MCPGenError) -> Value) {
    DispatchQueue.global().async { [self] in
      let outcome: Result<Value, MCPGenError>
      do throws(MCPGenError) { outcome = .success(try work()) } catch { outcome = .failure(error) }
      result.withLock { $0 = outcome }
      done.signal()
    }
  }

  /// Waits for the work and returns its value or rethrows its error.
  public func value() throws(MCPGenError) -> Value {
    done.wait()
    done.signal()  // later calls return at once
    return try result.withLock { $0! }.get()
  }
}
