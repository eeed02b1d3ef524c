import CLibCrypto

/// libcrypto's in-memory BIO, for reading and writing PEM without files.
enum MemoryBIO {
  /// Runs `body` with a read-only BIO over `bytes` (BIO_new_mem_buf).
  static func reading<T>(_ bytes: [UInt8], _ body: (OpaquePointer) -> T?) -> T? {
    guard !bytes.isEmpty, bytes.count < Int(Int32.max) else { return nil }
    return bytes.withUnsafeBytes { raw -> T? in
      guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
      defer { BIO_free(bio) }
      return body(bio)
    }
  }

  /// The bytes `body` writes into a fresh memory BIO (BIO_new, BIO_s_mem, BIO_read); nil
  /// when `body` reports failure.
  static func writing(_ body: (OpaquePointer) -> Bool) -> [UInt8]? {
    guard let bio = BIO_new(BIO_s_mem()) else { return nil }
    defer { BIO_free(bio) }
    guard body(bio) else { return nil }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = chunk.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32($0.count)) }
      if n <= 0 { break }
      out += chunk[0..<Int(n)]
    }
    return out
  }
}

/// Forgets libcrypto's queued error reasons (ERR_clear_error): a failure is reported through
/// `CryptoError`, and a stale queue entry must not be blamed on the next, unrelated call.
@inline(__always) func clearLibcryptoErrors() { ERR_clear_error() }

/// The PEM pass-phrase callback that refuses: an encrypted key file is an error, never a prompt
/// on the terminal (OpenSSL's default callback reads one from /dev/tty).
func refusePassphrase(_ buffer: UnsafeMutablePointer<CChar>?, _ size: Int32, _ writing: Int32, _ context: UnsafeMutableRawPointer?) -> Int32 { -1 }
