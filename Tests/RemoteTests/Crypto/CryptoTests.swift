import Foundation
import MCPGenSystem
import Testing

@Suite("libcrypto keys and signatures")
struct CryptoTests {
  @Test("each key type signs, verifies its own signature, and refuses a changed message or signature", arguments: KeyType.allCases)
  func signVerify(type: KeyType) throws {
    let key = try PrivateKey.generate(type)
    let pub = try key.publicKey()
    #expect(pub.type == type)
    let message = Array("the signed bytes".utf8)
    let signature = try key.sign(message, scheme: type.defaultScheme)
    #expect(pub.verify(signature: signature, message: message, scheme: type.defaultScheme))
    #expect(!pub.verify(signature: signature, message: message + [0], scheme: type.defaultScheme))
    var bad = signature
    bad[bad.count / 2] ^= 1
    #expect(!pub.verify(signature: bad, message: message, scheme: type.defaultScheme))
    #expect(!pub.verify(signature: [], message: message, scheme: type.defaultScheme))
    #expect(!pub.verify(signature: Array(signature.prefix(5)), message: message, scheme: type.defaultScheme))
    // A scheme of another key type is a refusal, not a crash.
    for other in SignatureScheme.allCases where other.keyType != type {
      #expect(!pub.verify(signature: signature, message: message, scheme: other))
      #expect(throws: CryptoError.self) { try key.sign(message, scheme: other) }
    }
  }

  @Test("PKCS#8 PEM and SubjectPublicKeyInfo round trips", arguments: KeyType.allCases)
  func pemRoundTrip(type: KeyType) throws {
    let key = try PrivateKey.generate(type)
    let pem = try key.pkcs8PEM()
    #expect(String(decoding: pem, as: UTF8.self).hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
    let again = try PrivateKey(pem: pem)
    #expect(try again.pkcs8PEM() == pem)
    let spki = try key.publicKey().spkiPEM()
    #expect(String(decoding: spki, as: UTF8.self).hasPrefix("-----BEGIN PUBLIC KEY-----\n"))
    let pub = try PublicKey(spkiPEM: spki)
    let message = Array("m".utf8)
    #expect(pub.verify(signature: try again.sign(message, scheme: type.defaultScheme), message: message, scheme: type.defaultScheme))
  }

  @Test("Ed25519 raw keys: 32 bytes or 64 hex, nothing else")
  func ed25519Raw() throws {
    let key = try PrivateKey.generate(.ed25519)
    let raw = try #require(try key.publicKey().ed25519Raw)
    #expect(raw.count == 32)
    let hex = Array(encodeHex(raw).utf8)
    let pub = try PublicKey(ed25519Hex: hex)
    #expect(pub.ed25519Raw == raw)
    #expect(throws: CryptoError.self) { try PublicKey(ed25519Raw: Array(raw.prefix(31))) }
    #expect(throws: CryptoError.self) { try PublicKey(ed25519Raw: raw + [0]) }
    #expect(throws: CryptoError.self) { try PublicKey(ed25519Hex: Array(hex.prefix(62))) }
    #expect(throws: CryptoError.self) { try PublicKey(ed25519Hex: Array(hex.prefix(63)) + [UInt8(ascii: "g")]) }
  }

  @Test("hostile PEM is a typed error, never a crash")
  func hostilePEM() throws {
    let good = try PrivateKey.generate(.ed25519).pkcs8PEM()
    let samples: [[UInt8]] = [
      [], Array("not a key".utf8), Array("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n".utf8),
      Array("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".utf8),
      Array(good.prefix(good.count / 2)), good.map { $0 == UInt8(ascii: "A") ? UInt8(ascii: "B") : $0 },
      [UInt8](repeating: 0x41, count: 100_000),
    ]
    for sample in samples {
      #expect(throws: CryptoError.self) { try PrivateKey(pem: sample) }
      #expect(throws: CryptoError.self) { try PublicKey(spkiPEM: sample) }
    }
    // A private key where a public one is expected, and the reverse.
    #expect(throws: CryptoError.self) { try PublicKey(spkiPEM: good) }
    #expect(throws: CryptoError.self) { try PrivateKey(pem: try PrivateKey.generate(.ed25519).publicKey().spkiPEM()) }
  }

  @Test("an encrypted private key is refused without a pass-phrase prompt", .enabled(if: FileOK.openssl, "needs the openssl program"))
  func encryptedKey() throws {
    let out = try PythonPeerlessShell.run("/usr/bin/openssl genpkey -algorithm ed25519 -aes256 -pass pass:secret")
    #expect(String(decoding: out, as: UTF8.self).contains("ENCRYPTED PRIVATE KEY"))
    #expect(throws: CryptoError.self) { try PrivateKey(pem: out) }
  }

  @Test("EC keys on other curves and short RSA keys are refused", .enabled(if: FileOK.openssl, "needs the openssl program"))
  func unsupportedKeys() throws {
    let p384 = try PythonPeerlessShell.run("/usr/bin/openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384")
    #expect(throws: CryptoError(.unsupportedKey, "EC keys on secp384r1 are not supported: only P-256 (ecdsa-sha2-nistp256)")) { try PrivateKey(pem: p384) }
    let rsa1024 = try PythonPeerlessShell.run("/usr/bin/openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024")
    #expect(throws: CryptoError.self) { try PrivateKey(pem: rsa1024) }
  }

  @Test("SHA-512 and SHA-256 of known inputs")
  func digests() {
    #expect(encodeHex(SHA512.hash(Array("abc".utf8))) == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
    #expect(encodeHex(SHA512.hash([])) == "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")
    let h = SHA512()
    h.update(Array("a".utf8))
    h.update(Array("bc".utf8))
    #expect(h.finish() == SHA512.hash(Array("abc".utf8)))
  }
}

enum FileOK {
  static var openssl: Bool { access("/usr/bin/openssl", X_OK) == 0 }
}

/// Runs a shell command line (the openssl program) and returns its standard output.
enum PythonPeerlessShell {
  static func run(_ commandLine: String) throws -> [UInt8] {
    let result = try PythonPeer.run("/bin/sh", ["-c", commandLine])
    guard result.status == 0 else { throw TestFailure("\(commandLine): \(result.stderr)") }
    return result.stdout
  }
}
