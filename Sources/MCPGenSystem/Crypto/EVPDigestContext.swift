import CLibCrypto

/// One OpenSSL `EVP_MD_CTX` for a fetched digest algorithm: the code SHA-256 and SHA-512 share.
///
/// Reused between inputs (`finish` re-initialises it): hashing many small files must not
/// allocate a context per file.
final class EVPDigestContext {
  let pointer: OpaquePointer
  private let algorithm: OpaquePointer
  private let length: Int
  private let name: String

  init(algorithm: OpaquePointer, length: Int, name: String) {
    guard let ctx = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new: out of memory") }
    (pointer, self.algorithm, self.length, self.name) = (ctx, algorithm, length, name)
    reset()
  }

  deinit { EVP_MD_CTX_free(pointer) }

  /// Starts a new digest (EVP_DigestInit_ex).
  func reset() {
    guard EVP_DigestInit_ex(pointer, algorithm, nil) == 1 else {
      fatalError("EVP_DigestInit_ex(\(name)) failed: libcrypto is unusable")
    }
  }

  /// Adds bytes (EVP_DigestUpdate).
  func update(_ buffer: UnsafeRawBufferPointer) {
    guard buffer.count > 0 else { return }
    guard EVP_DigestUpdate(pointer, buffer.baseAddress, buffer.count) == 1 else { fatalError("EVP_DigestUpdate failed") }
  }

  /// The digest; the context is ready for the next input (EVP_DigestFinal_ex).
  func finish() -> [UInt8] {
    var out = [UInt8](repeating: 0, count: length)
    var written: UInt32 = 0
    guard EVP_DigestFinal_ex(pointer, &out, &written) == 1, written == length else { fatalError("EVP_DigestFinal_ex failed") }
    reset()
    return out
  }
}
