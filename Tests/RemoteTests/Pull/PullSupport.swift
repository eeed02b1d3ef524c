import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit
import MCPGenRemote
import MCPGenSystem
import Synchronization
import SystemPackage

/// Test doubles for `pull`: a remote laid out on disk as REMOTE-CONTRACT.md says (objects,
/// manifest targets), a `TrustedTargetSource` that serves its target list without TUF
/// signatures (what the real client hands out after verification), and a `RemoteFetcher` that
/// reads `file://` URLs from disk, counting what it was asked for.

/// A scratch directory on the build's file system (stored entries get `chattr +i` as root).
/// The shared `Scratch` (its `remove()` clears the inode flags first), with release trees.
final class PullScratch: @unchecked Sendable {
  let scratch: Scratch
  var path: String { scratch.path }

  init() throws {
    scratch = try Scratch()
    chmod(path, 0o755)
  }

  func at(_ relative: String) -> String { scratch.at(relative) }

  func remove() { scratch.remove() }

  /// Writes `files` (relative path to content; a path ending in `*` is executable, the star
  /// dropped) as a release tree at `name`.
  func release(_ name: String, _ files: [String: String], symlinks: [String: String] = [:]) throws -> String {
    let root = at(name)
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    for (path, content) in files {
      let executable = path.hasSuffix("*")
      let relative = executable ? String(path.dropLast()) : path
      let full = root + "/" + relative
      try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try Data(content.utf8).write(to: URL(fileURLWithPath: full))
      chmod(full, executable ? 0o755 : 0o644)
    }
    for (path, target) in symlinks {
      try FileManager.default.createSymbolicLink(atPath: root + "/" + path, withDestinationPath: target)
    }
    return root
  }
}

/// A remote directory (REMOTE-CONTRACT.md) that tests publish releases into, and the signed
/// target list a real TUF client would hand out for it.
final class TestRemote: @unchecked Sendable {
  let directory: String
  var url: String { "file://" + directory }
  private(set) var targets: [TrustedTarget] = []
  private var sequence: Int64 = 0

  init(at directory: String) throws {
    self.directory = directory
    try FileManager.default.createDirectory(atPath: directory + "/objects", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: directory + "/targets/releases", withIntermediateDirectories: true)
  }

  func objectPath(_ hex: String) -> String { directory + "/objects/" + hex.prefix(2) + "/" + hex.dropFirst(2) }
  func manifestPath(_ key: StoreKey) -> String { directory + "/targets/releases/\(key.hex).\(key.hex)" }

  /// Publishes the release at `source`: its objects, its manifest target, and a target entry
  /// with the next sequence number. Returns its key.
  @discardableResult
  func publish(_ source: String, channels: [String] = ["stable"], label: String? = nil) throws -> StoreKey {
    let manifest = try Store.hash(FilePath(source))
    try publish(manifest: manifest.serialized(), objectsFrom: source, manifest: manifest, channels: channels, label: label)
    return manifest.key
  }

  /// Publishes arbitrary manifest bytes (a hostile manifest) as a release target whose signed
  /// hash is their SHA-256, as a publisher's signature would make it.
  @discardableResult
  func publish(
    manifest bytes: [UInt8], objectsFrom source: String? = nil, manifest parsed: Manifest? = nil,
    channels: [String] = ["stable"], label: String? = nil, size: Int64? = nil
  ) throws -> StoreKey {
    let key = StoreKey(SHA256.hash(bytes))
    if let parsed, let source {
      for e in parsed.entries where e.kind.isRegularFile {
        let from = e.path == [0x2E] ? source : source + "/" + String(decoding: e.path, as: UTF8.self)
        let to = objectPath(e.digest!.hexString(64))
        try FileManager.default.createDirectory(atPath: (to as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: to) { try FileManager.default.copyItem(atPath: from, toPath: to) }
      }
    }
    try Data(bytes).write(to: URL(fileURLWithPath: manifestPath(key)))
    sequence += 1
    var custom: [(String, JSON)] = [("channels", .array(channels.map(JSON.string)))]
    if let label { custom.append(("label", .string(label))) }
    custom.append(("size", .int(size ?? Int64(parsed?.byteCount ?? 0))))
    custom.append(("sequence", .int(sequence)))
    targets.append(TrustedTarget(name: "releases/\(key.hex)", length: bytes.count, hashes: ["sha256": key.hex], custom: .object(custom)))
    return key
  }

  /// Overwrites an object's bytes on the remote (a tampered object or a lying mirror).
  func replaceObject(_ digest: Digest, with content: [UInt8]) throws {
    try Data(content).write(to: URL(fileURLWithPath: objectPath(digest.hexString(64))))
  }

  /// A source over the current target list.
  func source(verifying: Bool = true) -> DirectoryTargetSource {
    DirectoryTargetSource(remote: self, verifying: verifying)
  }

  /// A factory the `Puller` calls; `refreshes` counts calls of `refresh`.
  func factory(verifying: Bool = true, refreshes: CallCounter? = nil) -> TrustedSourceFactory {
    let remote = self
    return { _, _, _ throws(MCPGenError) -> any TrustedTargetSource in
      var s = DirectoryTargetSource(remote: remote, verifying: verifying)
      s.refreshes = refreshes
      return s
    }
  }
}

final class CallCounter: @unchecked Sendable {
  let value = Mutex(0)
  func add() { value.withLock { $0 += 1 } }
  var count: Int { value.withLock { $0 } }
}

/// What the real TUF client does for pull, minus the signatures: its targets, and a target's
/// bytes checked against the signed length and hashes (unless `verifying` is false, to show
/// that pull checks them itself too).
struct DirectoryTargetSource: TrustedTargetSource, @unchecked Sendable {
  let remote: TestRemote
  let verifying: Bool
  var refreshes: CallCounter?
  private var trusted: [TrustedTarget] = []

