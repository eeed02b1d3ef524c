import ArgumentParser
import MCPGenKit
import MCPGenTerminal

struct ConfigCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "config",
    _superCommandName: superCommand,
    abstract: "Print the effective configuration and where each value comes from.",
    discussion: "The file is <root>/config.json (JSON; keys starting with # are comments)."
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup(title: "Health checks") var health: HealthOptions

  @Flag(name: .customLong("init"), help: "Write a commented example config.json into the root (never overwrites).")
  var initialize = false

  func run() throws {
    if initialize {
      let store = try global.openStore(create: true)
      let path = try store.writeExampleConfig()
      if global.json {
        Output.json(.object([("path", .string(path.bytes))]))
      } else {
        Output.line(path.displayString)
      }
      return
    }
    let config: Config
    do {
      config = try health.effective(try global.openStore(create: false))
    } catch let e as MCPGenError where e.code == .notFound {
      config = Config()
    }
    func list(_ items: [String]) -> JSON { .array(items.map(JSON.string)) }
    let rows: [(String, JSON, String)] = [
      ("checks", list(config.checks), config.origin(of: "checks")),
      ("advisoryChecks", list(config.advisoryChecks), config.origin(of: "advisoryChecks")),
      ("restart", config.restart.map(JSON.string) ?? .null, config.origin(of: "restart")),
      ("checkTimeout", .int(Int64(config.checkTimeout)), config.origin(of: "checkTimeout")),
      ("settle", .int(Int64(config.settle)), config.origin(of: "settle")),
      ("gcKeep", .int(Int64(config.gcKeep)), config.origin(of: "gcKeep")),
      ("expose", config.expose.map { .array($0.map(JSON.string)) } ?? .null, config.origin(of: "expose")),
    ]
    if global.json {
      Output.json(.object(rows.map { ($0.0, .object([("value", $0.1), ("from", .string($0.2))])) }))
      return
    }
    Output.line("root: \(global.rootChoice.path.displayString)")
    for (name, value, origin) in rows {
      Output.line("\(name.padding(14)) \(value.text)  (\(origin))")
    }
  }
}

extension String {
  func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
