import MCPGenKit
import MCPGenRemote
import SystemPackage
import Testing

/// `fetchesTimestampWithNextRoot` (what `pull` sets): the first next-root request takes
/// `timestamp.json` along in one `fetchInOrder` call. The timestamp is used only when there is
/// no new root; whatever the answers, the trusted state ends as that of the one-by-one workflow.
@Suite("TUF client: timestamp along the next root", .enabled(if: TUFFixture.available))
struct UpdaterTimestampAlongTests {
  let base = DirectoryFetcher.base + "/metadata/"

  @Test("no new root: one call asks for the next root then timestamp, and the trusted files are those of the plain workflow")
  func noNewRoot() throws {
    let along = try UpdaterHarness("basic")
    defer { along.remove() }
    try along.refresh(timestampAlong: true)
    #expect(along.fetcher.inOrderCalls == [[base + "2.root.json", base + "timestamp.json"]])
    #expect(along.fetcher.requests == [base + "2.root.json", base + "timestamp.json", base + "1.snapshot.json", base + "1.targets.json"])
    let trusted = along.trusted
    #expect(trusted["timestamp.json"] == along.served("s1", "metadata/timestamp.json"))
    #expect(trusted["snapshot.json"] == along.served("s1", "metadata/1.snapshot.json"))
    #expect(trusted["targets.json"] == along.served("s1", "metadata/1.targets.json"))
    #expect(trusted["root.json"] == along.served("s1", "metadata/1.root.json"))

    // The plain workflow (the conformance client's) never asks two at once.
    let plain = try UpdaterHarness("basic")
    defer { plain.remove() }
    try plain.refresh()
    #expect(plain.fetcher.requests == along.fetcher.requests)
    #expect(plain.fetcher.inOrderCalls.isEmpty)

    // Nothing changed: the refresh is that one call.
    let before = along.fetcher.requests.count
    try along.refresh(timestampAlong: true)
    #expect(Array(along.fetcher.requests[before...]) == [base + "2.root.json", base + "timestamp.json"])
    #expect(along.fetcher.inOrderCalls.count == 2)
  }

  @Test("a new root: the timestamp that came along is not used; the one fetched after the chain is")
  func newRoot() throws {
    let h = try UpdaterHarness("rotation")
    defer { h.remove() }
    try h.refresh(timestampAlong: true)
    let oldTimestamp = h.trusted["timestamp.json"]
    h.serve("s2")
    let before = h.fetcher.requests.count
    try h.refresh(timestampAlong: true)
    #expect(h.trusted["root.json"] == h.served("s2", "metadata/2.root.json"))
    #expect(h.trusted["timestamp.json"] == h.served("s2", "metadata/timestamp.json"))
    #expect(h.trusted["timestamp.json"] != oldTimestamp)
    #expect(Array(h.fetcher.requests[before..<(before + 4)]) == [
      base + "2.root.json", base + "timestamp.json", base + "3.root.json", base + "timestamp.json",
    ])
  }

  @Test("a failed answer in the call is asked for again one by one, and a lasting failure names its file")
  func failedAnswers() throws {
    let h = try UpdaterHarness("basic")
    defer { h.remove() }
    try h.refresh()
    let trusted = h.digests

    h.fetcher.fail("2.root.json", with: .status(url: base + "2.root.json", code: 503))
    let rootError = failure { () throws(MCPGenError) in try h.refresh(timestampAlong: true) }
    #expect(rootError?.message.contains("HTTP 503 for 2.root.json") == true, "\(String(describing: rootError))")
    #expect(h.fetcher.requests.suffix(2) == [base + "timestamp.json", base + "2.root.json"])
    #expect(h.digests == trusted)

    h.fetcher.clearFaults()
    h.fetcher.fail("timestamp.json", with: .unreachable(url: base + "timestamp.json", reason: "cut"))
    let timestampError = failure { () throws(MCPGenError) in try h.refresh(timestampAlong: true) }
    #expect(timestampError?.message.contains("cannot download timestamp.json") == true, "\(String(describing: timestampError))")
    #expect(h.fetcher.requests.suffix(3) == [base + "2.root.json", base + "timestamp.json", base + "timestamp.json"])
    #expect(h.digests == trusted)

    // An answer too long is the endless-data attack: refused at once, not asked for again.
    h.fetcher.clearFaults()
    h.fetcher.fail("2.root.json", with: .tooLong(url: base + "2.root.json", limit: 512_000))
    let before = h.fetcher.requests.count
    let longError = failure { () throws(MCPGenError) in try h.refresh(timestampAlong: true) }
    #expect(longError?.message.contains("2.root.json is longer than the 512000 bytes") == true, "\(String(describing: longError))")
    #expect(h.fetcher.requests.count == before + 2)
    #expect(h.digests == trusted)
  }
}
