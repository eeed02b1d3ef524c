import ArgumentParser
import MCPGenKit
import SystemPackage

/// Options every subcommand accepts.
struct GlobalOptions: ParsableArguments {
  @Option(name: .long, help: ArgumentHelp("The mcp-gen root (default: $MCP_GEN_ROOT, /var/lib/mcp as root, else ~/.local/state/mcp-gen).", valueName: "dir"))
  var root: String?

  @Flag(name: .long, help: "Print machine-readable JSON on stdout.")
  var json = false

  @Option(name: .long, help: ArgumentHelp("Seconds to wait for another mcp-gen holding the lock.", valueName: "seconds"))
  var lockTimeout: Double = 30

  func validate() throws {
    if let root, root.isEmpty { throw ValidationError("--root must not be empty") }
    if lockTimeout < 0 || !lockTimeout.isFinite { throw ValidationError("--lock-timeout must be a number of seconds, 0 or more") }
  }

  var rootChoice: RootLocator.Choice { RootLocator.choose(explicit: root) }

  /// Opens the store; commands that change it create the root on first use.
  func openStore(create: Bool) throws -> Store {
    let store = try Store.open(rootChoice.path, create: create)
    store.lockTimeout = lockTimeout
    return store
  }
}
