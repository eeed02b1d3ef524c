import MCPGenKit
import SystemPackage

/// The TUF client: the specification's detailed client workflow (section 5) over a
/// `RemoteFetcher`, with the trusted metadata kept in a directory. What `pull` and the
/// conformance client (`mcp-gen-tuf-client`) use.
///
/// One `Updater` is one update cycle: "now" is fixed when it is made (section 5.1), `refresh`
/// runs once, and targets are then looked up and downloaded against that trusted state.
/// Failures are `.untrusted` (a check failed: nothing of that file was stored) or `.unreachable`
/// (a download failed: the trusted state is as it was).
public struct Updater: TrustedTargetSource {
  let directory: MetadataDirectory
  let metadataURL: String
  let targetsURL: String
  let fetcher: any RemoteFetcher
  let now: Int64
  let verifier: any SignatureVerifying
  public var limits: ClientLimits
  /// Whether the first next-root request takes `timestamp.json` along (`fetchInOrder`): one
  /// curl process instead of two when there is no new root, most of a pull where nothing
  /// changed. `pull` sets it. Off by default, so that a client under test (the conformance
  /// suite counts requests) asks for exactly the files of section 5, in its order.
  public var fetchesTimestampWithNextRoot = false
  var trusted: TrustedMetadataSet?

  /// `metadataURL` is the remote's `metadata/` URL and `targetsURL` its `targets/` URL (with or
  /// without a final "/"); `now` is the fixed update start time in seconds since the epoch.
  public init(metadataDirectory: FilePath, metadataURL: String, targetsURL: String, fetcher: any RemoteFetcher, now: Int64) {
    self.init(
      metadataDirectory: metadataDirectory, metadataURL: metadataURL, targetsURL: targetsURL, fetcher: fetcher, now: now,
      verifier: LibCryptoVerifier())
  }

  /// The same, with another signature verifier (tests of the workflow alone).
  init(metadataDirectory: FilePath, metadataURL: String, targetsURL: String, fetcher: any RemoteFetcher, now: Int64, verifier: any SignatureVerifying) {
    directory = MetadataDirectory(path: metadataDirectory)
    self.metadataURL = Updater.withoutTrailingSlash(metadataURL)
    self.targetsURL = Updater.withoutTrailingSlash(targetsURL)
    self.fetcher = fetcher
    self.now = now
    self.verifier = verifier
    limits = ClientLimits()
  }

  static func withoutTrailingSlash(_ url: String) -> String {
    var url = Substring(url)
    while url.hasSuffix("/") { url = url.dropLast() }
    return String(url)
  }

  /// The trusted root's version, once `refresh` loaded it.
  public var trustedRootVersion: Int64? { trusted?.root.version }

  // MARK: - Refresh (sections 5.2 to 5.6.6)

  public mutating func refresh() throws(MCPGenError) {
    guard let rootBytes = try directory.read("root.json") else {
      throw MCPGenError(
        .notFound, "there is no trusted root.json in \(directory.path.displayString); initialize it with a root obtained out of band",
        path: directory.path)
    }
    var set = try TrustedMetadataSet(root: rootBytes, now: now, verifier: verifier)
    let initialRoot = set.root
    trusted = set
    defer { trusted = set }

    var timestamp = try updateRoot(&set)
    try set.checkFinalRoot()
    // 5.3.11: after a rotation of the timestamp or snapshot keys, the trusted timestamp and
    // snapshot go, so that versions an attacker once pushed up (fast-forward) cannot block
    // the recovered repository.
    if initialRoot.keySet(of: "timestamp") != set.root.keySet(of: "timestamp")
      || initialRoot.keySet(of: "snapshot") != set.root.keySet(of: "snapshot")
    {
      try directory.remove("timestamp.json")
      try directory.remove("snapshot.json")
      timestamp = nil
    }
    try updateTimestamp(&set, fetched: timestamp)
    try updateSnapshot(&set)
    _ = try loadTargets(&set, role: "targets", delegator: "root")
  }

