import MCPGenKit

/// The metadata the client trusts, and the checks of the specification's client workflow
/// (section 5) that decide what enters it. Only ever holds verified metadata; it does no I/O
/// (the `Updater` downloads and persists, after an update here returned).
///
/// Loading order is root, timestamp, snapshot, targets, delegated targets, as in python-tuf's
/// `TrustedMetadataSet`. Expired timestamp or snapshot metadata, and a snapshot whose version
/// does not match timestamp's, may be held as "intermediate" metadata: used only to check the
/// next version against (rollback protection), never to go on to the next role.
struct TrustedMetadataSet {
  /// The fixed update start time (section 5.1), seconds since the epoch.
  let now: Int64
  let verifier: any SignatureVerifying
  private(set) var root: TUFRoot
  private(set) var timestamp: TUFTimestamp?
  private(set) var snapshot: TUFSnapshot?
  /// Top-level `targets` and every delegated role loaded, by the bytes of the role name (String
  /// equality would merge canonically equivalent names: two roles, one trusted copy).
  private var targetsByRole: [[UInt8]: TUFTargets] = [:]

  func targets(_ role: String) -> TUFTargets? { targetsByRole[Array(role.utf8)] }

  /// Loads the trusted root, checked only against itself: it is where trust starts.
  init(root bytes: [UInt8], now: Int64, verifier: any SignatureVerifying) throws(MCPGenError) {
    self.now = now
    self.verifier = verifier
    let root = try TUFRoot(parsing: bytes, file: "trusted root.json")
    guard let self_ = root.delegation(for: "root") else { throw Untrusted.malformed("root.json", "no root role") }
    try ThresholdCheck.verify(root.envelope, role: "root", keys: self_.keys, role: self_.role, verifier: verifier, signer: "trusted root itself")
    self.root = root
  }

  /// Section 5.3.4 to 5.3.7: `bytes` as root version N+1, signed by a threshold of the trusted
  /// root's root keys and of its own. An expired intermediate root is fine (5.3.6).
  mutating func updateRoot(_ bytes: [UInt8], file: String) throws(MCPGenError) {
    precondition(timestamp == nil, "root is updated before timestamp")
    let new = try TUFRoot(parsing: bytes, file: file)
    let old = root.delegation(for: "root")!
    try ThresholdCheck.verify(new.envelope, role: "root", keys: old.keys, role: old.role, verifier: verifier, signer: "trusted root version \(root.version)")
    guard new.version == root.version + 1 else {
      throw Untrusted.error("\(file) says version \(new.version) where version \(root.version + 1) was expected (a rollback or a file renamed)")
    }
    let own = new.delegation(for: "root")!
    try ThresholdCheck.verify(new.envelope, role: "root", keys: own.keys, role: own.role, verifier: verifier, signer: "new root itself")
    root = new
  }

  /// Section 5.3.10: the final root must not be expired.
  func checkFinalRoot() throws(MCPGenError) {
    if root.envelope.isExpired(at: now) {
      throw Untrusted.error("root.json (version \(root.version)) expired at \(Clock.format(root.envelope.expires)), a possible freeze attack")
    }
  }

  enum TimestampUpdate { case replaced, sameVersion }

  /// Section 5.4: `bytes` as the new timestamp. Returns `.sameVersion` (nothing changes, and
  /// nothing is to be persisted) when it has the trusted version. Throws on an expired
  /// timestamp after holding it as intermediate metadata.
  @discardableResult
  mutating func updateTimestamp(_ bytes: [UInt8], file: String = "timestamp.json") throws(MCPGenError) -> TimestampUpdate {
    precondition(snapshot == nil, "timestamp is updated before snapshot")
    try checkFinalRoot()
    let new = try TUFTimestamp(parsing: bytes, file: file)
    let role = root.delegation(for: "timestamp")!
    try ThresholdCheck.verify(new.envelope, role: "timestamp", keys: role.keys, role: role.role, verifier: verifier, signer: "trusted root")
    if let old = timestamp {
      guard new.version >= old.version else {
        throw Untrusted.error("\(file) is version \(new.version), older than the trusted version \(old.version) (a rollback attack)")
      }
      // Equal: keep the trusted copy even if the content differs (5.4.3.1).
      if new.version == old.version { return .sameVersion }
      guard new.snapshotMeta.version >= old.snapshotMeta.version else {
        throw Untrusted.error(
          "\(file) names snapshot version \(new.snapshotMeta.version), older than the trusted \(old.snapshotMeta.version) (a rollback attack)")
      }
    }
    timestamp = new
    try checkFinalTimestamp()
    return .replaced
  }

