import MCPGenKit
import MCPGenSystem

/// Metadata as the publisher writes it: `{"signatures": [...], "signed": {...}}`, each signature
/// over the canonical JSON of "signed". The file itself is ordinary compact JSON, not canonical:
/// canonical JSON writes control characters raw (the newlines of a PEM key), which no strict
/// JSON parser, python's included, accepts.
enum SignedMetadata {
  /// The TUF specification version the publisher writes.
  static let specVersion = "1.0.31"

  /// The file bytes of `signed`, signed by each of `signers` (one signature per key id).
  static func file(_ signed: JSON, signers: [TUFSigner]) throws(MCPGenError) -> [UInt8] {
    let message = try canonical(signed)
    var seen: Set<String> = []
    var signatures: [JSON] = []
    for signer in signers where seen.insert(signer.keyID).inserted {
      signatures.append(try signer.sign(message))
    }
    return JSON.object([("signatures", .array(signatures)), ("signed", signed)]).serialized()
  }

  static func canonical(_ value: JSON) throws(MCPGenError) -> [UInt8] {
    do {
      return try CanonicalJSON.encode(value)
    } catch {
      throw MCPGenError(.invalidInput, "metadata cannot be written as canonical JSON (\(error.message)); use labels and channel names that are valid UTF-8")
    }
  }

  /// The members every role's "signed" object starts with.
  static func header(_ type: String, version: Int64, expires: Int64) -> [(String, JSON)] {
    [("_type", .string(type)), ("spec_version", .string(specVersion)), ("version", .int(version)), ("expires", .string(Clock.format(expires)))]
  }

  /// A `meta` entry (snapshot's of targets.json, timestamp's of snapshot.json): version, length
  /// and SHA-256 of the file, so a client can refuse a substituted or endless file.
  static func metaEntry(version: Int64, file: [UInt8]) -> JSON {
    .object([
      ("hashes", .object([("sha256", .string(SHA256.hash(file).description))])),
      ("length", .int(Int64(file.count))), ("version", .int(version)),
    ])
  }

  /// Root's "signed": keys, the four roles with their key ids and thresholds, consistent
  /// snapshots on.
  static func root(version: Int64, expires: Int64, keys: [TUFKey], roles: [(String, RoleKeys)]) -> JSON {
    var keyMembers: [(String, JSON)] = []
    for key in keys where !keyMembers.contains(where: { $0.0 == key.keyID }) { keyMembers.append((key.keyID, key.json)) }
    let roleMembers: [(String, JSON)] = roles.map { name, role in
      (name, .object([("keyids", .array(role.keyIDs.map { JSON.string($0) })), ("threshold", .int(Int64(role.threshold)))]))
    }
    return .object(header("root", version: version, expires: expires) + [
      ("consistent_snapshot", .bool(true)), ("keys", .object(keyMembers)), ("roles", .object(roleMembers)),
    ])
  }
}

/// A role's key ids and threshold, as root lists them.
public struct RoleKeys: Sendable, Equatable {
  public var keyIDs: [String]
  public var threshold: Int

  public init(keyIDs: [String], threshold: Int) {
    self.keyIDs = keyIDs
    self.threshold = threshold
  }
}
