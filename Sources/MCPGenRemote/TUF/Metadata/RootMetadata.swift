import MCPGenKit

/// `root.json`: the keys and thresholds of the four top-level roles.
public struct TUFRoot: Sendable {
  public var envelope: TUFEnvelope
  public var consistentSnapshot: Bool
  public var keys: [String: TUFMetadataKey]
  public var roles: [String: TUFRoleKeys]

  static let topLevelRoles: Set<String> = ["root", "timestamp", "snapshot", "targets"]

  public init(parsing bytes: [UInt8], file: String) throws(MCPGenError) {
    let envelope = try TUFEnvelope(parsing: bytes, file: file, expectedType: "root")
    let f = envelope.fields
    // Absent means false, as python-tuf reads it.
    consistentSnapshot = try f.optionalBool("consistent_snapshot") ?? false
    keys = try TUFMetadataKey.parseKeys(try f.object("keys"))
    let rolesFields = try f.object("roles")
    var roles: [String: TUFRoleKeys] = [:]
    for (name, value) in rolesFields.members {
      roles[name] = try TUFRoleKeys.parse(try JSONFields(value, file: file, context: "signed.roles.\(name)"))
    }
    guard Set(roles.keys) == TUFRoot.topLevelRoles else {
      throw f.fail("signed.roles must name exactly root, timestamp, snapshot and targets")
    }
    self.roles = roles
    self.envelope = envelope
  }

  public var version: Int64 { envelope.version }

  /// The keys and threshold of a top-level role, as a delegator hands them to the threshold check.
  func delegation(for role: String) -> (keys: [String: TUFMetadataKey], role: TUFRoleKeys)? {
    roles[role].map { (keys, $0) }
  }

  /// The role's keys as a comparable value: a rotation changes it (section 5.3.11).
  func keySet(of role: String) -> [String: String] {
    var out: [String: String] = [:]
    for id in roles[role]?.keyids ?? [] { out[id] = keys[id].map { "\($0.keytype) \($0.scheme) \($0.identity)" } ?? "" }
    return out
  }
}
