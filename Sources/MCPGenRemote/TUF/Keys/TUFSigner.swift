import MCPGenKit
import MCPGenSystem

/// A private key with its TUF key object: signs canonical metadata bytes.
public struct TUFSigner: Sendable {
  public let privateKey: PrivateKey
  public let publicKey: TUFKey

  public init(privateKey: PrivateKey) throws(MCPGenError) {
    self.privateKey = privateKey
    let pub: PublicKey
    do {
      pub = try privateKey.publicKey()
    } catch {
      throw MCPGenError(.io, "cannot derive a public key (\(error.message)); check the libcrypto installation")
    }
    self.publicKey = try TUFKey(publicKey: pub)
  }

  public var keyID: String { publicKey.keyID }

  /// A TUF signature object {"keyid": ..., "sig": <hex>} over `message` (the canonical JSON of
  /// a role's "signed" object).
  public func sign(_ message: [UInt8]) throws(MCPGenError) -> JSON {
    do {
      let signature = try privateKey.sign(message, scheme: publicKey.scheme)
      return .object([("keyid", .string(keyID)), ("sig", .string(encodeHex(signature)))])
    } catch {
      throw MCPGenError(.io, "cannot sign with key \(keyID.prefix(16)) (\(error.message)); check the key file")
    }
  }
}
