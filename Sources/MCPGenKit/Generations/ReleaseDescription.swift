import MCPGenSystem
import SystemPackage

/// Everything `mcp-gen show` knows about one generation, or one store entry named by key.
public struct ReleaseDescription: Sendable {
  /// A generation that points at the described release.
  public struct Use: Sendable, Equatable {
    public var generation: Int64
    public var isCurrent: Bool
    public var isPinned: Bool
    public var isFailed: Bool
  }

  public var reference: ReleaseReference
  /// `<root>/store/<key>`.
  public var path: FilePath
  /// Where the release was switched to or added from, as the journal recorded it.
  public var source: [UInt8]?
  /// The release's label and where it came from (`ReleaseLabel.Origin`).
  public var label: ReleaseLabel?
  /// When the generation was made (nil when described by key).
  public var created: Int64?
  /// When the entry was stored: the journal line that stored it, else its manifest's time.
  public var stored: Int64?
  /// nil when the entry is not in the store; `missing` says why.
  public var manifest: Manifest?
  public var missing: String?
  public var isBlocked: Bool
  /// The described generation, or (by key) one that uses the release, is current.
  public var isCurrent: Bool
  /// The described generation is pinned; nil when described by key.
  public var isPinned: Bool?
  /// A health check failed on the described generation; nil when described by key.
  public var isFailed: Bool?
  /// Every generation that points at this release, oldest first.
  public var uses: [Use]
  /// Checks recorded against the generation (or, by key, against every generation in `uses`).
  public var checks: [RecordedCheck]
}

extension Store {
  /// Reads what `show` prints: from the generation links, marks, the journal and the manifest.
  /// Takes no lock and reads no content. A missing entry is described, not an error.
  public func describe(_ ref: ReleaseReference) throws(MCPGenError) -> ReleaseDescription {
    let journal = try readJournal()
    let history = History(journal)
    let rows = try generationTable(history).filter { $0.generation.key == ref.key }
    let pins = try pinned()
    let uses = rows.map {
      ReleaseDescription.Use(
        generation: $0.generation.number, isCurrent: $0.isCurrent, isPinned: pins.contains($0.generation.number), isFailed: $0.isFailed)
    }
    let row = ref.generation.flatMap { n in rows.first { $0.generation.number == n } }
    var manifest: Manifest? = nil
    var missing: String? = nil
    if try contains(ref.key) {
      manifest = try readManifest(ref.key)
    } else {
      missing = try whereabouts(of: ref.key).reason
    }
    let checked = ref.generation.map { Set([$0]) } ?? Set(uses.map(\.generation))
    return ReleaseDescription(
      reference: ref, path: entryPath(ref.key),
      source: row.flatMap(\.source) ?? history.keySources[ref.key], label: history.labels[ref.key],
      created: row?.created, stored: try storedTime(ref.key, journal),
      manifest: manifest, missing: missing, isBlocked: try blocked().contains(ref.key),
      isCurrent: ref.generation.map { n in uses.contains { $0.generation == n && $0.isCurrent } } ?? uses.contains(where: \.isCurrent),
      isPinned: ref.generation.map { pins.contains($0) }, isFailed: ref.generation.map { history.failed.contains($0) },
      uses: uses, checks: journal.checks(for: checked))
  }

  /// The latest journal line that stored `key` (`add` that did not find it stored already, or
  /// `switch` with `added`), else the time its manifest was written (an entry stored by an older
  /// version, or an unjournaled add).
  private func storedTime(_ key: StoreKey, _ journal: Journal) throws(MCPGenError) -> Int64? {
    let line = journal.records.last {
      $0.key == key && (($0.operation == .add && $0.outcome == "ok") || ($0.operation == .switch && $0.extra.contains { $0.0 == "added" && $0.1 == .bool(true) }))
    }
    if let line { return line.time }
    let st = try attempt("read manifest") { () throws(SystemCallError) in try manifests.statIfPresent(key.bytes) }
    return st.map { Int64($0.modified.seconds) }
  }
}
