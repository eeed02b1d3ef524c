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
      // Its last two lines are read when first needed; one damaged by then is replaced by the
      // replay of the journal bytes it covers.
      let covered = saved.offset
      history.checkpointed?.replay { Store.replay(file, upTo: covered) }
    }
    // Read in parts: with no usable checkpoint (a root an older release wrote), the whole
    // journal is replayed, which may be a gigabyte.
    var lines = 0, bytes = 0
    var covered = offset
    var atCovered: History? = nil
    let overlong = try Journal.forEachPart(file, from: offset) { part in
      lines += part.records.count
      bytes += part.bytes.count
      for i in part.records.indices {
        // Only the last line can lack its newline: the checkpoint stops before it.
        if checkpointing && !part.isTerminated(i) { atCovered = history }
        history.apply(part.records[i])
      }
      covered += Int64(part.terminatedLength)
    }
    let long = lines > HistoryCheckpoint.tailLines || bytes > HistoryCheckpoint.tailBytes
    // A checkpoint there but not usable (torn, of another journal, or of an older version) is
    // replaced, so that readers stop reading it.
    let stale = checkpointing && offset == 0 && (saved != nil || (try? root.statIfPresent(HistoryCheckpoint.name)) != nil)
    if checkpointing && (long || stale) && !overlong && covered > offset {
      if let checkpoint = try? HistoryCheckpoint(atCovered ?? history, offset: covered, of: file, st) {
        try? checkpoint.write(in: root)
      }
    }
    return history
  }

  /// The history of the journal `file`'s first `covered` bytes (whole lines), replayed; nil if
  /// they cannot be read.
  static func replay(_ file: FileFD, upTo covered: Int64) -> History? {
    var history = History()
    var base: Int64 = 0  // where the part begins in the file
    guard let overlong = try? Journal.forEachPart(file, from: 0, { part in
      for i in part.records.indices where base + Int64(part.lines[i].upperBound) < covered { history.apply(part.records[i]) }
      base += Int64(part.bytes.count)
    }), !overlong else { return nil }
    return history
  }

  /// Writes the checkpoint of the whole journal, whatever the one there was (`audit --repair`).
  /// Nothing when the journal has no whole line.
  func rebuildCheckpoint() throws(MCPGenError) {
    guard let file = try Journal.open(in: root, flags: OpenFlags.readOnly) else { return }
    let st = try attempt("read the journal") { () throws(SystemCallError) in try file.stat() }
    var history = History()
    var covered: Int64 = 0
    let overlong = try Journal.forEachPart(file, from: 0) { part in
      for i in part.records.indices where part.isTerminated(i) { history.apply(part.records[i]) }
      covered += Int64(part.terminatedLength)
    }
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
