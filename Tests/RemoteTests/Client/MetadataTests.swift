import MCPGenKit
import MCPGenSystem
import Testing

@testable import MCPGenRemote

/// Parsing and the rules that need no repository: expiry times, path patterns, role file
/// names, and threshold counting (with a test verifier standing in for the crypto).
@Suite("TUF metadata parsing and threshold counting")
struct MetadataTests {
  @Test("expires is RFC 3339 UTC with Z and whole seconds, nothing else", arguments: [
    ("1970-01-01T00:00:00Z", Int64(0)),
    ("2030-03-17T17:46:40Z", Int64(1_900_000_000)),
    ("2024-02-29T23:59:59Z", Int64(1_709_251_199)),
  ])
  func expiry(text: String, seconds: Int64) {
    #expect(ExpiryTime.parse(text) == seconds)
  }

  @Test("malformed expiry times are refused", arguments: [
    "2030-03-17T17:46:40", "2030-03-17T17:46:40.5Z", "2030-03-17 17:46:40Z", "2023-02-29T00:00:00Z",
    "2030-13-01T00:00:00Z", "2030-03-17T24:00:00Z", "2030-03-17T17:46:40+00:00", "",
  ])
  func badExpiry(text: String) {
    #expect(ExpiryTime.parse(text) == nil)
  }

  @Test("path patterns match per path segment, as fnmatch", arguments: [
    ("delegated/file.txt", "delegated/*", true),
    ("delegated/sub/file.txt", "delegated/*", false),
    ("a/b.tgz", "*/*.tgz", true),
    ("file1.txt", "file?.txt", true),
    ("file10.txt", "file?.txt", false),
    ("x/a", "x/[abc]", true),
    ("x/d", "x/[!abc]", true),
    ("x/a", "x/[!abc]", false),
    ("x/m", "x/[a-z]", true),
    ("releases/k", "releases/*", true),
    ("other", "releases/*", false),
    ("", "*", true),
    ("aXbXc", "a*b*c", true),
  ])
  func pathPatterns(target: String, pattern: String, matches: Bool) {
    #expect(PathPattern.matches(target: target, pattern: pattern) == matches)
  }

  @Test("role names become one percent-encoded file name", arguments: [
    ("targets", "targets.json"), ("../delegatedrole", "..%2Fdelegatedrole.json"), ("?", "%3F.json"),
    ("#", "%23.json"), ("/delegatedrole", "%2Fdelegatedrole.json"), ("a b", "a%20b.json"),
  ])
  func roleFileNames(role: String, file: String) {
    #expect(RoleFileName.local(role) == file)
  }

  @Test("spec_version of another major version is refused, 1.x accepted")
  func specVersion() throws {
    func envelope(_ spec: String) -> MCPGenError? {
      failure { () throws(MCPGenError) in
        _ = try TUFEnvelope(parsing: Array(document(spec: spec).utf8), file: "t.json", expectedType: "timestamp")
      }
    }
    #expect(envelope("1.0.31") == nil)
    #expect(envelope("1.0") == nil)
    #expect(envelope("2.0.0")?.code == .untrusted)
    #expect(envelope("1.x")?.code == .untrusted)
  }

  @Test("a document with a key twice in one object is refused")
  func duplicateKeys() {
    let text = #"{"signed":{"_type":"timestamp","_type":"root"},"signatures":[]}"#
    let e = failure { () throws(MCPGenError) in _ = try TUFEnvelope(parsing: Array(text.utf8), file: "t.json", expectedType: "timestamp") }
    #expect(e?.code == .untrusted)
    #expect(e?.message.contains("appears twice") == true)
  }

  // MARK: threshold counting

  /// "Signs" by hashing the message with the public value: enough to tell keys apart in tests
  /// of the counting rule (the real signatures are covered by the python-tuf tests).
  struct TestVerifier: SignatureVerifying {
    func signedBytes(_ signed: JSON) -> [UInt8]? { signed.serialized() }
    func isValid(signature: [UInt8], message: [UInt8], key: TUFMetadataKey) -> Bool {
      key.keytype == "test" && signature == TestVerifier.sign(message, key.publicValue)
    }
    static func sign(_ message: [UInt8], _ publicValue: String) -> [UInt8] {
      SHA256.hash(message + Array(publicValue.utf8)).bytes
    }
  }

  func key(_ value: String, type: String = "test") -> TUFMetadataKey {
    TUFMetadataKey(keytype: type, scheme: "test", publicValue: value, json: .object([]))
  }

