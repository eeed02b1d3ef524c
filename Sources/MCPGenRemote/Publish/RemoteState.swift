import MCPGenKit
import MCPGenSystem

/// What the remote publishes now, read back by the publisher: the newest root, and the chain
/// timestamp -> snapshot -> targets that clients follow. A publish builds on this chain (not on
/// files a killed publish may have left beside it), and numbers new files above every version
/// present on disk, so no immutable file is ever written twice.
struct RemoteState {
  var rootVersion: Int64
  /// The newest root's "signed" object.
  var root: JSON
  var rootKeys: [String: TUFKey]
  var roles: [String: RoleKeys]

  var timestampVersion: Int64
  var snapshotVersion: Int64
  /// The snapshot's meta entry for targets.json (re-used by `--refresh`).
  var targetsMeta: JSON
  var targetsVersion: Int64
  /// The targets of the current targets metadata, in their order.
  var targets: [(String, JSON)]

  /// The highest versions on disk, published or left by a killed publish.
  var maxSnapshotOnDisk: Int64
  var maxTargetsOnDisk: Int64

  static func read(_ remote: RemoteDirectory) throws(MCPGenError) -> RemoteState {
    let rootVersions = try remote.versions(of: "root")
    guard let rootVersion = rootVersions.last else {
      throw MCPGenError(.integrity, "\(remote.path.displayString) has no root metadata; it is not a remote made by mcp-gen publish init", path: remote.path)
    }
    let root = try signed(remote, Array("\(rootVersion).root.json".utf8), type: "root")
    var rootKeys: [String: TUFKey] = [:]
    if case .object(let members)? = root["keys"] {
      for (id, object) in members { rootKeys[id] = try TUFKey(json: object, code: .integrity) }
    }
    var roles: [String: RoleKeys] = [:]
    if case .object(let members)? = root["roles"] {
      for (name, role) in members {
        let ids = (role["keyids"]?.arrayValue ?? []).compactMap(\.stringValue)
        roles[name] = RoleKeys(keyIDs: ids, threshold: Int(role["threshold"]?.intValue ?? 1))
      }
    }
    let timestamp = try signed(remote, RemoteDirectory.timestampName, type: "timestamp")
    guard let snapshotVersion = timestamp["meta"]?["snapshot.json"]?["version"]?.intValue,
      let timestampVersion = timestamp["version"]?.intValue
    else { throw malformed(remote, "timestamp.json") }
    let snapshot = try signed(remote, Array("\(snapshotVersion).snapshot.json".utf8), type: "snapshot")
    guard let targetsMeta = snapshot["meta"]?["targets.json"], let targetsVersion = targetsMeta["version"]?.intValue else {
      throw malformed(remote, "\(snapshotVersion).snapshot.json")
    }
    let targetsSigned = try signed(remote, Array("\(targetsVersion).targets.json".utf8), type: "targets")
    guard case .object(let targets)? = targetsSigned["targets"] else { throw malformed(remote, "\(targetsVersion).targets.json") }
    return RemoteState(
      rootVersion: rootVersion, root: root, rootKeys: rootKeys, roles: roles, timestampVersion: timestampVersion,
      snapshotVersion: snapshotVersion, targetsMeta: targetsMeta, targetsVersion: targetsVersion, targets: targets,
      maxSnapshotOnDisk: max(snapshotVersion, try remote.versions(of: "snapshot").last ?? 0),
      maxTargetsOnDisk: max(targetsVersion, try remote.versions(of: "targets").last ?? 0))
  }

  /// The "signed" object of metadata/`name`, which must have `_type` `type`.
  private static func signed(_ remote: RemoteDirectory, _ name: [UInt8], type: String) throws(MCPGenError) -> JSON {
    guard let bytes = try remote.read(remote.metadata, name) else {
      throw MCPGenError(.integrity, "metadata/\(displayName(name)) is missing from \(remote.path.displayString); the remote is damaged", path: remote.path)
    }
    guard let envelope = try? JSON(parsing: bytes), let signed = envelope["signed"], signed["_type"]?.stringValue == type else {
      throw malformed(remote, String(decoding: name, as: UTF8.self))
    }
    return signed
  }

  private static func malformed(_ remote: RemoteDirectory, _ name: String) -> MCPGenError {
    MCPGenError(.integrity, "metadata/\(name) of \(remote.path.displayString) is malformed; the remote is damaged", path: remote.path)
  }

  /// The highest `custom.sequence` of any target (0 when none).
  var highestSequence: Int64 {
    targets.compactMap { $0.1["custom"]?["sequence"]?.intValue }.max() ?? 0
  }

  /// Checks that `signers` meet `role`'s threshold with keys root lists for it.
  func check(_ signers: [TUFSigner], for role: String, option: String) throws(MCPGenError) {
    guard let keys = roles[role] else { throw MCPGenError(.integrity, "the root metadata has no \(role) role; the remote is damaged") }
    for signer in signers where !keys.keyIDs.contains(signer.keyID) {
      throw MCPGenError(.invalidInput, "the key given with \(option) (key id \(signer.keyID.prefix(16))) is not a \(role) key of this remote; give the \(role) key its root lists")
    }
    let distinct = Set(signers.map(\.keyID)).count
    guard distinct >= keys.threshold else {
      throw MCPGenError(.invalidInput, "the \(role) role needs \(keys.threshold) keys and \(distinct) were given; give more \(option) keys")
    }
  }
}
