import MCPGenSystem
import SystemPackage

extension Store {
  /// Compares two stored releases by their manifests (`manifests/<key>`); nothing in `store/` is
  /// read or hashed. `from` nil compares with nothing (everything in `to` is added).
  public func diff(from: ReleaseReference?, to: ReleaseReference) throws(MCPGenError) -> ReleaseDiff {
    let old = try from.map { (ref) throws(MCPGenError) in try storedManifest(ref) }
    return ReleaseDiff(from: old, to: try storedManifest(to))
  }

  /// The manifest of a release whose entry must still be in the store. A missing entry is a
  /// `notFound` error that says where it went (gc, audit --repair), so nobody goes looking for a
  /// release that was collected on purpose.
  public func storedManifest(_ ref: ReleaseReference) throws(MCPGenError) -> Manifest {
    guard try contains(ref.key) else {
      let (reason, hint) = try whereabouts(of: ref.key)
      throw MCPGenError(.notFound, "\(ref) is not in the store any more: \(reason)", hint: hint, path: entryPath(ref.key))
    }
    return try readManifest(ref.key)
  }

  /// Why `store/<key>` is absent, and what to run next: from the journal (gc and repair name
  /// what they remove) and the quarantine directory (repair may move an entry that no generation
  /// used without a journal line).
  func whereabouts(of key: StoreKey) throws(MCPGenError) -> (reason: String, hint: String) {
    let quarantine = "ls \(path.appending(bytes: Store.quarantineName).displayString)"
    let records = try readJournal().records
    for record in records.reversed() {
      if record.operation == .gc, let removed = record.extra.first(where: { $0.0 == "entries" })?.1.arrayValue,
        removed.contains(where: { $0.stringBytes == key.bytes })
      {
        return ("it was collected by gc on \(Clock.format(record.time)) (pin a generation to keep its release: mcp-gen pin N)", "mcp-gen list")
      }
      if record.operation == .repair, let moved = record.extra.first(where: { $0.0 == "quarantined" })?.1.arrayValue,
        moved.contains(where: { $0.stringBytes == key.bytes })
      {
        return ("it was found corrupted and quarantined by audit --repair on \(Clock.format(record.time))", quarantine)
      }
    }
    if try isQuarantined(key) { return ("it was found corrupted and quarantined by audit --repair", quarantine) }
    guard records.contains(where: { $0.key == key }) else {
      return ("no release with this key was ever stored in this root", "mcp-gen list")
    }
    return ("its store entry is gone (removed by hand?); run mcp-gen audit", "mcp-gen audit")
  }

  /// Whether `quarantine/` holds `<key>-<time>` (the name audit --repair gives an entry).
  func isQuarantined(_ key: StoreKey) throws(MCPGenError) -> Bool {
    let names: [[UInt8]]
    do {
      names = try root.openDirectory(Store.quarantineName).list()
    } catch let e where e.errno == .noSuchFileOrDirectory {
      return false
    } catch {
      throw MCPGenError(error, doing: "read quarantine")
    }
    let prefix = key.bytes + [0x2D]
    return names.contains { $0.starts(with: prefix) }
  }
}
