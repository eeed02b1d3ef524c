import MCPGenKit

/// `snapshot.json`: the version of every targets metadata file (top-level and delegated).
public struct TUFSnapshot: Sendable {
  public var envelope: TUFEnvelope
  /// `<role>.json` to its version, length and hashes.
  public var meta: [String: TUFMetaFile]

  public init(parsing bytes: [UInt8], file: String) throws(MCPGenError) {
    let envelope = try TUFEnvelope(parsing: bytes, file: file, expectedType: "snapshot")
    let metaFields = try envelope.fields.object("meta")
    var meta: [String: TUFMetaFile] = [:]
    for (name, value) in metaFields.members {
      meta[name] = try TUFMetaFile.parse(value, file: file, context: "signed.meta.\(name)")
    }
    self.meta = meta
    self.envelope = envelope
  }

  public var version: Int64 { envelope.version }

  /// The entry `<role>.json`, matched byte for byte.
  public func meta(forRole role: String) -> TUFMetaFile? {
    let name = Array("\(role).json".utf8)
    return meta.first { $0.key.utf8.elementsEqual(name) }?.value
  }
}
