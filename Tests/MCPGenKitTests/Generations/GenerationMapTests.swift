@testable import MCPGenKit
import MCPGenSystem
import Testing

@Suite("Values by generation number")
struct GenerationMapTests {
  @Test("behaves as a dictionary for numbers in order, far apart, negative and overwritten")
  func sameAsDictionary() {
    var map = GenerationMap<Int64>()
    var reference: [Int64: Int64] = [:]
    // In order, then one far beyond, then enough in order to pass it, then changes and removals.
    var steps: [(Int64, Int64?)] = (1...3000).map { ($0, $0 * 7) }
    steps += [(1_000_000_000_000, 1), (2500, 5000), (0, 9), (-4, 8), (Int64.max, 2), (5000, 3)]
    steps += (3001...6000).map { ($0, $0) }
    steps += [(1_000_000_000_000, nil), (4000, nil), (Int64.max, 3), (4500, 1)]
    for (n, value) in steps {
      map[n] = value
      reference[n] = value
    }
    for n in Array(reference.keys) + [-1, 6001, 7000, 999_999_999_999, Int64.min] {
      #expect(map[n] == reference[n], "generation \(n)")
    }
  }
}
