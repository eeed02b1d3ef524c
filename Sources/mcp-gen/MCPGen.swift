#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import MCPGenKit

@main
struct MCPGen: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mcp-gen",
    abstract: "A content-addressed release store with atomic, health-checked generations.",
    discussion: """
      Exit status: 0 success; 1 error (the message says what to do); 2 integrity failure \
      (stored content does not match its key); 3 lock timeout; 4 health check failed (after \
      switch or rollback the previous generation was restored; after check nothing changed); \
      5 health check failed and restoring failed too; \
      64 usage error; 130 cancelled by SIGINT or SIGTERM (what had begun was undone).
      """,
    version: Version.text,
    subcommands: [
      AddCommand.self, SwitchCommand.self, RollbackCommand.self, ListCommand.self, StatusCommand.self,
      ShowCommand.self, DiffCommand.self, LogCommand.self, CheckCommand.self, ConfigCommand.self, GCCommand.self,
      PinCommand.self, UnpinCommand.self, BlockCommand.self, UnblockCommand.self, AuditCommand.self, VerifyCommand.self,
      DoctorCommand.self, HashCommand.self, ExposeCommand.self, RootCommand.self,
    ]
  )

  static func main() {
    if let name = CommandLine.arguments.dropFirst().first, subcommand(named: name) is any HashesFiles.Type {
      SHA256.prepareInBackground()
    }
    do {
      var command = try parseCommand()
      try command.run()
      Output.finish()
    } catch let error as MCPGenError {
      Output.finish()
      Output.error(error)
      Glibc.exit(ExitStatus.forError(error))
    } catch let error as ExitCode {
      Output.finish()
      exit(withError: error)
    } catch where MCPGen.exitCode(for: error) == .success {
      Output.finish()
      exit(withError: error)  // --help, --version: printed in full.
    } catch {
      // Argument errors: one `error:` line and where to read more, as every other error.
      Output.finish()
      let message = MCPGen.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
      let text = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
      Output.note("error: \(text)\nhint: \(helpCommand)")
      Glibc.exit(MCPGen.exitCode(for: error).rawValue)
    }
  }

  /// `mcp-gen SUBCOMMAND --help` when the first argument names a subcommand (options come
  /// after it), else `mcp-gen --help`.
  static var helpCommand: String {
    let names = configuration.subcommands.flatMap { [$0.configuration.commandName ?? ""] + $0.configuration.aliases }
    guard RawArguments.all.count > 1 else { return "mcp-gen --help" }
    let word = String(decoding: RawArguments.all[1], as: UTF8.self)
    return names.contains(word) ? "mcp-gen \(word) --help" : "mcp-gen --help"
  }
}
