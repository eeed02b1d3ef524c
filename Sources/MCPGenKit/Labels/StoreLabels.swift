import MCPGenSystem

extension Store {
  /// The label each stored release has now, by key, replayed from the journal.
  public func labels() throws(MCPGenError) -> [StoreKey: ReleaseLabel] {
    try history().labels
  }

  /// The one stored release labelled `text` (`switch --release TEXT`): byte for byte, among the
  /// entries present in the store. None, or several, is an error that says how to go on.
  public func key(labelled text: String) throws(MCPGenError) -> StoreKey {
    if let problem = ReleaseLabel.problem(text) {
      throw MCPGenError(.notFound, "no stored release can have that label (\(problem)); see the labels with mcp-gen list")
    }
    let labels = try labels()
    let stored = try keys()
    let matches = stored.filter { labels[$0]?.names(text) ?? false }
    let shown = displayName(Array(text.utf8))
    switch matches.count {
    case 1:
      return matches[0]
    case 0:
      throw MCPGenError(.notFound, "no stored release is labelled '\(shown)'; see the labels with mcp-gen list, or switch by path or key")
    default:
      let some = matches.prefix(3).map(\.short).joined(separator: ", ") + (matches.count > 3 ? "…" : "")
      throw MCPGenError(
        .ambiguous,
        "the label '\(shown)' names \(matches.count) stored releases (\(some)); switch to one by its key, or relabel the others with --label")
    }
  }

  /// The label a command that stores or switches to `key` records on its journal line, or nil
  /// when it records none.
  ///
  /// A label the operator gave (`--label`, a git tag) always: the latest given wins. One found in
  /// the release only when the key has none yet: the same content always gives the same found
  /// label, and it must not replace a label given earlier.
  func labelToRecord(_ key: StoreKey, given: ReleaseLabel?, history: History) -> ReleaseLabel? {
    if let given { return given }
    if history.labels[key] != nil { return nil }
    return foundLabel(key)
  }

  /// For an `add` whose release was stored already (no line of its own otherwise): records its
  /// label as `journalLabelChange` does, taking the lock only when there is something to record.
  func recordLabelOfStored(_ key: StoreKey, given: ReleaseLabel?, source: [UInt8]) throws(MCPGenError) {
    // Most repeated adds change nothing: they read the journal and take no lock.
    guard labelChange(key, given: given, history: try history()) != nil else { return }
    try withLock { () throws(MCPGenError) in
      try journalLabelChange(key, given: given, history: try history(), source: source)
    }
  }

  /// Under the lock, for a command that stores or switches to nothing new (the release was
  /// stored, or is current, already): an `add` line with outcome `already-stored` that records
  /// the key's label, written only when that changes it.
  func journalLabelChange(_ key: StoreKey, given: ReleaseLabel?, history: History, source: [UInt8]?) throws(MCPGenError) {
    guard let label = labelChange(key, given: given, history: history) else { return }
    try journal(.add, from: nil, to: nil, key: key, source: source, outcome: "already-stored", extra: label.journalFields)
  }

  private func labelChange(_ key: StoreKey, given: ReleaseLabel?, history: History) -> ReleaseLabel? {
    labelToRecord(key, given: given, history: history).flatMap { $0 == history.labels[key] ? nil : $0 }
  }

  /// The version a stored release names itself, read from the entry (never from the source, which
  /// may have changed since): `[project] version` of a top-level `pyproject.toml`, else the first
  /// line of a top-level `VERSION` file; nil for a single-file release or when neither gives a
  /// usable label.
  ///
  /// Each file is opened beneath the entry with `O_NOFOLLOW` (a symlink, even one that stays
  /// inside, is not read), must be a regular file, and at most `Store.labelFileLimit` bytes of it
  /// are read. A label only names a release: a file that cannot be read gives no label, never an
  /// error (`verify` and `audit` are what report a damaged entry).
  func foundLabel(_ key: StoreKey) -> ReleaseLabel? {
    guard let entry = try? entries.openDirectory(key.bytes) else { return nil }  // ENOTDIR: a single file
    if let bytes = Store.readLabelFile(entry, "pyproject.toml", whole: true), let version = PyprojectVersion.find(in: bytes),
      let label = ReleaseLabel(version, origin: .pyproject)
    {
      return label
    }
    if let bytes = Store.readLabelFile(entry, "VERSION", whole: false) {
      let firstLine = bytes.split(separator: 0x0A, maxSplits: 1, omittingEmptySubsequences: false).first ?? []
      let text = PyprojectVersion.trimmed(firstLine)
      if let version = String(validating: text, as: UTF8.self), let label = ReleaseLabel(version, origin: .versionFile) {
        return label
      }
    }
    return nil
  }

  /// How much of a file a label is looked for in.
  static let labelFileLimit = 64 << 10

  /// At most `labelFileLimit` bytes of the regular file `name` in `directory`; with `whole`, nil
  /// when the file is longer (a partly read `pyproject.toml` could end inside its `[project]`).
  private static func readLabelFile(_ directory: DirectoryFD, _ name: String, whole: Bool) -> [UInt8]? {
    do throws(SystemCallError) {
      // O_NONBLOCK: were it a FIFO, opening it would not wait for a writer.
      let file = try directory.openFile(Array(name.utf8), flags: [.readOnly, .nonBlocking])
      let st = try file.stat()
      guard st.type == .regular, !whole || st.size <= labelFileLimit else { return nil }
      let limit = labelFileLimit
      var failure: SystemCallError? = nil
      let bytes = [UInt8](unsafeUninitializedCapacity: limit) { buffer, count in
        while count < limit {
          do throws(SystemCallError) {
            let n = try file.read(into: buffer.baseAddress! + count, count: limit - count)
            if n == 0 { return }
            count += n
          } catch {
            failure = error
            return
          }
        }
      }
      if let failure { throw failure }
      return bytes
    } catch {
      return nil
    }
  }
}
