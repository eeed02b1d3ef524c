import ArgumentParser
import MCPGenKit

struct LogCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "log",
    _superCommandName: superCommand,
    abstract: "Show the journal of changes, oldest first."
  )

  @OptionGroup var global: GlobalOptions

  func run() throws {
    let store = try global.openStore(create: false)
    let journal = try store.readJournal()
    for (record, raw) in zip(journal.records, journal.raw) {
      if global.json {
        Output.json(Journal.currentNames(raw))
        continue
      }
      let from = record.from.map(String.init) ?? "-"
      let to = record.to.map(String.init) ?? "-"
      let move = record.operation == .add ? "" : " \(from) -> \(to)"
      let key = record.key?.short ?? "-"
      Output.line("\(Clock.format(record.time))  \(record.operation.rawValue)\(move)  \(key)  \(record.outcome)  [\(record.user) pid \(record.pid): \(displayName(record.command))]")
    }
    for damage in journal.damage {
      Output.note(damage.torn
        ? "warning: journal line \(damage.line) is torn (a crash during a write); it was ignored"
        : "warning: journal line \(damage.line) is not a journal record; it was ignored")
    }
  }
}
