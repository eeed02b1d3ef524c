import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit
import MCPGenRemote
import MCPGenSystem
import Synchronization
import SystemPackage
import Testing

/// The code of the `MCPGenError` `body` throws; nil when it throws nothing (or something else).
func errorCode(_ body: () throws -> Void) -> MCPGenError.Code? {
  do {
    try body()
    return nil
  } catch let e as MCPGenError {
    return e.code
  } catch {
    return nil
  }
}

@Suite("pull: verified releases from a remote")
struct PullTests {
  /// A release with a bit of everything: nested directories, an executable, an empty file, a
  /// symlink, and one content under two names with different execute bits.
  static let files: [String: String] = [
    "bin/tool*": "#!/bin/sh\necho tool\n", "share/a.txt": "alpha\n", "share/b.txt": "same\n",
    "share/run*": "same\n", "share/empty": "", "VERSION": "1.0\n",
  ]

  @Test("a full pull stores exactly the published release, downloading each content once")
  func fullPull() throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    let source = try f.scratch.release("r1", Self.files, symlinks: ["share/link": "a.txt"])
    let key = try f.remote.publish(source, label: "1.0")
    let fetcher = FileFetcher()

    let result = try f.pull(fetcher: fetcher)

    #expect(result.key == key)
    #expect(result.changed)
    #expect(!result.switched)
    #expect(result.label == "1.0")
    #expect(result.channel == "stable")
    #expect(try f.store.contains(key))
    #expect(try f.store.readManifest(key) == (try Store.hash(FilePath(source))))
    // bin/tool, a.txt, "same" (b.txt and run), VERSION: four contents; the empty file needs none.
    #expect(result.downloadedObjects == 4)
    #expect(fetcher.objectFetches.count == 4)
    #expect(result.copiedFiles == 0)
    #expect(!FileManager.default.fileExists(atPath: f.partial), "partial/ is removed after a pull")
    let run = try FileManager.default.attributesOfItem(atPath: f.scratch.at("root/store/\(key.hex)/share/run"))
    #expect((run[.posixPermissions] as? Int) == 0o555)
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: f.scratch.at("root/store/\(key.hex)/share/link")) == "a.txt")
  }

  @Test("a pull that starts its downloads' writeback before it assembles the tree stores the same release, audit clean")
  func writebackHeadStart() throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    let key = try f.remote.publish(try f.scratch.release("r1", Self.files), label: "1.0")
    var puller = f.puller(FileFetcher())
    puller.headStartBytes = 0
    let result = try puller.pull(PullRequest(remote: f.name, selector: .channel("stable"), switchAfter: false))
    #expect(result.key == key && result.downloadedObjects == 4)
    #expect(try Oracle.key(f.scratch.at("root/store/\(key.hex)")) == key.hex)
    #expect(try f.store.audit().problems.isEmpty)
  }

  @Test(
    "through the curl transport (one curl process for all objects, file://): a full pull, then a tampered object refused",
    .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")))
  func throughCurl() throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    var files: [String: String] = [:]
    for i in 0..<50 { files["lib/f\(i)"] = "file \(i)\n" + String(repeating: "y", count: i * 100) }
    let key = try f.remote.publish(try f.scratch.release("r1", files))
    let result = try f.pull(fetcher: try CurlFetcher())
    #expect(result.key == key)
    #expect(result.downloadedObjects == 50)
    #expect(try f.store.contains(key))

    files["lib/f7"] = "changed\n"
    let key2 = try f.remote.publish(try f.scratch.release("r2", files))
    try f.remote.replaceObject(SHA256.hash(Array("changed\n".utf8)), with: Array("chanGed\n".utf8))
    #expect(errorCode { _ = try f.pull(fetcher: try CurlFetcher()) } == .untrusted)
    #expect(try !f.store.contains(key2))
    // An object longer than its signed size is cut by the transport: refused too.
    try f.remote.replaceObject(SHA256.hash(Array("changed\n".utf8)), with: Array("changed\n and more".utf8))
    #expect(errorCode { _ = try f.pull(fetcher: try CurlFetcher()) } == .untrusted)
    try f.remote.replaceObject(SHA256.hash(Array("changed\n".utf8)), with: Array("changed\n".utf8))
    let fixed = try f.pull(fetcher: try CurlFetcher())
    #expect(fixed.key == key2)
    #expect(fixed.downloadedObjects == 1)
    // The 49 unchanged contents are shared with the stored release (hard links), by the refused
    // pulls and by this one alike: nothing of them is kept in partial/ or downloaded.
    #expect(fixed.resumedObjects == 0)
    #expect(fixed.copiedFiles == 49, "shared with the stored release")
  }

  @Test("a second pull of the same release changes nothing and downloads no object")
  func secondPullUnchanged() throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    let key = try f.remote.publish(try f.scratch.release("r1", Self.files))
    _ = try f.pull()
    let fetcher = FileFetcher()

    let again = try f.pull(fetcher: fetcher)

    #expect(again.key == key)
    #expect(!again.changed)
    #expect(again.downloadedObjects == 0)
    #expect(fetcher.fetched.isEmpty)
    #expect(again.json["changed"] == .bool(false))
  }

  @Test("a release that changes 1% of its files downloads only those; the rest is copied from the store")
  func onePercentChanged() throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    var files: [String: String] = [:]
    for i in 0..<100 { files["lib/f\(i).py"] = "content of file \(i)\n" + String(repeating: "x", count: i * 10) }
    _ = try f.remote.publish(try f.scratch.release("r1", files), label: "1")
    _ = try f.pull()
    files["lib/f42.py"] = "changed\n"
    let key2 = try f.remote.publish(try f.scratch.release("r2", files), label: "2")
    let fetcher = FileFetcher()

    let result = try f.pull(fetcher: fetcher)

    #expect(result.key == key2)
    #expect(result.downloadedObjects == 1)
    #expect(result.downloadedBytes == 8)
    #expect(fetcher.objectFetches == [f.remote.url + "/objects/" + objectPath("changed\n")])
    #expect(result.copiedFiles == 99)
    #expect(try f.store.contains(key2))
  }

  @Test("a tampered object is refused as untrusted: nothing stored, trusted state unchanged")
  func tamperedObject() throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    let source = try f.scratch.release("r1", Self.files)
    let key = try f.remote.publish(source)
    let digest = SHA256.hash(Array("alpha\n".utf8))
    try f.remote.replaceObject(digest, with: Array("alphA\n".utf8))
    let before = try f.trustedState()

    #expect(errorCode { _ = try f.pull() } == .untrusted)

    #expect(try !f.store.contains(key))
    #expect(try f.store.keys().isEmpty)
    #expect(try f.trustedState() == before)
    #expect(!FileManager.default.fileExists(atPath: f.partial + "/objects/" + digest.hexString(64)))
    let kept = (FileManager.default.subpaths(atPath: f.partial) ?? []).filter {
      (try? Data(contentsOf: URL(fileURLWithPath: f.partial + "/" + $0))) == Data("alphA\n".utf8)
    }
    #expect(kept.isEmpty, "the tampered bytes are kept in partial/: \(kept)")
  }

  @Test("a tampered manifest is refused as untrusted, by pull itself when the source hands it over")
  func tamperedManifest() throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    let key = try f.remote.publish(try f.scratch.release("r1", Self.files))
    var bytes = [UInt8](FileManager.default.contents(atPath: f.remote.manifestPath(key))!)
    bytes[bytes.count - 3] ^= 0x01  // one bit of the last name
    try Data(bytes).write(to: URL(fileURLWithPath: f.remote.manifestPath(key)))

    #expect(errorCode { _ = try f.pull(verifying: false) } == .untrusted)
    #expect(errorCode { _ = try f.pull(verifying: true) } == .untrusted)
    #expect(try f.store.keys().isEmpty)
  }

  @Test("a mirror that substitutes another release's objects or manifest is refused")
  func mirrorSubstitution() throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    _ = try f.remote.publish(try f.scratch.release("r1", ["VERSION": "1.0\n", "app.py": "old code\n"]), label: "1.0")
    let key2 = try f.remote.publish(try f.scratch.release("r2", ["VERSION": "2.0\n", "app.py": "new code\n"]), label: "2.0")
    // The mirror serves release 1's app.py where release 2's object should be.
    try f.remote.replaceObject(SHA256.hash(Array("new code\n".utf8)), with: Array("old code\n".utf8))
    #expect(errorCode { _ = try f.pull() } == .untrusted)
    #expect(try !f.store.contains(key2))

    // And release 1's manifest where release 2's should be.
    let g = try PullFixture()
    defer { g.scratch.remove() }
    let old = try g.remote.publish(try g.scratch.release("r1", ["VERSION": "1.0\n"]))
    let new = try g.remote.publish(try g.scratch.release("r2", ["VERSION": "2.0\n"]))
    try FileManager.default.removeItem(atPath: g.remote.manifestPath(new))
    try FileManager.default.copyItem(atPath: g.remote.manifestPath(old), toPath: g.remote.manifestPath(new))
    #expect(errorCode { _ = try g.pull(verifying: false) } == .untrusted)
    #expect(try g.store.keys().isEmpty)
  }

  static let hostilePaths: [[UInt8]] = [
    Array("../evil".utf8), Array("/etc/evil".utf8), Array("a/../../evil".utf8), Array("a//b".utf8),
    Array("./a".utf8), Array("a/".utf8), Array("".utf8),
  ]

  @Test("a manifest with a hostile path is refused before anything is written", arguments: PullTests.hostilePaths)
  func hostileManifestPath(path: [UInt8]) throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    let content = Array("evil\n".utf8)
    let digest = SHA256.hash(content).hexString(64)
    var manifest = Array("mcp-gen manifest 1\n".utf8) + Array("d 0 - .".utf8) + [0, 0]
    if path.starts(with: Array("a/".utf8)) { manifest += Array("d 0 - a".utf8) + [0, 0] }
    manifest += Array("f 5 \(digest) ".utf8) + path + [0, 0]
    try FileManager.default.createDirectory(atPath: (f.remote.objectPath(digest) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(content).write(to: URL(fileURLWithPath: f.remote.objectPath(digest)))
    try f.remote.publish(manifest: manifest, size: 5)

    #expect(errorCode { _ = try f.pull() } == .untrusted)
    #expect(try f.store.keys().isEmpty)
    #expect(!FileManager.default.fileExists(atPath: f.scratch.at("root/remotes/evil")))
    #expect(!FileManager.default.fileExists(atPath: f.scratch.at("evil")))
  }

  @Test("unsorted and duplicated records, and sizes that do not add up to the signed size, are refused")
  func hostileManifestStructure() throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    let d = SHA256.hash(Array("x".utf8)).hexString(64)
    let head = Array("mcp-gen manifest 1\n".utf8) + Array("d 0 - .".utf8) + [0, 0]
    let unsorted = head + Array("f 1 \(d) b".utf8) + [0, 0] + Array("f 1 \(d) a".utf8) + [0, 0]
    let duplicate = head + Array("f 1 \(d) a".utf8) + [0, 0] + Array("f 1 \(d) a".utf8) + [0, 0]
    let missized = head + Array("f 1 \(d) a".utf8) + [0, 0]
    try f.remote.publish(manifest: unsorted, channels: ["u"], size: 2)
    try f.remote.publish(manifest: duplicate, channels: ["d"], size: 2)
    try f.remote.publish(manifest: missized, channels: ["h"], size: 1 << 50)
    for channel in ["u", "d", "h"] {
      #expect(errorCode { _ = try f.pull(.channel(channel)) } == .untrusted, "channel \(channel)")
    }
    #expect(try f.store.keys().isEmpty)
  }

  @Test("a release whose assembled tree does not hash to the signed key is refused by the add, nothing stored")
  func assembledKeyMismatch() throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    // An empty file whose digest is not that of no bytes: the manifest parses, every object
    // verifies (there is none), but the tree made from it has another key.
    let wrong = SHA256.hash(Array("not empty".utf8)).hexString(64)
    let manifest = Array("mcp-gen manifest 1\n".utf8) + Array("d 0 - .".utf8) + [0, 0] + Array("f 0 \(wrong) empty".utf8) + [0, 0]
    let key = try f.remote.publish(manifest: manifest, size: 0)

    let error = #expect(throws: MCPGenError.self) { _ = try f.pull() }
    #expect(error?.code == .untrusted)
    #expect(error?.message.contains("not \(key.short) as signed") == true)
    #expect(try f.store.keys().isEmpty)
    #expect(try FileManager.default.contentsOfDirectory(atPath: f.scratch.at("root/store")).isEmpty, "the add's copy is removed")
  }

  @Test("a pull interrupted after some objects continues without downloading a verified object again")
  func resume() throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    var files: [String: String] = [:]
    for i in 0..<20 { files["f\(i)"] = "object \(i)\n" }
    let key = try f.remote.publish(try f.scratch.release("r1", files))
    let cut = FileFetcher(failAfter: 5)

    #expect(errorCode { _ = try f.pull(fetcher: cut) } == .unreachable)
    #expect(try !f.store.contains(key))
    // Each verified download is in the tree, at its first use; nothing else is.
    let verified = try FileManager.default.contentsOfDirectory(atPath: f.partial + "/tree").sorted()
    #expect(verified.count == 5)
    #expect(try FileManager.default.contentsOfDirectory(atPath: f.partial + "/objects").isEmpty, "no temporary is left")
    // A torn object (a power cut kept its name, not its data) is found and fetched again.
    let torn = f.partial + "/tree/" + verified[0]
    #expect(chmod(torn, 0o644) == 0)
    try Data("garbage".utf8).write(to: URL(fileURLWithPath: torn))

    let fetcher = FileFetcher()
    let result = try f.pull(fetcher: fetcher)

    #expect(result.key == key)
    #expect(result.resumedObjects == 4)
    #expect(result.downloadedObjects == 16)
    let again = Set(fetcher.objectFetches)
    for name in verified.dropFirst() {
      let digest = SHA256.hash(Array(files[name]!.utf8)).hexString(64)
      #expect(!again.contains(f.remote.url + "/objects/" + digest.prefix(2) + "/" + digest.dropFirst(2)))
    }
    #expect(try f.store.contains(key))
  }

  @Test("--release picks a release by its label or key prefix instead of the channel's newest")
  func releaseByLabel() throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    let k1 = try f.remote.publish(try f.scratch.release("r1", ["VERSION": "1.0\n"]), label: "1.0")
    let k2 = try f.remote.publish(try f.scratch.release("r2", ["VERSION": "2.0\n"]), label: "2.0")

    let byLabel = try f.pull(.release("1.0"))
    #expect(byLabel.key == k1)
    #expect(byLabel.channel == nil)
    #expect(try !f.store.contains(k2))
    #expect(try f.pull(.release(String(k2.hex.prefix(10)))).key == k2)
    #expect(errorCode { _ = try f.pull(.release("3.0")) } == .notFound)
  }

  @Test("a channel is its release with the highest sequence")
  func channelBySequence() throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    _ = try f.remote.publish(try f.scratch.release("a", ["v": "a"]), channels: ["stable"])
    _ = try f.remote.publish(try f.scratch.release("b", ["v": "b"]), channels: ["beta"])
    let c = try f.remote.publish(try f.scratch.release("c", ["v": "c"]), channels: ["stable", "beta"])
    let d = try f.remote.publish(try f.scratch.release("d", ["v": "d"]), channels: ["beta"])

    #expect(try f.pull(.channel("stable")).key == c)
    #expect(try f.pull(.channel("beta")).key == d)
    #expect(errorCode { _ = try f.pull(.channel("nightly")) } == .notFound)
  }

  @Test("--switch makes the pulled release current; pulling it again then changes nothing")
  func pullAndSwitch() throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    let key = try f.remote.publish(try f.scratch.release("r1", Self.files))

    let first = try f.pull(switching: true)
    #expect(first.changed && first.switched)
    #expect(try f.store.current().number.flatMap { try f.store.generation($0)?.key } == key)

    let again = try f.pull(switching: true)
    #expect(!again.changed && !again.switched)
  }

  @Test("the root's lock is held while objects download: another change (a gc, an add) waits for the pull")
  func lockHeldThroughout() throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    let key = try f.remote.publish(try f.scratch.release("r1", ["a": "a\n"]))
    let root = FilePath(f.scratch.at("root"))
    let seen = Mutex<[MCPGenError.Code?]>([])
    let fetcher = FileFetcher(beforeObject: {
      let other = try? Store.open(root, create: false, options: StoreOptions(lockTimeout: 0))
      let code = errorCode { try other?.withLock { () throws(MCPGenError) in } }
      seen.withLock { $0.append(code) }
    })

    #expect(try f.pull(fetcher: fetcher).key == key)
    #expect(seen.withLock { $0 } == [.lockTimeout])
    // And free again afterwards.
    #expect(errorCode { try Store.open(root, create: false, options: StoreOptions(lockTimeout: 0)).withLock { () throws(MCPGenError) in } } == nil)
  }

  @Test("gc leaves the partial/ of a running pull alone and removes a dead one's")
  func gcAndPartial() throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    var files: [String: String] = [:]
    for i in 0..<4 { files["f\(i)"] = "object \(i)\n" }
    _ = try f.remote.publish(try f.scratch.release("r1", files))
    #expect(errorCode { _ = try f.pull(fetcher: FileFetcher(failAfter: 2)) } == .unreachable)
    #expect(FileManager.default.fileExists(atPath: f.partial))

    // A running pull holds flock on partial/.
    let held = open(f.partial, O_RDONLY | O_DIRECTORY)
    #expect(flock(held, LOCK_EX) == 0)
    let whileHeld = try f.store.collectGarbage(keep: 5, dryRun: true)
    #expect(!whileHeld.leftovers.contains(Array("remotes/origin/partial".utf8)))
    close(held)

    let dry = try f.store.collectGarbage(keep: 5, dryRun: true)
    #expect(dry.leftovers.contains(Array("remotes/origin/partial".utf8)))
    let doctor = Doctor.examine(FilePath(f.scratch.at("root")), source: "test").first { $0.check == "leftovers" }
    #expect(doctor?.message.contains("remotes/origin/partial") == true, "\(String(describing: doctor))")
    let real = try f.store.collectGarbage(keep: 5)
    #expect(real.leftovers.contains(Array("remotes/origin/partial".utf8)))
    #expect(!FileManager.default.fileExists(atPath: f.partial))
    #expect(FileManager.default.fileExists(atPath: f.scratch.at("root/remotes/origin/root.json")))
  }

  @Test("pull --json has exactly the keys of its example in docs/json.md")
  func jsonShape() throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    try f.remote.publish(try f.scratch.release("r1", Self.files))
    let printed = try JSONSerialization.jsonObject(with: Data(try f.pull().json.serialized())) as! [String: Any]
    let documented = try docsExample("pull")
    #expect(Set(printed.keys) == Set(documented.keys))
    for key in ["downloaded", "copiedLocally"] {
      #expect(Set((printed[key] as! [String: Any]).keys) == Set((documented[key] as! [String: Any]).keys))
    }
  }
}

/// `<2 hex>/<62 hex>` of a content's SHA-256.
func objectPath(_ content: String) -> String {
  let hex = SHA256.hash(Array(content.utf8)).hexString(64)
  return hex.prefix(2) + "/" + hex.dropFirst(2)
}

/// The first ```json block under `## section` of docs/json.md.
func docsExample(_ section: String) throws -> [String: Any] {
  var url = URL(fileURLWithPath: #filePath)
  for _ in 0..<4 { url.deleteLastPathComponent() }
  let text = try String(contentsOfFile: url.path + "/docs/json.md", encoding: .utf8)
  guard let start = text.range(of: "\n## \(section)\n"),
    let open = text.range(of: "```json\n", range: start.upperBound..<text.endIndex),
    let close = text.range(of: "\n```", range: open.upperBound..<text.endIndex)
  else { throw TestFailure("docs/json.md has no example for \(section)") }
  return try JSONSerialization.jsonObject(with: Data(text[open.upperBound..<close.lowerBound].utf8)) as! [String: Any]
}
