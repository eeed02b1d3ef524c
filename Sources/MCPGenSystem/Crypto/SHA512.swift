import CLibCrypto

/// Streaming SHA-512 through OpenSSL's EVP interface: TUF targets may carry a "sha512" hash.
public final class SHA512 {
  nonisolated(unsafe) private static let algorithm: OpaquePointer = {
    cryptoInit()
    if let fetched = EVP_MD_fetch(nil, "SHA512", nil) { return fetched }
    return EVP_sha512()
  }()

  private let context = EVPDigestContext(algorithm: SHA512.algorithm, length: 64, name: "SHA-512")

  public init() {}

  /// Starts a new digest.
  public func reset() { context.reset() }

  public func update(_ buffer: UnsafeRawBufferPointer) { context.update(buffer) }

  public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { context.update($0) } }

  /// The 64-byte digest; the hasher is ready for the next input.
  public func finish() -> [UInt8] { context.finish() }

  /// The digest of a byte string in one call.
  public static func hash(_ bytes: [UInt8]) -> [UInt8] {
    let h = SHA512()
    h.update(bytes)
    return h.finish()
  }
}
