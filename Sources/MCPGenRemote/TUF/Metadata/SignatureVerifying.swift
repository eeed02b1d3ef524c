import MCPGenKit

/// What the threshold check needs of cryptography: the bytes that were signed (the canonical
/// JSON of `signed`, as the specification defines it) and whether one signature by one key is
/// valid over them. `LibCryptoVerifier` is the real one; unit tests of the workflow may pass
/// another.
public protocol SignatureVerifying: Sendable {
  /// The canonical JSON of `signed`; nil when it has no canonical form (then nothing verifies).
  func signedBytes(_ signed: JSON) -> [UInt8]?
  /// Whether `signature` by `key` is valid over `message`; false for a key type or scheme this
  /// client does not support, so such a key counts toward no threshold.
  func isValid(signature: [UInt8], message: [UInt8], key: TUFMetadataKey) -> Bool
}

/// The threshold rule of the specification, strictly: each signing key counts once, whether it
/// signs twice, is listed under two key ids, or appears twice in `signatures`.
enum ThresholdCheck {
  /// Throws `.untrusted` unless at least `role.threshold` distinct keys of `role`, looked up in
  /// `keys`, signed `envelope`.
  static func verify(
    _ envelope: TUFEnvelope, role roleName: String, keys: [String: TUFMetadataKey], role: TUFRoleKeys,
    verifier: any SignatureVerifying, signer: String
  ) throws(MCPGenError) {
    let count = validSigners(envelope, keys: keys, role: role, verifier: verifier)
    guard count >= role.threshold else {
      throw Untrusted.error(
        "\(envelope.file) has \(count) valid signature\(count == 1 ? "" : "s") of the \(role.threshold) the \(signer) requires for role \"\(roleName)\"")
    }
  }

  /// How many distinct keys of `role` made a valid signature over `envelope`.
  static func validSigners(_ envelope: TUFEnvelope, keys: [String: TUFMetadataKey], role: TUFRoleKeys, verifier: any SignatureVerifying) -> Int {
    guard let message = verifier.signedBytes(envelope.signed) else { return 0 }
    let allowed = Set(role.keyids)
    var countedIDs = Set<String>()
    var countedKeys = Set<String>()
    for signature in envelope.signatures {
      guard allowed.contains(signature.keyid), !countedIDs.contains(signature.keyid),
        let key = keys[signature.keyid]
      else { continue }
      let identity = key.identity
      guard !countedKeys.contains(identity) else { continue }
      if verifier.isValid(signature: signature.signature, message: message, key: key) {
        countedIDs.insert(signature.keyid)
        countedKeys.insert(identity)
      }
    }
    return countedKeys.count
  }
}
