import MCPGenKit
import MCPGenRemote
import SystemPackage
import Testing

/// The specification's attacks, each served by a python-tuf repository with real signatures:
/// each must fail as `.untrusted` (or `.unreachable` for a server error) and leave every trusted
/// file exactly as it was.
@Suite("TUF client refuses attacks and keeps its trusted state", .enabled(if: TUFFixture.available))
struct UpdaterAttackTests {
  /// Refreshes `scenario` to `baseline` states in turn, serves `attack`, and returns the error
  /// of the next refresh after checking that the trusted files did not change. An attack on
  /// snapshot or targets comes with a new, valid timestamp (it must name the new snapshot):
  /// that timestamp is trusted and stored before the attack is found, as section 5.4.5 says,
  /// so `mayAdvance` names the files that passed every check before the attacked one.
  func attack(
    _ scenario: String, baseline: [String], attack: String, now: Int64 = TUFFixture.fixedNow, mayAdvance: Set<String> = []
  ) throws -> MCPGenError? {
    let h = try UpdaterHarness(scenario, state: baseline.first ?? attack)
    defer { h.remove() }
    for state in baseline {
      h.serve(state)
      try h.refresh()
    }
    var before = h.digests
    h.serve(attack)
    let error = failure { () throws(MCPGenError) in try h.refresh(now: now) }
    var after = h.digests
    for name in mayAdvance {
      before[name] = nil
      after[name] = nil
    }
    #expect(after == before, "the trusted files changed")
    return error
  }

  @Test("unsigned timestamp metadata is refused")
  func unsigned() throws {
    let e = try attack("basic", baseline: ["s1", "s2"], attack: "ts-unsigned")
    #expect(e?.code == .untrusted)
    #expect(e?.message.contains("0 valid signatures") == true)
  }

  @Test("timestamp signed by one key where the threshold is 2 is refused")
  func underThreshold() throws {
    let e = try attack("dupkey", baseline: [], attack: "under-threshold")
    #expect(e?.code == .untrusted)
  }

  @Test("one key listed under two key ids counts once toward the threshold")
  func keyCountedTwice() throws {
    let e = try attack("dupkey", baseline: [], attack: "twice")
    #expect(e?.code == .untrusted)
    #expect(e?.message.contains("1 valid signature of the 2") == true)
  }

  @Test("a key id listed twice in signatures is refused, even where the threshold is met (spec 4.2.1)")
  func signatureKeyIDTwice() throws {
    let e = try attack("dupkey", baseline: [], attack: "sig-keyid-twice")
    #expect(e?.code == .untrusted)
    #expect(e?.message.contains("appears twice in signatures") == true)
  }

  @Test("an older timestamp version is refused (rollback)")
  func timestampRollback() throws {
    let e = try attack("basic", baseline: ["s1", "s2"], attack: "ts-rollback")
    #expect(e?.code == .untrusted)
    #expect(e?.message.contains("timestamp.json is version 1, older than the trusted version 2") == true)
  }

  @Test("a new timestamp naming an older snapshot version is refused (rollback)")
  func snapshotRollback() throws {
    let e = try attack("basic", baseline: ["s1", "s2"], attack: "snapshot-rollback", mayAdvance: ["timestamp.json"])
    #expect(e?.code == .untrusted)
    #expect(e?.message.contains("snapshot version 1") == true)
  }

  @Test("a new snapshot listing an older targets version is refused (rollback)")
  func targetsRollback() throws {
    let e = try attack("basic", baseline: ["s1", "s2"], attack: "targets-rollback", mayAdvance: ["timestamp.json"])
    #expect(e?.code == .untrusted)
    #expect(e?.message.contains("targets.json version 1") == true)
  }

  @Test("an expired timestamp served forever is refused at a later fixed now (freeze)")
  func freeze() throws {
    let e = try attack("basic", baseline: ["s1"], attack: "s1", now: TUFFixture.fixedNow + 2 * 86400)
    #expect(e?.code == .untrusted)
    #expect(e?.message.contains("freeze") == true)
  }

  @Test("after an expired timestamp nothing more is fetched, even with a trusted snapshot on disk")
  func freezeStopsAtTimestamp() throws {
    let h = try UpdaterHarness("basic")
    defer { h.remove() }
    try h.refresh()
    let before = h.fetcher.requests.count
    let e = failure { () throws(MCPGenError) in try h.refresh(now: TUFFixture.fixedNow + 2 * 86400) }
    #expect(e?.code == .untrusted)
    #expect(Array(h.fetcher.requests[before...]).map { $0.split(separator: "/").last! } == ["2.root.json", "timestamp.json"])
  }

