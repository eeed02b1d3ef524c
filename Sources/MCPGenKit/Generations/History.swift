/// What the journal says happened, replayed: the undo stack that `rollback` follows, the
/// generation last recorded as current, failed generations, and every number ever used.
struct History {
  /// Generations to return to, newest last; nil means "nothing was current".
  var undoStack: [Int64?] = []
  var recordedCurrent: Int64? = nil
  var highestNumber: Int64 = 0
  var failed: Set<Int64> = []
  var sources: [Int64: [UInt8]] = [:]
  var created: [Int64: Int64] = [:]
  var keySources: [StoreKey: [UInt8]] = [:]

  init(_ journal: Journal) {
    for r in journal.records {
      for n in [r.from, r.to].compactMap({ $0 }) { highestNumber = max(highestNumber, n) }
      if let extraNumbers = r.extra.first(where: { $0.0 == "generations" })?.1.arrayValue {
        for n in extraNumbers.compactMap(\.intValue) { highestNumber = max(highestNumber, n) }
      }
      if let key = r.key, let source = r.source { keySources[key] = source }
      switch r.operation {
      case .switch:
        if let to = r.to {
          if created[to] == nil { created[to] = r.time }
          if let source = r.source ?? r.key.flatMap({ keySources[$0] }) { sources[to] = source }
        }
        if r.outcome == "ok" {
          undoStack.append(r.from)
          recordedCurrent = r.to
        } else if let to = r.to, r.outcome == "rolled-back" || r.outcome == "failed" {
          failed.insert(to)
          recordedCurrent = r.from
        }
      case .rollback where r.outcome == "ok":
        if r.undo {
          while let top = undoStack.popLast(), top != r.to {}
        } else {
          undoStack.append(r.from)
        }
        recordedCurrent = r.to
      case .recover:
        undoStack.append(r.from)
        recordedCurrent = r.to
      default:
        break
      }
    }
  }
}
