import MCPGenKit
import MCPGenRemote
import MCPGenSystem
import Testing

/// Signatures and key ids cross-checked with securesystemslib, for the three key types.
@Suite("key interop with securesystemslib", .enabled(if: PythonPeer.available, "needs python-tuf (scripts/python-tuf.sh)"))
struct KeyInteropTests {
  static let message = Array("{\"_type\":\"timestamp\",\"version\":7} ü".utf8)

  /// Python makes a key of each type, signs the message; prints PKCS#8 PEM, key object, key id
  /// and signature of each.
  static let pythonSigns = """
    import sys, json
    from securesystemslib.signer import CryptoSigner
    msg = sys.stdin.buffer.read()
    out = []
    for s in [CryptoSigner.generate_ed25519(), CryptoSigner.generate_ecdsa(), CryptoSigner.generate_rsa()]:
        out.append({"pem": s.private_bytes.decode(), "key": s.public_key.to_dict(),
                    "keyid": s.public_key.keyid, "sig": s.sign(msg).signature})
    print(json.dumps(out))
    """

  /// Python checks what we made: our key id is its key id, our signature verifies, and the key
  /// loaded from our PEM signs what our public key object verifies.
  static let pythonVerifies = """
    import sys, json
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from securesystemslib.signer import CryptoSigner, SSlibKey, Signature
    from securesystemslib.signer._utils import compute_default_keyid
    items = json.load(sys.stdin)
    msg = items[0]["msg"].encode()
    for it in items:
        key = SSlibKey.from_dict(it["keyid"], dict(it["key"]))
        assert compute_default_keyid(key.keytype, key.scheme, key.keyval) == it["keyid"], "keyid"
        key.verify_signature(Signature(it["keyid"], it["sig"]), msg)
        signer = CryptoSigner(load_pem_private_key(it["pem"].encode(), None), key)
        key.verify_signature(signer.sign(msg), msg)
    print("ok", len(items))
    """

  @Test("a signature made by securesystemslib verifies in ours; key ids and PEM keys agree")
  func theirsVerifyInOurs() throws {
    let output = try PythonPeer.script(Self.pythonSigns, input: Self.message)
    let items = try #require(try JSON(parsing: output).arrayValue)
    #expect(items.count == 3)
    for item in items {
      let key = try TUFKey(json: try #require(item["key"]))
      #expect(key.keyID == item["keyid"]?.stringValue)
      let sig = try #require(item["sig"]?.stringBytes)
      #expect(key.verify(signatureHex: sig, message: Self.message), "\(key.scheme)")
      var flipped = Self.message
      flipped[0] ^= 1
      #expect(!key.verify(signatureHex: sig, message: flipped))
      // Their private key, loaded by us, gives the same key object and id.
      let signer = try TUFSigner(privateKey: try PrivateKey(pem: try #require(item["pem"]?.stringBytes)))
      #expect(signer.keyID == key.keyID)
      #expect(try CanonicalJSON.encode(signer.publicKey.json) == CanonicalJSON.encode(key.json))
    }
  }

  @Test("a signature made by ours verifies in securesystemslib; our key ids are its key ids")
  func oursVerifyInTheirs() throws {
    var items: [JSON] = []
    for type in KeyType.allCases {
      let signer = try TUFSigner(privateKey: try PrivateKey.generate(type))
      let signature = try signer.sign(Self.message)
      items.append(.object([
        ("msg", .string(Self.message)), ("pem", .string(try signer.privateKey.pkcs8PEM())),
        ("key", signer.publicKey.json), ("keyid", .string(signer.keyID)),
        ("sig", try #require(signature["sig"])),
      ]))
    }
    let output = try PythonPeer.script(Self.pythonVerifies, input: JSON.array(items).serialized())
    #expect(String(decoding: output, as: UTF8.self) == "ok 3\n")
  }

  @Test("a tampered signature of ours is refused by securesystemslib too (the check can fail)")
  func tamperedRefusedByTheirs() throws {
    let signer = try TUFSigner(privateKey: try PrivateKey.generate(.ed25519))
    var sig = Array(try #require(try signer.sign(Self.message)["sig"]?.stringBytes))
    sig[0] = sig[0] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
    let item: JSON = .object([
      ("msg", .string(Self.message)), ("pem", .string(try signer.privateKey.pkcs8PEM())),
      ("key", signer.publicKey.json), ("keyid", .string(signer.keyID)), ("sig", .string(sig)),
    ])
    #expect(throws: TestFailure.self) { try PythonPeer.script(Self.pythonVerifies, input: JSON.array([item]).serialized()) }
  }

  @Test("hostile key objects are refused with .untrusted")
  func hostileKeyObjects() throws {
    let good = try TUFSigner(privateKey: try PrivateKey.generate(.ed25519)).publicKey
    let samples: [JSON] = [
      .null, .object([]),
      .object([("keytype", .string("ed25519")), ("scheme", .string("ed25519")), ("keyval", .object([("public", .string("00"))]))]),
      .object([("keytype", .string("rsa")), ("scheme", .string("ed25519")), ("keyval", .object([("public", .string(good.publicValue))]))]),
      .object([("keytype", .string("ed25519")), ("scheme", .string("ed448")), ("keyval", .object([("public", .string(good.publicValue))]))]),
      .object([("keytype", .string("ecdsa")), ("scheme", .string("ecdsa-sha2-nistp256")), ("keyval", .object([("public", .string("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))]))]),
      .object([("keytype", .string("ed25519")), ("scheme", .string("ed25519")), ("keyval", .object([("public", .string(good.publicValue)), ("x", .string([0xFF]))]))]),
    ]
    for sample in samples {
      do {
        _ = try TUFKey(json: sample)
        Issue.record("accepted \(sample.text)")
      } catch {
        #expect(error.code == .untrusted)
      }
    }
  }
}
