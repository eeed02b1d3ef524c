import ArgumentParser
import MCPGenKit
import MCPGenTerminal

struct GCCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gc",
    _superCommandName: superCommand,
    abstract: "Remove old generations and the store entries nothing kept refers to.",
    discussion: """
      Keeps the newest N generations that passed their checks, current, every pinned one and the \
      newest good one; with --older-than also every generation younger than that (a generation \
      goes only when both rules let it). The store entries of removed generations go at once; \
      --grace keeps only entries that no generation refers to (an add awaiting its switch).
      """
  )

  @OptionGroup var global: GlobalOptions

  @Option(help: ArgumentHelp("Generations to keep (default: gcKeep from config.json, else 5).", valueName: "N"))
  var keep: Int?

  // Optional, so that the help shows the default once, in the text (argument-parser would add
  // its own "(default: 3600.0)").
  @Option(help: ArgumentHelp("Keep entries that no generation refers to for this many seconds after they were added (default 3600).", valueName: "seconds"))
  var grace: Double?

  @Option(help: ArgumentHelp("Also keep every generation made less than this long ago: 30d, 12h, 90m, 2w.", valueName: "age"))
  var olderThan: String?

  @Flag(help: "Print what would be removed and change nothing.")
  var dryRun = false

  func validate() throws {
    if let keep, keep < 0 { throw ValidationError("--keep must be 0 or more") }
    if let grace, !(grace >= 0 && grace.isFinite) { throw ValidationError("--grace must be 0 or more seconds") }
    if let olderThan, TimeSpec.duration(olderThan) == nil {
      throw ValidationError("--older-than must be a number and a unit (s, m, h, d, w), e.g. 30d")
    }
  }

  func run() throws {
    let store = try global.openStore(create: false, progress: true)
    let keepCount = try keep ?? store.loadConfig().gcKeep
    let grace = self.grace ?? 3600
    let age = olderThan.flatMap(TimeSpec.duration)
    let report = try store.collectGarbage(keep: keepCount, grace: grace, olderThan: age, dryRun: dryRun)
    if global.json {
      Output.json(.object([
        ("removedGenerations", .array(report.removedGenerations.map(JSON.int))),
        ("removedEntries", .array(report.removedEntries.map { .string($0.hex) })),
        ("bytesFreed", .int(Int64(report.bytesFreed))),
        ("keptPinned", .array(report.keptPinned.map(JSON.int))),
        ("keptByAge", .array(report.keptByAge.map(JSON.int))),
        ("keptByGrace", .array(report.keptByGrace.map { .object([("key", .string($0.key.hex)), ("age", .int($0.age))]) })),
        ("leftovers", .array(report.leftovers.map(JSON.string))),
        ("dryRun", .bool(dryRun)),
      ]))
      return
    }
    let verb = dryRun ? "would remove" : "removed"
    let keep = dryRun ? "would keep" : "kept"
    let gens = GCCommand.runs(report.removedGenerations)
    Output.line("\(verb) \(report.removedGenerations.count) generations\(gens.isEmpty ? "" : " (\(gens))")")
    for key in report.removedEntries { Output.line("\(verb) store entry \(key.hex)") }
    Output.line("\(verb) \(report.removedEntries.count) store entries, \(Output.bytes(report.bytesFreed)) freed")
    if !report.keptPinned.isEmpty {
      Output.line("\(keep) pinned generations \(report.keptPinned.map(String.init).joined(separator: ", "))")
    }
    if !report.keptByAge.isEmpty, let age {
      Output.line("\(keep) generations \(GCCommand.runs(report.keptByAge)): made less than \(TimeSpec.text(age)) ago (--older-than)")
    }
    // Without this, "removed 0 store entries" after an add reads as if gc had failed.
    for (key, added) in report.keptByGrace {
      Output.line("\(keep) store entry \(key.hex): added \(TimeSpec.approximate(added)) ago, within --grace \(TimeSpec.text(Int64(grace))); no generation refers to it yet (an add awaiting its switch)")
    }
    if !report.keptByGrace.isEmpty {
      Output.line("\(keep) \(report.keptByGrace.count) store entr\(report.keptByGrace.count == 1 ? "y" : "ies") for --grace; mcp-gen gc --grace 0 removes \(report.keptByGrace.count == 1 ? "it" : "them") now")
    }
    if dryRun {
      for path in report.leftovers { Output.line("would remove leftover \(displayName(path))") }
      if !report.leftovers.isEmpty { Output.line("would remove \(report.leftovers.count) leftovers of crashed runs") }
    } else if report.leftoversRemoved > 0 {
      Output.line("removed \(report.leftoversRemoved) leftovers of crashed runs")
    }
    if dryRun { Output.line("nothing changed (dry run)") }
  }

  /// `1-9995, 9998`: a run of three or more numbers as its ends, so that collecting 10,000
  /// generations prints one short line, not 10,000 numbers.
  static func runs(_ numbers: [Int64]) -> String {
    var parts: [String] = []
    var k = 0
    while k < numbers.count {
      var end = k
      while end + 1 < numbers.count, numbers[end + 1] == numbers[end] + 1 { end += 1 }
      if end - k >= 2 {
        parts.append("\(numbers[k])-\(numbers[end])")
      } else {
        parts += numbers[k...end].map(String.init)
      }
      k = end + 1
    }
    return parts.joined(separator: ", ")
  }
}
