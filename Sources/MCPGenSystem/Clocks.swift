#if canImport(Glibc)
import Glibc
#endif

/// Sleeps `seconds` (capped at a day), resuming after a signal until the time is up
/// (`nanosleep(2)`).
public func sleepSeconds(_ seconds: Double) {
  let s = seconds.isFinite ? min(max(seconds, 0), 86400) : 0
  var request = timespec(tv_sec: Int(s), tv_nsec: Int((s - Double(Int(s))) * 1e9))
  var remaining = timespec()
  while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
}

/// Seconds since the epoch on the real-time clock (`clock_gettime(2)` with `CLOCK_REALTIME`).
public func realtimeSeconds() -> Int64 {
  var ts = timespec()
  clock_gettime(CLOCK_REALTIME, &ts)
  return Int64(ts.tv_sec)
}
