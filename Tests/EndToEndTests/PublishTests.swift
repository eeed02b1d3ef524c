import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// `mcp-gen key generate` and `mcp-gen publish`, judged by python-tuf: its Metadata API verifies
/// what the binary wrote, its ngclient downloads releases over HTTP.
@Suite("publish: remotes python-tuf accepts", .serialized, .enabled(if: PubPeer.available, "needs python-tuf (scripts/python-tuf.sh)"))
struct PublishTests {
  @Test("init, publish, refresh and rotate-root write metadata python-tuf's Metadata API verifies")
  func metadataVerifies() throws {
    let r = try PubRemote(rootKeys: ["root1", "root2"], threshold: 2)
    defer { r.remove() }
    var summary = try r.verify()
    #expect(summary["root"] as? Int == 1 && summary["timestamp"] as? Int == 1 && summary["rootThreshold"] as? Int == 2)
    #expect((summary["releases"] as? [String: Any])?.isEmpty == true)

    let rel = try r.release("rel1", version: "1.0", files: 5)
    let key = try r.ok(["hash", rel]).stdoutText.trimmingCharacters(in: .newlines)
    try r.ok(["add", rel])
    let published = try JSONSerialization.jsonObject(with: Data(try r.ok(r.publishArguments("1.0", channels: ["stable", "beta"]) + ["--json"]).stdout)) as? [String: Any]
    #expect(published?["key"] as? String == key)
    #expect(published?["newObjects"] as? Int == 6)  // VERSION and five files
    summary = try r.verify()
    let custom = (summary["releases"] as? [String: Any])?["releases/" + key] as? [String: Any]
    #expect(custom?["channels"] as? [String] == ["stable", "beta"])
    #expect(custom?["label"] as? String == "1.0")
    #expect(custom?["sequence"] as? Int == 1)
    #expect(custom?["size"] as? Int == 504)
    #expect(summary["targets"] as? Int == 2 && summary["snapshot"] as? Int == 2 && summary["timestamp"] as? Int == 2)

    try r.ok(["publish", r.remote, "--refresh", "--online-key", r.key("online"), "--timestamp-expires", "2h", "--snapshot-expires", "3d"])
    summary = try r.verify()
    #expect(summary["snapshot"] as? Int == 3 && summary["timestamp"] as? Int == 3 && summary["targets"] as? Int == 2)

    // Root rotation: old threshold (2) and new threshold (1) sign version 2.
    try r.ok(["key", "generate", r.key("root3")])
    let rotated = try r.run(["publish", r.remote, "--rotate-root", "--root-key", r.key("root1"), "--new-root-key", r.key("root3")])
    #expect(rotated.status == 1, "one of two old root keys is under the threshold: \(rotated.stderrText)")
    try r.ok(["publish", r.remote, "--rotate-root", "--root-key", r.key("root1"), "--root-key", r.key("root2"), "--new-root-key", r.key("root3"), "--new-threshold", "1"])
    summary = try r.verify()
    #expect(summary["root"] as? Int == 2 && summary["rootThreshold"] as? Int == 1)
    // A key that is not the remote's targets key is refused, and nothing is written.
    let before = try FileManager.default.contentsOfDirectory(atPath: r.remote + "/metadata").sorted()
    let wrong = try r.run(["publish", r.remote, "1.0", "--targets-key", r.key("online"), "--online-key", r.key("online")])
    #expect(wrong.status == 1 && wrong.stderrText.contains("is not a targets key"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: r.remote + "/metadata").sorted() == before)
  }

