import MCPGenSystem
import SystemPackage

/// `<root>/manifests/<key>`: the manifest each entry was stored under, kept so that audit can
/// name exactly what changed and diff can compare releases without re-hashing.
extension Store {
  /// Writes the manifest durably before its entry appears: an unnamed file (a `.tmp-` one where
  /// the file system has no `O_TMPFILE`), fsync, linked as a `.tmp-` name and renamed over
  /// `manifests/<key>`, fsync dir. A crash leaves at most a `.tmp-` file or a manifest without
  /// an entry; both are garbage.
  func storeManifest(_ manifest: Manifest, _ key: StoreKey) throws(MCPGenError) {
    if let existing = try? readManifest(key), existing == manifest { return }
    let bytes = manifest.serialized()
    try attempt("write manifest") { () throws(SystemCallError) in
      // Replacing is safe: an existing file under this name failed to hash to the key.
      try TemporaryFile.write(bytes, mode: 0o444, in: manifests, as: key.bytes, replacing: true) { Store.temporaryName() }
    }
  }

  /// Reads `manifests/<key>` and checks that it hashes to `key`.
  public func readManifest(_ key: StoreKey) throws(MCPGenError) -> Manifest {
    let where_ = path.appending(bytes: Store.manifestsName + [0x2F] + key.bytes)
    let bytes: [UInt8]
    do {
      bytes = try manifests.openFile(key.bytes, flags: OpenFlags.readOnly).readAll()
    } catch let e where e.errno == .noSuchFileOrDirectory {
      throw MCPGenError(.integrity, "the manifest of \(key.short) is missing; run mcp-gen audit", hint: "mcp-gen audit", path: where_, cause: e)
    } catch {
      throw MCPGenError(error, doing: "read manifest")
    }
    guard SHA256.hash(bytes) == key.digest else {
      throw MCPGenError(.integrity, "the manifest of \(key.short) does not match its key; run mcp-gen audit", hint: "mcp-gen audit", path: where_)
    }
    do {
      return try Manifest(parsing: bytes)
    } catch {
      throw MCPGenError(.integrity, "the manifest of \(key.short) is malformed (\(error)); run mcp-gen audit", hint: "mcp-gen audit", path: where_)
    }
  }
}
