import MCPGenSystem
import SystemPackage

extension Store {
  func checkContext(_ generation: Int64, _ key: StoreKey) -> CheckContext {
    let release = entryPath(key)
    let isDirectory = (try? entries.stat(key.bytes)).map { $0.type == .directory } ?? true
    return CheckContext(root: path, release: release, generation: generation, key: key,
                        workingDirectory: isDirectory ? release : path)
  }

  /// Restart, required checks (stopping at the first failure), advisory checks, and after
  /// `settle` seconds the required checks once more. Returns the results and the first failure.
  ///
  /// `cancellable`: a cancel (`Cancellation`) stops the command running and skips the rest; the
  /// caller tells that from a pass by `Cancellation.requested`. The checks of a generation being
  /// put back are not cancellable: they run to their end (a second signal ends the process).
  func runHealth(
    _ config: Config, _ generation: Int64, _ key: StoreKey, includeRestart: Bool = true, cancellable: Bool = true
  ) -> ([CheckResult], CheckResult?) {
    let context = checkContext(generation, key)
    var results: [CheckResult] = []
    var stop: Bool { cancellable && Cancellation.requested }
    func run(_ command: String, _ role: CheckResult.Role) -> CheckResult {
      let r = CheckRunner.run(command, role: role, context: context, timeout: config.checkTimeout, cancellable: cancellable)
      results.append(r)
      return r
    }
    if includeRestart, let restart = config.restart, !stop {
      let r = run(restart, .restart)
      if !r.passed || stop { return (results, r.passed ? nil : r) }
    }
    for c in config.checks where !stop {
      let r = run(c, .required)
      if !r.passed { return (results, r) }
    }
    for c in config.advisoryChecks where !stop { _ = run(c, .advisory) }
    if config.settle > 0 && !config.checks.isEmpty && !stop {
      if cancellable { Cancellation.sleep(config.settle) } else { sleepSeconds(config.settle) }
      for c in config.checks where !stop {
        let r = run(c, .required)
        if !r.passed { return (results, r) }
      }
    }
    return (results, nil)
  }

  /// Gates a change that just made `to` current: on a failed restart or required check, or a
  /// cancel (SIGINT, SIGTERM) before the checks all passed, puts back `from` (verified,
  /// restarted, checked) or, if nothing was current, removes `current`.
  func gate(_ config: Config, from: Int64?, fromKey: StoreKey?, to: Int64, key: StoreKey) -> HealthReport {
    var report = HealthReport()
    guard config.hasHooks else { return report }
    let (results, failure) = runHealth(config, to, key)
    report.results = results
    report.cancelled = Cancellation.signal
    guard failure != nil || report.cancelled != nil else { return report }
    report.failure = failure
    do throws(MCPGenError) {
      if let from, let fromKey {
        let verified = try requireIntact(fromKey, what: "generation \(from)")
        try pointCurrent(at: from)
        try confirmCurrent(from, fromKey, verified: verified)
        report.restored = from
        let (restoredResults, restoredFailure) = runHealth(config, from, fromKey, cancellable: false)
        report.restoredResults = restoredResults
        if let restoredFailure {
          report.rollbackFailure = "generation \(from) is current again, but its own check `\(restoredFailure.command)` \(restoredFailure.statusText)"
        }
      } else {
        try removeCurrent()
      }
    } catch {
      report.rollbackFailure = error.message
    }
    return report
  }

  /// Restores "nothing is current" after the very first switch failed its checks.
  func removeCurrent() throws(MCPGenError) {
    try attempt("remove current") { () throws(SystemCallError) in
      try root.unlink(CurrentState.name)
      try root.sync()
    }
  }

  /// `mcp-gen check`: runs the checks (not the restart command) against `current`. When they all
  /// pass and `current` had not been confirmed (a switch was killed during its checks), records
  /// the confirmation in the journal.
  public func check(_ config: Config) throws(MCPGenError) -> (generation: Int64, key: StoreKey, results: [CheckResult], confirmed: Bool) {
    try requireTrustedHooks(config)
    return try withLock { () throws(MCPGenError) in
      guard case .generation(let n) = try current(), let key = try generation(n)?.key else {
        throw MCPGenError(.notFound, "nothing is current, so there is nothing to check", hint: "mcp-gen switch PATH")
      }
      let wasUnconfirmed = try status().unconfirmed
      let (results, failure) = runHealth(config, n, key, includeRestart: false, cancellable: false)
      var confirmed = false
      if failure == nil && wasUnconfirmed {
        _ = try reconcile()
        try journal(.check, from: n, to: n, key: key, source: nil, outcome: "confirmed",
                    extra: [("checks", .array(results.map(\.json)))])
        confirmed = true
      }
      return (n, key, results, confirmed)
    }
  }
}
