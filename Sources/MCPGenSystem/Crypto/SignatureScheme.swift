/// The signature schemes of TUF keys (securesystemslib's names), each bound to one key type.
public enum SignatureScheme: String, Sendable, CaseIterable {
  /// Pure Ed25519 (RFC 8032) over the message itself.
  case ed25519 = "ed25519"
  /// ECDSA on NIST P-256 over SHA-256; signatures DER-encoded, as securesystemslib writes them.
  case ecdsaSHA256P256 = "ecdsa-sha2-nistp256"
  /// RSA-PSS with SHA-256 and MGF1-SHA-256.
  case rsaPSSSHA256 = "rsassa-pss-sha256"

  /// The key type of the scheme: TUF key objects carry both, and they must agree.
  public var keyType: KeyType {
    switch self {
    case .ed25519: return .ed25519
    case .ecdsaSHA256P256: return .ecdsa
    case .rsaPSSSHA256: return .rsa
    }
  }
}

/// The key types of TUF key objects ("keytype").
public enum KeyType: String, Sendable, CaseIterable {
  case ed25519 = "ed25519"
  case ecdsa = "ecdsa"
  case rsa = "rsa"

  /// The scheme mcp-gen signs with for this type.
  public var defaultScheme: SignatureScheme {
    switch self {
    case .ed25519: return .ed25519
    case .ecdsa: return .ecdsaSHA256P256
    case .rsa: return .rsaPSSSHA256
    }
  }
}