  @Test("python-tuf's ngclient downloads a published release over HTTP (nginx), also after a root rotation, and every object matches the manifest", .enabled(if: Nginx.isInstalled, "needs nginx"))
  func ngclientDownloads() throws {
    let r = try PubRemote()
    defer { r.remove() }
    let server = try Nginx(serving: r.remote)
    defer { server.stop() }
    let rel1 = try r.release("rel1", version: "1.0", files: 20, size: 3000)
    let key1 = try r.ok(["hash", rel1]).stdoutText.trimmingCharacters(in: .newlines)
    try r.ok(["add", rel1])
    try r.ok(r.publishArguments(key1))
    let client = r.scratch.at("client")
    func download(_ key: String) throws -> String {
      let out = try PubPeer.run(PubPeer.download, [server.url, r.remote + "/metadata/1.root.json", client + "/metadata", client + "/targets", "releases/" + key])
      guard out.status == 0 else { throw E2EFailure("ngclient failed: \(out.stderrText)") }
      return out.stdoutText.trimmingCharacters(in: .newlines)
    }
    #expect(try download(key1) == "ok 21 60004 1")

    // A new root (new key), then a second release: the client, trusting root 1, follows.
    try r.ok(["key", "generate", r.key("root2")])
    try r.ok(["publish", r.remote, "--rotate-root", "--root-key", r.key("root"), "--new-root-key", r.key("root2")])
    let rel2 = try r.release("rel2", version: "2.0", files: 20, size: 3000, seed: "v2 ")
    let key2 = try r.ok(["hash", rel2]).stdoutText.trimmingCharacters(in: .newlines)
    try r.ok(["add", rel2])
    try r.ok(r.publishArguments("2.0"))
    #expect(try download(key2) == "ok 21 60004 2")

    // New targets and online keys (what follows a leaked online key): root 3 lists them, and
    // targets, snapshot and timestamp are signed again with them; the client follows.
    try r.ok(["key", "generate", r.key("targets2")])
    try r.ok(["key", "generate", r.key("online2")])
    try r.ok(["publish", r.remote, "--rotate-root", "--root-key", r.key("root2"), "--new-targets-key", r.key("targets2"), "--new-online-key", r.key("online2")])
    let rel3 = try r.release("rel3", version: "3.0", files: 20, size: 3000, seed: "v3 ")
    let key3 = try r.ok(["hash", rel3]).stdoutText.trimmingCharacters(in: .newlines)
    try r.ok(["add", rel3])
    let old = try r.run(r.publishArguments("3.0"))
    #expect(old.status == 1, "the replaced keys sign nothing any more: \(old.stderrText)")
    try r.ok(["publish", r.remote, "3.0", "--targets-key", r.key("targets2"), "--online-key", r.key("online2")])
    #expect(try download(key3) == "ok 21 60004 3")

    // A tampered object is caught by the manifest check (the check can fail).
    let manifest = try Data(contentsOf: URL(fileURLWithPath: r.remote + "/targets/releases/\(key2).\(key2)"))
    let digest = String(decoding: manifest, as: UTF8.self).components(separatedBy: "\0").first { $0.contains(" data/f0") }!
      .split(separator: " ")[2]
    let object = r.remote + "/objects/\(digest.prefix(2))/\(digest.dropFirst(2))"
    chmod(object, 0o644)
    try Data("tampered".utf8).write(to: URL(fileURLWithPath: object))
    let refused = try PubPeer.run(PubPeer.download, [server.url, r.remote + "/metadata/1.root.json", client + "/metadata", client + "/targets", "releases/" + key2])
    #expect(refused.status != 0)
  }

  @Test("a second release that shares files adds only its new objects")
  func sharedObjects() throws {
    let r = try PubRemote()
    defer { r.remove() }
    let rel1 = try r.release("rel1", version: "1.0", files: 100, size: 10_000)
    try r.ok(["add", rel1])
    try r.ok(r.publishArguments("1.0"))
    let afterFirst = r.objectBytes()
    #expect(afterFirst == 100 * 10_000 + 4)
    // One file of 100 changes, and the version.
    let rel2 = try r.release("rel2", version: "1.1", files: 100, size: 10_000)
    try Data(String(repeating: "changed ", count: 1250).utf8).write(to: URL(fileURLWithPath: rel2 + "/data/f7"))
    try r.ok(["add", rel2])
    let out = try JSONSerialization.jsonObject(with: Data(try r.ok(r.publishArguments("1.1") + ["--json"]).stdout)) as? [String: Any]
    #expect(out?["objects"] as? Int == 101)
    #expect(out?["newObjects"] as? Int == 2)
    #expect(out?["newBytes"] as? Int == 10_000 + 4)
    #expect(r.objectBytes() - afterFirst == 10_004, "the remote grew by the changed file and VERSION only")
    #expect(out?["sequence"] as? Int == 2)
    _ = try r.verify()
  }

