extension Store {
  /// The generation a plain `mcp-gen rollback` would return to now, read without the lock and
  /// without writing anything.
  ///
  /// A `current` ahead of the journal (a change a crash left unrecorded) is replayed in memory as
  /// the `recover` line the next changing command will write, so the answer is what that
  /// rollback would really do. Throws `nothingToUndo` when there is no earlier switch to undo.
  public func rollbackTarget() throws(MCPGenError) -> ReleaseReference {
    var history = History(try readJournal())
    let (from, fromKey) = try currentGeneration()
    if let n = from, n != history.recordedCurrent {
      history.apply(JournalRecord(
        pid: 0, user: "", command: [], operation: .recover, from: history.recordedCurrent, to: n, key: fromKey,
        outcome: "unconfirmed"))
    }
    let plan = try undoPlan(history, from: from, fromKey: fromKey)
    return ReleaseReference(generation: plan.to, key: plan.key)
  }
}
