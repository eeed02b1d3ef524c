import MCPGenSystem

/// The outcome of one health check or restart command.
public struct CheckResult: Sendable, Equatable {
  public enum Role: String, Sendable {
    case restart
    case required
    case advisory
  }

  public enum Status: Sendable, Equatable {
    case passed
    case exited(Int32)
    case signaled(Int32)
    /// Ran past its timeout; its process group was killed.
    case timedOut(Double)
    /// Could not be started (not found, not executable, unparsable command line).
    case notStarted(String)
    /// mcp-gen was interrupted by this signal while the command ran; the command's process
    /// group got the signal too.
    case cancelled(Int32)
  }

  public var role: Role
  public var command: String
  public var status: Status
  /// The last 4 KiB of its standard output and error, interleaved as written.
  public var output: [UInt8]
  public var seconds: Double
  /// The generation it ran against.
  public var generation: Int64?

  public var passed: Bool { status == .passed }

  public var cancelled: Bool {
    if case .cancelled = status { return true }
    return false
  }

  /// `passed`, `failed`, or `cancelled`.
  public var outcome: String { passed ? "passed" : (cancelled ? "cancelled" : "failed") }

  public var statusText: String {
    switch status {
    case .passed: return "passed"
    case .exited(let code): return "failed with exit status \(code)"
    case .signaled(let signal): return "killed by signal \(signal)"
    case .timedOut(let limit): return "timed out after \(formatSeconds(limit)) s (process group killed)"
    case .notStarted(let why): return "could not start: \(why)"
    case .cancelled(let signal): return "cancelled by \(Cancellation.name(signal)), which its process group got too"
    }
  }

  /// The last non-empty output line, for one-line reports.
  public var lastOutputLine: String? {
    let lines = output.split(separator: 0x0A).filter { !$0.allSatisfy { $0 == 0x20 || $0 == 0x0D } }
    return lines.last.map { displayName(Array($0)) }
  }

  public var json: JSON {
    var members: [(String, JSON)] = [
      ("role", .string(role.rawValue)), ("command", .string(command)),
      ("outcome", .string(outcome)), ("detail", .string(statusText)),
    ]
    if let generation { members.append(("generation", .int(generation))) }
    members.append(("milliseconds", .int(Int64((seconds * 1000).rounded()))))
    members.append(("output", .string(output)))
    return .object(members)
  }
}
