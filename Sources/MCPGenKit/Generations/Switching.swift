import MCPGenSystem
import SystemPackage

extension Store {
  /// Makes the release `target` current as a new generation.
  ///
  /// Under the lock: record any change a crash left unrecorded, check free space, verify the
  /// target's hashes, stop if it is current already, refuse if `expect` is given and is not what
  /// is current, create `generations/<N+1>`, swap `current`, confirm it resolves to the verified
  /// entry, and append to the journal.
  ///
  /// Then the health gate (`config`): restart, checks; a failure puts the previous generation
  /// back and is reported in `outcome.health`, not thrown.
  ///
  /// The journal line records `label`, or the label found in the release (`labelToRecord`).
  ///
  /// With hooks, a `start` line records the new generation and its source before the checks run
  /// (`list` shows it meanwhile).
  ///
  /// A cancel (SIGINT, SIGTERM; `Cancellation`) before the change is made throws `.cancelled`
  /// having changed nothing; during the gate it puts the previous generation back as a failure
  /// does, journals the change as `cancelled` (the target is not marked failed), and then throws
  /// `.cancelled` saying what was undone.
  public func switchTo(
    _ target: SwitchTarget, expect: String? = nil, dryRun: Bool = false, config: Config = Config(), force: Bool = false,
    label: ReleaseLabel? = nil
  ) throws(MCPGenError) -> SwitchOutcome {
    try switchTo(target, expect: expect, dryRun: dryRun, config: config, force: force, recordedSource: nil, label: label)
  }

  /// `recordedSource` replaces the path as the source the journal records (a git release's
  /// `REPO@REF (COMMIT)` instead of the temporary directory it was extracted to).
  func switchTo(
    _ target: SwitchTarget, expect: String?, dryRun: Bool, config: Config, force: Bool, recordedSource: [UInt8]?,
    label: ReleaseLabel? = nil
  ) throws(MCPGenError) -> SwitchOutcome {
    if !dryRun { try requireTrustedHooks(config) }
    let expected = try expect.map { (text) throws(MCPGenError) in try resolve(text) }
    // A release added before the lock could be collected by a gc before the lock is taken (it
    // was stored long ago and nothing referenced it): add it again and retry, a few times.
    for _ in 0..<3 {
      var added: AddResult? = nil
      var source: [UInt8]? = nil
      let key: StoreKey
      switch target {
      case .path(let p):
        if dryRun {
          let manifest = try Store.hash(p, progress: options.progress)
          key = manifest.key
          guard try contains(key) else {
            let plan = try planNew(key, try history())
            var outcome = SwitchOutcome(plan: plan, dryRun: true)
            outcome.pendingManifest = manifest
            outcome.vanishedCommands = try reviewCommands(
              from: plan.fromKey, to: key, generation: plan.to, config: config, force: force, pending: manifest)
            return outcome
          }
        } else {
          try requireFreeSpace()  // Before storing anything, not only before the switch.
          let result: AddResult
          do {
            result = try add(p, journaled: false)
          } catch where error.code == .cancelled {
            throw MCPGenError(.cancelled, Cancellation.nothingChanged)
          }
          added = result
          key = result.key
        }
        source = recordedSource ?? absolute(p).bytes
      case .key(let text):
        key = try resolve(text)
      }
      // A release given as a path can heal its stored entry if that is corrupted.
      var healFrom: FilePath? = nil
      if case .path(let p) = target { healFrom = p }
      let outcome: SwitchOutcome?
      do {
        outcome = try withLock { () throws(MCPGenError) -> SwitchOutcome? in
          if added != nil, try !contains(key) { return nil }
          return try switchLocked(
            key, expected: expected, dryRun: dryRun, config: config, force: force, added: added, source: source,
            label: label, healFrom: healFrom, recordedSource: recordedSource)
        }
      } catch where error.code == .cancelled && error.message == Cancellation.nothingChanged && added?.isNew == true {
        // Cancelled before the swap, but after this switch stored its release.
        throw MCPGenError(.cancelled, "cancelled: nothing was switched; the release stays stored as \(key.short) (mcp-gen switch \(key.short) uses it)")
      }
      if let outcome { return outcome }
    }
    throw MCPGenError(.conflict, "the release \(target) kept disappearing from the store while switching (a concurrent gc?); nothing was changed, run the command again")
  }

