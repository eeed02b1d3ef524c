import ArgumentParser
import MCPGenKit
import MCPGenTerminal

struct AuditCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit",
    _superCommandName: superCommand,
    abstract: "Re-verify the whole root: every entry re-hashed, modes, generations, current, strays, journal.",
    discussion: "Prints one line per finding (critical or error: a problem; warning: worth a look), then a summary counting problems and warnings apart. Exit status 0 when clean or with warnings only, 2 when it found problems, 6 when --repair repaired something. Takes no lock and writes nothing, except with --repair or --record."
  )

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Check kinds, sizes and modes without re-hashing (for frequent runs).")
  var quick = false

  @Flag(help: "Quarantine corrupted entries (their generations stay, not restorable until re-added), roll current back if needed.")
  var repair = false

  @Flag(help: "Append the outcome to the journal (taking the lock for that moment), so `mcp-gen doctor` knows when the store was last audited.")
  var record = false

  func validate() throws {
    if quick && repair { throw ValidationError("--repair always re-hashes; drop --quick") }
  }

  func run() throws {
    let store = try global.openStore(create: false, progress: true)
    let report = repair ? try store.repair() : try store.audit(quick: quick)
    if global.json {
      Output.json(.object([
        ("problems", .array(report.problems.map(\.json))),
        ("entries", .int(Int64(report.entriesChecked))), ("filesHashed", .int(Int64(report.filesHashed))),
        ("bytesHashed", .int(Int64(report.bytesHashed))), ("repairs", .array(report.repairs.map(JSON.string))),
      ]))
    } else {
      for p in report.problems {
        let gens = p.generations.isEmpty ? "" : " (generation\(p.generations.count == 1 ? "" : "s") \(p.generations.map(String.init).joined(separator: ", ")))"
        Output.line("\(Output.paint(p.severity.rawValue, p.severity == .warning ? .yellow : .red)): \(p.kind) \(p.path.displayString): \(p.detail)\(gens)")
        if let hint = p.hint, p.severity == .critical { Output.line("  fix: \(hint)") }
      }
      for r in report.repairs { Output.line("repair: \(r)") }
      let hashed = report.quick ? "not re-hashed (--quick)" : "\(report.filesHashed) files, \(Output.bytes(report.bytesHashed)) re-hashed"
      Output.line("audit: \(report.entriesChecked) entries, \(hashed); \(Self.summary(report))")
    }
    // After the report, so a record that cannot be written (no permission, lock timeout) still
    // leaves the findings on screen.
    if record { try store.recordAudit(report, repaired: repair) }
    if repair && !report.repairs.isEmpty { throw ExitCode(ExitStatus.repaired) }
    if report.hasErrors { throw ExitCode(ExitStatus.integrity) }
  }

  /// "2 problems (1 critical), 3 warnings": problems (critical and error findings) and warnings
  /// counted apart, as the exit status tells them apart.
  static func summary(_ report: AuditReport) -> String {
    let problems = report.problems.filter { $0.severity != .warning }.count
    let critical = report.problems.filter { $0.severity == .critical }.count
    let warnings = report.problems.count - problems
    let warningText = "\(warnings) warning\(warnings == 1 ? "" : "s")"
    if problems == 0 {
      return Output.paint("no problems", .green) + (warnings > 0 ? ", " + Output.paint(warningText, .yellow) : "")
    }
    let problemText = "\(problems) problem\(problems == 1 ? "" : "s")\(critical > 0 ? " (\(critical) critical)" : "")"
    return Output.paint(problemText, .red) + (warnings > 0 ? ", " + Output.paint(warningText, .yellow) : "")
  }
}

struct VerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    _superCommandName: superCommand,
    abstract: "Re-hash the release of generation N (default: current); fast enough for a daily timer."
  )

  @OptionGroup var global: GlobalOptions
  @Argument(help: ArgumentHelp("A generation number.", valueName: "N")) var generation: GenerationNumber?

  func run() throws {
    let store = try global.openStore(create: false, progress: true)
    let result = try store.verifyGeneration(generation?.value)
    if global.json {
      Output.json(.object([
        ("generation", .int(result.generation)), ("key", .string(result.key.hex)), ("intact", .bool(result.problems.isEmpty)),
        ("problems", .array(result.problems.map { .object([("kind", .string($0.kind.rawValue)), ("path", .string($0.path)), ("detail", .string($0.detail))]) })),
      ]))
    } else {
      for p in result.problems { Output.line("\(Output.paint("error", .red)): \(p)") }
      Output.line(result.problems.isEmpty
        ? "generation \(result.generation) (\(result.key.short)) is \(Output.paint("intact", .green))"
        : "generation \(result.generation) (\(result.key.short)) is \(Output.paint("corrupted", .red)): \(result.problems.count) problem\(result.problems.count == 1 ? "" : "s")")
      if !result.problems.isEmpty { Output.note("hint: mcp-gen audit --repair") }
    }
    if !result.problems.isEmpty { throw ExitCode(ExitStatus.integrity) }
  }
}
