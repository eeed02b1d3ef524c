import Dispatch
import Synchronization

/// The timeout and the cancel forwarding of a child in a process group of its own: past the
/// deadline SIGKILL to the whole group; a cancelling signal forwarded to the group, SIGKILL
/// `grace` seconds later if it still runs.
final class Watchdog: Sendable {
  private let pid = Atomic<Int32>(0)
  private let finished = Atomic<Bool>(false)
  private let killedForTimeout = Atomic<Bool>(false)
  private let deadlinePassed = Atomic<Bool>(false)
  private let forwarded = Atomic<Int32>(0)
  private let ticksAfter = Atomic<Int>(0)

  init(timeout: Double?, cancellation: ChildProcess.CancelForwarding?) {
    // The deadline can pass before the spawn has stored the pid; then `started` kills the
    // group as soon as it has. Each side writes its flag before reading the other's
    // (sequentially consistent), so at least one of them sees both: a hung check can never
    // outlive its timeout, and so hold the root's lock for ever.
    if let timeout {
      let deadline = DispatchTime.now() + .nanoseconds(Int(min(max(timeout, 0), 1e6) * 1e9))
      DispatchQueue.global().asyncAfter(deadline: deadline) { [self] in
        deadlinePassed.store(true, ordering: .sequentiallyConsistent)
        let p = pid.load(ordering: .sequentiallyConsistent)
        if p > 0 { killForTimeout(p) }
      }
    }
    if let cancellation {
      // A thread of the global pool polls for as long as the child runs (one check at a time).
      let graceTicks = Int(cancellation.grace / cancellation.poll)
      DispatchQueue.global().async { [self] in
        while !finished.load(ordering: .acquiring) {
          tick(cancellation, graceTicks)
          sleepSeconds(cancellation.poll)
        }
      }
    }
  }

  private func tick(_ cancellation: ChildProcess.CancelForwarding, _ graceTicks: Int) {
    guard let signal = cancellation.signal() else { return }
    let p = pid.load(ordering: .acquiring)
    guard p > 0 else { return }  // Not started yet: a later tick sends it.
    if forwarded.load(ordering: .acquiring) == 0 {
      forwarded.store(signal, ordering: .releasing)
      _ = Syscall.killGroup(p, signal)
    } else if ticksAfter.add(1, ordering: .relaxed).newValue == graceTicks {
      _ = Syscall.killGroup(p, SignalNumber.kill)
    }
  }

  /// The child runs as `p`, leader of its own process group.
  func started(_ p: Int32) async {
    #if DEBUG
    // Tests widen the window between the spawn and the pid store to show the kill still comes.
    if let delay = environmentValue("MCP_GEN_DEBUG_PID_STORE_DELAY").flatMap({ Double($0) }), delay > 0 {
      try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
    }
    #endif
    pid.store(p, ordering: .sequentiallyConsistent)
    if deadlinePassed.load(ordering: .sequentiallyConsistent) { killForTimeout(p) }
  }

  /// The child has been waited for: its pid may be reused, nothing more is sent.
  func finish() {
    finished.store(true, ordering: .sequentiallyConsistent)
  }

  var timedOut: Bool { killedForTimeout.load(ordering: .sequentiallyConsistent) }

  var forwardedSignal: Int32? {
    let s = forwarded.load(ordering: .acquiring)
    return s == 0 ? nil : s
  }

  private func killForTimeout(_ p: Int32) {
    guard !finished.load(ordering: .sequentiallyConsistent) else { return }
    killedForTimeout.store(true, ordering: .sequentiallyConsistent)
    _ = Syscall.killGroup(p, SignalNumber.kill)
  }
}
