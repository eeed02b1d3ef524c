import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// `publish` into a directory nginx serves on 127.0.0.1 and `pull` from it through the built
/// binary, on two roots of one machine; faults from the fault server in front of nginx.
@Suite("pull from nginx (end to end)", .enabled(if: SrvSite.toolsInstalled, "needs nginx, curl and python3"))
struct PullServerTests {
  @Test("the README example: publish here, pull there, then a second release published and pulled")
  func readmeExample() throws {
    let site = try SrvSite()
    defer { site.stop() }
    let first = try site.publish("mcp-1.0", version: "1.0")
    try site.addRemote()
    let pulled = try site.pull(["pull", "origin", "--switch"])
    #expect(pulled.status == 0, "\(pulled)")
    #expect(site.currentKey() == first)
    #expect(Rel.storeKeys(site.client) == [first])

    let second = try site.publish("mcp-1.1", version: "1.1", seed: "v2 ")
    let (again, json) = try site.pullJSON(["--switch"])
    #expect(again.status == 0, "\(again)")
    #expect(json?["key"] as? String == second)
    #expect(json?["label"] as? String == "1.1")
    #expect(json?["changed"] as? Bool == true)
    #expect(json?["switched"] as? Bool == true)
    #expect(site.currentKey() == second)
    #expect(Set(Rel.storeKeys(site.client)) == [first, second])
    // The bytes the client stored are the publisher's release, by the coreutils oracle.
    #expect(try Oracle.key(site.client + "/store/" + second) == second)
    try Rel.expectSoundRoot(site.client, outputIn: site.scratch.path, "after two pulls")
  }

  @Test("a pull when nothing changed asks nginx for the next root version (404) and timestamp.json only")
  func nothingChangedRequests() throws {
    let site = try SrvSite()
    defer { site.stop() }
    let key = try site.publish("mcp-1.0", version: "1.0")
    try site.addRemote()
    try site.pull(["pull", "origin"]).requireSuccess("first pull")
    let before = site.nginx.accessLog().count
    let (run, json) = try site.pullJSON()
    #expect(run.status == 0, "\(run)")
    #expect(json?["changed"] as? Bool == false)
    #expect(json?["key"] as? String == key)
    let requests = site.nginx.accessLog().dropFirst(before).map { line -> String in
      // "GET /metadata/2.root.json HTTP/1.1 404 153": method, path and status.
      let words = line.split(separator: " ")
      return words.count >= 4 ? "\(words[0]) \(words[1]) \(words[3])" : line
    }
    #expect(requests == ["GET /metadata/2.root.json 404", "GET /metadata/timestamp.json 200"])
    // Both from one curl process (Updater.fetchesTimestampWithNextRoot): a process start is
    // most of such a pull's time.
    if KillPoints.stracePath != nil {
      let started = try KillPoints.calls(["pull", "origin", "--root", site.client], "execve").filter { $0.hasSuffix("= 0") }
      #expect(started.filter { $0.contains("curl\"") }.count == 1, "\(started)")
    }
  }

