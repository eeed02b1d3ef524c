import MCPGenKit

/// `timestamp.json`: the version (and optionally length and hashes) of the current snapshot.
public struct TUFTimestamp: Sendable {
  public var envelope: TUFEnvelope
  public var snapshotMeta: TUFMetaFile

  public init(parsing bytes: [UInt8], file: String) throws(MCPGenError) {
    let envelope = try TUFEnvelope(parsing: bytes, file: file, expectedType: "timestamp")
    let meta = try envelope.fields.object("meta")
    snapshotMeta = try TUFMetaFile.parse(try meta.required("snapshot.json"), file: file, context: "signed.meta.snapshot.json")
    self.envelope = envelope
  }

  public var version: Int64 { envelope.version }
}
