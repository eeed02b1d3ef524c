import CLibCrypto

/// Streaming SHA-512 through OpenSSL's EVP interface: TUF targets may carry a "sha512" hash.
public final class SHA512 {
  nonisolated(unsafe) private static let algorithm: OpaquePointer = {
    cryptoInit()
    if let fetched = EVP_MD_fetch(nil, "SHA512", nil) { return fetched }
    return EVP_sha512()
  }()

  private let context: OpaquePointer

  public init() {
    guard let ctx = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new: out of memory") }
    context = ctx
    reset()
  }

  deinit { EVP_MD_CTX_free(context) }

  /// Starts a new digest (EVP_DigestInit_ex).
  public func reset() {
    guard EVP_DigestInit_ex(context, SHA512.algorithm, nil) == 1 else {
      fatalError("EVP_DigestInit_ex(SHA-512) failed: libcrypto is unusable")
    }
  }

  /// Adds bytes (EVP_DigestUpdate).
  public func update(_ buffer: UnsafeRawBufferPointer) {
    guard buffer.count > 0 else { return }
    guard EVP_DigestUpdate(context, buffer.baseAddress, buffer.count) == 1 else { fatalError("EVP_DigestUpdate failed") }
  }

  public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

  /// The 64-byte digest; the hasher is ready for the next input (EVP_DigestFinal_ex).
  public func finish() -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 64)
    var length: UInt32 = 0
    guard EVP_DigestFinal_ex(context, &out, &length) == 1, length == 64 else { fatalError("EVP_DigestFinal_ex failed") }
    reset()
    return out
  }

  /// The digest of a byte string in one call.
  public static func hash(_ bytes: [UInt8]) -> [UInt8] {
    let h = SHA512()
    h.update(bytes)
    return h.finish()
  }
}