  func signed(by signers: [(String, String)]) throws -> TUFEnvelope {
    let unsigned = try TUFEnvelope(parsing: Array(document(spec: "1.0.31").utf8), file: "t.json", expectedType: "timestamp")
    let message = unsigned.signed.serialized()
    var e = unsigned
    e.signatures = signers.map { TUFSignature(keyid: $0.0, signature: TestVerifier.sign(message, $0.1)) }
    return e
  }

  @Test("each distinct key counts once: repeated signatures, a key under two ids, unknown types, outsiders")
  func counting() throws {
    let keys = ["a": key("K1"), "b": key("K1"), "c": key("K2"), "u": key("K3", type: "unknown"), "x": key("K4")]
    let role = TUFRoleKeys(keyids: ["a", "b", "c", "u"], threshold: 2)
    let v = TestVerifier()
    #expect(ThresholdCheck.validSigners(try signed(by: [("a", "K1"), ("c", "K2")]), keys: keys, role: role, verifier: v) == 2)
    #expect(ThresholdCheck.validSigners(try signed(by: [("a", "K1"), ("a", "K1")]), keys: keys, role: role, verifier: v) == 1)
    #expect(ThresholdCheck.validSigners(try signed(by: [("a", "K1"), ("b", "K1")]), keys: keys, role: role, verifier: v) == 1)
    #expect(ThresholdCheck.validSigners(try signed(by: [("a", "K1"), ("u", "K3")]), keys: keys, role: role, verifier: v) == 1)
    #expect(ThresholdCheck.validSigners(try signed(by: [("a", "K1"), ("x", "K4")]), keys: keys, role: role, verifier: v) == 1)
    // A bad signature first under an id, a good one after it: the good one counts.
    var e = try signed(by: [("c", "K2"), ("a", "K1")])
    e.signatures.insert(TUFSignature(keyid: "a", signature: [1, 2, 3]), at: 0)
    #expect(ThresholdCheck.validSigners(e, keys: keys, role: role, verifier: v) == 2)
    let err = failure { () throws(MCPGenError) in
      try ThresholdCheck.verify(try! signed(by: [("a", "K1"), ("b", "K1")]), role: "timestamp", keys: keys, role: role, verifier: v, signer: "trusted root")
    }
    #expect(err?.code == .untrusted)
  }

  @Test("timestamp meta describing more than snapshot.json is refused (spec 4.6; found by MetadataFuzzTests against python-tuf)")
  func timestampMetaOnlySnapshot() {
    func timestamp(_ meta: String) -> MCPGenError? {
      let text = #"{"signed":{"_type":"timestamp","spec_version":"1.0.31","version":1,"expires":"2030-01-01T00:00:00Z","meta":{\#(meta)}},"signatures":[]}"#
      return failure { () throws(MCPGenError) in _ = try TUFTimestamp(parsing: Array(text.utf8), file: "timestamp.json") }
    }
    #expect(timestamp(#""snapshot.json":{"version":1}"#) == nil)
    #expect(timestamp(#""snapshot.json":{"version":1},"targets.json":{"version":1}"#)?.code == .untrusted)
    #expect(timestamp(#""paths":"x","snapshot.json":{"version":1}"#)?.code == .untrusted)
  }

  @Test("a delegated role without terminating is refused (spec 4.5, as python-tuf; found by MetadataFuzzTests)")
  func delegationNeedsTerminating() {
    func targets(_ role: String) -> MCPGenError? {
      let text = #"{"signed":{"_type":"targets","spec_version":"1.0.31","version":1,"expires":"2030-01-01T00:00:00Z","targets":{},"delegations":{"keys":{},"roles":[{\#(role)}]}},"signatures":[]}"#
      return failure { () throws(MCPGenError) in _ = try TUFTargets(parsing: Array(text.utf8), file: "targets.json") }
    }
    #expect(targets(#""name":"a","keyids":[],"threshold":1,"paths":["a/*"],"terminating":false"#) == nil)
    #expect(targets(#""name":"a","keyids":[],"threshold":1,"paths":["a/*"]"#)?.code == .untrusted)
    #expect(targets(#""name":"a","keyids":[],"threshold":1,"paths":["a/*"],"terminating":0"#)?.code == .untrusted)
  }

  func document(spec: String) -> String {
    #"{"signed":{"_type":"timestamp","spec_version":"\#(spec)","version":1,"expires":"2030-01-01T00:00:00Z","meta":{"snapshot.json":{"version":1}}},"signatures":[]}"#
  }
}
