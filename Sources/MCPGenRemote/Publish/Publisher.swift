import MCPGenKit
import MCPGenSystem
import SystemPackage

/// Writes a remote (store-layout.md section 14): its first root, releases, refreshed snapshot
/// and timestamp, and new roots. Every operation but `initialize` holds `.publish.lock`.
///
/// Order of writes for a release: objects, the manifest target, `N.targets.json`,
/// `N.snapshot.json`, `timestamp.json` last, each durable before the next: a client reading the
/// remote at any moment sees the old release or the new one, never a mix.
public struct Publisher {
  public let remote: RemoteDirectory
  public var expiry: Expiry
  public var lockTimeout: Double
  /// Unix seconds the new metadata's expiry counts from.
  public var now: Int64

  public init(remote: RemoteDirectory, expiry: Expiry = Expiry(), lockTimeout: Double = 30, now: Int64 = Clock.now()) {
    self.remote = remote
    self.expiry = expiry
    self.lockTimeout = lockTimeout
    self.now = now
  }

  /// What `publish` reports.
  public struct Published: Sendable {
    public var key: StoreKey
    public var target: String
    public var channels: [String]
    public var label: String?
    public var sequence: Int64
    public var size: UInt64
    public var objects: Int
    public var addedObjects: Int
    public var addedBytes: UInt64
    public var targetsVersion: Int64
    public var snapshotVersion: Int64
    public var timestampVersion: Int64
  }

  /// The versions a refresh or a root rotation wrote.
  public struct Versions: Sendable {
    public var root: Int64
    /// The root role's threshold in that root.
    public var rootThreshold: Int = 1
    public var targets: Int64
    public var snapshot: Int64
    public var timestamp: Int64
  }

  // MARK: init

  /// Creates the remote at `path` with its first root (root keys with `threshold`, the targets
  /// key, the online key for snapshot and timestamp), an empty targets role, its snapshot and
  /// the timestamp.
  public static func initialize(
    _ path: FilePath, rootKeys: [TUFSigner], threshold: Int, targetsKey: TUFSigner, onlineKey: TUFSigner,
    expiry: Expiry = Expiry(), now: Int64 = Clock.now()
  ) throws(MCPGenError) -> Versions {
    let rootIDs = unique(rootKeys.map(\.keyID))
    guard !rootIDs.isEmpty, threshold >= 1, threshold <= rootIDs.count else {
      throw MCPGenError(.invalidInput, "--threshold \(threshold) needs at least that many distinct --root-key keys (\(rootIDs.count) given); give more root keys or a lower threshold")
    }
    let remote = try RemoteDirectory.create(path)
    let lock = try PublishLock.acquire(remote, timeout: 0)
    defer { withExtendedLifetime(lock) {} }
    // Again under the lock: another init may have finished since the check in create.
    try RemoteDirectory.refuseIfPublished(remote.root, path)
    let roles: [(String, RoleKeys)] = [
      ("root", RoleKeys(keyIDs: rootIDs, threshold: threshold)),
      ("snapshot", RoleKeys(keyIDs: [onlineKey.keyID], threshold: 1)),
      ("targets", RoleKeys(keyIDs: [targetsKey.keyID], threshold: 1)),
      ("timestamp", RoleKeys(keyIDs: [onlineKey.keyID], threshold: 1)),
    ]
    let keys = rootKeys.map(\.publicKey) + [targetsKey.publicKey, onlineKey.publicKey]
    let root = SignedMetadata.root(version: 1, expires: now + expiry.root, keys: keys, roles: roles)
    // Replacing: no client has seen any of these before timestamp.json, written last, exists.
    try remote.writeDurably(remote.metadata, Array("1.root.json".utf8), try SignedMetadata.file(root, signers: rootKeys), replace: true)
    let publisher = Publisher(remote: remote, expiry: expiry, now: now)
    let targets = try publisher.writeTargets(version: 1, targets: [], signer: targetsKey, replace: true)
    let (snapshot, timestamp) = try publisher.writeSnapshotAndTimestamp(
      snapshotVersion: 1, timestampVersion: 1, targetsMeta: targets, signer: onlineKey, replace: true)
    return Versions(root: 1, rootThreshold: threshold, targets: 1, snapshot: snapshot, timestamp: timestamp)
  }

  // MARK: publish

