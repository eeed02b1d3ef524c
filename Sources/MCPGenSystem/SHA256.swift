import CLibCrypto
import CMCPGenShims
import Dispatch

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
    // Generation links and journal lines hold 10,000s of keys: parse from contiguous bytes
    // when the collection has them, without a copy.
    if let parsed = hex.withContiguousStorageIfAvailable({ Digest.parseHex($0) }) {
      guard let parsed else { return nil }
      self = parsed
      return
    }
    guard let parsed = Array(hex).withUnsafeBufferPointer({ Digest.parseHex($0) }) else { return nil }
    self = parsed
  }

  private init(words: (UInt64, UInt64, UInt64, UInt64)) { (w0, w1, w2, w3) = words }

  /// 64 lowercase hex digits into four words; nil on any other byte.
  private static func parseHex(_ hex: UnsafeBufferPointer<UInt8>) -> Digest? {
    let base = UnsafeRawPointer(hex.baseAddress!)
    guard let a = hexWord(base), let b = hexWord(base + 16), let c = hexWord(base + 32), let d = hexWord(base + 48)
    else { return nil }
    return Digest(words: (a, b, c, d))
  }

  @inline(__always) private static func hexWord(_ at: UnsafeRawPointer) -> UInt64? {
    guard let high = hexNibbles(UInt64(littleEndian: at.loadUnaligned(as: UInt64.self))),
      let low = hexNibbles(UInt64(littleEndian: (at + 8).loadUnaligned(as: UInt64.self)))
    else { return nil }
    return UInt64(high) << 32 | UInt64(low)
  }

  /// Eight hex digits (the first in the lowest byte) as a 32-bit number, all eight at once:
  /// a table of 10,000 generations parses 20,000 keys.
  @inline(__always) private static func hexNibbles(_ x: UInt64) -> UInt32? {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let high = 0x80 &* ones
    // With no byte above 0x7F, adding never carries into the next byte: bit 7 of each byte
    // then says whether that byte is at least the bound.
    let digit = (x &+ 0x50 &* ones) & ~(x &+ 0x46 &* ones)  // 0x30 ... 0x39
    let letter = (x &+ 0x1F &* ones) & ~(x &+ 0x19 &* ones)  // 0x61 ... 0x66
    guard x & high == 0, (digit | letter) & high == high else { return nil }
    // '0'-'9' -> 0-9 and 'a'-'f' -> 1-6 + 9; then the first digit to the top.
    var y = ((x & (0x0F &* ones)) &+ ((x >> 6) & ones) &* 9).byteSwapped
    y = (y | y >> 4) & 0x00FF_00FF_00FF_00FF
    y = (y | y >> 8) & 0x0000_FFFF_0000_FFFF
    y = (y | y >> 16) & 0x0000_0000_FFFF_FFFF
    return UInt32(truncatingIfNeeded: y)
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

  /// One word of the four: a digest's bits are uniform already, and `list` hashes 10,000s of
  /// keys into tables. Equal digests still hash equal.
  public func hash(into hasher: inout Hasher) { hasher.combine(w0) }

  /// Byte order, as the hex names sort.
  public static func < (a: Digest, b: Digest) -> Bool { (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3) }

  public var hexBytes: [UInt8] {
    [UInt8](unsafeUninitializedCapacity: 64) { out, initialized in
      writeHex(64, into: out.baseAddress!)
      initialized = 64
    }
  }

  /// The first `count` hex digits as a string (a short one, up to 15, needs no allocation).
  public func hexString(_ count: Int) -> String {
    String(unsafeUninitializedCapacity: count) { out in
      writeHex(count, into: out.baseAddress!)
      return count
    }
  }

  /// Appends the first `count` (at most 64) hex digits.
  public func appendHex(_ count: Int, to out: inout [UInt8]) {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buffer in
      writeHex(count, into: buffer.baseAddress!)
      out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[0..<count]))
    }
  }

  /// Writes the first `count` (at most 64) hex digits, eight at a time (`list` writes one key
  /// per generation).
  private func writeHex(_ count: Int, into out: UnsafeMutablePointer<UInt8>) {
    func word(_ k: Int) -> UInt64 {
      switch k {
      case 0: return w0
      case 1: return w1
      case 2: return w2
      default: return w3
      }
    }
    var digits = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
    withUnsafeMutableBytes(of: &digits) { all in
      for k in 0..<((count + 7) / 8) {
        let eight = Digest.hexDigits(UInt32(truncatingIfNeeded: word(k / 2) >> (k % 2 == 0 ? 32 : 0)))
        all.storeBytes(of: eight, toByteOffset: 8 * k, as: UInt64.self)
      }
      UnsafeMutableRawPointer(out).copyMemory(from: all.baseAddress!, byteCount: count)
    }
  }

  /// The eight hex digits of `x`, most significant first, as the bytes of a little-endian word.
  @inline(__always) private static func hexDigits(_ x: UInt32) -> UInt64 {
    let ones: UInt64 = 0x0101_0101_0101_0101
    // One nibble per byte, the first digit in the lowest byte.
    var y = UInt64(x)
    y = (y | y << 16) & 0x0000_FFFF_0000_FFFF
    y = (y | y << 8) & 0x00FF_00FF_00FF_00FF
    y = (y | y << 4) & 0x0F0F_0F0F_0F0F_0F0F
    y = y.byteSwapped
    // Digits 10-15 get the gap between '9' and 'a' (0x27) added: bit 4 of n + 6 says n >= 10.
    let letters = ((y &+ 6 &* ones) >> 4) & ones
    return (y &+ 0x30 &* ones &+ letters &* 0x27).littleEndian
  }

  public var description: String { hexString(64) }
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
    _ = OPENSSL_init_crypto(SHA256.initOptions, nil)
    if let fetched = EVP_MD_fetch(nil, "SHA256", nil) { return fetched }
    return EVP_sha256()
  }()

  /// No cleanup handler at exit: the process's memory goes with it anyway, and a handler that
  /// frees OpenSSL's tables would race a thread still fetching (see `prepareInBackground`).
  private static let initOptions = UInt64(OPENSSL_INIT_NO_LOAD_CONFIG) | UInt64(OPENSSL_INIT_NO_ATEXIT)

  /// Starts OpenSSL's one-time set-up (about 1 ms: the default provider and the algorithm
  /// fetch) on another thread, so that it overlaps argument parsing instead of delaying the
  /// first file to hash. Safe to exit at any moment after: the first initialisation, made here
  /// on the calling thread, registers no exit handler.
  public static func prepareInBackground() {
    _ = OPENSSL_init_crypto(initOptions, nil)
    DispatchQueue.global().async { _ = algorithm }
  }

  private let context = EVPDigestContext(algorithm: SHA256.algorithm, length: 32, name: "SHA-256")

  public init() {}

  public func reset() { context.reset() }

  public func update(_ buffer: UnsafeRawBufferPointer) { context.update(buffer) }

  /// Hashes mapped file bytes; false when reading them faulted (the file was truncated while
  /// mapped): the hasher is then reset, and what was hashed before is lost.
  public func updateMapped(_ bytes: UnsafeRawBufferPointer) -> Bool {
    switch mcpgen_digest_update_guarded(context.pointer, bytes.baseAddress, bytes.count) {
    case 0: return true
    case -1:
      reset()
      return false
    default: fatalError("EVP_DigestUpdate failed")
    }
  }

  public func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { update($0) }
  }

  /// Finishes the digest and leaves the hasher ready for the next input.
  public func finish() -> Digest { Digest(bytes: context.finish()) }

  /// The digest of a byte string in one call.
  public static func hash(_ bytes: [UInt8]) -> Digest {
    let h = SHA256()
    h.update(bytes)
    return h.finish()
  }
}
