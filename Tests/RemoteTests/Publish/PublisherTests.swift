import Foundation
import MCPGenKit
@testable import MCPGenRemote
import MCPGenSystem
import SystemPackage
import Testing

/// A temporary directory with a store holding releases, three keys and a remote.
final class PublishFixture {
  let scratch: Scratch
  var dir: String { scratch.path }
  let store: Store
  let root: TUFSigner
  let targets: TUFSigner
  let online: TUFSigner
  var remotePath: FilePath { FilePath(dir + "/remote") }

  init() throws {
    scratch = try Scratch()
    store = try Store.open(FilePath(scratch.path + "/root"), create: true)
    root = try TUFSigner(privateKey: try PrivateKey.generate())
    targets = try TUFSigner(privateKey: try PrivateKey.generate())
    online = try TUFSigner(privateKey: try PrivateKey.generate())
    _ = try Publisher.initialize(remotePath, rootKeys: [root], threshold: 1, targetsKey: targets, onlineKey: online)
  }

  /// Stores a tree of `files` files (contents depend on `seed`) and returns its key.
  func add(_ name: String, files: Int, seed: String = "") throws -> StoreKey {
    let tree = dir + "/" + name
    try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
    for k in 0..<files { try Data("\(seed) file \(k)\n".utf8).write(to: URL(fileURLWithPath: tree + "/f\(k)")) }
    return try store.add(FilePath(tree)).key
  }

  var publisher: Publisher { get throws { Publisher(remote: try RemoteDirectory.open(remotePath)) } }

  func publish(_ key: StoreKey, _ channels: [String] = []) throws -> Publisher.Published {
    try publisher.publish(key, from: store, channels: channels, targetsKey: targets, onlineKey: online)
  }

  func metadataNames() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir + "/remote/metadata").sorted() }

  /// The current targets' "custom" of each release, read back.
  func customs() throws -> [String: JSON] {
    let state = try RemoteState.read(try RemoteDirectory.open(remotePath))
    var out: [String: JSON] = [:]
    for (name, info) in state.targets { out[name] = info["custom"] }
    return out
  }

  /// The scratch's `remove()` clears the immutable flags of stored entries first.
  deinit { scratch.remove() }
}

@Suite("publisher")
struct PublisherTests {
  @Test("each publish gets a sequence one higher; versions rise; the manifest target is named by its hash")
  func sequenceAndVersions() throws {
    let f = try PublishFixture()
    let a = try f.add("a", files: 3, seed: "a")
    let b = try f.add("b", files: 3, seed: "b")
    let first = try f.publish(a)
    #expect(first.sequence == 1 && first.channels == ["stable"] && first.targetsVersion == 2 && first.timestampVersion == 2)
    let second = try f.publish(b, ["beta"])
    #expect(second.sequence == 2 && second.targetsVersion == 3 && second.snapshotVersion == 3 && second.timestampVersion == 3)
    #expect(FileManager.default.fileExists(atPath: f.dir + "/remote/targets/releases/\(b.hex).\(b.hex)"))
    let customs = try f.customs()
    #expect(customs["releases/\(a.hex)"]?["sequence"]?.intValue == 1)
    #expect(customs["releases/\(b.hex)"]?["channels"] == .array([.string("beta")]))
    #expect(customs["releases/\(b.hex)"]?["size"]?.intValue == Int64(try f.store.readManifest(b).byteCount))
    #expect(customs["releases/\(b.hex)"]?["label"] == nil)
  }

  @Test("a release published again keeps the channels it heads, and loses those that moved on")
  func republishChannels() throws {
    let f = try PublishFixture()
    let a = try f.add("a", files: 2, seed: "a")
    let b = try f.add("b", files: 2, seed: "b")
    _ = try f.publish(a, ["stable"])
    _ = try f.publish(b, ["stable"])
    // a again, on beta: stable has moved on to b, so a must not take it back with its new sequence.
    let again = try f.publish(a, ["beta"])
    #expect(again.channels == ["beta"])
    // b again, on beta: it heads stable, so it keeps it.
    let bAgain = try f.publish(b, ["beta"])
    #expect(Set(bAgain.channels) == ["beta", "stable"])
    #expect(Publisher.channelsHeaded(by: "releases/\(b.hex)", in: try RemoteState.read(try RemoteDirectory.open(f.remotePath)).targets) == ["beta", "stable"])
    // Rolling stable back to a: a gets stable with the highest sequence.
    let back = try f.publish(a, ["stable"])
    #expect(back.sequence == 5 && back.channels == ["stable"])
  }