  /// 5.3: root versions N+1, N+2, ... until the server has no next one (404 or 403), each
  /// persisted as `root.json` once it passed. Returns the body of `timestamp.json` when it came
  /// right after a "no next root" (`fetchesTimestampWithNextRoot`), for 5.4 to check.
  func updateRoot(_ set: inout TrustedMetadataSet) throws(MCPGenError) -> [UInt8]? {
    let first = set.root.version + 1
    for version in first..<(first + Int64(limits.maxRootRotations)) {
      let name = "\(version).root.json"
      let url = "\(metadataURL)/\(name)"
      let bytes: [UInt8]
      do throws(FetchError) {
        if version == first && fetchesTimestampWithNextRoot {
          let answers = try fetcher.fetchInOrder([
            (url, limits.rootMaxLength), ("\(metadataURL)/timestamp.json", limits.timestampMaxLength),
          ])
          switch answers[0] {
          case .failure(.notFound):
            // A timestamp that did not arrive whole is asked for again by 5.4, with retries.
            return try? answers[1].get()
          case .success(let body):
            bytes = body  // A new root: the timestamp that came along was signed under the old one.
          case .failure(.unreachable), .failure(.status):
            bytes = try fetcher.fetch(url, maxLength: limits.rootMaxLength)  // With retries.
          case .failure(let error):
            throw error
          }
        } else {
          bytes = try fetcher.fetch(url, maxLength: limits.rootMaxLength)
        }
      } catch .notFound {
        return nil
      } catch {
        throw Updater.failure(error, file: name)
      }
      try set.updateRoot(bytes, file: name)
      try directory.write("root.json", bytes)
    }
    return nil
  }

  /// 5.4: the trusted timestamp (if any still verifies) then the remote one (`fetched`, when
  /// it came with the root requests).
  func updateTimestamp(_ set: inout TrustedMetadataSet, fetched: [UInt8]? = nil) throws(MCPGenError) {
    if let local = try directory.read("timestamp.json") {
      // Not valid any more (expired, keys rotated): it still serves as the version floor if it
      // verifies; otherwise it is ignored, as python-tuf does.
      _ = try? set.updateTimestamp(local, file: "trusted timestamp.json")
    }
    let bytes: [UInt8]
    if let fetched { bytes = fetched } else { bytes = try fetch("timestamp.json", maxLength: limits.timestampMaxLength) }
    if try set.updateTimestamp(bytes) == .replaced {
      try directory.write("timestamp.json", bytes)
    }
  }

  /// 5.5: the trusted snapshot when it is still the one timestamp names, else the remote one.
  func updateSnapshot(_ set: inout TrustedMetadataSet) throws(MCPGenError) {
    // An expired timestamp ends the cycle here, before any snapshot is read or fetched.
    try set.checkFinalTimestamp()
    if let local = try directory.read("snapshot.json") {
      do {
        try set.updateSnapshot(local, file: "trusted snapshot.json", trustedCopy: true)
        return
      } catch {
        // Outdated or no longer valid: the remote one is needed (and is checked against this
        // one for rollback if it verified).
      }
    }
    let meta = set.timestamp!.snapshotMeta
    let name = RoleFileName.remote("snapshot", version: set.root.consistentSnapshot ? meta.version : nil)
    let bytes = try fetch(name, maxLength: meta.length ?? limits.snapshotMaxLength)
    try set.updateSnapshot(bytes, file: name)
    try directory.write("snapshot.json", bytes)
  }

  /// 5.6 for `role`: the trusted copy when snapshot still names it, else the remote one.
  func loadTargets(_ set: inout TrustedMetadataSet, role: String, delegator: String) throws(MCPGenError) -> TUFTargets {
    if let loaded = set.targets(role) { return loaded }
    // An expired or mismatched snapshot ends the cycle here, before any targets are fetched.
    try set.checkFinalSnapshot()
    let local = RoleFileName.local(role)
    if let bytes = try directory.read(local) {
      do {
        try set.updateTargets(bytes, role: role, delegator: delegator, file: "trusted \(local)")
        return set.targets(role)!
      } catch {
        // Outdated or no longer valid: fetch the version snapshot names.
      }
    }
    guard let meta = set.snapshot!.meta(forRole: role) else {
      throw Untrusted.error("role \"\(role)\" is delegated but snapshot.json does not list \(role).json")
    }
    let name = RoleFileName.remote(role, version: set.root.consistentSnapshot ? meta.version : nil)
    let bytes = try fetch(name, maxLength: meta.length ?? limits.targetsMaxLength)
    try set.updateTargets(bytes, role: role, delegator: delegator, file: name)
    try directory.write(local, bytes)
    return set.targets(role)!
  }

  // MARK: - Targets (sections 5.6.7 and 5.7)

