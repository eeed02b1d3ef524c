import CLibCrypto

/// A SHA-256 digest: 32 bytes, shown as 64 lowercase hex digits.
public struct Digest: Hashable, Sendable, CustomStringConvertible {
  public let bytes: [UInt8]

  public init(bytes: [UInt8]) {
    precondition(bytes.count == 32, "a SHA-256 digest is 32 bytes")
    self.bytes = bytes
  }

  /// Parses exactly 64 lowercase hex digits.
  public init?(hex: some Collection<UInt8>) {
    guard hex.count == 64 else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(32)
    var high: UInt8? = nil
    for c in hex {
      let v: UInt8
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
      default: return nil
      }
      if let h = high {
        out.append(h << 4 | v)
        high = nil
      } else {
        high = v
      }
    }
    bytes = out
  }

  public var hexBytes: [UInt8] {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(64)
    for b in bytes {
      out.append(digits[Int(b >> 4)])
      out.append(digits[Int(b & 0xF)])
    }
    return out
  }

  public var description: String { String(decoding: hexBytes, as: UTF8.self) }
}

/// Streaming SHA-256 through OpenSSL's EVP interface, the project's only hash implementation.
///
/// One instance per thread; `reset()` reuses the context between files so hashing many small
/// files does not allocate a context per file.
public final class SHA256 {
  /// Fetched once: with OpenSSL 3 an implicit fetch on every init takes a global lock.
  nonisolated(unsafe) private static let algorithm: OpaquePointer = {
    // Reading openssl.cnf costs ~4 ms at start-up and can only add providers SHA-256 does not
    // need; the default provider is always there.
    _ = OPENSSL_init_crypto(UInt64(OPENSSL_INIT_NO_LOAD_CONFIG), nil)
    if let fetched = EVP_MD_fetch(nil, "SHA256", nil) { return fetched }
    return EVP_sha256()
  }()

  private let context: OpaquePointer

  public init() {
    guard let ctx = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new: out of memory") }
    context = ctx
    reset()
  }

  deinit { EVP_MD_CTX_free(context) }

  public func reset() {
    guard EVP_DigestInit_ex(context, SHA256.algorithm, nil) == 1 else {
      fatalError("EVP_DigestInit_ex(SHA-256) failed: libcrypto is unusable")
    }
  }

  public func update(_ buffer: UnsafeRawBufferPointer) {
    guard buffer.count > 0 else { return }
    guard EVP_DigestUpdate(context, buffer.baseAddress, buffer.count) == 1 else {
      fatalError("EVP_DigestUpdate failed")
    }
  }

  public func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { update($0) }
  }

  /// Finishes the digest and leaves the hasher ready for the next input.
  public func finish() -> Digest {
    var out = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 0
    guard EVP_DigestFinal_ex(context, &out, &length) == 1, length == 32 else {
      fatalError("EVP_DigestFinal_ex failed")
    }
    reset()
    return Digest(bytes: out)
  }

  /// The digest of a byte string in one call.
  public static func hash(_ bytes: [UInt8]) -> Digest {
    let h = SHA256()
    h.update(bytes)
    return h.finish()
  }
}
