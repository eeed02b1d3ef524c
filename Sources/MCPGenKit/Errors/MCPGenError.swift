import MCPGenSystem
import SystemPackage

/// The one error the engine throws: what went wrong, on which path, and what to do about it.
///
/// `message` is a single line that ends in advice; `hint` (optional) is a command that fixes it.
/// Only the command line maps `code` to an exit status.
public struct MCPGenError: Error, Sendable, CustomStringConvertible {
  /// A stable category; new codes may be added.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Value: String {
      case invalidInput = "invalid-input"
      case notFound = "not-found"
      case unsupportedFileType = "unsupported-file-type"
      case sourceChanged = "source-changed"
      case integrity
      case lockTimeout = "lock-timeout"
      case permission
      case noSpace = "no-space"
      case io
      case ambiguous
      case conflict
      case nothingToUndo = "nothing-to-undo"
      case healthCheckFailed = "health-check-failed"
      case rollbackFailed = "rollback-failed"
      case cancelled
      case untrusted
      case unreachable
    }
    private let value: Value
    private init(_ value: Value) { self.value = value }

    /// Bad argument values: a malformed key, an unknown generation.
    public static let invalidInput = Code(.invalidInput)
    /// The path, key or generation does not exist.
    public static let notFound = Code(.notFound)
    /// A FIFO, socket or device inside a release.
    public static let unsupportedFileType = Code(.unsupportedFileType)
    /// The release changed while it was read or copied.
    public static let sourceChanged = Code(.sourceChanged)
    /// Stored content does not match its key.
    public static let integrity = Code(.integrity)
    /// Another process held the lock for too long.
    public static let lockTimeout = Code(.lockTimeout)
    /// The operating system refused access.
    public static let permission = Code(.permission)
    /// The file system is full or over quota.
    public static let noSpace = Code(.noSpace)
    /// Any other failed system call.
    public static let io = Code(.io)
    /// A key prefix matches more than one entry.
    public static let ambiguous = Code(.ambiguous)
    /// A compare-and-swap (`--expect`) or a blocked release refused the change.
    public static let conflict = Code(.conflict)
    /// `rollback` has no earlier switch to undo.
    public static let nothingToUndo = Code(.nothingToUndo)
    /// A required health check failed and the previous generation was restored.
    public static let healthCheckFailed = Code(.healthCheckFailed)
    /// A required health check failed and restoring the previous generation failed too.
    public static let rollbackFailed = Code(.rollbackFailed)
    /// SIGINT or SIGTERM stopped the command; what it had begun was undone (the message says what).
    public static let cancelled = Code(.cancelled)
    /// A remote's metadata or content failed verification (signature, threshold, version,
    /// expiry, length or hash): nothing from it was trusted, stored or switched.
    public static let untrusted = Code(.untrusted)
    /// A remote could not be read (network, timeout, an HTTP error status): trusted state unchanged.
    public static let unreachable = Code(.unreachable)

    public var description: String { value.rawValue }
  }

  public var code: Code
  public var message: String
  public var hint: String?
  public var path: FilePath?
  public var cause: SystemCallError?

  public init(_ code: Code, _ message: String, hint: String? = nil, path: FilePath? = nil, cause: SystemCallError? = nil) {
    self.code = code
    self.message = message
    self.hint = hint
    self.path = path
    self.cause = cause
  }

  public var description: String { message }
}

extension MCPGenError {
  /// Wraps a failed system call: the code follows the errno, the message names the operation,
  /// the path and the errno, and says what usually fixes it.
  public init(_ error: SystemCallError, doing action: String) {
    let where_ = error.path.map { " \($0.displayString)" } ?? ""
    let what = "cannot \(action)\(where_): \(error.errno.description)"
    switch error.errno {
    case .noSpace, .diskQuotaExceeded:
      self.init(.noSpace, "\(what) (\(error.call)); free space on that file system and run the command again",
                hint: "mcp-gen gc", path: error.path, cause: error)
    case .readOnlyFileSystem:
      // No user may write there: the mount is read-only, so the advice is about the mount.
      self.init(.permission, "\(what) (\(error.call)); the file system is read-only: remount it read-write, or choose another --root",
                hint: "mcp-gen doctor", path: error.path, cause: error)
    case .permissionDenied, .notPermitted:
      self.init(.permission, "\(what) (\(error.call)); run as a user who may write there, or choose another --root",
                path: error.path, cause: error)
    case .noSuchFileOrDirectory:
      self.init(.notFound, "\(what) (\(error.call)); check the path", path: error.path, cause: error)
    default:
      self.init(.io, "\(what) (\(error.call)); nothing was changed by the failed step, check the device and run the command again",
                path: error.path, cause: error)
    }
  }
}

/// Runs `body`, turning a `SystemCallError` into an `MCPGenError` that names `action`.
@inline(__always)
func attempt<R>(_ action: @autoclosure () -> String, _ body: () throws(SystemCallError) -> R) throws(MCPGenError) -> R {
  do {
    return try body()
  } catch {
    throw MCPGenError(error, doing: action())
  }
}