  @Test("kill -9 in the middle of the object downloads; the pull again downloads no verified object, completes and audits clean")
  func killMidTransferThenResume() throws {
    let site = try SrvSite(faults: true)
    defer { site.stop() }
    let key = try site.publish("mcp-1.0", version: "1.0", files: 10)
    try site.addRemote()
    // Half of the files (data/f5 ... data/f9, last in manifest order) answer after 3 seconds:
    // the others are downloaded and verified by then, and the kill lands while those transfer.
    let slow = try (5..<10).map { try SrvSite.sha256(site.scratch.at("mcp-1.0/data/f\($0)")) }
    try site.fault!.setRules(slow.map { (String($0.dropFirst(2)), "delay") })
    let all = site.remoteObjects()
    #expect(all.count == 11)

    let pull = try Rel.spawn(["pull", "origin", "--root", site.client], outputIn: site.scratch.path)
    let midTransfer = Rel.poll(timeout: 60, while: { pull.isRunning }) {
      let requested = Set(SrvSite.objectDigests(site.fault!.requests()))
      return site.verifiedPartialObjects().count >= 3 && slow.allSatisfy { requested.contains($0) }
    }
    // Its curl first (listed before the pull dies and they are re-parented), then the pull.
    let children = srvDescendants(of: pull.pid)
    kill(pull.pid, SIGKILL)
    for child in children { kill(child, SIGKILL) }
    let killed = pull.finish(timeout: 30)
    #expect(midTransfer, "the pull ended before the kill: \(killed)")
    #expect(killed.signal == SIGKILL, "\(killed)")
    let verified = site.verifiedPartialObjects()
    #expect(!verified.isEmpty && verified.count < all.count, "verified before the kill: \(verified.count)")
    #expect(verified.isSubset(of: Set(slow).symmetricDifference(all)), "a slow object was verified before the kill")
    #expect(Rel.storeKeys(site.client).isEmpty)

    try site.fault!.setRules([])
    let requestsBefore = site.fault!.requests().count
    let (again, json) = try site.pullJSON()
    #expect(again.status == 0, "\(again)")
    #expect(json?["key"] as? String == key)
    let downloaded = SrvSite.objectDigests(Array(site.fault!.requests().dropFirst(requestsBefore)))
    #expect(Set(downloaded).isDisjoint(with: verified), "downloaded again: \(Set(downloaded).intersection(verified))")
    #expect(Set(downloaded) == Set(all).subtracting(verified))
    #expect(downloaded.count == Set(downloaded).count, "an object downloaded twice")
    #expect((json?["downloaded"] as? [String: Any])?["objects"] as? Int == all.count - verified.count)
    #expect(Rel.storeKeys(site.client) == [key])
    #expect(!FileManager.default.fileExists(atPath: site.trusted + "/partial"))
    try Rel.expectSoundRoot(site.client, outputIn: site.scratch.path, "after the resumed pull")
  }

  @Test(
    "a large batch whose second curl cannot start: exit 8, one error line, no curl left, no temporary left, nothing stored; the pull again completes",
    .enabled(if: ProcessInfo.processInfo.activeProcessorCount >= 2, "a batch is split between two curls only on two cores or more"))
  func secondObjectsCurlCannotStart() throws {
    let site = try SrvSite()
    defer { site.stop() }
    let key = try site.publish("mcp-big", version: "1.0", files: 300)  // 300 objects: split in two.
    try site.addRemote()
    func pull(_ client: String, failingSpawn n: Int) throws -> CLI.Output {
      try Rel.run(["pull", "origin", "--root", client], outputIn: site.scratch.path,
                  environment: Gen.childEnvironment.merging(["MCP_GEN_FAULT": "posix_spawn:11:\(n)"]) { $1 })
    }
    // A first pull starts at most six curls: its 7th would fail, and it succeeds. The objects'
    // two come last, so failing the 6th fails the second of them, once the first is running.
    let control = site.scratch.at("control")
    try FileManager.default.copyItem(atPath: site.client, toPath: control)
    try pull(control, failingSpawn: 7).requireSuccess("a pull whose 7th curl would fail")
    #expect(Rel.storeKeys(control) == [key])

    let run = try pull(site.client, failingSpawn: 6)
    #expect(run.status == 8, "\(run)")
    #expect(Gen.isOneLineError(run.stderrText), "\(run.stderrText)")
    #expect(run.stderrText.contains("cannot start curl"), "\(run.stderrText)")
    #expect(Rel.storeKeys(site.client).isEmpty)
    let partial = site.trusted + "/partial/objects"
    let left = ((try? FileManager.default.contentsOfDirectory(atPath: partial)) ?? []).filter { $0.hasPrefix(".tmp-") }
    #expect(left.isEmpty, "temporaries of the first curl left: \(left.count)")
    #expect(curlProcesses(containing: site.url).isEmpty, "a curl of the batch still runs")
    try site.pull(["pull", "origin"]).requireSuccess("the pull again")
    #expect(Rel.storeKeys(site.client) == [key])
    try Rel.expectSoundRoot(site.client, outputIn: site.scratch.path, "after the pull again")
  }

