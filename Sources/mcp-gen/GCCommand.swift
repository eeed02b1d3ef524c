import ArgumentParser
import MCPGenKit

struct GCCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gc",
    _superCommandName: superCommand,
    abstract: "Remove old generations and the store entries nothing kept refers to.",
    discussion: "Keeps the newest N generations that passed their checks, current, every pinned one and the newest good one. Entries younger than --grace are kept."
  )

  @OptionGroup var global: GlobalOptions

  @Option(help: ArgumentHelp("Generations to keep (default: gcKeep from config.json, else 5).", valueName: "N"))
  var keep: Int?

  @Option(help: ArgumentHelp("Keep unreferenced entries added within this many seconds (default 3600).", valueName: "seconds"))
  var grace: Double = 3600

  @Flag(help: "Print what would be removed and change nothing.")
  var dryRun = false

  func validate() throws {
    if let keep, keep < 0 { throw ValidationError("--keep must be 0 or more") }
    if !(grace >= 0 && grace.isFinite) { throw ValidationError("--grace must be 0 or more seconds") }
  }

  func run() throws {
    let store = try global.openStore(create: false, progress: true)
    let keepCount = try keep ?? store.loadConfig().gcKeep
    let report = try store.collectGarbage(keep: keepCount, grace: grace, dryRun: dryRun)
    if global.json {
      Output.json(.object([
        ("removedGenerations", .array(report.removedGenerations.map(JSON.int))),
        ("removedEntries", .array(report.removedEntries.map { .string($0.hex) })),
        ("bytesFreed", .int(Int64(report.bytesFreed))),
        ("keptPinned", .array(report.keptPinned.map(JSON.int))),
        ("dryRun", .bool(dryRun)),
      ]))
      return
    }
    let verb = dryRun ? "would remove" : "removed"
    let gens = GCCommand.runs(report.removedGenerations)
    Output.line("\(verb) \(report.removedGenerations.count) generations\(gens.isEmpty ? "" : " (\(gens))")")
    for key in report.removedEntries { Output.line("\(verb) store entry \(key.hex)") }
    Output.line("\(verb) \(report.removedEntries.count) store entries, \(Output.bytes(report.bytesFreed)) freed")
    if !report.keptPinned.isEmpty {
      Output.line("kept pinned generations \(report.keptPinned.map(String.init).joined(separator: ", "))")
    }
    if report.leftoversRemoved > 0 { Output.line("removed \(report.leftoversRemoved) leftovers of crashed runs") }
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
