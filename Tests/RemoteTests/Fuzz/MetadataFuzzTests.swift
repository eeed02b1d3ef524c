import Foundation
import MCPGenKit
import MCPGenRemote
import MCPGenSystem
import Synchronization
import SystemPackage
import Testing

/// Serves one path from memory (the hostile file of the moment) and everything else from a state
/// of a python-tuf repository, capped like the real transport.
final class OverlayFetcher: RemoteFetcher {
  let base: DirectoryFetcher
  let overlay = Mutex<(path: String, bytes: [UInt8])?>(nil)

  init(_ base: DirectoryFetcher) { self.base = base }

  func serve(_ path: String, _ bytes: [UInt8]) { overlay.withLock { $0 = (path, bytes) } }

  func fetch(_ url: String, maxLength: Int) throws(FetchError) -> [UInt8] {
    if let file = overlay.withLock({ $0 }), url == DirectoryFetcher.base + "/" + file.path {
      guard file.bytes.count <= maxLength else { throw .tooLong(url: url, limit: maxLength) }
      return file.bytes
    }
    return try base.fetch(url, maxLength: maxLength)
  }
}

/// Whether a message stays one line that cannot drive a terminal: no control characters (C0,
/// DEL, C1), no line or paragraph separators, no invisible formatting (bidirectional overrides).
func isOneSafeLine(_ message: String) -> Bool {
  message.unicodeScalars.allSatisfy { s in
    switch s.properties.generalCategory {
    case .control, .format, .lineSeparator, .paragraphSeparator: return false
    default: return true
    }
  }
}

/// Thousands of hostile versions of each metadata file a client fetches, served one at a time
/// to a client that trusts everything before that file (python-tuf's repository, fixtures/tuf,
/// scenario `fuzz`): the next root version, timestamp, snapshot, targets and a delegated role.
///
/// Every refresh must end without a crash or hang, and either fail with `.untrusted` (one safe
/// line) leaving the trusted metadata directory byte for byte as it was, or pass only where it
/// may: a file changed outside `signed` (another signature list that still holds a valid
/// signature), or a change inside `signed` re-signed by the role's real key that kept the file
/// valid. A change inside `signed` without the key never passes. "Valid" has an independent
/// judge: python-tuf's ngclient must accept every re-signed file ours accepted. A re-signed file
/// may be refused after it was trusted (expired, a later file missing): then only it, or the
/// valid files of the served state, may have entered the trusted directory.
@Suite("Hostile metadata never crashes or fools the TUF client", .enabled(if: TUFFixture.available))
struct MetadataFuzzTests {
  struct Role: Sendable {
    /// The name of the file on the server (s2) and of the trusted copy.
    let served: String
    let local: String
    /// The private key that signs it (fixtures: OUT/keys/<key>.pem).
    let key: String
    let seed: UInt64
  }

  /// In the order the client loads them: a role's test trusts s2's files before it, s1's from
  /// it on, so that the refresh fetches exactly the mutated file after the ones it already has.
  static let roles = [
    Role(served: "metadata/2.root.json", local: "root.json", key: "root", seed: 0x5EED_0001),
    Role(served: "metadata/timestamp.json", local: "timestamp.json", key: "timestamp", seed: 0x5EED_0002),
    Role(served: "metadata/2.snapshot.json", local: "snapshot.json", key: "snapshot", seed: 0x5EED_0003),
    Role(served: "metadata/2.targets.json", local: "targets.json", key: "targets", seed: 0x5EED_0004),
    Role(served: "metadata/2.delegated.json", local: "delegated.json", key: "delegated", seed: 0x5EED_0005),
  ]

  /// A target only the delegated role signs: looking it up loads that role.
  static let delegatedTarget = "delegated/file.txt"

  /// The trusted files after a full update cycle on each state in turn (the delegated role
  /// loaded too).
  static func trustedFiles(_ fixture: TUFFixture, states: [String], name: String) throws -> [String: [UInt8]] {
    let dir = try fixture.makeMetadataDirectory(name)
    let fetcher = DirectoryFetcher(FilePath(fixture.state(states[0])))
    for state in states {
      fetcher.serve(FilePath(fixture.state(state)))
      try cycle(dir, fetcher)
    }
    return try directoryContents(dir)
  }

