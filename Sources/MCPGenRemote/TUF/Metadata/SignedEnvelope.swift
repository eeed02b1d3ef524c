import MCPGenKit
import MCPGenSystem

/// A metadata file as served, parsed but not yet trusted: `signed`, `signatures`, and the fields
/// every role has (`_type`, `spec_version`, `version`, `expires`). The exact bytes are kept:
/// the client persists them, byte for byte, once every check passed.
public struct TUFEnvelope: Sendable {
  public var bytes: [UInt8]
  public var signed: JSON
  public var signatures: [TUFSignature]
  public var type: String
  public var specVersion: String
  public var version: Int64
  /// Seconds since the epoch.
  public var expires: Int64
  /// The file name used in messages (`timestamp.json`, `3.root.json`).
  public var file: String
  /// `signed` as fields, for the role-specific parsers.
  let fields: JSONFields

  /// The major version of the specification this client implements.
  static let supportedMajor = "1"

  /// Parses `bytes` as metadata whose `_type` must be `expectedType`.
  public init(parsing bytes: [UInt8], file: String, expectedType: String) throws(MCPGenError) {
    let document: JSON
    do {
      document = try JSON(parsing: bytes)
    } catch {
      throw Untrusted.malformed(file, "not JSON with integer numbers, at byte \(error.offset)")
    }
    if let key = JSONFields.duplicateKey(in: document) {
      throw Untrusted.malformed(file, "the key \"\(key)\" appears twice in one object")
    }
    let top = try JSONFields(document, file: file, context: "metadata")
    let signed = try top.required("signed")
    let fields = try JSONFields(signed, file: file, context: "signed")
    var signatures: [TUFSignature] = []
    var keyids = Set<String>()
    for item in try top.array("signatures") {
      let s = try JSONFields(item, file: file, context: "signatures[]")
      let keyid = try s.string("keyid")
      // Specification 4.2.1: "The keyid MUST be unique in the "signatures" array". The
      // threshold check counts a key once anyway; this refuses the file itself, as a
      // conforming client must, even when distinct keys meet the threshold.
      guard keyids.insert(keyid).inserted else {
        throw Untrusted.malformed(file, "the key id \(keyid) appears twice in signatures")
      }
      let hex = try s.string("sig")
      // A signature that is not hex is one that verifies nothing; the metadata stays readable
      // so that the other signatures can still meet the threshold.
      signatures.append(TUFSignature(keyid: keyid, signature: decodeHex(Array(hex.utf8)) ?? []))
    }
    let type = try fields.string("_type")
    guard type == expectedType else {
      throw Untrusted.error("\(file) is \"\(type)\" metadata where \"\(expectedType)\" was expected")
    }
    let specVersion = try fields.string("spec_version")
    let parts = specVersion.split(separator: ".", omittingEmptySubsequences: false)
    guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else {
      throw fields.fail("spec_version \"\(specVersion)\" is not MAJOR.MINOR[.PATCH]")
    }
    guard parts[0] == TUFEnvelope.supportedMajor else {
      throw Untrusted.error("\(file) is for version \(specVersion) of the TUF specification; this client implements 1.x")
    }
    let version = try fields.int("version")
    guard version >= 1 else { throw fields.fail("version \(version) is below 1") }
    let expiresText = try fields.string("expires")
    guard let expires = ExpiryTime.parse(expiresText) else {
      throw fields.fail("expires \"\(expiresText)\" is not YYYY-MM-DDTHH:MM:SSZ")
    }
    self.bytes = bytes
    self.signed = signed
    self.signatures = signatures
    self.type = type
    self.specVersion = specVersion
    self.version = version
    self.expires = expires
    self.file = file
    self.fields = fields
  }

  /// Whether the metadata is expired at `now`: the specification's "expiration MUST be higher
  /// than the fixed update start time", so an expiry equal to now is expired.
  public func isExpired(at now: Int64) -> Bool { expires <= now }
}
