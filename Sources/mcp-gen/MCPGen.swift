import ArgumentParser
import MCPGenKit
import MCPGenTerminal

@main
struct MCPGen: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mcp-gen",
    abstract: "A content-addressed release store with atomic, health-checked generations.",
    discussion: """
      Exit status: 0 success; 1 error (the message says what to do); 2 integrity failure \
      (stored content does not match its key; audit found problems; status found current \
      damaged); 3 lock timeout; 4 health check failed (after \
      switch or rollback the previous generation was restored; after check nothing changed); \
      5 health check failed and restoring failed too; 6 audit --repair repaired something; \
      7 a remote failed verification (nothing from it was stored); 8 a remote could not be read; \
      64 usage error; 130 cancelled by SIGINT or SIGTERM (what had begun was undone).
      """,
    version: Version.text,
    subcommands: [
      AddCommand.self, SwitchCommand.self, RollbackCommand.self, ListCommand.self, StatusCommand.self,
      ShowCommand.self, DiffCommand.self, LogCommand.self, CheckCommand.self, ConfigCommand.self, GCCommand.self,
      PinCommand.self, UnpinCommand.self, BlockCommand.self, UnblockCommand.self, AuditCommand.self, VerifyCommand.self,
      DoctorCommand.self, HashCommand.self, ExposeCommand.self, RootCommand.self, KeyCommand.self, PublishCommand.self,
      RemoteCommand.self, PullCommand.self,
    ]
  )

  static func main() {
    do {
      var command = try parseCommand()
      try command.run()
      Output.finish()
    } catch let error as MCPGenError {
      Output.finish()
      Output.error(error)
      Terminal.exit(ExitStatus.forError(error))
    } catch let error as ExitCode {
      Output.finish()
      exit(withError: error)
    } catch UsageError.bare {
      // Usage on stderr: a script that ran `mcp-gen $EMPTY` gets nothing to parse on stdout.
      Output.finish()
      Output.jsonError("no subcommand given", hint: "mcp-gen --help", exit: ExitStatus.usage)
      Output.writeAll(2, Array(MCPGen.helpMessage().utf8) + [0x0A])
      Terminal.exit(ExitStatus.usage)
    } catch UsageError.unknown(let word, let suggestion) {
      Output.finish()
      let quoted = displayName(Array(word.utf8))
      if let suggestion {
        Output.usageError("unknown subcommand '\(quoted)'; did you mean '\(suggestion)'?", hint: "mcp-gen \(suggestion) --help")
      } else {
        Output.usageError("unknown subcommand '\(quoted)'", hint: "mcp-gen --help")
      }
      Terminal.exit(ExitStatus.usage)
    } catch where MCPGen.exitCode(for: error) == .success {
      Output.finish()
      exit(withError: error)  // --help, --version: printed in full.
    } catch {
      // Argument errors: one `error:` line and where to read more, as every other error.
      Output.finish()
      let message = MCPGen.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
      let text = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
      let status = MCPGen.exitCode(for: error).rawValue
      Output.usageError(text, hint: helpCommand, exit: status)
      Terminal.exit(status)
    }
  }

  /// `mcp-gen SUBCOMMAND --help` when the command line names a subcommand (options come
  /// after it), else `mcp-gen --help`.
  static var helpCommand: String {
    guard let word = dispatched.first, !word.hasPrefix("-"), word != "help", subcommand(named: word) != nil else {
      return "mcp-gen --help"
    }
    return "mcp-gen \(word) --help"
  }
}