  /// `healFrom`: the source the release was given as; a corrupted stored entry of it is healed
  /// from there (`heal`) instead of refusing the switch.
  private func switchLocked(
    _ key: StoreKey, expected: StoreKey?, dryRun: Bool, config: Config, force: Bool, added: AddResult?, source: [UInt8]?,
    label: ReleaseLabel? = nil, healFrom: FilePath? = nil, recordedSource: [UInt8]? = nil
  ) throws(MCPGenError) -> SwitchOutcome {
    // The history is read on another thread while this one hashes the target; the outcomes
    // are then taken in the order the checks are listed, as if run one after the other.
    let replayed = Background { () throws(MCPGenError) in try self.history(checkpointing: !dryRun) }
    let examined = Result { () throws(MCPGenError) in try examine(key) }
    let (history, recovered) = try reconciledHistory(dryRun: dryRun, replayed: try replayed.value())
    try requireFreeSpace()
    try requireNotBlocked(key, force: force)
    let found = try examined.get()
    var healed: HealedEntry? = nil
    var verified: VerifiedEntry? = found.verified
    if verified == nil {
      guard !found.problems.isEmpty, let healFrom, try contains(key) else { throw found.error("release", path: entryPath(key)) }
      if dryRun {
        healed = HealedEntry(key: key, problem: found.summary, quarantined: nil)
      } else {
        healed = try heal(key, from: healFrom, recordedSource: recordedSource, problem: found.summary)
        verified = try requireIntact(key, what: "release")
      }
    }
    let (currentNumber, currentKey) = try currentGeneration()
    if let expected, currentKey != expected {
      throw MCPGenError(
        .conflict,
        "current is \(currentKey?.short ?? "nothing"), not \(expected.short) as --expect requires; nothing was changed",
        hint: "mcp-gen status")
    }
    var plan = try planNew(key, history)
    if currentKey == key, let n = currentNumber {
      plan.to = n
      if !dryRun && config.hasHooks && history.unconfirmed == n {
        return with(try finishUnconfirmed(plan, history, config, recovered: recovered), healed)
      }
      if !dryRun { try journalLabelChange(key, given: label, history: history, source: source ?? history.keySources[key]) }
      return with(SwitchOutcome(plan: plan, alreadyCurrent: true, added: added, recovered: recovered), healed)
    }
    let vanished = try reviewCommands(from: currentKey, to: key, generation: plan.to, config: config, force: force)
    if dryRun {
      var outcome = SwitchOutcome(plan: plan, dryRun: true, added: added, recovered: recovered)
      outcome.vanishedCommands = vanished
      return with(outcome, healed)
    }
    try Cancellation.check()

    try createGeneration(plan.to, key)
    var extra: [(String, JSON)] = []
    if let added, added.isNew { extra.append(("added", .bool(true))) }
    let recordedSource = source ?? history.keySources[key]
    do throws(MCPGenError) {
      try pointCurrent(at: plan.to)
      try confirmCurrent(plan.to, key, verified: verified)
      // The checks may run for minutes: the generation's line, with its source, is written now
      // (the line after them says how the switch ended).
      if config.hasHooks {
        try self.journal(.start, from: plan.from, to: plan.to, key: key, source: recordedSource, outcome: "checking", extra: extra)
      }
    } catch {
      throw putBack(plan, after: error)
    }
    var outcome = SwitchOutcome(plan: plan, added: added, recovered: recovered)
    outcome.vanishedCommands = vanished
    outcome.healed = healed
    outcome.health = gate(config, from: plan.from, fromKey: plan.fromKey, to: plan.to, key: key)
    extra += labelToRecord(key, given: label, history: history)?.journalFields ?? []
    try record(.switch, plan, outcome.health, source: recordedSource, extra: extra)
    try throwIfCancelled(plan, outcome.health)
    return outcome
  }

  /// `outcome`, saying that the target's entry was (or, in a dry run, would be) healed.
  private func with(_ outcome: SwitchOutcome, _ healed: HealedEntry?) -> SwitchOutcome {
    var outcome = outcome
    outcome.healed = healed
    return outcome
  }

  /// After a cancelled change was undone and journaled: the one line that says what was undone.
  private func throwIfCancelled(_ plan: SwitchPlan, _ health: HealthReport) throws(MCPGenError) {
    guard health.cancelled != nil else { return }
    let what: String
    switch plan.kind {
    case .newGeneration: what = "generation \(plan.to) was not kept"
    case .confirmation: what = "generation \(plan.to) was not confirmed and not kept"
    case .rollback: what = "the rollback to generation \(plan.to) was undone"
    }
    let again = health.restored.map { "current is generation \($0) again" } ?? "nothing is current again"
    if let problem = health.rollbackFailure {
      // Put back but failing its own checks, or not put back at all.
      let state = health.restored == nil
        ? ", but putting back \(plan.from.map { "generation \($0)" } ?? "nothing") failed: \(problem)" : "; \(problem)"
      throw MCPGenError(.rollbackFailed, "cancelled: \(what)\(state)",
                        hint: "mcp-gen status, then mcp-gen rollback N to a generation that works")
    }
    throw MCPGenError(.cancelled, "cancelled: \(what); \(again)")
  }