  @Test("targets metadata that snapshot did not list by its hash is refused (mix and match)")
  func mixAndMatchTargets() throws {
    let e = try attack("basic", baseline: ["s1", "s2"], attack: "mix-and-match", mayAdvance: ["timestamp.json", "snapshot.json"])
    #expect(e?.code == .untrusted)
    #expect(e?.message.contains("3.targets.json") == true)
  }

  @Test("snapshot metadata that timestamp did not list by its hash is refused (mix and match)")
  func mixAndMatchSnapshot() throws {
    let e = try attack("basic", baseline: ["s1", "s2"], attack: "mix-and-match-snapshot", mayAdvance: ["timestamp.json"])
    #expect(e?.code == .untrusted)
    #expect(e?.message.contains("3.snapshot.json does not match its signed sha256 hash") == true)
  }

  @Test("3.snapshot.json whose content says version 4 is refused")
  func snapshotNameVersion() throws {
    let e = try attack("basic", baseline: ["s1", "s2"], attack: "snapshot-name-version", mayAdvance: ["timestamp.json"])
    #expect(e?.code == .untrusted)
  }

  @Test("2.root.json whose content says version 3 is refused")
  func rootNameVersion() throws {
    let e = try attack("rotation", baseline: ["s1"], attack: "root-name-version")
    #expect(e?.code == .untrusted)
    #expect(e?.message.contains("version 2 was expected") == true)
  }

  @Test("a root rotation not signed by the old root's threshold is refused")
  func rotationWithoutOldThreshold() throws {
    let e = try attack("rotation", baseline: ["s1"], attack: "no-old-threshold")
    #expect(e?.code == .untrusted)
    #expect(e?.message.contains("trusted root version 1") == true)
  }

  @Test("a root rotation under the new root's own threshold is refused")
  func rotationUnderNewThreshold() throws {
    let e = try attack("rotation", baseline: ["s1"], attack: "under-new-threshold")
    #expect(e?.code == .untrusted)
    #expect(e?.message.contains("new root itself") == true)
  }

  @Test("a timestamp over its 16384-byte cap is refused (endless data)")
  func oversized() throws {
    let e = try attack("basic", baseline: ["s1", "s2"], attack: "oversized")
    #expect(e?.code == .untrusted)
    #expect(e?.message.contains("longer than the 16384 bytes") == true)
  }

  @Test("a target whose content does not match its signed hash is refused")
  func tamperedTarget() throws {
    let h = try UpdaterHarness("basic", state: "s2")
    defer { h.remove() }
    h.serve("target-tampered")
    var u = h.updater()
    let target = try #require(try u.target(named: "releases/b"))
    let e = failure { () throws(MCPGenError) in _ = try u.download(target) }
    #expect(e?.code == .untrusted)
  }

  @Test("a 404 or 500 on any metadata file fails as unreachable, keeps what was trusted, and a later refresh recovers", arguments: [
    ("2.root.json", FetchError.status(url: "", code: 500)),
    ("timestamp.json", FetchError.status(url: "", code: 500)),
    ("timestamp.json", FetchError.notFound(url: "")),
    ("2.snapshot.json", FetchError.notFound(url: "")),
    ("2.targets.json", FetchError.status(url: "", code: 503)),
    ("2.targets.json", FetchError.unreachable(url: "", reason: "connection refused")),
  ])
  func serverErrors(file: String, error: FetchError) throws {
    let h = try UpdaterHarness("basic")
    defer { h.remove() }
    try h.refresh()
    let before = h.digests
    h.serve("s2")
    h.fetcher.fail(file, with: error)
    let e = failure { () throws(MCPGenError) in try h.refresh() }
    #expect(e?.code == .unreachable)
    let after = h.digests
    // What came before the failed file in the workflow may legitimately have moved on; the
    // failed file and everything after it are as they were.
    #expect(after["root.json"] == before["root.json"])
    #expect(after["targets.json"] == before["targets.json"])
    if file != "2.targets.json" { #expect(after["snapshot.json"] == before["snapshot.json"]) }
    if file.hasSuffix("root.json") || file == "timestamp.json" { #expect(after == before) }
    h.fetcher.clearFaults()
    try h.refresh()
    #expect(h.version("targets.json") == 2)
  }
}
