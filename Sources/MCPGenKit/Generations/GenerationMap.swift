import MCPGenSystem

/// Values by generation number. Numbers are handed out one after another from 1, so the
/// values of 10,000 generations sit in an array, not a hash table (`list` and every change
/// replay the whole journal into two of these). A number far beyond the others, as a
/// hand-edited journal can hold, goes to a dictionary instead of growing the array to it.
struct GenerationMap<Value> {
  private var dense: [Value?] = []
  private var sparse: [Int64: Value] = [:]

  mutating func reserveCapacity(_ count: Int) { dense.reserveCapacity(count) }

  /// Every number that has a value, ascending, with its value (the checkpoint writes them).
  var entries: [(Int64, Value)] {
    var out: [(Int64, Value)] = []
    out.reserveCapacity(dense.count + sparse.count)
    for (i, value) in dense.enumerated() { if let value { out.append((Int64(i + 1), value)) } }
    for n in sparse.keys.sorted() { out.append((n, sparse[n]!)) }
    return out.sorted { $0.0 < $1.0 }
  }

  subscript(n: Int64) -> Value? {
    get {
      if n >= 1 && n <= Int64(dense.count), let value = dense[Int(n - 1)] { return value }
      return sparse.isEmpty ? nil : sparse[n]
    }
    set {
      if n >= 1 && n <= Int64(dense.count) + 1024 {
        if n > Int64(dense.count) { dense += repeatElement(nil, count: Int(n) - dense.count) }
        dense[Int(n - 1)] = newValue
        if !sparse.isEmpty { sparse[n] = nil }
      } else {
        sparse[n] = newValue
      }
    }
  }
}

extension GenerationMap: Sendable where Value: Sendable {}
