import MCPGenSystem

/// One result of `mcp-gen doctor`: which check, how it went, and the command that fixes it.
public struct DoctorFinding: Sendable, Equatable {
  /// `problem` is something a command will trip over or that endangers the store; `warning`
  /// deserves attention but blocks nothing.
  public enum Status: String, Sendable, Comparable {
    case ok, warning, problem
    private var rank: Int { self == .ok ? 0 : (self == .warning ? 1 : 2) }
    public static func < (a: Status, b: Status) -> Bool { a.rank < b.rank }
  }

  /// A stable word: `root`, `layout`, `trust`, `config`, `lock`, `current`, `disk`, `writable`,
  /// `leftovers`, `quarantine`, `audit`.
  public var check: String
  public var status: Status
  /// One line: what was found.
  public var message: String
  /// One line: what to do; nil when the status is `ok`.
  public var hint: String?

  public init(_ check: String, _ status: Status, _ message: String, hint: String? = nil) {
    self.check = check
    self.status = status
    self.message = message
    self.hint = status == .ok ? nil : hint
  }

  public var json: JSON {
    .object([
      ("check", .string(check)), ("status", .string(status.rawValue)),
      ("message", .string(message)), ("hint", hint.map(JSON.string) ?? .null),
    ])
  }
}
