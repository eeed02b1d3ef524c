import MCPGenKit
import MCPGenSystem

/// What timestamp says of snapshot and snapshot says of each targets role: the version, and
/// optionally the exact length and hashes of the file.
public struct TUFMetaFile: Sendable, Equatable {
  public var version: Int64
  public var length: Int?
  public var hashes: [String: String]?

  static func parse(_ value: JSON, file: String, context: String) throws(MCPGenError) -> TUFMetaFile {
    let f = try JSONFields(value, file: file, context: context)
    let version = try f.int("version")
    guard version >= 1 else { throw f.fail("\(context).version is below 1") }
    var length: Int? = nil
    if let l = try f.optionalInt("length") {
      guard l >= 0, l <= Int64(Int32.max) else { throw f.fail("\(context).length is out of range") }
      length = Int(l)
    }
    var hashes: [String: String]? = nil
    if f.value("hashes") != nil {
      hashes = try Hashes.parse(try f.object("hashes"))
    }
    return TUFMetaFile(version: version, length: length, hashes: hashes)
  }

  /// Checks `bytes` against the length and every hash listed, when listed (the specification's
  /// mix-and-match defence for snapshot and targets).
  func verify(_ bytes: [UInt8], file: String) throws(MCPGenError) {
    if let length, bytes.count != length {
      throw Untrusted.error("\(file) is \(bytes.count) bytes where the signed metadata says \(length)")
    }
    if let hashes { try Hashes.verify(bytes, against: hashes, file: file) }
  }
}

/// Target and metadata hashes: algorithm name to lowercase hex digest.
enum Hashes {
  /// The algorithms this client computes. A listed algorithm outside this set fails the check:
  /// a hash the client cannot compute is a hash it cannot trust.
  static let supported: Set<String> = ["sha256", "sha512"]

  static func parse(_ f: JSONFields) throws(MCPGenError) -> [String: String] {
    var out: [String: String] = [:]
    for (algorithm, value) in f.members {
      out[algorithm] = try JSONFields.text(value, file: f.file, what: "\(f.context).\(algorithm)")
    }
    guard !out.isEmpty else { throw f.fail("\(f.context) is empty") }
    return out
  }

  /// The hex digest of `bytes` by `algorithm`, nil for an algorithm not supported.
  static func digest(_ algorithm: String, _ bytes: [UInt8]) -> String? {
    switch algorithm {
    case "sha256": return SHA256.hash(bytes).hexString(64)
    case "sha512": return Digests.sha512Hex(bytes)
    default: return nil
    }
  }

  static func verify(_ bytes: [UInt8], against hashes: [String: String], file: String) throws(MCPGenError) {
    for (algorithm, expected) in hashes.sorted(by: { $0.key < $1.key }) {
      guard let actual = digest(algorithm, bytes) else {
        throw Untrusted.error("\(file) is signed with a \(algorithm) hash, which this client does not compute")
      }
      guard actual == expected else {
        throw Untrusted.error("\(file) does not match its signed \(algorithm) hash")
      }
    }
  }
}
