import ArgumentParser
import MCPGenKit

struct GCCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gc",
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
    let gens = report.removedGenerations.map(String.init).joined(separator: ", ")
    Output.line("\(verb) \(report.removedGenerations.count) generations\(gens.isEmpty ? "" : " (\(gens))")")
    for key in report.removedEntries { Output.line("\(verb) store entry \(key.hex)") }
    Output.line("\(verb) \(report.removedEntries.count) store entries, \(Output.bytes(report.bytesFreed)) freed")
    if !report.keptPinned.isEmpty {
      Output.line("kept pinned generations \(report.keptPinned.map(String.init).joined(separator: ", "))")
    }
    if report.leftoversRemoved > 0 { Output.line("removed \(report.leftoversRemoved) leftovers of crashed runs") }
    if dryRun { Output.line("nothing changed (dry run)") }
  }
}
