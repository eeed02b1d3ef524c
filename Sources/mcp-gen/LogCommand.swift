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
    // Read a part at a time and printed as it comes (with -n, only the last N kept): a journal
    // of a gigabyte is never held whole.
    let start = since.flatMap { TimeSpec.moment($0) }
    // Read once: an option's value read through its property wrapper for each of 9 million
    // records cost a minute.
    let json = global.json, count = lines
    var damage: [Journal.Damage] = []
    var last: [(JournalRecord, JSON)] = []
    try store.forEachJournalPart { part in
      damage += part.damage
      for i in part.records.indices {
        // Times only grow along the journal, except when a clock was set back: filter, not search.
        if let start, part.records[i].time < start { continue }
        let raw = json ? part.raw(i) : .null
        guard let count else {
          Self.show(part.records[i], raw, json: json)
          continue
        }
        last.append((part.records[i], raw))
        if last.count >= 2 * max(count, 1024) { last.removeFirst(last.count - count) }
      }
    }
    if let count { for (record, raw) in last.suffix(count) { Self.show(record, raw, json: json) } }
    for damage in damage {
      Output.note(damage.torn
        ? "warning: journal line \(damage.line) is torn (a crash during a write); it was ignored"
        : "warning: journal line \(damage.line) is not a journal record; it was ignored")
    }
  }

  private static func show(_ record: JournalRecord, _ raw: JSON, json: Bool) {
    if json {
      Output.json(Journal.currentNames(raw))
      return
    }
    let from = record.from.map(String.init) ?? "-"
    let to = record.to.map(String.init) ?? "-"
    let move = record.operation == .add ? "" : " \(from) -> \(to)"
    let key = record.key?.short ?? "-"
    Output.line("\(Clock.format(record.time))  \(record.operation.rawValue)\(move)  \(key)  \(displayName(Array(record.outcome.utf8)))  [\(displayName(Array(record.user.utf8))) pid \(record.pid): \(displayName(record.command))]")
  }
}
