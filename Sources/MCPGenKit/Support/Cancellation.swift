import MCPGenSystem

/// Ctrl-C (SIGINT) and SIGTERM as "cancel": the command stops at its next safe point, undoes
/// what it began and says so, instead of dying half-way.
///
/// Only commands that know how to undo themselves (`add`, `switch`, `rollback`) install the
/// handlers; every other command keeps the default action. The handler (C, async-signal-safe)
/// only records the signal; the engine polls it: between files of a copy or a hash, while waiting
/// for the lock, while a health check runs (which then gets the same signal, in its own process
/// group), and between checks. The first signal also restores the default action, so a second
/// one ends the process at once and leaves what crash recovery handles.
public enum Cancellation {
  /// Installs the handlers for SIGINT and SIGTERM (a signal that was ignored stays ignored).
  public static func install() throws(MCPGenError) {
    switch Syscall.installCancelHandlers() {
    case .success: return
    case .failure(let e):
      throw MCPGenError(.io, "cannot install the SIGINT and SIGTERM handlers: \(e.description) (sigaction); run the command again")
    }
  }

  /// The signal that asked to cancel, if one came.
  public static var signal: Int32? {
    let s = Syscall.cancelSignal()
    return s == 0 ? nil : s
  }

  public static var requested: Bool { Syscall.cancelSignal() != 0 }

  /// Throws `.cancelled` (`message`: what was undone, starting `cancelled:`) once a signal came.
  static func check(_ message: @autoclosure () -> String = nothingChanged) throws(MCPGenError) {
    guard requested else { return }
    throw MCPGenError(.cancelled, message())
  }

  static let nothingChanged = "cancelled: nothing was changed"

  /// Sleeps `seconds`, in short steps so a cancel ends the wait within 20 ms.
  static func sleep(_ seconds: Double) {
    let deadline = monotonicSeconds() + max(0, seconds)
    while !requested {
      let left = deadline - monotonicSeconds()
      if left <= 0 { return }
      sleepSeconds(min(left, 0.02))
    }
  }

  /// `SIGINT`, `SIGTERM`, or `signal N`.
  public static func name(_ signal: Int32) -> String {
    switch signal {
    case SignalNumber.interrupt: return "SIGINT"
    case SignalNumber.terminate: return "SIGTERM"
    default: return "signal \(signal)"
    }
  }
}
