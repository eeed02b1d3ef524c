import MCPGenSystem

/// How long ago the store was last fully re-verified, as recorded in the journal by
/// `mcp-gen audit --record` (a plain `audit` writes nothing, so it leaves no trace).
///
/// Only full audits count: `--quick` re-hashes nothing, so it cannot find changed content.
enum AuditAgeCheck {
  static let hint = "mcp-gen audit --record"

  static func run(_ root: DirectoryFD, now: Int64) -> DoctorFinding {
    guard let journal = try? Journal.read(in: root) else {
      return DoctorFinding("audit", .warning, "cannot read the journal to find the last audit", hint: hint)
    }
    let audits = journal.records.filter { $0.operation == .audit }
    guard let last = audits.last(where: { $0.extra.first { $0.0 == "quick" }?.1.boolValue != true }) else {
      let quick = audits.last.map { " (only a --quick one, \(Doctor.age(now - $0.time)) ago)" } ?? ""
      return DoctorFinding("audit", .warning, "no full audit recorded in the journal\(quick)", hint: hint)
    }
    let age = now - last.time
    let when = "\(Doctor.age(age)) ago (\(Clock.format(last.time)))"
    if age > Doctor.auditMaxAge {
      return DoctorFinding("audit", .warning, "the last full audit was \(when), more than 7 days ago", hint: hint)
    }
    let errors = last.extra.first { $0.0 == "errors" }?.1.intValue.map { "\($0) " } ?? ""
    switch last.outcome {
    case "ok":
      return DoctorFinding("audit", .ok, "last full audit \(when): no problems")
    case "repaired":
      return DoctorFinding("audit", .ok, "last full audit \(when): found \(errors)problems and repaired them")
    default:
      return DoctorFinding("audit", .warning, "the last full audit, \(when), found \(errors)problems",
                           hint: "mcp-gen audit --repair --record")
    }
  }
}
