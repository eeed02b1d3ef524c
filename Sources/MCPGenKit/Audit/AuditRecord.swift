import MCPGenSystem

extension Store {
  /// `audit --record`: appends one `audit` line to the journal, so `doctor` can tell how long
  /// ago the store was last re-verified. Outcome `ok` (nothing worse than a warning), `repaired`
  /// (`--repair` found errors and acted), or `problems`.
  ///
  /// Taken under the lock only for the append, after the audit: a long audit never holds up a
  /// switch, and appends stay serialized (the torn-line seal in `Journal.append` relies on it).
  public func recordAudit(_ report: AuditReport, repaired: Bool) throws(MCPGenError) {
    let errors = report.problems.filter { $0.severity != .warning }.count
    let outcome = errors == 0 ? "ok" : (repaired ? "repaired" : "problems")
    try withLock { () throws(MCPGenError) in
      try journal(.audit, from: nil, to: nil, key: nil, source: nil, outcome: outcome, extra: [
        ("quick", .bool(report.quick)),
        ("entriesChecked", .int(Int64(report.entriesChecked))),
        ("errors", .int(Int64(errors))),
        ("warnings", .int(Int64(report.problems.count - errors))),
      ])
    }
  }
}