  /// The target is current but its switch died before its health checks confirmed it: run the
  /// gate now, as that switch would have, instead of calling it "already current".
  private func finishUnconfirmed(
    _ plan: SwitchPlan, _ history: History, _ config: Config, recovered: JournalRecord?
  ) throws(MCPGenError) -> SwitchOutcome {
    var plan = plan
    plan.kind = .confirmation
    plan.from = history.undoTop ?? nil
    plan.fromKey = try plan.from.flatMap { (n) throws(MCPGenError) in try generation(n)?.key }
    var outcome = SwitchOutcome(plan: plan, recovered: recovered)
    outcome.health = gate(config, from: plan.from, fromKey: plan.fromKey, to: plan.to, key: plan.key)
    if !outcome.health.undone {
      try journal(.check, from: plan.to, to: plan.to, key: plan.key, source: nil, outcome: "confirmed",
                  extra: outcome.health.journalExtra)
    } else {
      try record(.switch, plan, outcome.health, source: history.source(of: plan.to), extra: [])
    }
    try throwIfCancelled(plan, outcome.health)
    return outcome
  }

  /// Moves `current` back: to generation `number`, or (nil) to the generation that was current
  /// before the latest switch not yet undone, following the journal, skipping generations that
  /// were removed or marked failed. `planRollback` decides, for the dry run exactly as for the
  /// change.
  ///
  /// Gated by health checks exactly like `switchTo`.
  public func rollback(
    to number: Int64? = nil, dryRun: Bool = false, config: Config = Config(), force: Bool = false
  ) throws(MCPGenError) -> SwitchOutcome {
    if !dryRun { try requireTrustedHooks(config) }
    return try withLock { () throws(MCPGenError) in
      let (history, recovered) = try reconciledHistory(dryRun: dryRun)
      let plan = try planRollback(to: number, history, force: force)
      let (from, fromKey) = (plan.from, plan.fromKey)
      if plan.to == from {
        return SwitchOutcome(plan: plan, alreadyCurrent: true, recovered: recovered)
      }
      let verified = try requireIntact(plan.key, what: "generation \(plan.to)")
      let vanished = try reviewCommands(from: fromKey, to: plan.key, generation: plan.to, config: config, force: force)
      if dryRun {
        var outcome = SwitchOutcome(plan: plan, dryRun: true)
        outcome.vanishedCommands = vanished
        return outcome
      }
      try Cancellation.check()
      do throws(MCPGenError) {
        try pointCurrent(at: plan.to)
        try confirmCurrent(plan.to, plan.key, verified: verified)
      } catch {
        throw putBack(plan, after: error)
      }
      var outcome = SwitchOutcome(plan: plan, recovered: recovered)
      outcome.vanishedCommands = vanished
      outcome.health = gate(config, from: from, fromKey: fromKey, to: plan.to, key: plan.key)
      var extra: [(String, JSON)] = []
      if !plan.skipped.isEmpty { extra.append(("skipped", .array(plan.skipped.map(JSON.int)))) }
      try record(.rollback, plan, outcome.health, source: history.source(of: plan.to), extra: extra)
      try throwIfCancelled(plan, outcome.health)
      return outcome
    }
  }

  private func planNew(_ key: StoreKey, _ history: History) throws(MCPGenError) -> SwitchPlan {
    let highest = try highestNumberTaken(above: history.highestNumber)
    guard highest < Generation.maximum else {
      throw MCPGenError(
        .invalidInput, "generation numbers of \(path.displayString) are exhausted (the last is \(highest)); start a new root with --root DIR",
        path: path)
    }
    let (from, fromKey) = try currentGeneration()
    return SwitchPlan(kind: .newGeneration, from: from, fromKey: fromKey, to: highest + 1, key: key)
  }

  /// If `current` differs from what the journal last recorded, a change was interrupted after
  /// the swap and before its journal line: record it now, so history stays true.
  func reconcile() throws(MCPGenError) -> JournalRecord? {
    try reconciledHistory(dryRun: false).recovered
  }

