import MCPGenSystem

extension Store {
  /// Generations that an `audit --repair` kept although their release was gone (its journal line
  /// names them `unrestorable`) and whose release was not stored again since: the operator was
  /// told, and `list` marks them `!`, so `audit` reports them as warnings. A release stored again
  /// after that line and then lost again is news: an error once more.
  func acknowledgedUnrestorable(_ generations: [Generation], _ journal: Journal) -> Set<Int64> {
    var marks = UnrestorableMarks()
    for r in journal.records { marks.add(r) }
    return marks.acknowledged(generations)
  }
}

/// What `acknowledgedUnrestorable` needs of the journal, gathered a record at a time (`audit`
/// reads a long journal in parts).
struct UnrestorableMarks {
  private var count = 0
  private var keptAt: [Int64: Int] = [:]
  private var storedAt: [StoreKey: Int] = [:]

  mutating func add(_ r: JournalRecord) {
    if r.operation == .repair, let kept = r.extra.first(where: { $0.0 == "unrestorable" })?.1.arrayValue {
      for n in kept.compactMap(\.intValue) { keptAt[n] = count }
    } else if let key = r.key, r.stores {
      storedAt[key] = count
    }
    count += 1
  }

  func acknowledged(_ generations: [Generation]) -> Set<Int64> {
    var out = Set<Int64>()
    for g in generations {
      guard let at = keptAt[g.number] else { continue }
      if let key = g.key, let stored = storedAt[key], stored > at { continue }
      out.insert(g.number)
    }
    return out
  }
}

extension JournalRecord {
  /// The line stored its release in `store/`: an `add`, a `switch` that added it, a `heal`.
  var stores: Bool {
    operation == .add || operation == .heal
      || (operation == .switch && extra.contains { $0.0 == "added" && $0.1 == .bool(true) })
  }
}
