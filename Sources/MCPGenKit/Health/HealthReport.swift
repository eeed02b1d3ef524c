/// What the health gate of one switch or rollback saw and did.
public struct HealthReport: Sendable {
  /// Restart and checks against the generation being switched to (including the settle re-run).
  public var results: [CheckResult] = []
  /// The first failed restart or required check; nil when the switch stands.
  public var failure: CheckResult? = nil
  /// The generation restored after a failure (nil: nothing was current before, so `current` was
  /// removed again).
  public var restored: Int64? = nil
  /// Restart and checks against the restored generation.
  public var restoredResults: [CheckResult] = []
  /// Why restoring the previous generation failed, if it did.
  public var rollbackFailure: String? = nil

  public var ran: Bool { !results.isEmpty }
  public var rolledBack: Bool { failure != nil && rollbackFailure == nil }
  public var warnings: [CheckResult] { results.filter { $0.role == .advisory && !$0.passed } }

  var journalExtra: [(String, JSON)] {
    var out: [(String, JSON)] = []
    if !results.isEmpty { out.append(("checks", .array(results.map(\.json)))) }
    if failure != nil {
      if !restoredResults.isEmpty { out.append(("restoredChecks", .array(restoredResults.map(\.json)))) }
      if let rollbackFailure { out.append(("rollbackFailure", .string(rollbackFailure))) }
    }
    return out
  }
}