  /// Reads the history once (`history`: checkpoint and journal tail) and reconciles it with `current`: the `recover` line of a change
  /// left unrecorded (`plannedHistory`) is written, unless `dryRun`, and replayed either way, so
  /// a dry run plans from the history its change would. Returns the line only when written.
  /// A change (not `dryRun`) runs under the lock and keeps the checkpoint up to date.
  func reconciledHistory(dryRun: Bool, replayed given: History? = nil) throws(MCPGenError) -> (history: History, recovered: JournalRecord?) {
    let replayed: History
    if let given { replayed = given } else { replayed = try history(checkpointing: !dryRun) }
    let (history, recovery) = try plannedHistory(replayed)
    guard let recovery, !dryRun else { return (history, nil) }
    try Journal.append(recovery, in: root)
    return (history, recovery)
  }

  /// Journals a gated change: `ok`, `rolled-back` / `rollback-failed`, or `cancelled` (with the
  /// signal), the last three with where `current` was left.
  private func record(
    _ op: JournalRecord.Operation, _ plan: SwitchPlan, _ health: HealthReport, source: [UInt8]?, extra: [(String, JSON)]
  ) throws(MCPGenError) {
    var extra = extra + health.journalExtra
    var outcome = "ok"
    if let signal = health.cancelled {
      outcome = "cancelled"
      extra.append(("signal", .string(Cancellation.name(signal))))
      extra.append(("current", try current().number.map(JSON.int) ?? .null))
    } else if health.failure != nil {
      outcome = health.rollbackFailure == nil ? "rolled-back" : "rollback-failed"
      extra.append(("current", try current().number.map(JSON.int) ?? .null))
    }
    let undo = plan.kind == .rollback(undo: true)
    do {
      try journal(op, from: plan.from, to: plan.to, key: plan.key, source: source, outcome: outcome, undo: undo, extra: extra)
    } catch {
      throw putBack(plan, after: error, journaled: true)
    }
  }

  /// The change happened but could not be journaled (a full disk, an I/O error): an unrecorded
  /// change would make history lie, so `current` goes back to where it was, and an `abort` line
  /// cancels the record in case it reached the disk after all. If even that fails, the error
  /// says so and the next command records what `current` is.
  ///
  /// Also used when the swap itself failed half-way (the rename done, its fsync failed): whatever
  /// `current` is now, it ends where it was before, durably.
  private func putBack(_ plan: SwitchPlan, after error: MCPGenError, journaled: Bool = false) -> MCPGenError {
    var e = error
    let was = plan.from.map { "generation \($0)" } ?? "nothing"
    do throws(MCPGenError) {
      let now = try current()
      if let from = plan.from, let fromKey = plan.fromKey {
        if now != .generation(from) {
          try pointCurrent(at: from)
          try confirmCurrent(from, fromKey)
        } else {
          try attempt("sync the root") { () throws(SystemCallError) in try root.sync() }
        }
      } else if now != .none {
        try removeCurrent()
      }
      if journaled {
        try? journal(.abort, from: plan.from, to: plan.to, key: plan.key, source: nil, undo: plan.kind == .rollback(undo: true))
      }
      e.message = "\(error.message); current is \(was) as before, nothing changed"
    } catch {
      e.message = "\(e.message), and putting current back to \(was) failed too (\(error.message)); the next mcp-gen command records what current is"
    }
    return e
  }

  /// The current generation and its key; nil when nothing is current or `current` points at a
  /// generation that does not exist (a damaged `current` is no generation to come from).
  func currentGeneration() throws(MCPGenError) -> (Int64?, StoreKey?) {
    guard let n = try current().number, let g = try generation(n) else { return (nil, nil) }
    return (n, g.key)
  }

  public func readJournal() throws(MCPGenError) -> Journal { try Journal.read(in: root) }

  func journal(
    _ op: JournalRecord.Operation, from: Int64?, to: Int64?, key: StoreKey?, source: [UInt8]?,
    outcome: String = "ok", undo: Bool = false, extra: [(String, JSON)] = []
  ) throws(MCPGenError) {
    let record = JournalRecord(
      pid: Int64(Syscall.processID()), user: Clock.userName(), command: options.commandLine, operation: op, from: from, to: to,
      key: key, source: source, outcome: outcome, undo: undo, extra: extra)
    try Journal.append(record, in: root)
  }

  /// Refuses to start a change that could not finish for want of space.
  func requireFreeSpace() throws(MCPGenError) {
    let st = try attempt("check free space") { () throws(SystemCallError) in try root.fileSystemStats() }
    let bytes = st.availableBytes
    if bytes < 1 << 20 || (st.totalInodes > 0 && st.availableInodes < 16) {
      throw MCPGenError(
        .noSpace,
        "the file system of \(path.displayString) is full (\(bytes / 1024) KiB, \(st.availableInodes) inodes free); free space and run the command again; nothing was changed",
        hint: "mcp-gen gc")
    }
  }

  func absolute(_ p: FilePath) -> FilePath { absolutePath(p) }
}