  /// Publishes the stored release `key` of `store` on `channels`.
  public func publish(_ key: StoreKey, from store: Store, channels: [String], targetsKey: TUFSigner, onlineKey: TUFSigner) throws(MCPGenError) -> Published {
    let channels = Publisher.unique(channels.isEmpty ? ["stable"] : channels)
    let manifest = try store.readManifest(key)
    let label = try store.labels()[key]?.text
    let lock = try PublishLock.acquire(remote, timeout: lockTimeout)
    defer { withExtendedLifetime(lock) {} }
    let state = try RemoteState.read(remote)
    try state.check([targetsKey], for: "targets", option: "--targets-key")
    try state.check([onlineKey], for: "snapshot", option: "--online-key")
    try state.check([onlineKey], for: "timestamp", option: "--online-key")

    // 1. Objects.
    let copied = try ObjectCopier(remote: remote).copy(manifest, key: key, store: store)
    // 2. The manifest target, named by its hash (consistent snapshots): `<K>.<K>`.
    let manifestBytes = manifest.serialized()
    let fileName = key.bytes + [0x2E] + key.bytes
    if try remote.read(remote.releases, fileName, limit: Int.max) != manifestBytes {
      try remote.writeDurably(remote.releases, fileName, manifestBytes, replace: true, mode: 0o444)
    }
    // 3. Targets, with this release's target highest in sequence.
    let name = "releases/\(key.hex)"
    let sequence = state.highestSequence + 1
    var targets = state.targets.filter { $0.0 != name }
    let kept = Publisher.channelsHeaded(by: name, in: state.targets)
    var custom: [(String, JSON)] = [("channels", .array(Publisher.unique(channels + kept).map { JSON.string($0) }))]
    if let label { custom.append(("label", .string(label))) }
    custom += [("sequence", .int(sequence)), ("size", .int(Int64(clamping: manifest.byteCount)))]
    targets.append((name, .object([
      ("custom", .object(custom)),
      ("hashes", .object([("sha256", .string(key.hex))])),
      ("length", .int(Int64(manifestBytes.count))),
    ])))
    let targetsVersion = state.maxTargetsOnDisk + 1
    let targetsMeta = try writeTargets(version: targetsVersion, targets: targets, signer: targetsKey)
    // 4. Snapshot, then the timestamp last.
    let (snapshot, timestamp) = try writeSnapshotAndTimestamp(
      snapshotVersion: state.maxSnapshotOnDisk + 1, timestampVersion: state.timestampVersion + 1, targetsMeta: targetsMeta, signer: onlineKey)
    return Published(
      key: key, target: name, channels: Publisher.unique(channels + kept), label: label, sequence: sequence, size: manifest.byteCount,
      objects: copied.objects, addedObjects: copied.added, addedBytes: copied.addedBytes, targetsVersion: targetsVersion,
      snapshotVersion: snapshot, timestampVersion: timestamp)
  }

  /// The channels whose newest release (highest sequence listing it) is `name`: a release
  /// published again keeps being what those channels mean, and stops meaning the others (it
  /// would otherwise, with its new sequence, take over channels that moved on to newer releases).
  static func channelsHeaded(by name: String, in targets: [(String, JSON)]) -> [String] {
    var head: [String: (Int64, String)] = [:]
    for (target, info) in targets {
      let sequence = info["custom"]?["sequence"]?.intValue ?? 0
      for channel in (info["custom"]?["channels"]?.arrayValue ?? []).compactMap(\.stringValue) where (head[channel]?.0 ?? Int64.min) < sequence {
        head[channel] = (sequence, target)
      }
    }
    return head.filter { $0.value.1 == name }.map(\.key).sorted()
  }

  // MARK: refresh

  /// Signs a new snapshot (same targets) and timestamp with fresh expiry dates: what a timer
  /// runs so that clients never see expired metadata.
  public func refresh(onlineKey: TUFSigner) throws(MCPGenError) -> Versions {
    let lock = try PublishLock.acquire(remote, timeout: lockTimeout)
    defer { withExtendedLifetime(lock) {} }
    let state = try RemoteState.read(remote)
    try state.check([onlineKey], for: "snapshot", option: "--online-key")
    try state.check([onlineKey], for: "timestamp", option: "--online-key")
    let (snapshot, timestamp) = try writeSnapshotAndTimestamp(
      snapshotVersion: state.maxSnapshotOnDisk + 1, timestampVersion: state.timestampVersion + 1, targetsMeta: state.targetsMeta,
      signer: onlineKey)
    return Versions(root: state.rootVersion, rootThreshold: state.roles["root"]?.threshold ?? 1, targets: state.targetsVersion, snapshot: snapshot, timestamp: timestamp)
  }

