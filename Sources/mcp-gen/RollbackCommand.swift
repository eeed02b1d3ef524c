import ArgumentParser
import MCPGenKit
import MCPGenTerminal

struct RollbackCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rollback",
    _superCommandName: superCommand,
    abstract: "Undo the latest switch (following recorded history), or make generation N current.",
    discussion: "Without N, returns to the generation that was current before the latest switch not yet undone; repeated rollbacks walk further back. No new generation is created."
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup(title: "Health checks") var health: HealthOptions

  @Flag(help: "Roll back even to a release that is blocked, one of whose commands leads out of the release, or a generation marked failed.")
  var force = false

  @Flag(help: "Print the plan and change nothing.")
  var dryRun = false

  @Argument(help: ArgumentHelp("A generation number (see `mcp-gen list`).", valueName: "N"))
  var generation: GenerationNumber?

  func run() throws {
    try installCancelSignals()  // As for switch: a cancel during the checks puts current back.
    let store = try global.openStore(create: false, progress: true)
    let outcome = try store.rollback(to: generation?.value, dryRun: dryRun, config: try health.effective(store), force: force)
    try SwitchReport.print(outcome, store: store, json: global.json)
  }
}

/// A generation number parsed at the edge: decimal, 1 through 2^53-1.
struct GenerationNumber: ExpressibleByArgument {
  var value: Int64

  init?(argument: String) {
    guard let n = Generation.number(Array(argument.utf8)) else { return nil }
    value = n
  }
}
