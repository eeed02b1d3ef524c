#if canImport(Glibc)
import Glibc
#endif

extension ChildProcess {
  /// A started child of `run` and what is watched for it: for a child in a process group of its
  /// own, past the deadline SIGKILL to the whole group; a cancelling signal forwarded to the
  /// group, SIGKILL `grace` seconds later if it still runs.
  struct Watched {
    let index: Int
    let child: Spawned
    let deadline: Double?
    let cancellation: CancelForwarding?
    var timedOut = false
    var forwarded: Int32? = nil
    var forwardedAt = 0.0
    var killedAfterGrace = false

    init(index: Int, spec: Spec, child: Spawned, started: Double) {
      self.index = index
      self.child = child
      deadline = spec.ownProcessGroup ? spec.timeout.map { started + min(max($0, 0), 1e6) } : nil
      cancellation = spec.ownProcessGroup ? spec.cancellation : nil
    }

    /// Sends what is due at `now`. The child is not reaped before `waitForAll` saw it end, so its
    /// pid and group cannot have been reused.
    mutating func look(_ now: Double) {
      if let deadline, !timedOut, now >= deadline {
        timedOut = true
        child.signal(SignalNumber.kill)
      }
      guard let cancellation else { return }
      if forwarded == nil {
        if let signal = cancellation.signal() {
          (forwarded, forwardedAt) = (signal, now)
          child.signal(signal)
        }
      } else if !killedAfterGrace, now - forwardedAt >= cancellation.grace {
        killedAfterGrace = true
        child.signal(SignalNumber.kill)
      }
    }

    /// Seconds until `look` may have something to do.
    func due(_ now: Double) -> Double {
      var wait = Double.infinity
      if let deadline, !timedOut { wait = deadline - now }
      if let cancellation { wait = min(wait, cancellation.poll) }
      // Without a pid descriptor nothing wakes us when it ends: look every 20 ms.
      if child.pidFD < 0 { wait = min(wait, 0.02) }
      return wait
    }
  }

  /// Waits on the calling thread until every child in `all` has ended, sending timeouts and
  /// cancels on the way, and returns how each ended (by the index of its spec).
  static func waitForAll(_ all: [Watched]) -> [(Int, Finished)] {
    #if DEBUG
    // Tests let the deadline pass before the first look, to show the kill still comes.
    if all.contains(where: { $0.deadline != nil }),
      let delay = environmentValue("MCP_GEN_DEBUG_PID_STORE_DELAY").flatMap({ Double($0) }), delay > 0
    {
      sleepSeconds(delay)
    }
    #endif
    var running = all
    var done: [(Int, Finished)] = []
    while !running.isEmpty {
      let now = monotonicSeconds()
      for k in running.indices { running[k].look(now) }
      let wait = running.map { $0.due(now) }.min() ?? 0
      let milliseconds = wait.isInfinite ? -1 : Int32(min(max(wait, 0), 86_400) * 1000 + 1)
      let fds = running.map(\.child.pidFD).filter { $0 >= 0 }
      if fds.isEmpty {
        sleepSeconds(Double(milliseconds) / 1000)
      } else {
        _ = Syscall.pollReadable(fds, milliseconds: milliseconds)
      }
      running.removeAll { watched in
        guard watched.child.hasEnded() else { return false }
        var finished = watched.child.wait()
        finished.timedOut = watched.timedOut
        finished.cancelledBy = watched.forwarded
        done.append((watched.index, finished))
        return true
      }
    }
    return done
  }
}
