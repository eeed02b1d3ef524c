import MCPGenKit
import MCPGenRemote
import SystemPackage
import Testing

/// The Updater reads repositories that python-tuf's Metadata API wrote and signed: the
/// workflow of the specification's section 5, end to end over a directory "server".
@Suite("TUF client reads python-tuf repositories", .enabled(if: TUFFixture.available))
struct UpdaterInteropTests {
  @Test("a first refresh fetches the next root, timestamp, snapshot and targets, and stores them as served")
  func firstRefresh() throws {
    let h = try UpdaterHarness("basic")
    defer { h.remove() }
    try h.refresh()
    let base = DirectoryFetcher.base + "/metadata/"
    #expect(h.fetcher.requests == [base + "2.root.json", base + "timestamp.json", base + "1.snapshot.json", base + "1.targets.json"])
    let trusted = h.trusted
    #expect(trusted["timestamp.json"] == h.served("s1", "metadata/timestamp.json"))
    #expect(trusted["snapshot.json"] == h.served("s1", "metadata/1.snapshot.json"))
    #expect(trusted["targets.json"] == h.served("s1", "metadata/1.targets.json"))
    #expect(trusted["root.json"] == h.served("s1", "metadata/1.root.json"))
    #expect(!trusted.keys.contains { $0.hasPrefix(".tmp-") })
  }

  @Test("a refresh when nothing changed fetches only the next root (404) and timestamp")
  func nothingChanged() throws {
    let h = try UpdaterHarness("basic")
    defer { h.remove() }
    try h.refresh()
    let before = h.fetcher.requests.count
    try h.refresh()
    let base = DirectoryFetcher.base + "/metadata/"
    #expect(Array(h.fetcher.requests[before...]) == [base + "2.root.json", base + "timestamp.json"])
  }

  @Test("a new release moves timestamp, snapshot and targets to version 2 and lists the new target")
  func newVersion() throws {
    let h = try UpdaterHarness("basic")
    defer { h.remove() }
    try h.refresh()
    h.serve("s2")
    var u = h.updater()
    try u.refresh()
    #expect(h.version("timestamp.json") == 2)
    #expect(h.version("snapshot.json") == 2)
    #expect(h.version("targets.json") == 2)
    #expect(Set(u.topLevelTargets().map(\.name)) == ["releases/a", "releases/b"])
  }

  @Test("targets download checked against SHA-256 and SHA-512, from the hash-prefixed name")
  func downloadTopLevel() throws {
    let h = try UpdaterHarness("basic")
    defer { h.remove() }
    var u = h.updater()
    let target = try #require(try u.target(named: "releases/a"))
    #expect(Set(target.hashes.keys) == ["sha256", "sha512"])
    #expect(try u.download(target) == Array("release a\n".utf8))
    #expect(h.fetcher.requests.last == DirectoryFetcher.base + "/targets/releases/\(target.hashes["sha256"]!).a")
  }

  @Test("ECDSA P-256 (root, targets), RSA-PSS-SHA256 (timestamp) and Ed25519 (snapshot) keys verify")
  func keyTypes() throws {
    let h = try UpdaterHarness("keytypes")
    defer { h.remove() }
    var u = h.updater()
    let target = try #require(try u.target(named: "releases/a"))
    #expect(try u.download(target) == Array("release a\n".utf8))
    let root = try JSON(parsing: h.trusted["root.json"] ?? [])
    guard case .object(let keys)? = root["signed"]?["keys"] else { Issue.record("root has no keys"); return }
    let types = Set(keys.compactMap { $0.1["keytype"]?.stringValue })
    #expect(types.isSuperset(of: ["ecdsa", "rsa", "ed25519"]))
  }

  @Test("without consistent snapshots, metadata and targets are fetched under their plain names")
  func plainNames() throws {
    let h = try UpdaterHarness("plain")
    defer { h.remove() }
    var u = h.updater()
    let target = try #require(try u.target(named: "delegated/file.txt"))
    #expect(try u.download(target) == Array("delegated file\n".utf8))
    let base = DirectoryFetcher.base
    #expect(h.fetcher.requests == [
      base + "/metadata/2.root.json", base + "/metadata/timestamp.json", base + "/metadata/snapshot.json",
      base + "/metadata/targets.json", base + "/metadata/delegated.json", base + "/targets/delegated/file.txt",
    ])
  }

  @Test("a target of a delegated role is found through the delegation and its metadata is stored")
  func delegation() throws {
    let h = try UpdaterHarness("basic")
    defer { h.remove() }
    var u = h.updater()
    let target = try #require(try u.target(named: "delegated/file.txt"))
    #expect(try u.download(target) == Array("delegated file\n".utf8))
    #expect(h.trusted["delegated.json"] == h.served("s1", "metadata/1.delegated.json"))
    #expect(try u.target(named: "delegated/missing.txt") == nil)
    #expect(try u.target(named: "elsewhere/file.txt") == nil)
  }

  @Test("a root rotation to two new keys with threshold 2 and a new timestamp key is followed")
  func rootRotation() throws {
    let h = try UpdaterHarness("rotation")
    defer { h.remove() }
    try h.refresh()
    #expect(h.version("timestamp.json") == 1)
    let oldTimestamp = h.trusted["timestamp.json"]
    h.serve("s2")
    try h.refresh()
    #expect(h.trusted["root.json"] == h.served("s2", "metadata/2.root.json"))
    // Same version 1 under the new key: the old trusted copy gave way (section 5.3.11).
    #expect(h.trusted["timestamp.json"] == h.served("s2", "metadata/timestamp.json"))
    #expect(h.trusted["timestamp.json"] != oldTimestamp)
  }

  @Test("after a timestamp fast-forward to version 100, rotating the timestamp key lets version 1 in again")
  func fastForwardRecovery() throws {
    let h = try UpdaterHarness("rotation")
    defer { h.remove() }
    try h.refresh()
    h.serve("fast-forward")
    try h.refresh()
    #expect(h.version("timestamp.json") == 100)
    h.serve("s2")
    try h.refresh()
    #expect(h.version("root.json") == 2)
    #expect(h.version("timestamp.json") == 1)
  }

  @Test("a key listed under two ids and a second key meet a threshold of 2 (the control of the attack)")
  func distinctKeysMeetThreshold() throws {
    let h = try UpdaterHarness("dupkey", state: "good")
    defer { h.remove() }
    try h.refresh()
    #expect(h.version("timestamp.json") == 1)
  }
}
