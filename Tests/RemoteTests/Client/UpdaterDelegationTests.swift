import Foundation
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

/// TAP 15's succinct hash bins, as python-tuf writes and assigns them (the fixture's bins.json
/// is python-tuf's own `get_role_for_target`): a target is looked up in its one bin only.
@Suite("TUF client finds targets in succinct hash bin delegations", .enabled(if: TUFFixture.available))
struct UpdaterSuccinctRolesTests {
  func bins(_ h: UpdaterHarness) throws -> [String: String] {
    let data = try Data(contentsOf: URL(fileURLWithPath: h.fixture.path + "/repo/bins.json"))
    return try JSONDecoder().decode([String: String].self, from: data)
  }

  func fetched(_ h: UpdaterHarness, after before: Int) -> [String] {
    h.fetcher.requests[before...].map { String($0.split(separator: "/").last!) }
  }

  @Test("a target is found through the bin its path hashes to, and only that bin is fetched")
  func found() throws {
    let h = try UpdaterHarness("succinct")
    defer { h.remove() }
    let bins = try bins(h)
    var u = h.updater()
    try u.refresh()
    for path in ["a/file", "b.txt"] {
      let before = h.fetcher.requests.count
      let target = try u.target(named: path)
      #expect(target?.name == path)
      #expect(fetched(h, after: before) == ["1.\(bins[path]!).json"])
      #expect(h.trusted["\(bins[path]!).json"] != nil)
      if let target { #expect(try u.download(target).count == target.length) }
    }
  }

  @Test("a path no bin lists is looked up in its own bin only, and not found")
  func missing() throws {
    let h = try UpdaterHarness("succinct")
    defer { h.remove() }
    let bins = try bins(h)
    let path = bins["missing"]!
    var u = h.updater()
    try u.refresh()
    let before = h.fetcher.requests.count
    #expect(try u.target(named: path) == nil)
    #expect(fetched(h, after: before) == ["1.\(bins[path]!).json"])
  }

  @Test("a bin signed by a key the succinct delegation does not list is refused")
  func wrongKey() throws {
    let h = try UpdaterHarness("succinct", state: "wrong-key")
    defer { h.remove() }
    var u = h.updater()
    try u.refresh()
    let e = failure { () throws(MCPGenError) in _ = try u.target(named: "a/file") }
    #expect(e?.code == .untrusted)
    #expect(e?.message.contains("0 valid signatures of the 1") == true)
  }
}
