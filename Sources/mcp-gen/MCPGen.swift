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
      (stored content does not match its key); 3 lock timeout; 4 health check failed and the \
      previous generation was restored; 5 health check failed and restoring failed too; \
      64 usage error.
      """,
    subcommands: [
      AddCommand.self, SwitchCommand.self, RollbackCommand.self, ListCommand.self, StatusCommand.self,
      LogCommand.self, CheckCommand.self, ConfigCommand.self, GCCommand.self, PinCommand.self, UnpinCommand.self,
      BlockCommand.self, UnblockCommand.self, AuditCommand.self, VerifyCommand.self, HashCommand.self, RootCommand.self,
    ]
  )

  static func main() {
    do {
      var command = try parseAsRoot()
      try command.run()
      Output.flush()
    } catch let error as MCPGenError {
      Output.flush()
      Output.error(error)
      Glibc.exit(ExitStatus.forError(error))
    } catch {
      Output.flush()
      exit(withError: error)
    }
  }
}