  // MARK: root rotation

  /// New keys for a root rotation; nil keeps the role's keys.
  public struct NewKeys {
    public var root: [TUFSigner]?
    public var rootThreshold: Int?
    public var targets: TUFSigner?
    /// Signs snapshot and timestamp.
    public var online: TUFSigner?
    public init(root: [TUFSigner]? = nil, rootThreshold: Int? = nil, targets: TUFSigner? = nil, online: TUFSigner? = nil) {
      (self.root, self.rootThreshold, self.targets, self.online) = (root, rootThreshold, targets, online)
    }
  }

  /// Writes root version N+1 with the `new` keys (roles not named keep theirs), signed by a
  /// threshold of the current root keys and of the new ones, as a client requires of each new
  /// root.
  ///
  /// A new targets or online key also re-signs what the old key signed, so that clients accept
  /// the remote under the new root: `<W+1>.targets.json` (same targets) with the new targets
  /// key, a snapshot and the timestamp with the new online key (else `onlineKey`, the current
  /// one). Order: targets, snapshot, root, timestamp last. A client reading between the root
  /// and the timestamp meets the old timestamp under the new root, refuses it (keeping its
  /// trusted state) and succeeds on its next pull.
  public func rotateRoot(oldRootKeys: [TUFSigner], new: NewKeys, onlineKey: TUFSigner? = nil) throws(MCPGenError) -> Versions {
    let lock = try PublishLock.acquire(remote, timeout: lockTimeout)
    defer { withExtendedLifetime(lock) {} }
    let state = try RemoteState.read(remote)
    try state.check(oldRootKeys, for: "root", option: "--root-key")
    let resignsOnline = new.targets != nil || new.online != nil
    let onlineSigner = new.online ?? onlineKey
    if resignsOnline && new.online == nil {
      guard let onlineKey else {
        throw MCPGenError(.invalidInput, "a new targets key needs snapshot and timestamp signed again: give --online-key (the current one) or --new-online-key")
      }
      try state.check([onlineKey], for: "snapshot", option: "--online-key")
      try state.check([onlineKey], for: "timestamp", option: "--online-key")
    }
    var roles: [(String, RoleKeys)] = []
    for name in ["root", "snapshot", "targets", "timestamp"] {
      guard let role = state.roles[name] else { throw MCPGenError(.integrity, "the root metadata has no \(name) role; the remote is damaged") }
      roles.append((name, role))
    }
    var newPublicKeys: [TUFKey] = []
    func replace(_ name: String, _ keys: RoleKeys) {
      roles = roles.map { $0.0 == name ? (name, keys) : $0 }
    }
    if let newRoot = new.root {
      let ids = Publisher.unique(newRoot.map(\.keyID))
      let threshold = new.rootThreshold ?? min(state.roles["root"]?.threshold ?? 1, ids.count)
      guard !ids.isEmpty, threshold >= 1, threshold <= ids.count else {
        throw MCPGenError(.invalidInput, "--new-threshold \(threshold) needs at least that many distinct --new-root-key keys (\(ids.count) given); give more keys or a lower threshold")
      }
      replace("root", RoleKeys(keyIDs: ids, threshold: threshold))
      newPublicKeys += newRoot.map(\.publicKey)
    }
    if let targets = new.targets {
      replace("targets", RoleKeys(keyIDs: [targets.keyID], threshold: 1))
      newPublicKeys.append(targets.publicKey)
    }
    if let online = new.online {
      replace("snapshot", RoleKeys(keyIDs: [online.keyID], threshold: 1))
      replace("timestamp", RoleKeys(keyIDs: [online.keyID], threshold: 1))
      newPublicKeys.append(online.publicKey)
    }
    // Keys of the current root some role still lists, then the new ones (each once).
    let usedIDs = Set(roles.flatMap(\.1.keyIDs))
    var keys = state.rootKeys.filter { usedIDs.contains($0.key) }.sorted { $0.key < $1.key }.map(\.value)
    var listed = Set(keys.map(\.keyID))
    for key in newPublicKeys where listed.insert(key.keyID).inserted { keys.append(key) }

    var versions = Versions(
      root: state.rootVersion + 1, rootThreshold: roles[0].1.threshold, targets: state.targetsVersion, snapshot: state.snapshotVersion,
      timestamp: state.timestampVersion)
    var snapshotFile: [UInt8]? = nil
    if resignsOnline, let onlineSigner {
      var targetsMeta = state.targetsMeta
      if let targets = new.targets {
        versions.targets = state.maxTargetsOnDisk + 1
        targetsMeta = try writeTargets(version: versions.targets, targets: state.targets, signer: targets)
      }
      versions.snapshot = state.maxSnapshotOnDisk + 1
      snapshotFile = try writeSnapshot(version: versions.snapshot, targetsMeta: targetsMeta, signer: onlineSigner)
    }
    let root = SignedMetadata.root(version: versions.root, expires: now + expiry.root, keys: keys, roles: roles)
    try remote.writeDurably(
      remote.metadata, Array("\(versions.root).root.json".utf8), try SignedMetadata.file(root, signers: oldRootKeys + (new.root ?? [])),
      replace: false)
    if let snapshotFile, let onlineSigner {
      versions.timestamp = state.timestampVersion + 1
      try writeTimestamp(version: versions.timestamp, snapshotVersion: versions.snapshot, snapshotFile: snapshotFile, signer: onlineSigner)
    }
    return versions
  }