  /// One update cycle as `pull` runs it: refresh, then a target lookup that walks the delegation.
  static func cycle(_ dir: String, _ fetcher: any RemoteFetcher) throws(MCPGenError) {
    var u = Updater(
      metadataDirectory: FilePath(dir), metadataURL: DirectoryFetcher.base + "/metadata",
      targetsURL: DirectoryFetcher.base + "/targets/", fetcher: fetcher, now: TUFFixture.fixedNow)
    try u.refresh()
    // Found, or not (a re-signed change may have dropped it): only a refusal is a failure.
    _ = try u.target(named: delegatedTarget)
  }

  static func write(_ files: [String: [UInt8]], to dir: String) throws {
    for name in try FileManager.default.contentsOfDirectory(atPath: dir) where files[name] == nil {
      try FileManager.default.removeItem(atPath: dir + "/" + name)
    }
    for (name, bytes) in files { try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name)) }
  }

  /// The canonical bytes of a document's `signed`, nil when it has none.
  static func signedCanonical(_ bytes: [UInt8]) -> [UInt8]? {
    guard let doc = try? JSON(parsing: bytes), let signed = doc["signed"] else { return nil }
    return try? CanonicalJSON.encode(signed)
  }

  struct Tally: CustomStringConvertible {
    var cases = 0, refused = 0, passed = 0, resigned = 0
    var description: String { "\(cases) cases (\(resigned) re-signed): \(refused) refused, \(passed) passed" }
  }

  @Test(
    "every mutation of root, timestamp, snapshot, targets and a delegated role is refused as untrusted with the trusted files unchanged, or is valid",
    .timeLimit(.minutes(2)))
  func mutations() throws {
    let fixture = try TUFFixture("fuzz")
    defer { fixture.remove() }
    let t1 = try MetadataFuzzTests.trustedFiles(fixture, states: ["s1"], name: "t1")
    let t2 = try MetadataFuzzTests.trustedFiles(fixture, states: ["s1", "s2"], name: "t2")
    let order = MetadataFuzzTests.roles.map(\.local)
    try #require(Set(t1.keys) == Set(order) && Set(t2.keys) == Set(order), "the fixture's trusted files are \(t1.keys.sorted())")
    var total = Tally()
    // Re-signed mutations our client accepted, for python-tuf's verdict at the end.
    var accepted: [(what: String, served: String, trusted: [String: [UInt8]], bytes: [UInt8])] = []
    for (position, role) in MetadataFuzzTests.roles.enumerated() {
      var before: [String: [UInt8]] = [:]
      for (i, name) in order.enumerated() { before[name] = i < position ? t2[name] : t1[name] }
      let dir = fixture.path + "/fuzz-\(role.key)"
      try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      try MetadataFuzzTests.write(before, to: dir)

      let fetcher = OverlayFetcher(DirectoryFetcher(FilePath(fixture.state("s2"))))
      let original = Array(try Data(contentsOf: URL(fileURLWithPath: fixture.state("s2") + "/" + role.served)))
      let pem = Array(try Data(contentsOf: URL(fileURLWithPath: fixture.path + "/repo/keys/\(role.key).pem")))
      let signer = try TUFSigner(privateKey: PrivateKey(pem: pem))
      let originalSigned = try #require(MetadataFuzzTests.signedCanonical(original))
      var mutator = try MetadataMutator(original, signer: signer, seed: role.seed)
      var tally = Tally()
      let clock = ContinuousClock()
      let started = clock.now
      let all = mutator.all()
      let generated = clock.now
      for m in all {
        tally.cases += 1
        if m.resigned { tally.resigned += 1 }
        fetcher.serve(role.served, m.bytes)
        let error = failure { () throws(MCPGenError) in try MetadataFuzzTests.cycle(dir, fetcher) }
        let after = try directoryContents(dir)
        let what = "\(role.local) \(m.name)"
        if let error {
          tally.refused += 1
          #expect(isOneSafeLine(error.message), "\(what): the message is not one safe line: \(error.message.debugDescription)")
          if m.resigned {
            // Validly signed: a later check (expiry, versions, a missing file) may refuse it
            // after it was trusted and stored; no other file may take any but a served value.
            #expect(error.code == .untrusted || (error.code == .unreachable && error.message.contains("404")), "\(what): \(error.code) \(error.message)")
            for name in Set(after.keys).union(before.keys) where after[name] != before[name] {
              let allowed = after[name] == nil || after[name] == t2[name] || (name == role.local && after[name] == m.bytes)
              #expect(allowed, "\(what): the trusted \(name) became something never served valid")
            }
          } else {
            #expect(error.code == .untrusted, "\(what): \(error.code) \(error.message)")
            #expect(after == before, "\(what): the trusted files changed after a refusal: \(error.message)")
          }
        } else {
          tally.passed += 1
          if m.resigned {
            accepted.append((what, role.served, before, m.bytes))
          } else {
            #expect(MetadataFuzzTests.signedCanonical(m.bytes) == originalSigned, "\(what): a change inside signed passed without the key")
          }
          // Stored as served; or, for a timestamp of the trusted version, not stored at all
          // (the specification's 5.4.3.1: the trusted copy stays).
          let kept = role.local == "timestamp.json" && after == before
          #expect(after[role.local] == m.bytes || kept, "\(what): passed, but the trusted copy is not the file as served")
        }
        if after != before { try MetadataFuzzTests.write(before, to: dir) }
      }
      print("metadata fuzz \(role.local): \(tally); made in \(generated - started), run in \(clock.now - generated)")
      total.cases += tally.cases
      total.refused += tally.refused
      total.passed += tally.passed
      total.resigned += tally.resigned
      // Every family of mutation must have been refused somewhere: a generator that made only
      // valid files would test nothing.
      #expect(tally.refused > tally.cases / 2, "\(role.local): only \(tally.refused) of \(tally.cases) refused")
    }
    print("metadata fuzz total: \(total)")
    try MetadataFuzzTests.pythonAgrees(accepted, fixture: fixture)
  }

  /// python-tuf's ngclient, the independent implementation, must accept every re-signed file our
  /// client accepted, from the same trusted state (fixtures/tuf/tuf_verdicts.py): otherwise our
  /// client took for valid something the reference implementation refuses.
  static func pythonAgrees(_ accepted: [(what: String, served: String, trusted: [String: [UInt8]], bytes: [UInt8])], fixture: TUFFixture) throws {
    guard !accepted.isEmpty else { return }
    let cases = fixture.path + "/verdicts"
    for (n, c) in accepted.enumerated() {
      let dir = cases + "/" + String(1_000_000 + n).dropFirst()
      try FileManager.default.createDirectory(atPath: dir + "/trusted", withIntermediateDirectories: true)
      try write(c.trusted, to: dir + "/trusted")
      try Data(c.served.utf8).write(to: URL(fileURLWithPath: dir + "/path"))
      try Data(c.bytes).write(to: URL(fileURLWithPath: dir + "/served"))
    }
    let python = try #require(TUFFixture.python)
    let out = try ProcessRunner.run(python, [TUFFixture.packageRoot + "/fixtures/tuf/tuf_verdicts.py", cases, fixture.state("s2")])
    try #require(out.status == 0, "tuf_verdicts.py failed: \(out.stderrText)")
    let lines = out.stdoutText.split(separator: "\n")
    #expect(lines.count == accepted.count, "python-tuf gave \(lines.count) verdicts for \(accepted.count) cases")
    for line in lines where !line.hasSuffix(" ok") {
      let n = Int(line.prefix(6)) ?? -1
      let what = accepted.indices.contains(n) ? accepted[n].what : "?"
      Issue.record("\(what): our client accepted it, python-tuf refuses it: \(line.dropFirst(7))")
    }
    print("metadata fuzz: python-tuf judged the \(accepted.count) re-signed files our client accepted")
  }
}
