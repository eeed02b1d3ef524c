import CLibCrypto

/// A SHA-256 digest: 32 bytes, shown as 64 lowercase hex digits.
///
/// Held inline as four big-endian words, not in an array: a manifest or a list of 10,000
/// generations holds one per entry, and comparing and hashing words is cheaper than bytes.
public struct Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
  private var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

  public init(bytes: [UInt8]) {
    precondition(bytes.count == 32, "a SHA-256 digest is 32 bytes")
    func word(_ k: Int) -> UInt64 { bytes[(8 * k)..<(8 * k + 8)].reduce(0) { $0 << 8 | UInt64($1) } }
    (w0, w1, w2, w3) = (word(0), word(1), word(2), word(3))
  }

  /// Parses exactly 64 lowercase hex digits.
  public init?(hex: some Collection<UInt8>) {
    guard hex.count == 64 else { return nil }
    var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    var k = 0
    for c in hex {
      let v: UInt8
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
      default: return nil
      }
      switch k >> 4 {
      case 0: words.0 = words.0 << 4 | UInt64(v)
      case 1: words.1 = words.1 << 4 | UInt64(v)
      case 2: words.2 = words.2 << 4 | UInt64(v)
      default: words.3 = words.3 << 4 | UInt64(v)
      }
      k += 1
    }
    (w0, w1, w2, w3) = words
  }

  /// The 32 bytes, in order.
  public var bytes: [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(32)
    for w in [w0, w1, w2, w3] {
      for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w >> UInt64(shift))) }
    }
    return out
  }

  /// Byte order, as the hex names sort.
  public static func < (a: Digest, b: Digest) -> Bool { (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3) }

  public var hexBytes: [UInt8] {
    var out = [UInt8](repeating: 0, count: 64)
    var i = 0
    for w in [w0, w1, w2, w3] {
      for shift in stride(from: 60, through: 0, by: -4) {
        let v = UInt8(truncatingIfNeeded: w >> UInt64(shift)) & 0xF
        out[i] = v < 10 ? v + UInt8(ascii: "0") : v - 10 + UInt8(ascii: "a")
        i += 1
      }
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
