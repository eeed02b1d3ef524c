import CLibCrypto

/// A public key that verifies TUF signatures: Ed25519, ECDSA P-256 or RSA (libcrypto EVP_PKEY).
///
/// Immutable after creation; libcrypto allows concurrent verification with one EVP_PKEY.
public final class PublicKey: @unchecked Sendable {
  let pkey: OpaquePointer
  /// The key's type (Ed25519, ECDSA on P-256, RSA): any other type or curve is refused on load.
  public let type: KeyType

  init(adopting pkey: OpaquePointer) throws(CryptoError) {
    self.pkey = pkey
    do {
      self.type = try keyType(of: pkey)
    } catch {
      EVP_PKEY_free(pkey)
      throw error
    }
  }

  deinit { EVP_PKEY_free(pkey) }

  /// An Ed25519 key from its 32 raw bytes (EVP_PKEY_new_raw_public_key).
  public convenience init(ed25519Raw raw: [UInt8]) throws(CryptoError) {
    guard raw.count == 32 else {
      throw CryptoError(.malformedKey, "an Ed25519 public key is 32 bytes, not \(raw.count)")
    }
    cryptoInit()
    guard let pkey = raw.withUnsafeBufferPointer({ EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, 32) })
    else {
      clearLibcryptoErrors()
      throw CryptoError(.malformedKey, "libcrypto refused the 32 bytes as an Ed25519 public key")
    }
    try self.init(adopting: pkey)
  }

  /// An Ed25519 key from 64 hex digits, as TUF's "keyval": {"public": ...} carries it.
  public convenience init(ed25519Hex hex: some Collection<UInt8>) throws(CryptoError) {
    guard hex.count == 64, let raw = decodeHex(hex) else {
      throw CryptoError(.malformedKey, "an Ed25519 public key is 64 hex digits")
    }
    try self.init(ed25519Raw: raw)
  }

  /// A key from PEM SubjectPublicKeyInfo ("-----BEGIN PUBLIC KEY-----"), the form TUF uses for
  /// ECDSA and RSA keys (PEM_read_bio_PUBKEY).
  public convenience init(spkiPEM pem: [UInt8]) throws(CryptoError) {
    cryptoInit()
    guard pem.count <= 64 * 1024, let pkey = MemoryBIO.reading(pem, { PEM_read_bio_PUBKEY($0, nil, refusePassphrase, nil) })
    else {
      clearLibcryptoErrors()
      throw CryptoError(.malformedKey, "not a PEM SubjectPublicKeyInfo public key")
    }
    try self.init(adopting: pkey)
  }

  /// The 32 raw bytes of an Ed25519 key; nil for other types (EVP_PKEY_get_raw_public_key).
  public var ed25519Raw: [UInt8]? {
    guard type == .ed25519 else { return nil }
    var raw = [UInt8](repeating: 0, count: 32)
    var length = 32
    guard EVP_PKEY_get_raw_public_key(pkey, &raw, &length) == 1, length == 32 else { return nil }
    return raw
  }

  /// The key as PEM SubjectPublicKeyInfo, ending in a newline (PEM_write_bio_PUBKEY).
  public func spkiPEM() throws(CryptoError) -> [UInt8] {
    guard let pem = MemoryBIO.writing({ PEM_write_bio_PUBKEY($0, pkey) == 1 }) else {
      clearLibcryptoErrors()
      throw CryptoError(.failed, "libcrypto could not write the public key as PEM")
    }
    return pem
  }

  /// Whether `signature` is a valid signature of `message` under `scheme` by this key. False,
  /// never a crash, for any malformed signature, and when the scheme does not fit the key
  /// (EVP_DigestVerifyInit, EVP_DigestVerify).
  public func verify(signature: [UInt8], message: [UInt8], scheme: SignatureScheme) -> Bool {
    guard scheme.keyType == type, !signature.isEmpty, signature.count <= 16 * 1024 else { return false }
    guard let ctx = EVP_MD_CTX_new() else { return false }
    defer {
      EVP_MD_CTX_free(ctx)
      clearLibcryptoErrors()
    }
    var pctx: OpaquePointer? = nil
    guard EVP_DigestVerifyInit(ctx, &pctx, scheme.digest, nil, pkey) == 1 else { return false }
    if scheme == .rsaPSSSHA256 {
      // securesystemslib signs with the salt as long as the digest and verifies with any salt
      // length ("AUTO"): so do we, to accept every signature python-tuf accepts.
      guard let pctx, EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1,
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) == 1
      else { return false }
    }
    let result = signature.withUnsafeBufferPointer { sig in
      message.withUnsafeBufferPointer { msg in
        EVP_DigestVerify(ctx, sig.baseAddress, sig.count, msg.baseAddress ?? emptyMessage, msg.count)
      }
    }
    return result == 1
  }
}

