import ArgumentParser

extension MCPGen {
  /// Parses the command line, going straight to the named subcommand when that is all it takes.
  ///
  /// `parseAsRoot()` on the root builds the argument tables of every subcommand (among other
  /// things, to look for a completion-script request), which cost several milliseconds per run
  /// of any command: a third of a `switch`. A plain `mcp-gen SUBCOMMAND ARGS` only needs that
  /// subcommand's table. Anything the root handles itself (help, version, completion scripts,
  /// an unknown name) goes the full way, so its output is unchanged.
  static func parseCommand(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) throws -> ParsableCommand {
    guard let name = arguments.first, let command = subcommand(named: name),
      !arguments.dropFirst().contains(where: needsRoot)
    else { return try parseAsRoot(arguments) }
    return try command.parseAsRoot(Array(arguments.dropFirst()))
  }

  static func subcommand(named name: String) -> ParsableCommand.Type? {
    configuration.subcommands.first { type in
      let c = type.configuration
      return (c.commandName ?? "") == name || c.aliases.contains(name)
    }
  }

  /// Arguments whose meaning the root command decides.
  private static func needsRoot(_ argument: String) -> Bool {
    argument == "-h" || argument == "help" || argument.hasPrefix("--help") || argument.hasPrefix("--version")
      || argument.hasPrefix("--generate-") || argument.hasPrefix("--experimental-")
  }
}

/// A command that hashes files: OpenSSL's one-time set-up starts on another thread while its
/// arguments are parsed (`MCPGen.main`), instead of delaying its first file. The others never
/// pay for it.
protocol HashesFiles {}

extension AddCommand: HashesFiles {}
extension SwitchCommand: HashesFiles {}
extension RollbackCommand: HashesFiles {}
extension HashCommand: HashesFiles {}
extension AuditCommand: HashesFiles {}
extension VerifyCommand: HashesFiles {}

/// Every subcommand names `mcp-gen` as its super-command. When `parseCommand` hands a subcommand
/// its arguments directly, the subcommand is the root of that parse: with this, its usage and
/// errors still read `mcp-gen NAME`, and the parser skips its completion-script check (two more
/// commands' argument tables, built by reflection, about 0.3 ms), which only the root path can
/// be asked for (`needsRoot`). Under the root command, the name is not used.
let superCommand = "mcp-gen"
