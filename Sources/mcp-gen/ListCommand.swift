import ArgumentParser
import MCPGenKit

struct ListCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list",
    abstract: "List generations: number, key, creation time, source; * marks current, ! one that can no longer be restored.",
    aliases: ["generations"]
  )

  @OptionGroup var global: GlobalOptions

  func run() throws {
    let store = try global.openStore(create: false)
    let rows = try store.generationTable()
    if global.json {
      Output.json(.array(rows.map { row in
        .object([
          ("generation", .int(row.generation.number)),
          ("key", row.generation.key.map { .string($0.hex) } ?? .null),
          ("created", row.created.map { .string(Clock.format($0)) } ?? .null),
          ("source", row.source.map(JSON.string) ?? .null),
          ("current", .bool(row.isCurrent)),
          ("restorable", .bool(row.isRestorable)),
          ("failed", .bool(row.isFailed)),
        ])
      }))
      return
    }
    if rows.isEmpty {
      Output.line("no generations yet; create one with: mcp-gen switch PATH")
      return
    }
    Output.line("   GEN  KEY           CREATED               SOURCE")
    for row in rows {
      let mark = (row.isCurrent ? Output.paint("*", .green) : " ")
        + (row.isRestorable ? (row.isFailed ? Output.paint("F", .red) : " ") : Output.paint("!", .red))
      let number = String(row.generation.number).leftPadded(to: 4, with: " ")
      let key = row.generation.key?.short ?? "(damaged)   "
      let created = row.created.map(Clock.format) ?? "-                   "
      let source = row.source.map(displayName) ?? "-"
      Output.line("\(mark) \(number)  \(key)  \(created)  \(source)")
    }
    if rows.contains(where: { !$0.isRestorable }) {
      Output.note("! marks generations whose store entry is gone: they cannot be restored")
    }
  }
}
