import MCPGenKit

/// A target as a targets role signs it.
public struct TUFTargetFile: Sendable, Equatable {
  public var path: String
  public var length: Int
  public var hashes: [String: String]
  public var custom: JSON?

  static func parse(path: String, _ value: JSON, file: String) throws(MCPGenError) -> TUFTargetFile {
    let f = try JSONFields(value, file: file, context: "signed.targets.\(path)")
    let length = try f.int("length")
    guard length >= 0, length <= Int64(Int.max / 2) else { throw f.fail("\(f.context).length is out of range") }
    let hashes = try Hashes.parse(try f.object("hashes"))
    return TUFTargetFile(path: path, length: Int(length), hashes: hashes, custom: f.value("custom"))
  }

  public var trusted: TrustedTarget { TrustedTarget(name: path, length: length, hashes: hashes, custom: custom) }
}

/// `targets.json` or a delegated role's metadata: targets, and optionally delegations.
public struct TUFTargets: Sendable {
  public var envelope: TUFEnvelope
  /// In the order signed.
  public var targets: [TUFTargetFile]
  public var delegations: TUFDelegations?

  public init(parsing bytes: [UInt8], file: String) throws(MCPGenError) {
    let envelope = try TUFEnvelope(parsing: bytes, file: file, expectedType: "targets")
    let f = envelope.fields
    let targetsFields = try f.object("targets")
    var targets: [TUFTargetFile] = []
    targets.reserveCapacity(targetsFields.members.count)
    for (path, value) in targetsFields.members {
      targets.append(try TUFTargetFile.parse(path: path, value, file: file))
    }
    self.targets = targets
    if f.value("delegations") != nil {
      delegations = try TUFDelegations.parse(try f.object("delegations"))
    } else {
      delegations = nil
    }
    self.envelope = envelope
  }

  public var version: Int64 { envelope.version }

  /// The target whose path is `path` byte for byte (String equality would also match a
  /// canonically equivalent path that was never signed).
  public func target(_ path: String) -> TUFTargetFile? { targets.first { $0.path.utf8.elementsEqual(path.utf8) } }
}

/// A targets role's `delegations`: the keys, and either the roles in order of trust or TAP 15's
/// succinct hash bins (exactly one of the two, as python-tuf and go-tuf require).
public struct TUFDelegations: Sendable {
  public var keys: [String: TUFMetadataKey]
  public var roles: [TUFDelegatedRole]
  public var succinct: TUFSuccinctRoles?

  static func parse(_ f: JSONFields) throws(MCPGenError) -> TUFDelegations {
    let keys = try TUFMetadataKey.parseKeys(try f.object("keys"))
    let items = try f.optionalArray("roles")
    let succinct: TUFSuccinctRoles?
    if f.value("succinct_roles") != nil {
      succinct = try TUFSuccinctRoles.parse(try f.object("succinct_roles"))
    } else {
      succinct = nil
    }
    // With both, which one limits the targets a key may sign? Refusing beats guessing.
    guard (items == nil) != (succinct == nil) else {
      throw f.fail("\(f.context) must have exactly one of \"roles\" and \"succinct_roles\"")
    }
    var roles: [TUFDelegatedRole] = []
    var names = Set<String>()
    for item in items ?? [] {
      let role = try TUFDelegatedRole.parse(try JSONFields(item, file: f.file, context: "\(f.context).roles[]"))
      guard names.insert(role.name).inserted else { throw f.fail("\(f.context).roles names \"\(role.name)\" twice") }
      guard !TUFRoot.topLevelRoles.contains(role.name) else {
        throw f.fail("\(f.context).roles delegates to the top-level role name \"\(role.name)\"")
      }
      roles.append(role)
    }
    return TUFDelegations(keys: keys, roles: roles, succinct: succinct)
  }

  /// The delegated roles trusted for `target`, in order, each with whether it terminates the
  /// search (the specification's section 5.6.7.2). With succinct roles: the one bin the
  /// target's hash falls in, terminating (TAP 15: no other role may be trusted for it).
  func roles(for target: String) -> [TUFDelegatedRole] {
    if let succinct { return [succinct.role(named: succinct.roleName(for: target))] }
    return roles.filter { $0.isTrusted(for: target) }
  }

