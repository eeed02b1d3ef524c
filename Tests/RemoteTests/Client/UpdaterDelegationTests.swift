import MCPGenKit
import MCPGenRemote
import Testing

/// The delegation search of section 5.6.7 over the graphs of the tuf-conformance suite's
/// traversal tests (written by python-tuf): pre-order depth-first, in order of appearance, each
/// role once, a terminating delegation ending the search, path patterns pruning branches. The
/// order of the delegated metadata fetched is the order visited.
@Suite("TUF client searches delegations in pre-order, depth first", .enabled(if: TUFFixture.available))
struct UpdaterDelegationTests {
  @Test("roles visited for a target no role lists", arguments: [
    ("dfs", ["A", "C", "D", "B"]),
    ("terminating", ["A", "C"]),
    ("cycle", ["A", "B", "C", "D"]),
    ("paths", ["B"]),
    ("shared", ["A", "C", "B"]),
  ])
  func visitOrder(graph: String, visited: [String]) throws {
    let h = try UpdaterHarness("graph", state: graph)
    defer { h.remove() }
    var u = h.updater()
    try u.refresh()
    let before = h.fetcher.requests.count
    #expect(try u.target(named: "missingpath") == nil)
    let fetched = h.fetcher.requests[before...].map { String($0.split(separator: "/").last!) }
    #expect(fetched == visited.map { "1.\($0).json" })
    for role in visited { #expect(h.trusted["\(role).json"] != nil) }
  }

  @Test("the search stops after the maximum number of roles")
  func maxDelegations() throws {
    let h = try UpdaterHarness("graph", state: "dfs")
    defer { h.remove() }
    var u = h.updater()
    u.limits.maxDelegations = 2
    try u.refresh()
    let before = h.fetcher.requests.count
    #expect(try u.target(named: "missingpath") == nil)
    // targets and A are visited (2), C is the last role loaded before the count stops it.
    #expect(h.fetcher.requests[before...].map { String($0.split(separator: "/").last!) } == ["1.A.json", "1.C.json"])
  }
}