  // MARK: writing roles

  /// Writes `<version>.targets.json`; returns its meta entry for the snapshot.
  func writeTargets(version: Int64, targets: [(String, JSON)], signer: TUFSigner, replace: Bool = false) throws(MCPGenError) -> JSON {
    let signed = JSON.object(SignedMetadata.header("targets", version: version, expires: now + expiry.targets) + [("targets", .object(targets))])
    let file = try SignedMetadata.file(signed, signers: [signer])
    try remote.writeDurably(remote.metadata, Array("\(version).targets.json".utf8), file, replace: replace)
    return SignedMetadata.metaEntry(version: version, file: file)
  }

  /// Writes `<snapshotVersion>.snapshot.json` listing `targetsMeta`, then `timestamp.json`.
  func writeSnapshotAndTimestamp(
    snapshotVersion: Int64, timestampVersion: Int64, targetsMeta: JSON, signer: TUFSigner, replace: Bool = false
  ) throws(MCPGenError) -> (Int64, Int64) {
    let snapshotFile = try writeSnapshot(version: snapshotVersion, targetsMeta: targetsMeta, signer: signer, replace: replace)
    try writeTimestamp(version: timestampVersion, snapshotVersion: snapshotVersion, snapshotFile: snapshotFile, signer: signer)
    return (snapshotVersion, timestampVersion)
  }

  /// Writes `<version>.snapshot.json` listing `targetsMeta`; returns the file.
  func writeSnapshot(version: Int64, targetsMeta: JSON, signer: TUFSigner, replace: Bool = false) throws(MCPGenError) -> [UInt8] {
    let snapshot = JSON.object(SignedMetadata.header("snapshot", version: version, expires: now + expiry.snapshot) + [
      ("meta", .object([("targets.json", targetsMeta)]))
    ])
    let file = try SignedMetadata.file(snapshot, signers: [signer])
    try remote.writeDurably(remote.metadata, Array("\(version).snapshot.json".utf8), file, replace: replace)
    return file
  }

  /// Replaces `timestamp.json` with one naming `snapshotFile`, version `snapshotVersion`.
  func writeTimestamp(version: Int64, snapshotVersion: Int64, snapshotFile: [UInt8], signer: TUFSigner) throws(MCPGenError) {
    let timestamp = JSON.object(SignedMetadata.header("timestamp", version: version, expires: now + expiry.timestamp) + [
      ("meta", .object([("snapshot.json", SignedMetadata.metaEntry(version: snapshotVersion, file: snapshotFile))]))
    ])
    try remote.writeDurably(remote.metadata, RemoteDirectory.timestampName, try SignedMetadata.file(timestamp, signers: [signer]), replace: true)
  }

  static func unique(_ items: [String]) -> [String] {
    var seen: Set<String> = []
    return items.filter { seen.insert($0).inserted }
  }
}
