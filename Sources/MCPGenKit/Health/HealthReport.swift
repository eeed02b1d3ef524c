import MCPGenSystem

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
  /// The signal (SIGINT, SIGTERM) that cancelled the change before its checks all passed; the
  /// previous generation was put back as after a failure, but the target is not marked failed.
  public var cancelled: Int32? = nil

  public var ran: Bool { !results.isEmpty }
  /// The change was undone: a check failed, or it was cancelled.
  public var undone: Bool { failure != nil || cancelled != nil }
  public var rolledBack: Bool { failure != nil && rollbackFailure == nil }
  public var warnings: [CheckResult] { results.filter { $0.role == .advisory && !$0.passed } }

  var journalExtra: [(String, JSON)] {
    var out: [(String, JSON)] = []
    if !results.isEmpty { out.append(("checks", .array(results.map(\.json)))) }
    if undone {
      if !restoredResults.isEmpty { out.append(("restoredChecks", .array(restoredResults.map(\.json)))) }
      if let rollbackFailure { out.append(("rollbackFailure", .string(rollbackFailure))) }
    }
    return out
  }
}
