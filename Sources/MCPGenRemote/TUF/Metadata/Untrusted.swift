import MCPGenKit
import MCPGenSystem

/// The one way the TUF client reports metadata or content it refuses: code `.untrusted`, a
/// message that names the file and the failed check, and what to do about it. Trusted state is
/// never changed on this path (the checks run before anything is persisted).
enum Untrusted {
  /// The refusal of `what`, then what the operator can do.
  ///
  /// `what` quotes the refused file (a type, a key, a version string, a role name): those bytes
  /// come from whoever served the file, before any signature was checked, so control characters,
  /// line breaks and invisible formatting in them are escaped (`displayName`): the refusal stays
  /// one line, and a mirror cannot drive the terminal of the root user who reads it.
  static func error(_ what: String) -> MCPGenError {
    MCPGenError(
      .untrusted,
      "\(displayName(Array(what.utf8))); it was refused and nothing of it stored: check the remote URL, or ask its publisher to republish")
  }

  /// A metadata file whose shape is wrong (not JSON, a missing or mistyped field).
  static func malformed(_ file: String, _ what: String) -> MCPGenError {
    error("\(file) is malformed (\(what))")
  }
}