  func checkFinalTimestamp() throws(MCPGenError) {
    let ts = timestamp!
    if ts.envelope.isExpired(at: now) {
      throw Untrusted.error("timestamp.json (version \(ts.version)) expired at \(Clock.format(ts.envelope.expires)), a possible freeze attack")
    }
  }

  /// Section 5.5: `bytes` as the new snapshot. `trustedCopy` is for the local file, which passed
  /// these checks when it was stored: its hashes are not held against the current timestamp, so
  /// it still serves for rollback protection after timestamp moved on.
  mutating func updateSnapshot(_ bytes: [UInt8], file: String, trustedCopy: Bool = false) throws(MCPGenError) {
    precondition(timestamp != nil && targetsByRole.isEmpty, "snapshot is updated after timestamp and before targets")
    try checkFinalTimestamp()
    let meta = timestamp!.snapshotMeta
    if !trustedCopy { try meta.verify(bytes, file: file) }
    let new = try TUFSnapshot(parsing: bytes, file: file)
    let role = root.delegation(for: "snapshot")!
    try ThresholdCheck.verify(new.envelope, role: "snapshot", keys: role.keys, role: role.role, verifier: verifier, signer: "trusted root")
    if let old = snapshot {
      for (name, info) in old.meta.sorted(by: { $0.key < $1.key }) {
        guard let newInfo = new.meta[name] else {
          throw Untrusted.error("\(file) no longer lists \(name), which the trusted snapshot lists")
        }
        guard newInfo.version >= info.version else {
          throw Untrusted.error("\(file) lists \(name) version \(newInfo.version), older than the trusted \(info.version) (a rollback attack)")
        }
      }
    }
    snapshot = new
    try checkFinalSnapshot()
  }

  func checkFinalSnapshot() throws(MCPGenError) {
    let s = snapshot!
    if s.envelope.isExpired(at: now) {
      throw Untrusted.error("snapshot.json (version \(s.version)) expired at \(Clock.format(s.envelope.expires)), a possible freeze attack")
    }
    let expected = timestamp!.snapshotMeta.version
    guard s.version == expected else {
      throw Untrusted.error("snapshot.json is version \(s.version) where timestamp.json names version \(expected) (a mix-and-match or rollback)")
    }
  }

  /// Section 5.6 (top-level, `delegator` "root") and the delegated roles of 5.6.7: `bytes` as
  /// the metadata of `role`, checked against snapshot's version and hashes and signed by a
  /// threshold of the keys `delegator` gives the role.
  mutating func updateTargets(_ bytes: [UInt8], role: String, delegator: String, file: String) throws(MCPGenError) {
    precondition(snapshot != nil, "targets are updated after snapshot")
    try checkFinalSnapshot()
    let keys: [String: TUFMetadataKey]
    let roleKeys: TUFRoleKeys
    if delegator == "root" {
      (keys, roleKeys) = root.delegation(for: role)!
    } else {
      guard let parent = targets(delegator), let delegations = parent.delegations,
        let delegated = delegations.role(named: role)
      else { preconditionFailure("a delegated role is loaded after its delegator") }
      (keys, roleKeys) = (delegations.keys, delegated.keys)
    }
    guard let meta = snapshot!.meta(forRole: role) else {
      throw Untrusted.error("snapshot.json does not list \(role).json, so no version of it can be trusted")
    }
    try meta.verify(bytes, file: file)
    let new = try TUFTargets(parsing: bytes, file: file)
    try ThresholdCheck.verify(new.envelope, role: role, keys: keys, role: roleKeys, verifier: verifier, signer: delegator == "root" ? "trusted root" : "delegating role \"\(delegator)\"")
    guard new.version == meta.version else {
      throw Untrusted.error("\(file) is version \(new.version) where snapshot.json names version \(meta.version) (a mix-and-match or rollback)")
    }
    if new.envelope.isExpired(at: now) {
      throw Untrusted.error("\(file) (version \(new.version)) expired at \(Clock.format(new.envelope.expires)), a possible freeze attack")
    }
    targetsByRole[Array(role.utf8)] = new
  }
}