  @Test("a publish waits for another that holds .publish.lock, and gives up after --lock-timeout", .enabled(if: Rel.tool(["/usr/bin/flock", "/bin/flock"]) != nil, "needs flock from util-linux"))
  func lockSerializes() throws {
    let r = try PubRemote()
    defer { r.remove() }
    try r.ok(["add", try r.release("rel1", version: "1.0", files: 3)])
    let flock = Rel.tool(["/usr/bin/flock", "/bin/flock"])!
    // Another holder for 1.5 s.
    let holder = try Rel.spawn(["-x", r.remote + "/.publish.lock", "sleep", "1.5"], outputIn: r.scratch.path, executable: flock)
    Thread.sleep(forTimeInterval: 0.3)
    let impatient = try r.run(r.publishArguments("1.0") + ["--lock-timeout", "0.2"])
    #expect(impatient.status == 3, "lock timeout: \(impatient.stderrText)")
    let started = Date()
    try r.ok(r.publishArguments("1.0") + ["--lock-timeout", "20"])
    #expect(Date().timeIntervalSince(started) > 0.8, "the publish ran while the lock was held")
    _ = Rel.finish(holder)
    let summary = try r.verify()
    #expect(summary["timestamp"] as? Int == 2, "only the patient publish wrote")
  }

  @Test("a publish stopped by a failing rename, link, fsync or syncfs at any step leaves the old release served, and the next one completes")
  func failureAtEveryStep() throws {
    let r = try PubRemote()
    defer { r.remove() }
    try r.ok(["add", try r.release("rel0", version: "0.1", files: 3)])
    try r.ok(r.publishArguments("0.1"))
    // Files never replaced are linked in (linkat), timestamp.json renamed over (renameat).
    for (k, call) in ["renameat", "linkat", "fsync", "syncfs"].enumerated() {
      try r.ok(["add", try r.release("rel\(k + 1)", version: "1.\(k)", files: 3, seed: call)])
      let before = (try r.verify()["releases"] as? [String: Any])?.count ?? -1
      var failures = 0
      for n in 1...60 {
        let out = try CLI.run(r.publishArguments("1.\(k)") + ["--root", r.root], environment: ["MCP_GEN_FAULT": "\(call):EIO:\(n)"])
        let served = (try r.verify()["releases"] as? [String: Any])?.count ?? -1
        if out.status == 0 {
          #expect(served == before + 1, "\(call) #\(n): published, yet not served")
          break
        }
        failures += 1
        #expect(out.stderrText.hasPrefix("error: ") && !out.stderrText.contains("Fatal"), "\(call) #\(n): \(out.stderrText)")
        // A failure after the timestamp's rename would be the only way to serve the new one.
        #expect(served == before || (call == "fsync" && served == before + 1), "\(call) #\(n): \(before) releases before, \(served) after")
      }
      #expect(failures >= (call == "syncfs" ? 2 : 2), "\(call): the fault never hit the publish")
    }
  }

