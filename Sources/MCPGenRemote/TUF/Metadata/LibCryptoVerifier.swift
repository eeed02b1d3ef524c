import MCPGenKit
import MCPGenSystem

/// Signatures as the specification defines them: over the canonical JSON of `signed`
/// (`CanonicalJSON`, securesystemslib's encoding), by Ed25519, ECDSA P-256 or RSA-PSS-SHA256
/// keys through libcrypto (`TUFKey`).
public struct LibCryptoVerifier: SignatureVerifying {
  public init() {}

  public func signedBytes(_ signed: JSON) -> [UInt8]? { try? CanonicalJSON.encode(signed) }

  public func isValid(signature: [UInt8], message: [UInt8], key: TUFMetadataKey) -> Bool {
    guard let verifier = key.verifier, !signature.isEmpty else { return false }
    return verifier.key.verify(signature: signature, message: message, scheme: verifier.scheme)
  }
}

/// The digests the client computes besides SHA-256 (which comes from the store's own `SHA256`).
enum Digests {
  static func sha512Hex(_ bytes: [UInt8]) -> String? { encodeHex(SHA512.hash(bytes)) }
}