  @Test("a key the root does not list for the role is refused and nothing is written")
  func wrongKeys() throws {
    let f = try PublishFixture()
    let a = try f.add("a", files: 1)
    let before = try f.metadataNames()
    #expect(throws: MCPGenError.self) { try f.publisher.publish(a, from: f.store, channels: [], targetsKey: f.online, onlineKey: f.online) }
    #expect(throws: MCPGenError.self) { try f.publisher.publish(a, from: f.store, channels: [], targetsKey: f.targets, onlineKey: f.targets) }
    #expect(throws: MCPGenError.self) { try f.publisher.refresh(onlineKey: f.root) }
    #expect(throws: MCPGenError.self) { try f.publisher.rotateRoot(oldRootKeys: [f.online], new: Publisher.NewKeys(root: [f.online], rootThreshold: nil)) }
    #expect(try f.metadataNames() == before)
    #expect(try FileManager.default.contentsOfDirectory(atPath: f.dir + "/remote/objects").isEmpty)
  }

  @Test("root rotation needs the old threshold, and the new threshold must be reachable")
  func rotationThresholds() throws {
    let f = try PublishFixture()
    let r2 = try TUFSigner(privateKey: try PrivateKey.generate())
    let r3 = try TUFSigner(privateKey: try PrivateKey.generate())
    #expect(throws: MCPGenError.self) { try f.publisher.rotateRoot(oldRootKeys: [f.root], new: Publisher.NewKeys(root: [r2], rootThreshold: 2)) }
    let v = try f.publisher.rotateRoot(oldRootKeys: [f.root], new: Publisher.NewKeys(root: [r2, r3], rootThreshold: 2))
    #expect(v.root == 2 && v.rootThreshold == 2)
    // Now two of the new keys are needed.
    #expect(throws: MCPGenError.self) { try f.publisher.rotateRoot(oldRootKeys: [r2], new: Publisher.NewKeys(root: [f.root], rootThreshold: 1)) }
    #expect(try f.publisher.rotateRoot(oldRootKeys: [r2, r3], new: Publisher.NewKeys(root: [f.root], rootThreshold: 1)).root == 3)
    let state = try RemoteState.read(try RemoteDirectory.open(f.remotePath))
    #expect(state.roles["root"] == RoleKeys(keyIDs: [f.root.keyID], threshold: 1))
    #expect(state.roles["targets"] == RoleKeys(keyIDs: [f.targets.keyID], threshold: 1))
    #expect(Set(state.rootKeys.keys) == [f.root.keyID, f.targets.keyID, f.online.keyID], "keys no role uses are dropped")
  }

  @Test("rotating the targets and online keys signs targets, snapshot and timestamp again with them; the old keys are refused after")
  func targetsAndOnlineRotation() throws {
    let f = try PublishFixture()
    let a = try f.add("a", files: 2)
    _ = try f.publish(a)
    let newTargets = try TUFSigner(privateKey: try PrivateKey.generate())
    let newOnline = try TUFSigner(privateKey: try PrivateKey.generate())
    // A new targets key alone needs the current online key to sign the new snapshot.
    #expect(throws: MCPGenError.self) { try f.publisher.rotateRoot(oldRootKeys: [f.root], new: Publisher.NewKeys(targets: newTargets)) }
    let before = try RemoteState.read(try RemoteDirectory.open(f.remotePath))
    let v = try f.publisher.rotateRoot(oldRootKeys: [f.root], new: Publisher.NewKeys(targets: newTargets, online: newOnline))
    #expect(v.root == 2 && v.targets == before.targetsVersion + 1 && v.snapshot == before.snapshotVersion + 1 && v.timestamp == before.timestampVersion + 1)
    let state = try RemoteState.read(try RemoteDirectory.open(f.remotePath))
    #expect(state.rootVersion == 2 && state.targetsVersion == v.targets && state.timestampVersion == v.timestamp)
    #expect(state.roles["root"] == RoleKeys(keyIDs: [f.root.keyID], threshold: 1))
    #expect(state.roles["targets"] == RoleKeys(keyIDs: [newTargets.keyID], threshold: 1))
    #expect(state.roles["snapshot"] == RoleKeys(keyIDs: [newOnline.keyID], threshold: 1))
    #expect(state.roles["timestamp"] == RoleKeys(keyIDs: [newOnline.keyID], threshold: 1))
    #expect(Set(state.rootKeys.keys) == [f.root.keyID, newTargets.keyID, newOnline.keyID], "the old targets and online keys are dropped")
    #expect(state.targets.map(\.0) == before.targets.map(\.0), "the same releases, signed again")
    // The old keys no longer sign anything; the new ones do.
    #expect(throws: MCPGenError.self) { try f.publisher.refresh(onlineKey: f.online) }
    #expect(throws: MCPGenError.self) { try f.publisher.publish(a, from: f.store, channels: [], targetsKey: f.targets, onlineKey: newOnline) }
    #expect(try f.publisher.refresh(onlineKey: newOnline).timestamp == v.timestamp + 1)
    #expect(try f.publisher.publish(a, from: f.store, channels: ["beta"], targetsKey: newTargets, onlineKey: newOnline).targetsVersion == v.targets + 1)
  }

