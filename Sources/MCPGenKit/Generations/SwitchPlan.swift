import MCPGenSystem

/// What a switch or rollback is about to do (printed by `--dry-run`, returned after the change).
public struct SwitchPlan: Sendable, Equatable {
  public enum Kind: Sendable, Equatable {
    /// A new generation `to` is created for `key` and made current.
    case newGeneration
    /// `current` moves to the existing generation `to` (undoing the latest switch when `undo`).
    case rollback(undo: Bool)
    /// `to` was already current but never confirmed (its switch died during the checks): the
    /// checks ran now.
    case confirmation
  }

  public var kind: Kind
  /// The generation current before, if any.
  public var from: Int64?
  public var fromKey: StoreKey?
  public var to: Int64
  public var key: StoreKey
  /// Generations a plain rollback passed over (removed, failed) to reach `to`.
  public var skipped: [Int64] = []
}

/// How a switch or rollback ended.
public struct SwitchOutcome: Sendable {
  public var plan: SwitchPlan
  /// The target already was current: nothing changed.
  public var alreadyCurrent: Bool = false
  /// Nothing changed because only a plan was asked for.
  public var dryRun: Bool = false
  /// Set when `switch PATH` stored the release first.
  public var added: AddResult?
  /// A crash-interrupted change that this command found and recorded before its own.
  public var recovered: JournalRecord?
  /// The target's stored entry was corrupted and `switch PATH` healed it from the path (in a dry
  /// run: would heal it).
  public var healed: HealedEntry?
  /// Restart and health checks, and the rollback they caused, if any.
  public var health = HealthReport()
  /// The target's manifest when it is not in the store yet (a dry run of `switch PATH` stores
  /// nothing), so the plan can still say what would change.
  public var pendingManifest: Manifest?
  /// Commands the release that was current declared (config `expose`, else its `bin/`) that the
  /// new one does not have: links exposed to them dangle now.
  public var vanishedCommands: [[UInt8]] = []

  public init(plan: SwitchPlan, alreadyCurrent: Bool = false, dryRun: Bool = false, added: AddResult? = nil, recovered: JournalRecord? = nil) {
    self.plan = plan
    self.alreadyCurrent = alreadyCurrent
    self.dryRun = dryRun
    self.added = added
    self.recovered = recovered
  }
}

/// What to switch to.
public enum SwitchTarget: Sendable, CustomStringConvertible {
  /// A release on disk: added first, as `add` does.
  case path(FilePath)
  /// A full key or a unique prefix of at least 8 hex digits.
  case key(String)

  public var description: String {
    switch self {
    case .path(let p): return p.displayString
    case .key(let k): return k
    }
  }
}

import SystemPackage
