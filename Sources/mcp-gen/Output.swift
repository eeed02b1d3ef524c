import MCPGenKit
import MCPGenTerminal

/// All printing goes through here: data to stdout, notes and errors to stderr.
///
/// stdout is buffered here and flushed before exit (a list of 10,000 generations is one write,
/// not 10,000); stderr is written at once. Both make way for the progress line first.
///
/// Colour is for people at a terminal only: each stream gets it when it is a terminal, `NO_COLOR`
/// is unset or empty (no-color.org), `--no-color` was not given and `TERM` is not `dumb`. What a
/// script reads through a pipe or file is never coloured.
enum Output {
  nonisolated(unsafe) private static var buffer: [UInt8] = []
  /// Whether anything went to stdout: with `--json`, an error then leaves that document alone
  /// instead of adding its own (stdout holds one document).
  nonisolated(unsafe) private static var wroteStdout = false

  enum Color: String {
    case red = "31"
    case green = "32"
    case yellow = "33"
  }

  static let colorOnStdout = wantsColor(1)
  static let colorOnStderr = wantsColor(2)

  /// `text` in `color` when stdout (or, with `stderr`, stderr) takes colour; else `text`.
  ///
  /// Each line is coloured on its own, its reset before its newline: a colour never runs past a
  /// line end into whatever is printed next (another program's output, the shell's prompt).
  static func paint(_ text: String, _ color: Color, stderr: Bool = false) -> String {
    guard stderr ? colorOnStderr : colorOnStdout, !text.isEmpty else { return text }
    return text.split(separator: "\n", omittingEmptySubsequences: false)
      .map { $0.isEmpty ? "" : "\u{1B}[\(color.rawValue)m\($0)\u{1B}[0m" }
      .joined(separator: "\n")
  }

  /// The colour of a line on stderr, from its prefix.
  private static let prefixColors: [(String, Color)] = [("error:", .red), ("warning:", .yellow), ("hint:", .yellow)]

  private static func paintPrefix(_ line: Substring) -> String {
    for (prefix, color) in prefixColors where line.hasPrefix(prefix) {
      return paint(prefix, color, stderr: true) + line.dropFirst(prefix.count)
    }
    return String(line)
  }

  private static func wantsColor(_ fd: Int32) -> Bool {
    guard Terminal.isTerminal(fd) else { return false }
    if let noColor = environmentValue("NO_COLOR"), !noColor.isEmpty { return false }
    if environmentValue("TERM") == "dumb" { return false }
    // Read from the raw arguments, so that an argument error is uncoloured too.
    return !RawArguments.hasFlag("--no-color")
  }

  static func line(_ text: String) {
    raw(Array(text.utf8) + [0x0A])
  }

  static func json(_ value: JSON) {
    raw(value.serialized() + [0x0A])
  }

  /// Exact bytes to stdout (the raw manifest has NULs in it).
  static func raw(_ bytes: [UInt8]) {
    if !bytes.isEmpty { wroteStdout = true }
    buffer += bytes
    if buffer.count >= 1 << 16 { flush() }
  }

  static func flush() {
    guard !buffer.isEmpty else { return }
    ProgressLine.pausing { writeAll(1, buffer) }
    buffer.removeAll(keepingCapacity: true)
  }

  /// Ends the progress line and writes what stdout still holds; the last thing before exit.
  static func finish() {
    ProgressLine.stop()
    flush()
  }

  /// Flushes stdout first, so notes and errors appear after what led to them. Lines starting
  /// with `error:`, `warning:` or `hint:` get their prefix coloured.
  static func note(_ text: String) {
    flush()
    let shown = colorOnStderr
      ? text.split(separator: "\n", omittingEmptySubsequences: false).map(paintPrefix).joined(separator: "\n") : text
    ProgressLine.pausing { writeAll(2, Array((shown + "\n").utf8)) }
  }

  /// One write for both lines, so they are never separated. With `--json`, the same as an
  /// object on stdout too (`jsonError`). A cancel is no error: its one line (`cancelled: ...`)
  /// says what was undone.
  static func error(_ error: MCPGenError, exit status: Int32? = nil) {
    jsonError(error.message, hint: error.hint, exit: status ?? ExitStatus.forError(error))
    let prefix = error.code == .cancelled ? "" : "error: "
    note(prefix + error.message + (error.hint.map { "\nhint: \($0)" } ?? ""))
  }

  /// An argument error: `error:` and `hint:` lines on stderr, and the object with `--json`.
  static func usageError(_ message: String, hint: String, exit status: Int32 = ExitStatus.usage) {
    jsonError(message, hint: hint, exit: status)
    note("error: \(message)\nhint: \(hint)")
  }

  /// With `--json` (given anywhere before `--`), `{"error", "hint", "exit"}` on stdout, so that a
  /// script reading stdout learns why there is no document; not when the command already printed
  /// its document (a `check` whose checks failed), which stays the only one.
  static func jsonError(_ message: String, hint: String?, exit status: Int32) {
    guard RawArguments.hasFlag("--json"), !wroteStdout else { return }
    json(.object([("error", .string(message)), ("hint", hint.map(JSON.string) ?? .null), ("exit", .int(Int64(status)))]))
    flush()
  }

  static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    // Stops quietly when stdout is closed (e.g. piped into head): nothing more to say.
    Terminal.writeAll(fd, bytes)
  }

  static func bytes(_ n: UInt64) -> String { ByteCount.text(n) }
}

/// Documented exit statuses (README, `mcp-gen --help`).
enum ExitStatus {
  static let success: Int32 = 0
  static let failure: Int32 = 1
  static let integrity: Int32 = 2
  static let lockTimeout: Int32 = 3
  static let healthCheckRolledBack: Int32 = 4
  static let rollbackFailed: Int32 = 5
  /// `audit --repair` repaired something: the root was damaged.
  static let repaired: Int32 = 6
  /// A remote failed verification (TUF metadata, a manifest or an object): nothing was stored.
  static let untrusted: Int32 = 7
  /// A remote could not be read (network, timeout, HTTP error): trusted state unchanged.
  static let unreachable: Int32 = 8
  static let usage: Int32 = 64
  /// SIGINT or SIGTERM cancelled the command (128 + SIGINT, as a shell reports an interrupt).
  static let cancelled: Int32 = 130

  static func forError(_ error: MCPGenError) -> Int32 {
    switch error.code {
    case .integrity: return integrity
    case .lockTimeout: return lockTimeout
    case .healthCheckFailed: return healthCheckRolledBack
    case .rollbackFailed: return rollbackFailed
    case .cancelled: return cancelled
    case .untrusted: return untrusted
    case .unreachable: return unreachable
    default: return failure
    }
  }
}