  /// The delegation of the role called `name` (byte for byte), if this delegates to it.
  func role(named name: String) -> TUFDelegatedRole? {
    if let succinct { return succinct.isDelegated(name) ? succinct.role(named: name) : nil }
    return roles.first { $0.name.utf8.elementsEqual(name.utf8) }
  }
}

/// TAP 15's succinct hash bin delegation: 2^bitLength roles `<namePrefix>-<bin>` (the bin in
/// lowercase hex, zero-padded to the width of the last bin), all with the same keys and
/// threshold; a target belongs to the bin numbered by the first bitLength bits of the SHA-256
/// of its path.
public struct TUFSuccinctRoles: Sendable, Equatable {
  public var keys: TUFRoleKeys
  public var bitLength: Int
  public var namePrefix: String

  static func parse(_ f: JSONFields) throws(MCPGenError) -> TUFSuccinctRoles {
    let keys = try TUFRoleKeys.parse(f)
    let bitLength = try f.int("bit_length")
    guard (1...32).contains(bitLength) else { throw f.fail("\(f.context).bit_length \(bitLength) is not between 1 and 32") }
    return TUFSuccinctRoles(keys: keys, bitLength: Int(bitLength), namePrefix: try f.string("name_prefix"))
  }

  /// Hex digits of a bin number: those of the last bin, 2^bitLength - 1.
  var suffixLength: Int { (bitLength + 3) / 4 }

  public func roleName(for target: String) -> String {
    let digest = Hashes.digest("sha256", Array(target.utf8)) ?? ""
    let first32 = UInt32(digest.prefix(8), radix: 16) ?? 0
    let bin = UInt64(first32) >> UInt64(32 - bitLength)
    let hex = String(bin, radix: 16)
    return "\(namePrefix)-\(String(repeating: "0", count: max(0, suffixLength - hex.count)))\(hex)"
  }

  /// Whether `name` is one of the bins: the prefix, a dash, and exactly `suffixLength`
  /// lowercase hex digits below 2^bitLength (the names `roleName(for:)` makes).
  public func isDelegated(_ name: String) -> Bool {
    let prefix = Array((namePrefix + "-").utf8)
    let bytes = Array(name.utf8)
    guard bytes.count == prefix.count + suffixLength, bytes.starts(with: prefix) else { return false }
    let suffix = bytes[prefix.count...]
    guard suffix.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }),
      let bin = UInt64(String(decoding: suffix, as: UTF8.self), radix: 16)
    else { return false }
    return bin < (UInt64(1) << UInt64(bitLength))
  }

  func role(named name: String) -> TUFDelegatedRole {
    TUFDelegatedRole(name: name, keys: keys, terminating: true, paths: nil, pathHashPrefixes: nil)
  }
}

/// One delegation: a role name, its keys and threshold, and the target paths it is trusted for.
public struct TUFDelegatedRole: Sendable, Equatable {
  public var name: String
  public var keys: TUFRoleKeys
  public var terminating: Bool
  public var paths: [String]?
  public var pathHashPrefixes: [String]?

  static func parse(_ f: JSONFields) throws(MCPGenError) -> TUFDelegatedRole {
    let name = try f.string("name")
    guard !name.isEmpty else { throw f.fail("\(f.context).name is empty") }
    let keys = try TUFRoleKeys.parse(f)
    // Required by the specification (4.5) and by python-tuf: a delegation that does not say
    // whether it ends the search would be read one way here and refused by the reference.
    let terminating = try f.bool("terminating")
    let paths = try f.optionalStrings("paths")
    let prefixes = try f.optionalStrings("path_hash_prefixes")
    // Exactly one of the two, as python-tuf requires: with both, which one limits the role?
    guard (paths == nil) != (prefixes == nil) else {
      throw f.fail("\(f.context) \"\(name)\" must have exactly one of paths and path_hash_prefixes")
    }
    return TUFDelegatedRole(name: name, keys: keys, terminating: terminating, paths: paths, pathHashPrefixes: prefixes)
  }

  /// Whether this role may sign `target`: a path pattern matches it, or the SHA-256 of the path
  /// starts with one of the hash prefixes.
  public func isTrusted(for target: String) -> Bool {
    if let paths { return paths.contains { PathPattern.matches(target: target, pattern: $0) } }
    if let pathHashPrefixes {
      let digest = Hashes.digest("sha256", Array(target.utf8)) ?? ""
      return pathHashPrefixes.contains { digest.hasPrefix($0) }
    }
    return false
  }
}
