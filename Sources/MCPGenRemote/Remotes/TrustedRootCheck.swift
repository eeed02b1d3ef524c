import MCPGenKit
import SystemPackage

/// The check `remote add --trust ROOT.json` runs before it copies the root into the remote's
/// directory: the first trusted root is the anchor of every later verification, so it must at
/// least be a TUF root.
///
/// The root must be signed by its own threshold of its own root keys, signatures verified, as the
/// TUF client loads it (where trust starts); the structural check first, for a clear message.
public func checkTrustedRoot(_ bytes: [UInt8], file: FilePath) throws(MCPGenError) -> Int64 {
  _ = try checkTrustedRootStructure(bytes, file: file)
  return try TrustedMetadataSet(root: bytes, now: Clock.now(), verifier: LibCryptoVerifier()).root.version
}

/// Without a signature check: a JSON object `{"signed": {"_type": "root", "version": N >= 1,
/// "roles": {"root": {"keyids": [...], "threshold": T >= 1}, ...}, "keys": {...}},
/// "signatures": [...]}` with at least T signatures by key ids of the root role. Returns N.
public func checkTrustedRootStructure(_ bytes: [UInt8], file: FilePath) throws(MCPGenError) -> Int64 {
  func refuse(_ why: String) -> MCPGenError {
    MCPGenError(
      .untrusted,
      "\(file.displayString) is not a TUF root (\(why)); give the remote's first root metadata (metadata/1.root.json of the remote, obtained out of band)",
      path: file)
  }
  let json: JSON
  do { json = try JSON(parsing: bytes) } catch { throw refuse("not JSON") }
  guard let signed = json["signed"], case .object = signed else { throw refuse("no \"signed\" object") }
  guard signed["_type"]?.stringValue == "root" else { throw refuse("\"signed\".\"_type\" is not \"root\"") }
  guard let version = signed["version"]?.intValue, version >= 1 else { throw refuse("no version of 1 or more") }
  guard case .object? = signed["keys"] else { throw refuse("no \"keys\"") }
  guard let role = signed["roles"]?["root"], let keyIDs = role["keyids"]?.arrayValue,
    let threshold = role["threshold"]?.intValue, threshold >= 1
  else { throw refuse("no root role with key ids and a threshold of 1 or more") }
  let rootKeys = Set(keyIDs.compactMap(\.stringValue))
  guard let signatures = json["signatures"]?.arrayValue else { throw refuse("no \"signatures\"") }
  // Each key counts once toward the threshold, however often it signed.
  let signers = Set(signatures.compactMap { $0["keyid"]?.stringValue }.filter { rootKeys.contains($0) })
  guard signers.count >= threshold else {
    throw refuse("signed by \(signers.count) of its root keys, fewer than its threshold \(threshold)")
  }
  return version
}