  /// 5.6.7: a pre-order depth-first search of the delegations, from the top-level targets role,
  /// visiting each role once and at most `limits.maxDelegations` roles.
  public mutating func target(named name: String) throws(MCPGenError) -> TrustedTarget? {
    if trusted?.targets("targets") == nil { try refresh() }
    var set = trusted!
    defer { trusted = set }
    var toVisit: [(role: String, delegator: String)] = [("targets", "root")]
    var visited = Set<[UInt8]>()  // bytes: see TrustedMetadataSet.targets
    while visited.count <= limits.maxDelegations, let (role, delegator) = toVisit.popLast() {
      if visited.contains(Array(role.utf8)) { continue }
      let metadata = try loadTargets(&set, role: role, delegator: delegator)
      if let found = metadata.target(name) { return found.trusted }
      visited.insert(Array(role.utf8))
      guard let delegations = metadata.delegations else { continue }
      var children: [(role: String, delegator: String)] = []
      for child in delegations.roles(for: name) {
        children.append((child.name, role))
        if child.terminating {
          // A terminating delegation ends the search below and beside it.
          toVisit.removeAll()
          break
        }
      }
      toVisit += children.reversed()
    }
    return nil
  }

  public func topLevelTargets() -> [TrustedTarget] {
    trusted?.targets("targets")?.targets.map(\.trusted) ?? []
  }

  /// 5.7: the target's bytes, downloaded up to its signed length and checked against its length
  /// and every signed hash. With consistent snapshots the served name is `<hash>.<basename>`.
  public func download(_ target: TrustedTarget) throws(MCPGenError) -> [UInt8] {
    guard let set = trusted, set.targets("targets") != nil else {
      throw MCPGenError(.invalidInput, "a target was asked for before the trusted metadata was refreshed; refresh first")
    }
    var path = target.name
    if set.root.consistentSnapshot {
      let hash = target.hashes["sha256"] ?? target.hashes["sha512"] ?? target.hashes.sorted { $0.key < $1.key }.first?.value ?? ""
      if let slash = path.lastIndex(of: "/") {
        path = "\(path[...slash])\(hash).\(path[path.index(after: slash)...])"
      } else {
        path = "\(hash).\(path)"
      }
    }
    let url = "\(targetsURL)/\(Updater.urlPath(path))"
    let bytes: [UInt8]
    do {
      bytes = try fetcher.fetch(url, maxLength: target.length)
    } catch {
      throw Updater.failure(error, file: "target \(target.name)")
    }
    guard bytes.count == target.length else {
      throw Untrusted.error("target \(target.name) is \(bytes.count) bytes where the signed metadata says \(target.length)")
    }
    try Hashes.verify(bytes, against: target.hashes, file: "target \(target.name)")
    return bytes
  }

  /// Whether `bytes` are `target` as signed (length and every hash): a copy already on disk
  /// need not be downloaded again.
  public static func matches(_ bytes: [UInt8], _ target: TrustedTarget) -> Bool {
    guard bytes.count == target.length else { return false }
    do {
      try Hashes.verify(bytes, against: target.hashes, file: target.name)
      return true
    } catch {
      return false
    }
  }

  // MARK: - Downloads

  func fetch(_ name: String, maxLength: Int) throws(MCPGenError) -> [UInt8] {
    do {
      return try fetcher.fetch("\(metadataURL)/\(name)", maxLength: maxLength)
    } catch {
      throw Updater.failure(error, file: name)
    }
  }

  /// A failed download as the client reports it. A body over its cap is the endless-data
  /// attack, a verification failure; every other failure leaves the trusted state as it was
  /// and may pass on retry.
  static func failure(_ error: FetchError, file: String) -> MCPGenError {
    switch error {
    case .notFound(let url):
      return MCPGenError(.unreachable, "the remote has no \(file) (\(url) answered 404 or 403); the trusted metadata was kept: check the remote URL, or retry after the publisher finished")
    case .status(let url, let code):
      return MCPGenError(.unreachable, "the remote answered HTTP \(code) for \(file) (\(url)); the trusted metadata was kept: retry later")
    case .tooLong(_, let limit):
      return Untrusted.error("\(file) is longer than the \(limit) bytes allowed for it (an endless-data attack or a wrong file)")
    case .unreachable(let url, let reason):
      return MCPGenError(.unreachable, "cannot download \(file) from \(url): \(reason); the trusted metadata was kept: check the network and retry")
    case .cancelled:
      return MCPGenError(.cancelled, "the download of \(file) was cancelled; the trusted metadata was kept: run the command again")
    }
  }

  /// A target path as a URL path: every byte but unreserved characters and "/" percent-encoded.
  static func urlPath(_ path: String) -> String {
    path.split(separator: "/", omittingEmptySubsequences: false).map { RoleFileName.encode(String($0)) }.joined(separator: "/")
  }
}