  @Test("a 404 or a 500 on timestamp, snapshot, targets, the manifest or an object: exit 8, one error line, trusted state kept, nothing stored")
  func serverErrors() throws {
    let site = try SrvSite(faults: true)
    defer { site.stop() }
    let (first, second) = try site.updatePending()
    let newObject = try SrvSite.sha256(site.scratch.at("mcp-1.1/data/f0"))
    let trustedBefore = site.trustedFiles()
    #expect(trustedBefore.keys.sorted() == ["remote.json", "root.json", "snapshot.json", "targets.json", "timestamp.json"])

    // In the workflow's order. A role that passed every check before the failing one is trusted
    // from then on (the specification's workflow persists each as it is verified), byte for byte
    // as served; the failing role and those after it keep their old trusted copies.
    let roles = ["timestamp.json", "snapshot.json", "targets.json"]
    let cases: [(what: String, substring: String, failsAt: Int)] = [
      ("timestamp", "/metadata/timestamp.json", 0), ("snapshot", ".snapshot.json", 1),
      ("targets", ".targets.json", 2), ("manifest", "/targets/releases/", 3),
      ("object", "/objects/" + newObject.prefix(2) + "/" + newObject.dropFirst(2), 3),
    ]
    for c in cases {
      for status in ["404", "500"] {
        try site.fault!.setRules([(c.substring, status)])
        let before = site.fault!.requests().count
        let run = try site.pull(["pull", "origin", "--switch"])
        let context = "\(status) on \(c.what)"
        #expect(run.status == 8, "\(context): \(run)")
        #expect(Gen.isOneLineError(run.stderrText), "\(context): \(run.stderrText)")
        #expect(site.fault!.requests().dropFirst(before).contains { $0.contains(c.substring) }, "\(context): never asked for")
        #expect(Rel.storeKeys(site.client) == [first], "\(context)")
        #expect(site.currentKey() == first, "\(context)")
        let trusted = site.trustedFiles()
        #expect(trusted["root.json"] == trustedBefore["root.json"], "\(context)")
        #expect(trusted["remote.json"] == trustedBefore["remote.json"], "\(context)")
        for (index, name) in roles.enumerated() {
          let served = index == 0 ? name : try Self.newest(name, in: site.remoteDirectory + "/metadata")
          let expected = index < c.failsAt ? FileManager.default.contents(atPath: site.remoteDirectory + "/metadata/" + served) : trustedBefore[name]
          #expect(trusted[name] == expected, "\(context): \(name)")
        }
        try Rel.expectSoundRoot(site.client, outputIn: site.scratch.path, context)
      }
    }
    try site.fault!.setRules([])
    try site.pull(["pull", "origin", "--switch"]).requireSuccess("pull once the server is well")
    #expect(site.currentKey() == second)
  }

  @Test("a tampered object or manifest served: exit 7, one error line, nothing stored or switched")
  func tampered() throws {
    let site = try SrvSite(faults: true)
    defer { site.stop() }
    let (first, second) = try site.updatePending()
    let object = try SrvSite.sha256(site.scratch.at("mcp-1.1/data/f3"))
    // "wrong": the right length, every byte flipped.
    for (what, substring) in [("object", String(object.dropFirst(2))), ("manifest", "/targets/releases/")] {
      try site.fault!.setRules([(substring, "wrong")])
      let run = try site.pull(["pull", "origin", "--switch"])
      #expect(run.status == 7, "tampered \(what): \(run)")
      #expect(Gen.isOneLineError(run.stderrText), "tampered \(what): \(run.stderrText)")
      #expect(Rel.storeKeys(site.client) == [first], "tampered \(what)")
      #expect(site.currentKey() == first, "tampered \(what)")
      #expect(!FileManager.default.fileExists(atPath: site.trusted + "/partial/objects/" + object), "tampered \(what)")
      #expect(!FileManager.default.fileExists(atPath: site.trusted + "/partial/tree/data/f3"), "tampered \(what): kept at its place in the tree")
      try Rel.expectSoundRoot(site.client, outputIn: site.scratch.path, "tampered \(what)")
    }
    try site.fault!.setRules([])
    try site.pull(["pull", "origin", "--switch"]).requireSuccess("pull of the genuine release")
    #expect(site.currentKey() == second)
  }

