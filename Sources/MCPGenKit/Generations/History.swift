import MCPGenSystem

/// What the journal says happened, replayed: the undo stack that `rollback` follows, the
/// generation last recorded as current, failed generations, and every number ever used.
struct History {
  /// Generations to return to, newest last; nil means "nothing was current". With a
  /// checkpoint, only its top and what the lines after it pushed: the `undoBelowCount` entries
  /// below them are taken from the checkpoint (`popUndo`) only when a pop reaches them.
  var undoStack: [Int64?] = []
  var undoBelowCount = 0
  var recordedCurrent: Int64? = nil
  var highestNumber: Int64 = 0
  var failed: Set<Int64> = []
  /// Each generation's source and creation time replayed from journal lines; with a checkpoint,
  /// only from the lines after it (`source(of:)` and `creation(of:)` look in both).
  var sources = GenerationMap<[UInt8]>()
  var created = GenerationMap<Int64>()
  /// The checkpoint's deeper undo stack and its sources and creation times, read only when
  /// first asked for: `status`, `switch` and `rollback` on 10,000 generations need one or none.
  var checkpointed: CheckpointLines? = nil
  var keySources: [StoreKey: [UInt8]] = [:]
  /// Each key's label: the newest `add` or `switch` line that gives one.
  var labels: [StoreKey: ReleaseLabel] = [:]
  /// Made current by a command that died before its health checks confirmed it.
  var unconfirmed: Int64? = nil
  /// Whether health checks confirmed `recordedCurrent` when it was made current (or later, by
  /// `mcp-gen check`): true, false (it became current with no checks run), nil (not known: put
  /// back by an `abort`, or nothing is current).
  var currentChecked: Bool? = nil

  /// Nothing happened yet: an empty journal's history.
  init() {}

  /// Where generation `n` was switched to from: the newest line that says so.
  func source(of n: Int64) -> [UInt8]? { sources[n] ?? checkpointed?.tables.sources[n] }

  /// When generation `n` was made: the first line that made it (the checkpoint's lines came first).
  func creation(of n: Int64) -> Int64? { checkpointed?.tables.created[n] ?? created[n] }

  /// The whole undo stack, oldest first.
  var fullUndoStack: [Int64?] {
    guard undoBelowCount > 0, let below = checkpointed?.undoBelow else { return undoStack }
    return below + undoStack
  }

  /// The undo stack's top without popping it; nil when it is empty (`.some(nil)`: its top says
  /// nothing was current).
  var undoTop: Int64?? {
    if let top = undoStack.last { return top }
    guard undoBelowCount > 0, let below = checkpointed?.undoBelow else { return nil }
    return below.last
  }

  /// Pops the undo stack's top (nil when it is empty), taking in the checkpoint's deeper
  /// entries when the pop reaches them.
  mutating func popUndo() -> Int64?? {
    if undoStack.isEmpty && undoBelowCount > 0 {
      undoStack = checkpointed?.undoBelow ?? []
      undoBelowCount = 0
    }
    return undoStack.popLast()
  }

  init(_ journal: Journal) {
    // Most records are switches, each adding a generation: no rehashing as the tables grow.
    created.reserveCapacity(journal.records.count)
    sources.reserveCapacity(journal.records.count)
    for i in journal.records.indices { apply(journal.records[i]) }
  }

  /// Replays one more record.
  mutating func apply(_ r: JournalRecord) {
    do {
      highestNumber = max(highestNumber, r.from ?? 0, r.to ?? 0)
      if let extraNumbers = r.extra.first(where: { $0.0 == "generations" })?.1.arrayValue {
        for n in extraNumbers.compactMap(\.intValue) { highestNumber = max(highestNumber, n) }
      }
      if let key = r.key, let source = r.source { keySources[key] = source }
      if let key = r.key, let label = ReleaseLabel(journaled: r) { labels[key] = label }
      switch r.operation {
      case .switch, .start:
        if let to = r.to {
          // A time the checkpoint has comes first; `creation(of:)` looks there before here.
          if created[to] == nil { created[to] = r.time }
          if let source = r.source ?? r.key.flatMap({ keySources[$0] }) { sources[to] = source }
        }
        if r.operation == .start { break }  // The switch's own line says how it ended.
        if r.outcome == "ok" {
          undoStack.append(r.from)
          recordedCurrent = r.to
          unconfirmed = nil
          currentChecked = r.ranRequiredChecks()
        } else if r.outcome == "cancelled" {
          recordCancel(r)
        } else {
          recordFailure(r)
        }
      case .rollback:
        if r.outcome == "ok" {
          if r.undo {
            while let top = popUndo(), top != r.to {}
          } else {
            undoStack.append(r.from)
          }
          recordedCurrent = r.to
          unconfirmed = nil
          currentChecked = r.ranRequiredChecks()
        } else if r.outcome == "cancelled" {
          recordCancel(r)
        } else {
          recordFailure(r)
        }
      case .recover:
        undoStack.append(r.from)
        recordedCurrent = r.to
        unconfirmed = r.outcome == "unconfirmed" ? r.to : nil
        currentChecked = nil  // `unconfirmed` says the rest.
      case .abort:
        // Only if the cancelled line landed: its push is undone and current is back at `from`.
        if recordedCurrent == r.to {
          if r.undo {
            undoStack.append(r.to)  // The cancelled rollback had popped it.
          } else if let top = undoTop, top == r.from {
            _ = popUndo()
          }
          recordedCurrent = r.from
          currentChecked = nil
        }
      case .check:
        if r.outcome == "confirmed", unconfirmed == r.to { unconfirmed = nil }
        if r.outcome == "confirmed", recordedCurrent == r.to { currentChecked = true }
      default:
        break
      }
    }
  }

  /// A change whose health checks failed: its target is marked failed, and `current` is what
  /// the line says it was left at (`current`, or `from` when restoring worked).
  private mutating func recordFailure(_ r: JournalRecord) {
    if let to = r.to { failed.insert(to) }
    recordLeft(r)
  }

  /// A change cancelled (SIGINT, SIGTERM) during its checks and undone: as a failure, but its
  /// target is not marked failed (nothing was found wrong with it). It pushed nothing, so the
  /// next plain rollback undoes the switch before it.
  private mutating func recordCancel(_ r: JournalRecord) {
    recordLeft(r)
  }

  private mutating func recordLeft(_ r: JournalRecord) {
    if let left = r.extra.first(where: { $0.0 == "current" })?.1 {
      recordedCurrent = left.intValue
    } else {
      recordedCurrent = r.from
    }
    // The generation put back was checked again; a change that left nothing current, nothing.
    let passed = r.ranRequiredChecks("restoredChecks") && !r.extra.contains { $0.0 == "rollbackFailure" }
    currentChecked = recordedCurrent == nil ? nil : (passed ? true : nil)
  }
}
