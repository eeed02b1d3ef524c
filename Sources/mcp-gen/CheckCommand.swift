import ArgumentParser
import MCPGenKit
import MCPGenTerminal

struct CheckCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check",
    _superCommandName: superCommand,
    abstract: "Run the configured health checks against current, without switching.",
    discussion: "Exit status 0 only if every required check passes. Confirms a switch whose checks were interrupted."
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup(title: "Health checks") var health: HealthOptions

  func run() throws {
    let store = try global.openStore(create: false)
    let config = try health.effective(store)
    if config.checks.isEmpty && config.advisoryChecks.isEmpty {
      throw MCPGenError(.invalidInput, "no health checks are configured; pass --check CMD or add \"checks\" to config.json", hint: "mcp-gen config --init")
    }
    let report = try store.check(config)
    let failed = report.results.contains { $0.role != .advisory && !$0.passed }
    if global.json {
      Output.json(.object([
        ("generation", .int(report.generation)), ("key", .string(report.key.hex)),
        ("passed", .bool(!failed)), ("confirmed", .bool(report.confirmed)),
        ("checks", .array(report.results.map(\.json))),
      ]))
    } else {
      Output.line("checking generation \(report.generation) (\(report.key.short))")
      SwitchReport.printChecks(report.results)
      if report.confirmed { Output.line("generation \(report.generation) is confirmed") }
    }
    if failed {
      let first = report.results.first { $0.role != .advisory && !$0.passed }!
      throw MCPGenError(.healthCheckFailed, "health check `\(first.command)` \(first.statusText) on current generation \(report.generation)",
                        hint: "mcp-gen rollback")
    }
  }
}
