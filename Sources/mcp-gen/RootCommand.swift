import ArgumentParser
import MCPGenKit
import MCPGenTerminal

struct RootCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "root",
    _superCommandName: superCommand,
    abstract: "Print the root mcp-gen uses and which rule chose it."
  )

  @OptionGroup var global: GlobalOptions

  func run() throws {
    let choice = global.rootChoice
    if global.json {
      Output.json(.object([("root", .string(choice.path.bytes)), ("source", .string(choice.source))]))
    } else {
      Output.line("\(choice.path.displayString)\t(\(choice.source))")
    }
  }
}
