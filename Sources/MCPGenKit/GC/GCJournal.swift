import MCPGenSystem

extension Store {
  /// Journals what a gc removes: one `gc` line, or several consecutive ones when its lists do not
  /// fit in one line of at most `limit` bytes (a generation number takes up to 17 bytes, a key 67:
  /// about 15,000 keys fill a line). Every line is appended, and fsynced, before anything is
  /// removed. `bytesFreed` is the whole gc's, on the first line; the others carry 0, so the lines
  /// add up. A crash between two appends leaves the first lines only: their generations stay
  /// counted as used, and what the missing lines named is still there for the next gc.
  func journalCollection(
    generations: [Int64], entries: [StoreKey], bytesFreed: UInt64, limit: Int = Journal.maximumLineLength
  ) throws(MCPGenError) {
    let room = limit - gcLine(generations: [], entries: [], bytesFreed: Int64.max).count
    for (n, part) in Store.gcLineParts(generations, entries, room: room).enumerated() {
      try journal(.gc, from: nil, to: nil, key: nil, source: nil, extra: Store.gcFields(
        part.generations, part.entries, bytesFreed: n == 0 ? Int64(bytesFreed) : 0))
    }
  }

  /// The line `journal(.gc, ...)` would write (for its length).
  func gcLine(generations: [Int64], entries: [StoreKey], bytesFreed: Int64) -> [UInt8] {
    JournalRecord(
      pid: Int64(Syscall.processID()), user: Clock.userName(), command: JournalRecord.recordedCommand(options.commandLine), operation: .gc,
      extra: Store.gcFields(generations, entries, bytesFreed: bytesFreed)
    ).line()
  }

  static func gcFields(_ generations: [Int64], _ entries: [StoreKey], bytesFreed: Int64) -> [(String, JSON)] {
    [
      ("generations", .array(generations.map(JSON.int))),
      ("entries", .array(entries.map { .string($0.hex) })),
      ("bytesFreed", .int(bytesFreed)),
    ]
  }

  /// Splits the lists into parts whose items take at most `room` bytes in a line, generations
  /// first; each part has at least one item, and there is always at least one part.
  static func gcLineParts(
    _ generations: [Int64], _ entries: [StoreKey], room: Int
  ) -> [(generations: [Int64], entries: [StoreKey])] {
    var parts: [(generations: [Int64], entries: [StoreKey])] = [([], [])]
    var used = 0
    func fit(_ cost: Int) {
      if used + cost > room && (!parts[parts.count - 1].generations.isEmpty || !parts[parts.count - 1].entries.isEmpty) {
        parts.append(([], []))
        used = 0
      }
      used += cost
    }
    for g in generations {
      fit(String(g).utf8.count + 1)  // the number and a comma
      parts[parts.count - 1].generations.append(g)
    }
    for key in entries {
      fit(key.hex.utf8.count + 3)  // the quoted key and a comma
      parts[parts.count - 1].entries.append(key)
    }
    return parts
  }
}
