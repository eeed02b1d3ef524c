import MCPGenSystem

/// Ctrl-C (SIGINT) and SIGTERM as "cancel": the command stops at its next safe point, undoes
/// what it began and says so, instead of dying half-way.
///
/// Only commands that know how to undo themselves (`add`, `switch`, `rollback`) install the
/// handlers, in the CLI (`CancelSignals.install` of MCPGenTerminal); every other command keeps
/// the default action. The handler (C, async-signal-safe) only records the signal; the engine
/// polls it here: between files of a copy or a hash, while waiting for the lock, while a health
/// check runs (which then gets the same signal, in its own process group), and between checks.
/// The first signal also restores the default action, so a second one ends the process at once
/// and leaves what crash recovery handles.
public enum Cancellation {
  /// The signal that asked to cancel, if one came.
  public static var signal: Int32? { CancelSignals.received }

  public static var requested: Bool { CancelSignals.received != nil }

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
  public static func name(_ signal: Int32) -> String { CancelSignals.name(signal) }
}
