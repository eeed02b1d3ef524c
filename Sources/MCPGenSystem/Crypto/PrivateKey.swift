import CLibCrypto

/// A private key that signs TUF metadata: Ed25519 (what `mcp-gen key generate` makes), or
/// ECDSA P-256 and RSA (for tests and interoperability). Loaded from and written as PKCS#8 PEM.
public final class PrivateKey: @unchecked Sendable {
  let pkey: OpaquePointer
  public let type: KeyType

  private init(adopting pkey: OpaquePointer) throws(CryptoError) {
    self.pkey = pkey
    do {
      self.type = try keyType(of: pkey)
    } catch {
      EVP_PKEY_free(pkey)
      throw error
    }
  }

  deinit { EVP_PKEY_free(pkey) }

  /// A new random key (EVP_PKEY_keygen): Ed25519, ECDSA on P-256, or RSA of 3072 bits.
  public static func generate(_ type: KeyType = .ed25519) throws(CryptoError) -> PrivateKey {
    cryptoInit()
    let id: Int32
    switch type {
    case .ed25519: id = EVP_PKEY_ED25519
    case .ecdsa: id = EVP_PKEY_EC
    case .rsa: id = EVP_PKEY_RSA
    }
    guard let ctx = EVP_PKEY_CTX_new_id(id, nil) else { throw CryptoError(.failed, "EVP_PKEY_CTX_new_id failed") }
    defer {
      EVP_PKEY_CTX_free(ctx)
      clearLibcryptoErrors()
    }
    guard EVP_PKEY_keygen_init(ctx) == 1 else { throw CryptoError(.failed, "EVP_PKEY_keygen_init failed") }
    switch type {
    case .ed25519: break
    case .ecdsa:
      guard EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) == 1 else {
        throw CryptoError(.failed, "cannot select the P-256 curve")
      }
    case .rsa:
      guard EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 3072) == 1 else { throw CryptoError(.failed, "cannot set the RSA key size") }
    }
    var pkey: OpaquePointer? = nil
    guard EVP_PKEY_keygen(ctx, &pkey) == 1, let pkey else { throw CryptoError(.failed, "EVP_PKEY_keygen failed") }
    return try PrivateKey(adopting: pkey)
  }

  /// A key from PEM: PKCS#8 ("-----BEGIN PRIVATE KEY-----"), or the older type-specific forms
  /// libcrypto also reads. An encrypted key is refused, never prompted for
  /// (PEM_read_bio_PrivateKey).
  public convenience init(pem: [UInt8]) throws(CryptoError) {
    cryptoInit()
    guard pem.count <= 64 * 1024, let pkey = MemoryBIO.reading(pem, { PEM_read_bio_PrivateKey($0, nil, refusePassphrase, nil) })
    else {
      clearLibcryptoErrors()
      throw CryptoError(.malformedKey, "not an unencrypted PEM private key (PKCS#8)")
    }
    try self.init(adopting: pkey)
  }

  /// The key as unencrypted PKCS#8 PEM, ending in a newline (PEM_write_bio_PKCS8PrivateKey).
  public func pkcs8PEM() throws(CryptoError) -> [UInt8] {
    guard let pem = MemoryBIO.writing({ PEM_write_bio_PKCS8PrivateKey($0, pkey, nil, nil, 0, nil, nil) == 1 }) else {
      clearLibcryptoErrors()
      throw CryptoError(.failed, "libcrypto could not write the private key as PKCS#8 PEM")
    }
    return pem
  }

  /// The public half (EVP_PKEY_get1_... through a DER round trip: i2d_PUBKEY, d2i_PUBKEY).
  public func publicKey() throws(CryptoError) -> PublicKey {
    let length = i2d_PUBKEY(pkey, nil)
    guard length > 0 else { clearLibcryptoErrors(); throw CryptoError(.failed, "i2d_PUBKEY failed") }
    var der = [UInt8](repeating: 0, count: Int(length))
    let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
      var out: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
      return i2d_PUBKEY(pkey, &out)
    }
    guard written == length else { clearLibcryptoErrors(); throw CryptoError(.failed, "i2d_PUBKEY failed") }
    let pub = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
      var input: UnsafePointer<UInt8>? = buffer.baseAddress
      return d2i_PUBKEY(nil, &input, Int(length))
    }
    guard let pub else { clearLibcryptoErrors(); throw CryptoError(.failed, "d2i_PUBKEY failed") }
    return try PublicKey(adopting: pub)
  }

  /// The signature of `message` under `scheme`, which must fit the key's type
  /// (EVP_DigestSignInit, EVP_DigestSign). ECDSA signatures are DER, RSA-PSS uses a salt as
  /// long as the digest (as securesystemslib signs).
  public func sign(_ message: [UInt8], scheme: SignatureScheme) throws(CryptoError) -> [UInt8] {
    guard scheme.keyType == type else {
      throw CryptoError(.unsupportedKey, "a \(type.rawValue) key cannot sign with \(scheme.rawValue)")
    }
    guard let ctx = EVP_MD_CTX_new() else { throw CryptoError(.failed, "EVP_MD_CTX_new failed") }
    defer {
      EVP_MD_CTX_free(ctx)
      clearLibcryptoErrors()
    }
    var pctx: OpaquePointer? = nil
    guard EVP_DigestSignInit(ctx, &pctx, scheme.digest, nil, pkey) == 1 else {
      throw CryptoError(.failed, "EVP_DigestSignInit failed")
    }
    if scheme == .rsaPSSSHA256 {
      guard let pctx, EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1,
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1
      else { throw CryptoError(.failed, "cannot set RSA-PSS padding") }
    }
    return try message.withUnsafeBufferPointer { (msg) throws(CryptoError) -> [UInt8] in
      let data = msg.baseAddress ?? emptyMessage
      var length = 0
      guard EVP_DigestSign(ctx, nil, &length, data, msg.count) == 1, length > 0 else {
        throw CryptoError(.failed, "EVP_DigestSign failed")
      }
      var signature = [UInt8](repeating: 0, count: length)
      guard EVP_DigestSign(ctx, &signature, &length, data, msg.count) == 1 else {
        throw CryptoError(.failed, "EVP_DigestSign failed")
      }
      return Array(signature.prefix(length))
    }
  }
}
