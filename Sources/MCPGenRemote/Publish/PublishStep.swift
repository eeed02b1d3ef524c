import MCPGenKit
import MCPGenSystem

/// Runs `body`, turning a failed system call into an `MCPGenError` that names `action` (the
/// engine's `attempt`, which is internal to MCPGenKit).
@inline(__always)
func publishStep<R>(_ action: @autoclosure () -> String, _ body: () throws(SystemCallError) -> R) throws(MCPGenError) -> R {
  do {
    return try body()
  } catch {
    throw MCPGenError(error, doing: action())
  }
}
