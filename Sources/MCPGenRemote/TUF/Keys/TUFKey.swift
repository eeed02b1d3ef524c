import MCPGenKit
import MCPGenSystem

/// A TUF public key object, as root metadata lists it (specification section 4.2):
/// `{"keytype": T, "keyval": {"public": P}, "scheme": S}`, where P is 64 hex digits for
/// Ed25519 and PEM SubjectPublicKeyInfo for ECDSA and RSA.
///
/// Keeps the strings as given: the key id hashes them, and a PEM re-written by another library
/// could differ in a byte.
public struct TUFKey: Sendable {
  /// "ed25519", "ecdsa" (or the older spelling "ecdsa-sha2-nistp256"), "rsa".
  public let keyType: String
  public let scheme: SignatureScheme
  /// keyval.public, exactly as in the metadata.
  public let publicValue: String
  /// The whole keyval object as given (the key id hashes all of it).
  public let keyval: JSON
  /// The decoded key that verifies signatures.
  public let key: PublicKey
  /// Members of the key object other than keytype, keyval and scheme, kept for round trips.
  public let otherMembers: [(String, JSON)]

  /// Reads and checks a key object. Errors use `code`: `.untrusted` for keys from remote
  /// metadata, `.invalidInput` for a key file given on the command line.
  public init(json: JSON, code: MCPGenError.Code = .untrusted) throws(MCPGenError) {
    guard case .object(let members) = json, let keyType = json["keytype"]?.stringValue,
      let schemeName = json["scheme"]?.stringValue, case .object(let keyval)? = json["keyval"],
      let publicValue = json["keyval"]?["public"]?.stringValue
    else {
      throw MCPGenError(code, "a TUF key object lacks keytype, scheme or keyval.public; the metadata or key file is malformed, fix or replace it")
    }
    guard let scheme = SignatureScheme(rawValue: schemeName) else {
      throw MCPGenError(code, "the key scheme \"\(schemeName)\" is not supported (only ed25519, ecdsa-sha2-nistp256, rsassa-pss-sha256); use a key of a supported scheme")
    }
    let expected: [String] = scheme == .ecdsaSHA256P256 ? ["ecdsa", "ecdsa-sha2-nistp256"] : [scheme.keyType.rawValue]
    guard expected.contains(keyType) else {
      throw MCPGenError(code, "the key type \"\(keyType)\" does not fit the scheme \(schemeName); the key object is malformed, fix or replace it")
    }
    let key: PublicKey
    do {
      switch scheme.keyType {
      case .ed25519: key = try PublicKey(ed25519Hex: Array(publicValue.utf8))
      case .ecdsa, .rsa: key = try PublicKey(spkiPEM: Array(publicValue.utf8))
      }
    } catch {
      throw MCPGenError(code, "a \(schemeName) key object holds a bad public key (\(error.message)); fix or replace it")
    }
    guard key.type == scheme.keyType else {
      throw MCPGenError(code, "a \(schemeName) key object holds a \(key.type.rawValue) key; fix or replace it")
    }
    self.keyType = keyType
    self.scheme = scheme
    self.publicValue = publicValue
    self.keyval = .object(keyval)
    guard let keyID = TUFKey.keyID(keyType: keyType, keyval: .object(keyval), scheme: scheme) else {
      throw MCPGenError(code, "a key object's keyval is not canonical JSON (a string that is not UTF-8, or a repeated key); fix or replace it")
    }
    self.keyID = keyID
    self.key = key
    self.otherMembers = members.filter { !["keytype", "keyval", "scheme"].contains($0.0) }
  }

  /// The key object of `key`, in the form securesystemslib writes: Ed25519 as 64 hex digits,
  /// ECDSA ("ecdsa") and RSA as PEM SubjectPublicKeyInfo.
  public init(publicKey key: PublicKey) throws(MCPGenError) {
    let value: String
    do throws(CryptoError) {
      switch key.type {
      case .ed25519:
        guard let raw = key.ed25519Raw else { throw CryptoError(.failed, "no raw Ed25519 key") }
        value = encodeHex(raw)
      case .ecdsa, .rsa: value = String(decoding: try key.spkiPEM(), as: UTF8.self)
      }
    } catch {
      throw MCPGenError(.io, "cannot encode a public key (\(error.message)); check the libcrypto installation")
    }
    self.keyType = key.type.rawValue
    self.scheme = key.type.defaultScheme
    self.publicValue = value
    self.keyval = .object([("public", .string(value))])
    self.keyID = TUFKey.keyID(keyType: key.type.rawValue, keyval: keyval, scheme: key.type.defaultScheme) ?? ""
    self.key = key
    self.otherMembers = []
  }

  /// The key object as metadata carries it (members in canonical order).
  public var json: JSON {
    .object([("keytype", .string(keyType)), ("keyval", keyval), ("scheme", .string(scheme.rawValue))] + otherMembers)
  }

  /// The key id as the specification and securesystemslib compute it: the SHA-256, in hex, of
  /// the canonical JSON of {"keytype", "keyval", "scheme"} (securesystemslib's
  /// `compute_default_keyid`; other members are not hashed). A key object whose keyval cannot
  /// be canonicalized (a string that is not UTF-8, a repeated key) is refused when read.
  public let keyID: String

  private static func keyID(keyType: String, keyval: JSON, scheme: SignatureScheme) -> String? {
    let core: JSON = .object([("keytype", .string(keyType)), ("keyval", keyval), ("scheme", .string(scheme.rawValue))])
    guard let bytes = try? CanonicalJSON.encode(core) else { return nil }
    return SHA256.hash(bytes).description
  }

  /// Whether `signatureHex` (the "sig" of a TUF signature) signs `message` with this key.
  /// False for any malformed hex or signature.
  public func verify(signatureHex: some Collection<UInt8>, message: [UInt8]) -> Bool {
    guard signatureHex.count <= 32 * 1024, let signature = decodeHex(signatureHex) else { return false }
    return key.verify(signature: signature, message: message, scheme: scheme)
  }
}