  @Test("files a killed publish left are never overwritten: versions continue above them")
  func orphansAreSkipped() throws {
    let f = try PublishFixture()
    let a = try f.add("a", files: 1)
    // What a publish killed after its targets and snapshot, before the timestamp, leaves.
    try Data("{}".utf8).write(to: URL(fileURLWithPath: f.dir + "/remote/metadata/2.targets.json"))
    try Data("{}".utf8).write(to: URL(fileURLWithPath: f.dir + "/remote/metadata/2.snapshot.json"))
    let p = try f.publish(a)
    #expect(p.targetsVersion == 3 && p.snapshotVersion == 3 && p.timestampVersion == 2)
    #expect(try Data(contentsOf: URL(fileURLWithPath: f.dir + "/remote/metadata/2.targets.json")) == Data("{}".utf8))
  }

  @Test("a stored file that no longer matches its manifest is refused: no object, no metadata, no temporary", .enabled(if: access("/usr/bin/chattr", X_OK) == 0))
  func corruptStoreRefused() throws {
    let f = try PublishFixture()
    let a = try f.add("a", files: 3, seed: "x")
    let file = f.store.entryPath(a).string + "/f1"
    try ProcessRunner.run("/bin/sh", ["-c", "chattr -f -i \"$1\" \"$(dirname \"$1\")\"; chmod u+w \"$1\"; echo bad > \"$1\"", "sh", file])
      .requireSuccess("corrupting \(file)")
    let before = try f.metadataNames()
    do {
      _ = try f.publish(a)
      Issue.record("published a corrupted release")
    } catch let error as MCPGenError {
      #expect(error.code == .integrity)
    }
    #expect(try f.metadataNames() == before)
    let leftovers = FileManager.default.enumerator(atPath: f.dir + "/remote/objects")?.allObjects.compactMap { $0 as? String }.filter { $0.contains(".tmp-") || $0.count > 3 } ?? []
    #expect(leftovers.isEmpty, "\(leftovers)")
  }

  @Test("init refuses a directory that holds a remote already; key files are never overwritten")
  func noOverwrites() throws {
    let f = try PublishFixture()
    #expect(throws: MCPGenError.self) { try Publisher.initialize(f.remotePath, rootKeys: [f.root], threshold: 1, targetsKey: f.targets, onlineKey: f.online) }
    let path = FilePath(f.dir + "/k")
    let signer = try KeyFile.generate(path)
    let st = try FileManager.default.attributesOfItem(atPath: f.dir + "/k")
    #expect((st[.posixPermissions] as? Int) == 0o600)
    #expect(try KeyFile.load(path).keyID == signer.keyID)
    let pub = try JSON(parsing: Array(try Data(contentsOf: URL(fileURLWithPath: f.dir + "/k.pub"))))
    #expect(try TUFKey(json: pub).keyID == signer.keyID)
    #expect(throws: MCPGenError.self) { try KeyFile.generate(path) }
    #expect(try KeyFile.load(path).keyID == signer.keyID)
    try Data("not a key".utf8).write(to: URL(fileURLWithPath: f.dir + "/bad"))
    #expect(throws: MCPGenError.self) { try KeyFile.load(FilePath(f.dir + "/bad")) }
  }

  @Test("a single-file release publishes its one object")
  func singleFile() throws {
    let f = try PublishFixture()
    let file = f.dir + "/tool"
    try Data("#!/bin/sh\necho tool\n".utf8).write(to: URL(fileURLWithPath: file))
    let key = try f.store.add(FilePath(file)).key
    let p = try f.publish(key)
    #expect(p.objects == 1 && p.addedObjects == 1)
    let digest = try #require(try f.store.readManifest(key).entries.first?.digest).description
    let object = f.dir + "/remote/objects/\(digest.prefix(2))/\(digest.dropFirst(2))"
    #expect(FileManager.default.contents(atPath: object) == Data("#!/bin/sh\necho tool\n".utf8))
  }

  @Test("init finishes over what a killed init left (no timestamp.json yet)")
  func initAfterKilledInit() throws {
    let f = try PublishFixture()
    let other = FilePath(f.dir + "/other")
    _ = try Publisher.initialize(other, rootKeys: [f.root], threshold: 1, targetsKey: f.targets, onlineKey: f.online)
    try FileManager.default.removeItem(atPath: f.dir + "/other/metadata/timestamp.json")
    let v = try Publisher.initialize(other, rootKeys: [f.targets], threshold: 1, targetsKey: f.targets, onlineKey: f.online)
    #expect(v.timestamp == 1)
    let state = try RemoteState.read(try RemoteDirectory.open(other))
    #expect(state.roles["root"]?.keyIDs == [f.targets.keyID], "the new init's root replaced the unfinished one")
  }
}