  @Test("the server publishing while the client pulls: every pull ends in an old or a new release, without an error")
  func publishWhilePulling() throws {
    let site = try SrvSite()
    defer { site.stop() }
    var published = [try site.publish("mcp-1", version: "1")]
    try site.addRemote()
    try site.pull(["pull", "origin", "--switch"]).requireSuccess("first pull")
    // The trees first, so that the loop beside the pulls only adds and publishes.
    let count = 6
    for n in 2...count { _ = try site.publisher.release("mcp-\(n)", version: "\(n)", files: 20, seed: "r\(n) ") }
    let script = (2...count).map { n in
      let args = site.publisher.publishArguments("\(n)") + ["--root", site.publisher.root]
      return "\"$0\" add \(site.scratch.at("mcp-\(n)")) --label \(n) --root \(site.publisher.root) >/dev/null || exit 1\n"
        + "\"$0\" " + args.joined(separator: " ") + " >/dev/null || exit 1\n"
    }.joined()
    let publishing = try Rel.spawn(["-c", script, CLI.binary], outputIn: site.scratch.path, executable: "/bin/bash")
    var outcomes: [Int32] = []
    var pulledKeys: [String] = []
    repeat {
      let (run, json) = try site.pullJSON(["--switch"])
      outcomes.append(run.status)
      if run.status == 0, let key = json?["key"] as? String { pulledKeys.append(key) }
      // Every file but timestamp.json is written before the timestamp that names it and never
      // replaced, so the remote is whole at every instant: not even a retryable error (exit 8)
      // is expected here, though it would be a clean one.
      #expect(run.status == 0, "\(run)")
      #expect(Rel.stderrIsEmptyOrOneLineError(run.stderrText), "\(run.stderrText)")
    } while publishing.isRunning
    let done = publishing.finish(timeout: 300)
    #expect(done.status == 0, "the publishing loop: \(done)")
    let (last, json) = try site.pullJSON(["--switch"])
    #expect(last.status == 0, "\(last)")
    pulledKeys.append(json?["key"] as? String ?? "none")
    published = Rel.storeKeys(site.publisher.root)
    #expect(published.count == count)
    #expect(pulledKeys.allSatisfy { published.contains($0) }, "\(pulledKeys) not among \(published)")
    #expect(Set(Rel.storeKeys(site.client)).isSubset(of: Set(published)))
    #expect(outcomes.count >= 2, "pulls during the publishing: \(outcomes)")
    // The pulls beside the loop saw the remote change under them.
    #expect(Set(pulledKeys.dropLast()).count >= 2, "releases pulled during the publishing: \(pulledKeys)")
    // The last pull, after the loop, has the newest release (the highest sequence).
    let newest = try Oracle.key(site.scratch.at("mcp-\(count)"))
    #expect(pulledKeys.last == newest)
    #expect(site.currentKey() == newest)
    try Rel.expectSoundRoot(site.client, outputIn: site.scratch.path, "after pulls beside publishes")
  }

  /// `N.NAME` with the highest N in `directory` (for "snapshot.json": "7.snapshot.json").
  static func newest(_ name: String, in directory: String) throws -> String {
    let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix("." + name) }
    guard let best = names.max(by: { Int($0.split(separator: ".")[0]) ?? 0 < Int($1.split(separator: ".")[0]) ?? 0 }) else {
      throw E2EFailure("no \(name) in \(directory)")
    }
    return best
  }
}
