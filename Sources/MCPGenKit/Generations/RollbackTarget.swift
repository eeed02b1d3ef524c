import MCPGenSystem

extension Store {
  /// The generation a plain `mcp-gen rollback` would return to now, read without the lock and
  /// without writing anything: the same planner as the rollback itself, on the same history.
  /// Throws `nothingToUndo` when there is no earlier switch to undo.
  public func rollbackTarget() throws(MCPGenError) -> ReleaseReference {
    try rollbackTarget(try history())
  }

  /// `rollbackTarget()` from a history already read (`status` reads it once).
  func rollbackTarget(_ replayed: History) throws(MCPGenError) -> ReleaseReference {
    let (history, _) = try plannedHistory(replayed)
    let plan = try planRollback(to: nil, history, force: false)
    return ReleaseReference(generation: plan.to, key: plan.key)
  }

  /// The history every change plans from: the journal replayed, plus, when `current` is ahead of
  /// it (a change a crash or a kill left unrecorded after its swap), the `recover` line that
  /// records it. The line is returned, not written: a change writes it (`reconciledHistory`), a
  /// dry run only replays it, so both plan from the same history and name the same target.
  func plannedHistory(_ journal: History) throws(MCPGenError) -> (history: History, recovery: JournalRecord?) {
    var history = journal
    let actual = try current()
    guard case .generation(let n) = actual, n != history.recordedCurrent, let g = try generation(n) else {
      return (history, nil)  // In step, or damaged (audit reports that; rollback N or repair fixes it).
    }
    let record = JournalRecord(
      pid: Int64(Syscall.processID()), user: Clock.userName(), command: options.commandLine, operation: .recover,
      from: history.recordedCurrent, to: n, key: g.key, outcome: "unconfirmed",
      extra: [("note", .string("current was switched by a command that did not finish; it is recorded now"))])
    history.apply(record)
    return (history, record)
  }

  /// The one rollback planner, for `rollback`, `rollback --dry-run` and `rollbackTarget`: where a
  /// rollback goes from the current generation, given the history (`plannedHistory`).
  ///
  /// With `number`, that generation: refused when it does not exist or does not point into the
  /// store, when its release is blocked or when a health check failed on it (unless `force`).
  /// Without, the generation current before the latest switch not yet undone, passing over
  /// generations that were removed, failed, or whose release is blocked or gone.
  func planRollback(to number: Int64?, _ history: History, force: Bool) throws(MCPGenError) -> SwitchPlan {
    let (from, fromKey) = try currentGeneration()
    guard let number else { return try undoPlan(history, from: from, fromKey: fromKey) }
    guard let g = try generation(number) else {
      throw MCPGenError(.notFound, "there is no generation \(number); nothing was changed", hint: "mcp-gen list")
    }
    guard let key = g.key else {
      throw MCPGenError(.integrity, "generation \(number) does not point into the store; nothing was changed", hint: "mcp-gen audit")
    }
    let plan = SwitchPlan(kind: .rollback(undo: false), from: from, fromKey: fromKey, to: number, key: key)
    guard number != from else { return plan }
    guard try contains(key) else {
      let (reason, _) = try whereabouts(of: key)
      let source = (history.source(of: number) ?? history.keySources[key]).map { displayName($0) } ?? "PATH"
      throw MCPGenError(
        .notFound,
        "generation \(number) cannot be restored: its release \(key.short) is not in the store (\(reason)); add the release again, then roll back; nothing was changed",
        hint: "mcp-gen add \(source)")
    }
    try requireNotBlocked(key, force: force)
    if !force && history.failed.contains(number) {
      throw MCPGenError(
        .conflict,
        "generation \(number) failed its health checks; nothing was changed (pass --force to roll back to it anyway)",
        hint: "mcp-gen rollback \(number) --force")
    }
    return plan
  }

  /// Walks the undo stack back from its top to the first generation a rollback can return to.
  func undoPlan(_ history: History, from: Int64?, fromKey: StoreKey?) throws(MCPGenError) -> SwitchPlan {
    var stack = history
    var skipped: [Int64] = []
    let blocked = try blocked()
    while let top = stack.popUndo() {
      guard let n = top else { break }
      if history.failed.contains(n) || n == from {
        skipped.append(n)
        continue
      }
      guard let g = try generation(n), let key = g.key, !blocked.contains(key), try contains(key) else {
        skipped.append(n)
        continue
      }
      return SwitchPlan(kind: .rollback(undo: true), from: from, fromKey: fromKey, to: n, key: key, skipped: skipped)
    }
    let passed = skipped.isEmpty ? "" : " (passed over removed or failed generations \(skipped.map(String.init).joined(separator: ", ")))"
    throw MCPGenError(
      .nothingToUndo,
      "nothing to roll back to: no earlier switch left to undo\(passed); nothing was changed",
      hint: "mcp-gen list, then mcp-gen rollback N")
  }
}
