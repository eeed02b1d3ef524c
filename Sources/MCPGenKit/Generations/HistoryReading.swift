import MCPGenSystem

extension Store {
  /// The journal's history: the checkpoint's (`HistoryCheckpoint`), when it still describes the
  /// journal, with only the journal's tail after it replayed; else the whole journal replayed.
  ///
  /// `checkpointing` (a change, under the lock): when the replay was long (over `tailLines` lines
  /// or `tailBytes` bytes), or a checkpoint was there but not usable, a new one is written for
  /// the journal's whole lines. Failing to write it fails nothing: it is only a cache.
  func history(checkpointing: Bool = false) throws(MCPGenError) -> History {
    guard let file = try Journal.open(in: root, flags: OpenFlags.readOnly) else { return History() }
    let st = try attempt("read the journal") { () throws(SystemCallError) in try file.stat() }
    var history = History()
    var offset: Int64 = 0
    let saved = HistoryCheckpoint.load(in: root)
    if let saved, saved.matches(file, st) {
      history = saved.history
      offset = saved.offset
    }
    let (tail, overlong) = try Journal.read(file, from: offset)
    let covered = offset + Int64(tail.terminatedLength)
    var atCovered: History? = nil
    tail.records.withUnsafeBufferPointer { records in
      for i in records.indices {
        // Only the last line can lack its newline: the checkpoint stops before it.
        if checkpointing && !tail.isTerminated(i) { atCovered = history }
        history.apply(records[i])
      }
    }
    let long = tail.records.count > HistoryCheckpoint.tailLines || tail.bytes.count > HistoryCheckpoint.tailBytes
    let stale = saved != nil && offset == 0
    if checkpointing && (long || stale) && !overlong && covered > offset {
      if let checkpoint = try? HistoryCheckpoint(atCovered ?? history, offset: covered, of: file, st) {
        try? checkpoint.write(in: root)
      }
    }
    return history
  }

  /// Writes the checkpoint of the whole journal, whatever the one there was (`audit --repair`).
  /// Nothing when the journal has no whole line.
  func rebuildCheckpoint() throws(MCPGenError) {
    guard let file = try Journal.open(in: root, flags: OpenFlags.readOnly) else { return }
    let st = try attempt("read the journal") { () throws(SystemCallError) in try file.stat() }
    let (journal, overlong) = try Journal.read(file, from: 0)
    var history = History()
    for i in journal.records.indices where journal.isTerminated(i) { history.apply(journal.records[i]) }
    let covered = Int64(journal.terminatedLength)
    guard !overlong, covered > 0 else {
      // A journal with an over-long line cannot be checkpointed: no checkpoint is then better
      // than a stale one (readers would ignore it, but read it first).
      try? attempt("remove the checkpoint") { () throws(SystemCallError) in try root.unlink(HistoryCheckpoint.name) }
      return
    }
    try attempt("write the checkpoint") { () throws(SystemCallError) in
      try HistoryCheckpoint(history, offset: covered, of: file, st).write(in: root)
    }
  }
}
