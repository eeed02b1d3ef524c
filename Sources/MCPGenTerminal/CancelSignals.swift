#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CMCPGenSignals
import SystemPackage

/// Ctrl-C (SIGINT) and SIGTERM as a request to cancel, for the commands that can undo what they
/// began (`add`, `switch`, `rollback`): the CLI installs the handler, the engine polls
/// `received` at its safe points (`Cancellation`) and undoes its work. The handler is C
/// (async-signal-safe: it only records the signal); the first signal also puts both back to
/// their default action, so a second one ends the process at once.
public enum CancelSignals {
  /// Installs the handler for SIGINT and SIGTERM (`sigaction(2)`; a signal that was ignored,
  /// as under nohup, stays ignored) and unblocks both (`pthread_sigmask(3)`).
  public static func install() -> Result<Void, Errno> {
    mcpgen_cancel_install() == 0 ? .success(()) : .failure(Errno(rawValue: errno))
  }

  /// The first cancelling signal received since `install`, nil when none came (an atomic load,
  /// no system call: cheap enough to poll between files).
  public static var received: Int32? {
    let s = mcpgen_cancel_signal()
    return s == 0 ? nil : s
  }

  /// `SIGINT`, `SIGTERM`, or `signal N`.
  public static func name(_ signal: Int32) -> String {
    switch signal {
    case SIGINT: return "SIGINT"
    case SIGTERM: return "SIGTERM"
    default: return "signal \(signal)"
    }
  }
}
