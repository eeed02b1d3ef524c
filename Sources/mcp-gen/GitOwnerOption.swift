import ArgumentParser
import MCPGenKit
import MCPGenTerminal

/// `--allow-owner USER` of `add --git` and `switch --git`.
enum GitOwnerOption {
  /// Only with --git, and only a user that exists: a misspelled name is a usage error (64),
  /// found before anything is read.
  static func validate(_ name: String?, git: String?) throws {
    guard let name else { return }
    if git == nil { throw ValidationError("--allow-owner applies only to --git") }
    do {
      _ = try TrustedOwners.allowing(name)
    } catch {
      throw ValidationError(error.message)
    }
  }

  /// Root and the running user, and the named user when given.
  static func owners(_ name: String?) throws -> TrustedOwners {
    try name.map { name throws(MCPGenError) in try TrustedOwners.allowing(name) } ?? .current
  }
}
