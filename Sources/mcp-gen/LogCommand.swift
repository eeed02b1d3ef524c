import ArgumentParser
import MCPGenKit
import MCPGenTerminal

struct LogCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "log",
    _superCommandName: superCommand,
    abstract: "Show the journal of changes, oldest first.",
    discussion: "--since and -n combine: the last N records from that time on, as journalctl does."
  )

  @OptionGroup var global: GlobalOptions

  @Option(name: [.customShort("n"), .customLong("lines")], help: ArgumentHelp("Show only the last N records.", valueName: "N"))
  var lines: Int?

  @Option(help: ArgumentHelp("Show only records from this time on: 2026-05-04T09:12:38Z (UTC, as the journal writes it), 2026-05-04, or an age such as 30d, 12h, 90m.", valueName: "time"))
  var since: String?

  func validate() throws {
    if let lines, lines < 0 { throw ValidationError("-n must be 0 or more") }
    if let since, TimeSpec.moment(since) == nil {
      throw ValidationError("--since must be a time such as 2026-05-04T09:12:38Z or 2026-05-04 (UTC), or an age such as 30d, 12h, 90m")
    }
  }

  func run() throws {
    let store = try global.openStore(create: false)
    let journal = try store.readJournal()
    var shown = Array(zip(journal.records, journal.raw))[...]
    if let start = since.flatMap({ TimeSpec.moment($0) }) {
      // Times only grow along the journal, except when a clock was set back: filter, not search.
      shown = shown.filter { $0.0.time >= start }[...]
    }
    if let lines { shown = shown.suffix(lines) }
    for (record, raw) in shown {
      if global.json {
        Output.json(Journal.currentNames(raw))
        continue
      }
      let from = record.from.map(String.init) ?? "-"
      let to = record.to.map(String.init) ?? "-"
      let move = record.operation == .add ? "" : " \(from) -> \(to)"
      let key = record.key?.short ?? "-"
      Output.line("\(Clock.format(record.time))  \(record.operation.rawValue)\(move)  \(key)  \(displayName(Array(record.outcome.utf8)))  [\(displayName(Array(record.user.utf8))) pid \(record.pid): \(displayName(record.command))]")
    }
    for damage in journal.damage {
      Output.note(damage.torn
        ? "warning: journal line \(damage.line) is torn (a crash during a write); it was ignored"
        : "warning: journal line \(damage.line) is not a journal record; it was ignored")
    }
  }
}
