import MCPGenKit

/// `timestamp.json`: the version (and optionally length and hashes) of the current snapshot.
public struct TUFTimestamp: Sendable {
  public var envelope: TUFEnvelope
  public var snapshotMeta: TUFMetaFile

  public init(parsing bytes: [UInt8], file: String) throws(MCPGenError) {
    let envelope = try TUFEnvelope(parsing: bytes, file: file, expectedType: "timestamp")
    let meta = try envelope.fields.object("meta")
    // Specification 4.6: timestamp's meta "MUST only include a description of the snapshot.json
    // file". python-tuf refuses more too (it drops the other entries, and the signature then
    // covers bytes it no longer has): one signed file must not mean two things to two clients.
    guard meta.members.count == 1 else {
      throw meta.fail("signed.meta must describe snapshot.json and nothing else")
    }
    snapshotMeta = try TUFMetaFile.parse(try meta.required("snapshot.json"), file: file, context: "signed.meta.snapshot.json")
    self.envelope = envelope
  }

  public var version: Int64 { envelope.version }
}
