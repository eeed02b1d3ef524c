import MCPGenKit
import MCPGenSystem

/// A public key as root or a delegating targets role lists it: `keytype`, `scheme` and `keyval`
/// as signed. Unknown key types parse (the metadata stays valid) but never verify a signature,
/// so they count toward no threshold.
public struct TUFMetadataKey: Sendable {
  public var keytype: String
  public var scheme: String
  /// `keyval.public`: hex for Ed25519, PEM for ECDSA and RSA.
  public var publicValue: String
  /// The whole key object as signed (unknown fields included).
  public var json: JSON
  /// The key as libcrypto reads it; nil for a key type or scheme this client does not support
  /// (or a malformed key), which then verifies nothing.
  public var verifier: TUFKey? = nil

  /// What makes two listed keys the same key whatever their ids: the public key itself (the
  /// raw Ed25519 key, or the PEM as libcrypto writes it back, so that line breaks or case in
  /// the metadata cannot make one key two). A key listed under two ids counts once.
  public var identity: String {
    if let key = verifier?.key {
      if let raw = key.ed25519Raw { return "ed25519:" + encodeHex(raw) }
      if let pem = try? key.spkiPEM() { return "spki:" + String(decoding: pem, as: UTF8.self) }
    }
    return "value:" + String(String.UnicodeScalarView(publicValue.unicodeScalars.filter { !$0.properties.isWhitespace })).lowercased()
  }

  static func parse(_ value: JSON, file: String, context: String) throws(MCPGenError) -> TUFMetadataKey {
    let f = try JSONFields(value, file: file, context: context)
    let keyval = try f.object("keyval")
    // A key without a "public" value (a kind we do not know) is kept, and never verifies.
    let publicValue = try keyval.optionalString("public") ?? ""
    return TUFMetadataKey(
      keytype: try f.string("keytype"), scheme: try f.string("scheme"), publicValue: publicValue, json: value,
      verifier: try? TUFKey(json: value))
  }

  /// The `keys` object of root or of delegations: key id to key.
  static func parseKeys(_ fields: JSONFields) throws(MCPGenError) -> [String: TUFMetadataKey] {
    var keys: [String: TUFMetadataKey] = [:]
    for (keyid, value) in fields.members {
      keys[keyid] = try parse(value, file: fields.file, context: "\(fields.context).\(keyid)")
    }
    return keys
  }
}

/// The key ids and threshold of one role (root's `roles` entries, a delegation's role).
public struct TUFRoleKeys: Sendable, Equatable {
  public var keyids: [String]
  public var threshold: Int

  static func parse(_ f: JSONFields) throws(MCPGenError) -> TUFRoleKeys {
    let keyids = try f.strings("keyids")
    // python-tuf refuses these too: a repeated id is a mistake or an attempt to count twice.
    guard Set(keyids).count == keyids.count else { throw f.fail("\(f.context).keyids lists a key id twice") }
    let threshold = try f.int("threshold")
    guard threshold >= 1, threshold <= Int64(Int32.max) else { throw f.fail("\(f.context).threshold is below 1") }
    return TUFRoleKeys(keyids: keyids, threshold: Int(threshold))
  }
}

/// One entry of `signatures`: the key id and the signature bytes (hex in the file).
public struct TUFSignature: Sendable, Equatable {
  public var keyid: String
  public var signature: [UInt8]
}
