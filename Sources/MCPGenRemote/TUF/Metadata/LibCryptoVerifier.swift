import MCPGenKit

// Until h20-lib's crypto and canonical JSON are merged: verifies nothing, computes no SHA-512,
// so every signature check fails closed. Replaced by the merge of branch h20-lib.
public struct LibCryptoVerifier: SignatureVerifying {
  public init() {}
  public func signedBytes(_ signed: JSON) -> [UInt8]? { nil }
  public func isValid(signature: [UInt8], message: [UInt8], key: TUFMetadataKey) -> Bool { false }
}

enum Digests {
  static func sha512Hex(_ bytes: [UInt8]) -> String? { nil }
}