/// A valid pointer for an empty message: EVP_DigestVerify and EVP_DigestSign want non-null.
nonisolated(unsafe) let emptyMessage: UnsafePointer<UInt8> = {
  let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
  p.initialize(to: 0)
  return UnsafePointer(p)
}()

extension SignatureScheme {
  /// The digest EVP_DigestSignInit/VerifyInit take: none for Ed25519, which hashes itself.
  var digest: OpaquePointer? {
    switch self {
    case .ed25519: return nil
    case .ecdsaSHA256P256, .rsaPSSSHA256: return EVP_sha256()
    }
  }
}

/// The TUF key type of `pkey`; throws for any other type, and for EC keys on curves but P-256
/// (EVP_PKEY_get_base_id, EVP_PKEY_get_group_name).
func keyType(of pkey: OpaquePointer) throws(CryptoError) -> KeyType {
  switch EVP_PKEY_get_base_id(pkey) {
  case EVP_PKEY_ED25519: return .ed25519
  case EVP_PKEY_RSA:
    guard EVP_PKEY_get_bits(pkey) >= 2048 else { throw CryptoError(.unsupportedKey, "RSA keys shorter than 2048 bits are not accepted") }
    return .rsa
  case EVP_PKEY_EC:
    var name = [CChar](repeating: 0, count: 64)
    var length = 0
    guard EVP_PKEY_get_group_name(pkey, &name, name.count, &length) == 1 else {
      clearLibcryptoErrors()
      throw CryptoError(.malformedKey, "an EC key without a named curve")
    }
    let curve = String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    guard curve == "prime256v1" || curve == "P-256" else {
      throw CryptoError(.unsupportedKey, "EC keys on \(curve) are not supported: only P-256 (ecdsa-sha2-nistp256)")
    }
    return .ecdsa
  default:
    throw CryptoError(.unsupportedKey, "only Ed25519, ECDSA P-256 and RSA keys are supported")
  }
}

/// Lowercase or uppercase hex to bytes; nil on an odd length or any other byte.
public func decodeHex(_ hex: some Collection<UInt8>) -> [UInt8]? {
  guard hex.count % 2 == 0 else { return nil }
  func nibble(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: return c - 0x30
    case 0x61...0x66: return c - 0x61 + 10
    case 0x41...0x46: return c - 0x41 + 10
    default: return nil
    }
  }
  var out: [UInt8] = []
  out.reserveCapacity(hex.count / 2)
  var it = hex.makeIterator()
  while let a = it.next(), let b = it.next() {
    guard let h = nibble(a), let l = nibble(b) else { return nil }
    out.append(h << 4 | l)
  }
  return out
}

/// Bytes as lowercase hex.
public func encodeHex(_ bytes: some Sequence<UInt8>) -> String {
  let digits = Array("0123456789abcdef".utf8)
  var out: [UInt8] = []
  for b in bytes { out += [digits[Int(b >> 4)], digits[Int(b & 0xF)]] }
  return String(decoding: out, as: UTF8.self)
}

/// libcrypto's one-time set-up without openssl.cnf (as SHA256 does it).
func cryptoInit() {
  _ = OPENSSL_init_crypto(UInt64(OPENSSL_INIT_NO_LOAD_CONFIG) | UInt64(OPENSSL_INIT_NO_ATEXIT), nil)
}
