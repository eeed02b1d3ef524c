import ArgumentParser
import MCPGenKit
import MCPGenTerminal

struct DoctorCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "doctor",
    _superCommandName: superCommand,
    abstract: "Look the root over: layout, owner and modes, lock, current, free space, read-only mount, leftovers, quarantine, audit age.",
    discussion: """
      Prints one line per check (ok, warning or problem), with the command that fixes it, then a \
      summary. Exit status 1 when there is a problem; warnings alone exit 0. Takes no lock and \
      changes nothing.
      """
  )

  @OptionGroup var global: GlobalOptions

  func run() throws {
    let choice = global.rootChoice
    let findings = Doctor.examine(choice.path, source: choice.source)
    let problems = findings.filter { $0.status == .problem }.count
    let warnings = findings.filter { $0.status == .warning }.count
    if global.json {
      Output.json(.array(findings.map(\.json)))
    } else {
      for f in findings {
        Output.line("\(f.status.rawValue.padding(8)) \(f.check.padding(10)) \(f.message)")
        if let hint = f.hint { Output.line("\("".padding(19)) fix: \(hint)") }
      }
      func count(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
      Output.line("doctor: \(count(findings.count, "check")), \(count(warnings, "warning")), \(count(problems, "problem"))")
    }
    if problems > 0 { throw ExitCode(ExitStatus.failure) }
  }
}
