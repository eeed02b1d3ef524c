import MCPGenSystem
import SystemPackage

/// One row of `mcp-gen list`.
public struct GenerationRow: Sendable {
  public var generation: Generation
  public var created: Int64?
  public var source: [UInt8]?
  /// Its release's label (`--label`, a git tag, or a version found in the release).
  public var label: ReleaseLabel?
  public var isCurrent: Bool
  /// Its store entry exists, so `rollback N` can return to it.
  public var isRestorable: Bool
  /// A health check failed on it.
  public var isFailed: Bool
}

/// What `mcp-gen status` shows.
public struct StoreStatus: Sendable {
  public var current: CurrentState
  public var generation: Int64?
  public var key: StoreKey?
  /// The current release's label.
  public var label: ReleaseLabel?
  /// `current` is not what the journal last recorded: a change was interrupted after its swap,
  /// or (see `holder`) a change holding the lock is still running its checks.
  public var unconfirmed: Bool
  /// Whether health checks confirmed `current`: true (its change's required checks, or a later
  /// `mcp-gen check`, passed), false (they have not: none ran, or they never finished), nil when
  /// nothing is current or the journal cannot tell (current was put back by an `abort`).
  public var confirmed: Bool? = nil
  /// The changing command that holds the lock now, if one does.
  public var holder: LockHolder? = nil
  /// Where a plain `mcp-gen rollback` would go now; nil when there is no switch to undo.
  public var rollbackTarget: ReleaseReference? = nil
}

extension Store {
  /// Every generation with what the journal knows of it. Takes no lock: a reader never blocks.
  public func generationTable() throws(MCPGenError) -> [GenerationRow] {
    // The history and the generation links are independent: read them at the same time (the
    // links take longer: the journal tail's replay is done on its thread too).
    let history = Background { () throws(MCPGenError) in try self.history() }
    let links = try generations()
    return try generationTable(try history.value(), links)
  }

  func generationTable(_ history: History, _ links: [Generation]? = nil) throws(MCPGenError) -> [GenerationRow] {
    let current = try current().number
    let dir = try generationsDirectory()
    let all: [Generation]
    if let links { all = links } else { all = try generations() }
    // One listing of the store instead of a stat per key: the rows below then cannot fail.
    let stored = Set(try keys())
    @Sendable func row(_ g: Generation) -> GenerationRow {
      var created = history.creation(of: g.number)
      if created == nil, let dir {
        created = (try? dir.stat(Array(String(g.number).utf8))).map { Int64($0.modified.seconds) }
      }
      return GenerationRow(
        generation: g, created: created, source: history.source(of: g.number), label: g.key.flatMap { history.labels[$0] },
        isCurrent: g.number == current,
        isRestorable: g.key.map(stored.contains) ?? false, isFailed: history.failed.contains(g.number))
    }
    return all.map(row)
  }

  public func status() throws(MCPGenError) -> StoreStatus {
    // The holder first: a change that ends between the two reads is then seen as finished.
    let holder = LockHolder.current(in: root)
    let state = try current()
    let key = try state.number.flatMap { (n) throws(MCPGenError) in try generation(n)?.key }
    let history = try self.history()
    let unconfirmed = state.number != nil && (state.number != history.recordedCurrent || history.unconfirmed == state.number)
    var status = StoreStatus(current: state, generation: state.number, key: key, label: key.flatMap { history.labels[$0] }, unconfirmed: unconfirmed)
    status.holder = holder
    if state.number != nil { status.confirmed = unconfirmed ? false : history.currentChecked }
    status.rollbackTarget = try? rollbackTarget(history)
    return status
  }
}