  @Test("a publish killed at any moment leaves the remote verifiable, serving the old release or the new one")
  func killDuringPublish() throws {
    let r = try PubRemote()
    defer { r.remove() }
    try r.ok(["add", try r.release("rel1", version: "1.0", files: 3)])
    try r.ok(r.publishArguments("1.0"))
    var sawOld = false
    for (n, delay) in [0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.8].enumerated() {
      let rel = try r.release("big\(n)", version: "2.\(n)", files: 400, size: 2000, seed: "\(n) ")
      try r.ok(["add", rel])
      let before = (try r.verify()["releases"] as? [String: Any])?.count ?? -1
      let child = try Rel.spawn(r.publishArguments("2.\(n)") + ["--root", r.root], outputIn: r.scratch.path)
      Thread.sleep(forTimeInterval: delay)
      child.child.kill()
      _ = Rel.finish(child)
      // python-tuf verifies signatures, versions, hashes and every object of every served release.
      let after = (try r.verify()["releases"] as? [String: Any])?.count ?? -1
      #expect(after == before || after == before + 1, "killed after \(delay) s: \(before) releases before, \(after) after")
      if after == before { sawOld = true }
      // The next publish works on whatever the kill left.
      try r.ok(r.publishArguments("2.\(n)"))
      #expect((try r.verify()["releases"] as? [String: Any])?.count == before + 1)
    }
    #expect(sawOld, "no kill landed before the timestamp was written: the test did not test anything")
  }
}

/// contrib/systemd/mcp-gen-publish-refresh.{service,timer}: they parse, and the service's command
/// line refreshes a remote and writes only inside it.
@Suite("publish: the refresh timer in contrib/systemd")
struct PublishRefreshUnitTests {
  static let directory = CLI.packageRoot + "/contrib/systemd"
  static let units = ["mcp-gen-publish-refresh.service", "mcp-gen-publish-refresh.timer"]

  @Test("systemd-analyze verify accepts both units (ExecStart pointed at the built binary)",
        .enabled(if: SystemdUnitTests.analyze != nil, "needs systemd-analyze"))
  func analyzeVerify() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    var paths: [String] = []
    for unit in Self.units {
      let text = try String(contentsOfFile: Self.directory + "/" + unit, encoding: .utf8)
      let path = scratch.at(unit)
      try text.replacingOccurrences(of: SystemdUnitTests.installedBinary, with: CLI.binary).write(toFile: path, atomically: true, encoding: .utf8)
      paths.append(path)
    }
    let out = try CLI.runProcess(SystemdUnitTests.analyze!, ["verify", "--man=no"] + paths, environment: ProcessInfo.processInfo.environment)
    #expect(out.status == 0 && out.stderrText.isEmpty, "\(out.stderrText)")
  }

  @Test("the timer runs within the timestamp's one-day validity; the service refreshes the remote it may write", .enabled(if: PubPeer.available, "needs python-tuf"))
  func refreshes() throws {
    let timer = try SystemdUnitTests.settings("mcp-gen-publish-refresh.timer")
    #expect(SystemdUnitTests.value(timer, "OnCalendar") == ["00/6:00"])
    #expect(SystemdUnitTests.value(timer, "Persistent") == ["true"])
    #expect(SystemdUnitTests.value(timer, "WantedBy") == ["timers.target"])
    let service = try SystemdUnitTests.settings("mcp-gen-publish-refresh.service")
    let exec = try #require(SystemdUnitTests.value(service, "ExecStart").first).split(separator: " ").map(String.init)
    #expect(exec.first == SystemdUnitTests.installedBinary)
    let remoteIndex = try #require(exec.firstIndex(of: "publish")) + 1
    #expect(SystemdUnitTests.value(service, "ReadWritePaths") == [exec[remoteIndex]])
    #expect(SystemdUnitTests.value(service, "SuccessExitStatus").isEmpty)

    let r = try PubRemote()
    defer { r.remove() }
    var arguments = Array(exec.dropFirst())
    arguments[remoteIndex - 1] = r.remote
    let keyIndex = try #require(arguments.firstIndex(of: "--online-key")) + 1
    arguments[keyIndex] = r.key("online")
    let before = try r.verify()
    let out = try CLI.run(arguments)
    #expect(out.status == 0, "\(arguments): \(out.stderrText)")
    let after = try r.verify()
    #expect(after["timestamp"] as? Int == (before["timestamp"] as? Int ?? 0) + 1)
    #expect(after["snapshot"] as? Int == (before["snapshot"] as? Int ?? 0) + 1)
  }
}