  init(remote: TestRemote, verifying: Bool) {
    self.remote = remote
    self.verifying = verifying
  }

  mutating func refresh() throws(MCPGenError) {
    refreshes?.add()
    trusted = remote.targets
  }

  mutating func target(named name: String) throws(MCPGenError) -> TrustedTarget? {
    trusted.first { $0.name == name }
  }

  func topLevelTargets() -> [TrustedTarget] { trusted }

  func download(_ target: TrustedTarget) throws(MCPGenError) -> [UInt8] {
    let hex = target.hashes["sha256"] ?? ""
    guard let data = FileManager.default.contents(atPath: remote.directory + "/targets/releases/\(hex).\(hex)") else {
      throw MCPGenError(.unreachable, "no target file")
    }
    let bytes = [UInt8](data)
    if verifying {
      guard bytes.count == target.length, SHA256.hash(bytes).hexString(64) == hex else {
        throw MCPGenError(.untrusted, "target \(target.name) does not match its signed length and hashes")
      }
    }
    return bytes
  }
}

/// Reads `file://` URLs from disk; logs every URL asked for. `failAfter`: the fetch after that
/// many object fetches fails as a cut connection would (an interrupted pull).
final class FileFetcher: RemoteFetcher, @unchecked Sendable {
  let log = Mutex<[String]>([])
  let failAfter: Int?
  /// Runs before every object fetch (on the fetching thread).
  let beforeObject: (@Sendable () -> Void)?

  init(failAfter: Int? = nil, beforeObject: (@Sendable () -> Void)? = nil) {
    self.failAfter = failAfter
    self.beforeObject = beforeObject
  }

  var fetched: [String] { log.withLock { $0 } }
  var objectFetches: [String] { fetched.filter { $0.contains("/objects/") } }

  func fetch(_ url: String, maxLength: Int) throws(FetchError) -> [UInt8] {
    let n = log.withLock { (l) -> Int in
      l.append(url)
      return l.filter { $0.contains("/objects/") }.count
    }
    if url.contains("/objects/") { beforeObject?() }
    if let failAfter, n > failAfter { throw .unreachable(url: url, reason: "connection cut (test)") }
    guard url.hasPrefix("file://") else { throw .unreachable(url: url, reason: "not a file URL") }
    guard let data = FileManager.default.contents(atPath: String(url.dropFirst(7))) else { throw .notFound(url: url) }
    guard data.count <= maxLength else { throw .tooLong(url: url, limit: maxLength) }
    return [UInt8](data)
  }
}

/// A root with the remote `origin` added (trusting a structural root document).
struct PullFixture {
  let scratch: PullScratch
  let store: Store
  let remote: TestRemote
  let name: RemoteName

  init() throws {
    scratch = try PullScratch()
    store = try Store.open(FilePath(scratch.at("root")), create: true)
    remote = try TestRemote(at: scratch.at("remote"))
    name = try RemoteName("origin")
    let trust = scratch.at("1.root.json")
    try Data(PullFixture.rootJSON.utf8).write(to: URL(fileURLWithPath: trust))
    try RemoteRegistry(store: store).add(name, url: try RemoteURL(remote.url), trust: FilePath(trust))
  }

  /// A TUF root signed by its own key (fixtures/remote/make-root.py made it).
  static let rootJSON: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { url.deleteLastPathComponent() }
    return (try? String(contentsOfFile: url.path + "/fixtures/remote/1.root.json", encoding: .utf8)) ?? ""
  }()

  func puller(_ fetcher: any RemoteFetcher, verifying: Bool = true, refreshes: CallCounter? = nil) -> Puller {
    Puller(store: store, fetcher: fetcher, makeSource: remote.factory(verifying: verifying, refreshes: refreshes))
  }

  func pull(
    _ selector: ReleaseSelector = .channel("stable"), fetcher: any RemoteFetcher = FileFetcher(), verifying: Bool = true,
    switching: Bool = false
  ) throws -> PullResult {
    try puller(fetcher, verifying: verifying).pull(PullRequest(remote: name, selector: selector, switchAfter: switching))
  }

  var partial: String { scratch.at("root/remotes/origin/partial") }

  /// Every file below `remotes/origin` but `partial/`, with its bytes: the trusted state.
  func trustedState() throws -> [String: Data] {
    var out: [String: Data] = [:]
    let base = scratch.at("root/remotes/origin")
    for name in try FileManager.default.contentsOfDirectory(atPath: base) where name != "partial" {
      out[name] = FileManager.default.contents(atPath: base + "/" + name)
    }
    return out
  }
}
