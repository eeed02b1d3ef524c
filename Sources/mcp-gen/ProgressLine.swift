import Dispatch
import MCPGenTerminal
import Synchronization
import MCPGenKit

/// The progress line on stderr: the engine's counters redrawn in place (`\r`) ten times a
/// second while a phase runs, cleared when it ends and before anything else is printed.
///
/// `hashing 1,234/9,345 files, 120.0 MB/337.0 MB, 410.0 MB/s, 1 s left`
///
/// Shown only when stderr is a terminal and `--quiet` was not given. `MCP_GEN_PROGRESS=always`
/// draws it whatever stderr is (to measure what drawing costs), `never` turns it off.
// @unchecked: `timer` (a DispatchSourceTimer, not Sendable) is only scheduled, resumed and
// cancelled, all thread-safe in libdispatch; the rest is constant or behind `screen`'s Mutex.
final class ProgressLine: @unchecked Sendable {
  /// Set and read on the main thread only; the timer holds its own reference.
  nonisolated(unsafe) private static var current: ProgressLine?

  let counters = ProgressCounters()
  private let queue = DispatchQueue(label: "mcp-gen.progress")
  private let timer: DispatchSourceTimer
  private let screen = Mutex(Screen())
  private let columns: Int

  /// What is on the terminal, and where the rate of the current phase is measured from.
  private struct Screen {
    var drawn = 0
    var step = 0
    var since = 0.0
    var bytesThen: UInt64 = 0
  }

  static let interval = 0.1

  private init() {
    columns = ProgressLine.terminalColumns()
    timer = DispatchSource.makeTimerSource(queue: queue)
    timer.schedule(deadline: .now() + ProgressLine.interval, repeating: ProgressLine.interval)
    timer.setEventHandler { [self] in tick() }
    timer.resume()
  }

  /// The counters to hand to the engine, starting the line on first use; nil when off.
  static func start(quiet: Bool) -> ProgressCounters? {
    if let current { return current.counters }
    guard enabled(quiet: quiet) else { return nil }
    let line = ProgressLine()
    current = line
    return line.counters
  }

  /// Stops drawing and clears the line.
  static func stop() {
    guard let line = current else { return }
    current = nil
    line.timer.cancel()
    line.queue.sync {}  // a tick already running finishes first
    line.screen.withLock { line.clear(&$0) }
  }

  /// Runs `write` with the line cleared, so what it writes starts at the left margin and is
  /// never overdrawn; the next tick draws the line again below it.
  static func pausing(_ write: () -> Void) {
    guard let line = current else { return write() }
    line.screen.withLock { screen in
      line.clear(&screen)
      write()
    }
  }

  private static func enabled(quiet: Bool) -> Bool {
    if quiet { return false }
    switch environmentValue("MCP_GEN_PROGRESS") {
    case "always": return true
    case "never": return false
    default: return Terminal.isTerminal(2)
    }
  }

  private func tick() {
    let snapshot = counters.snapshot()
    let now = monotonicSeconds()
    screen.withLock { screen in
      guard snapshot.isActive else { return clear(&screen) }
      if snapshot.step != screen.step {
        screen.step = snapshot.step
        screen.since = now
        screen.bytesThen = snapshot.bytes
      }
      let elapsed = now - screen.since
      let rate = elapsed > 0 ? Double(snapshot.bytes &- screen.bytesThen) / elapsed : nil
      var text = ProgressLine.text(snapshot, bytesPerSecond: rate)
      if text.count > columns - 1 { text = String(text.prefix(max(0, columns - 1))) }
      let padding = max(0, screen.drawn - text.count)
      Output.writeAll(2, Array(("\r" + text + String(repeating: " ", count: padding)).utf8))
      screen.drawn = text.count
    }
  }

  private func clear(_ screen: inout Screen) {
    guard screen.drawn > 0 else { return }
    Output.writeAll(2, Array(("\r" + String(repeating: " ", count: screen.drawn) + "\r").utf8))
    screen.drawn = 0
  }

  /// `hashing 1,234/9,345 files, 120.0 MB/337.0 MB, 410.0 MB/s, 1 s left`; while a scan is
  /// still finding files, without totals and time left.
  static func text(_ s: ProgressCounters.Snapshot, bytesPerSecond rate: Double?) -> String {
    var parts: [String]
    if s.totalsFinal {
      parts = ["\(s.phase) \(grouped(s.files))/\(grouped(s.totalFiles)) files",
               "\(ByteCount.text(s.bytes))/\(ByteCount.text(s.totalBytes))"]
    } else {
      parts = ["\(s.phase) \(grouped(s.files)) files", ByteCount.text(s.bytes)]
    }
    if let rate, rate >= 1 {
      parts.append("\(ByteCount.text(UInt64(rate)))/s")
      if s.totalsFinal, s.totalBytes > s.bytes {
        parts.append("\(duration(Double(s.totalBytes - s.bytes) / rate)) left")
      }
    }
    return parts.joined(separator: ", ")
  }

  /// `1,234,567`.
  static func grouped(_ n: Int) -> String {
    let digits = Array(String(n))
    var out = ""
    for (i, d) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
      out.append(d)
    }
    return out
  }

  /// `5 s`, `2 min 5 s`, `1 h 3 min`, rounded up.
  static func duration(_ seconds: Double) -> String {
    let s = Int(min(seconds.rounded(.up), 359_999))
    if s < 60 { return "\(s) s" }
    if s < 3600 { return "\(s / 60) min \(s % 60) s" }
    return "\(s / 3600) h \(s % 3600 / 60) min"
  }

  private static func terminalColumns() -> Int {
    guard let columns = Terminal.columns(2), columns > 10 else { return 80 }
    return columns
  }

}
