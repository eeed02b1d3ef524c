import MCPGenSystem
import SystemPackage

/// One finding of `mcp-gen audit`.
public struct AuditProblem: Sendable {
  public enum Severity: String, Sendable, Comparable {
    case critical, error, warning
    private var rank: Int { self == .critical ? 0 : (self == .error ? 1 : 2) }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
  }

  public var severity: Severity
  /// A stable word: `modified`, `missing`, `extra`, `type-changed`, `exec-bit-changed`,
  /// `target-changed`, `mode`, `unreadable`, `manifest-invalid`, `entry-missing`, `stray`,
  /// `dangling-generation`, `damaged-generation`, `current`, `journal`, `leftover`.
  public var kind: String
  /// What it is about (an entry, a file inside it, a generation link, the journal).
  public var path: FilePath
  public var detail: String
  public var key: StoreKey?
  /// Generations whose release this is.
  public var generations: [Int64] = []
  /// The command that fixes it.
  public var hint: String?

  public var json: JSON {
    .object([
      ("severity", .string(severity.rawValue)), ("kind", .string(kind)), ("path", .string(path.bytes)),
      ("detail", .string(detail)), ("key", key.map { .string($0.hex) } ?? .null),
      ("generations", .array(generations.map(JSON.int))), ("hint", hint.map(JSON.string) ?? .null),
    ])
  }
}

/// Everything one audit found.
public struct AuditReport: Sendable {
  public var problems: [AuditProblem] = []
  public var entriesChecked = 0
  public var filesHashed = 0
  public var bytesHashed: UInt64 = 0
  public var quick = false
  /// What `--repair` did, one line each (also what it could not do, and generations it kept).
  public var repairs: [String] = []
  /// How many of `repairs` changed something (quarantine, rollback of current, modes, journal,
  /// leftovers): nonzero means `--repair` repaired something.
  public var repaired = 0

  /// Anything worse than a warning.
  public var hasErrors: Bool { problems.contains { $0.severity != .warning } }
}
