import ArgumentParser
import MCPGenKit
import MCPGenTerminal
import SystemPackage

struct SwitchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "switch",
    _superCommandName: superCommand,
    abstract: "Make a release current as a new generation (adding it first if given as a path).",
    usage: """
      mcp-gen switch [<options>] <path-or-key>
      mcp-gen switch [<options>] --git <repo> <ref>
      mcp-gen switch [<options>] --release <label>
      """,
    discussion: "The target's hashes are verified before and after; `current` is swapped atomically. Undo with `mcp-gen rollback`. With --git, the release is the tree of a tag, branch or commit of a git repository, read with git archive."
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup(title: "Health checks") var health: HealthOptions

  @Option(help: ArgumentHelp("Refuse unless the current release has this key (or unique prefix).", valueName: "key"))
  var expect: String?

  @Flag(help: "Switch even to a release that is blocked, or one of whose commands leads out of the release.")
  var force = false

  @Flag(help: "Print the plan and change nothing.")
  var dryRun = false

  @Option(help: ArgumentHelp("Take the release from this git repository (a clone or a bare repository); <path-or-key> is then a tag, branch or commit.", valueName: "repo"))
  var git: String?

  @Option(help: ArgumentHelp("With --git: also accept a repository owned by this user (its git configuration runs as you).", valueName: "user"))
  var allowOwner: String?

  @Argument(help: ArgumentHelp("A release directory or file, or a store key (full, or a unique prefix of 8+ hex digits); with --git, a tag, branch or commit.", valueName: "path-or-key"))
  var target: String?

  @Option(help: ArgumentHelp("Label the release with this version (at most 128 bytes of printable text); by default the git tag, or the version in the release's pyproject.toml or VERSION file.", valueName: "text"))
  var label: String?

  @Option(help: ArgumentHelp("Switch to the one stored release with this label, instead of <path-or-key>.", valueName: "label"))
  var release: String?

  func validate() throws {
    try GitOwnerOption.validate(allowOwner, git: git)
    if release != nil, target != nil || git != nil {
      throw ValidationError("--release names a stored release by its label: give it instead of <path-or-key> and --git")
    }
    if target == nil, release == nil {
      throw ValidationError(git == nil
        ? "Missing expected argument '<path-or-key>'"
        : "--git takes a repository and a ref: mcp-gen switch --git REPO REF (the ref is missing)")
    }
  }

  func run() throws {
    let label = try self.label.map { (text) throws(MCPGenError) in try ReleaseLabel(given: text) }
    // Ctrl-C or SIGTERM undoes the switch (or stops the add before it) and exits 130.
    try installCancelSignals()
    if let git {
      // Resolved before the root is touched: a bad repository or ref creates nothing.
      let release = try GitRelease.resolve(repository: RawArguments.path(git), ref: target!, owners: GitOwnerOption.owners(allowOwner))
      let store = try global.openStore(create: true, progress: true)
      let outcome = try store.switchTo(release, expect: expect, dryRun: dryRun, config: try health.effective(store), force: force, label: label)
      try SwitchReport.print(outcome, store: store, json: global.json)
      return
    }
    let store = try global.openStore(create: true, progress: true)
    // A label is only ever named by --release: a plain argument stays a path or a key.
    let chosen = try release.map { SwitchTarget.key(try store.key(labelled: $0).hex) } ?? SwitchReport.target(target!)
    let outcome = try store.switchTo(chosen, expect: expect, dryRun: dryRun, config: try health.effective(store), force: force, label: label)
    try SwitchReport.print(outcome, store: store, json: global.json)
  }
}

/// Printing shared by `switch` and `rollback`.
enum SwitchReport {
  /// An existing path is a release; otherwise the text must be a key.
  static func target(_ text: String) throws -> SwitchTarget {
    let path = RawArguments.path(text)
    if exists(path) { return .path(path) }
    if StoreKey.isPrefix(text) { return .key(text) }
    let hex = !text.isEmpty && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || ($0 >= 0x41 && $0 <= 0x46) }
    if hex {
      throw MCPGenError(
        .invalidInput,
        "'\(text)' is neither a path nor a store key: a key is 64 lowercase hex digits, or a unique prefix of at least 8",
        hint: "mcp-gen list")
    }
    return .path(path)
  }

  static func exists(_ path: FilePath) -> Bool {
    OperatorPath.exists(path)
  }

  /// Prints the outcome; a health-check failure exits 4 (rolled back) or 5 (rollback failed).
  static func print(_ outcome: SwitchOutcome, store: Store, json: Bool) throws {
    report(outcome, store: store, json: json)
    if let signal = CancelSignals.received, movedCurrent(outcome), !outcome.dryRun {
      // Too late to cancel: the change was complete and journaled when the signal came.
      Output.note("note: \(CancelSignals.name(signal)) came after the change was recorded, so it stands; undo it with mcp-gen rollback")
    }
    let health = outcome.health
    if health.failure != nil {
      throw ExitCode(health.rolledBack ? ExitStatus.healthCheckRolledBack : ExitStatus.rollbackFailed)
    }
  }

  private static func report(_ outcome: SwitchOutcome, store: Store, json: Bool) {
    let plan = outcome.plan
    if let r = outcome.recovered {
      Output.note("note: generation \(r.to.map(String.init) ?? "?") was made current by a command that did not finish (its health checks never confirmed it); recorded in the journal")
    }
    if let h = outcome.healed {
      if let q = h.quarantined {
        Output.note("note: store entry \(h.key.short) was corrupted (\(h.problem)); healed it from the release given; the corrupted copy is \(q.displayString)")
      } else {
        Output.note("note: store entry \(h.key.short) is corrupted (\(h.problem)); the switch would heal it from the release given")
      }
    }
    if movedCurrent(outcome), let was = plan.from {
      for command in outcome.vanishedCommands {
        Output.note("warning: \(displayName(command)), a command of generation \(was), is not in generation \(plan.to)\(outcome.dryRun ? "" : ": links exposed to it through current now dangle")")
      }
    }
    let changes = movedCurrent(outcome) ? changes(outcome, store: store) : nil
    if json {
      Output.json(.object([
        ("from", plan.from.map(JSON.int) ?? .null),
        ("to", .int(plan.to)),
        ("key", .string(plan.key.hex)),
        ("path", .string(store.entryPath(plan.key).bytes)),
        ("changed", .bool(!outcome.alreadyCurrent && !outcome.dryRun && !outcome.health.rolledBack)),
        ("dryRun", .bool(outcome.dryRun)),
        ("checks", .array(outcome.health.results.map(\.json))),
        ("rolledBack", .bool(outcome.health.rolledBack)),
        ("current", outcome.health.failure == nil ? .int(plan.to) : (outcome.health.restored.map(JSON.int) ?? .null)),
        ("changes", changes.map { diff in
          .object([
            ("added", .int(Int64(diff.added))), ("removed", .int(Int64(diff.removed))),
            ("changed", .int(Int64(diff.changed))), ("bytesDelta", .int(diff.bytesDelta)),
            ("summary", .string(diff.summary)),
          ])
        } ?? .null),
      ]))
      return
    }
    let was = plan.from.map { "generation \($0) (\(plan.fromKey?.short ?? "?"))" } ?? "nothing"
    let target: String
    switch plan.kind {
    case .newGeneration: target = "new generation \(plan.to) (\(plan.key.short))"
    case .rollback, .confirmation: target = "generation \(plan.to) (\(plan.key.short))"
    }
    if !plan.skipped.isEmpty {
      Output.note("passed over generations \(plan.skipped.map(String.init).joined(separator: ", ")) (removed, failed, or current)")
    }
    if outcome.alreadyCurrent {
      Output.line("generation \(plan.to) (\(plan.key.short)) is already current; " + (outcome.healed?.quarantined != nil ? "only its store entry was healed" : "nothing changed"))
    } else if outcome.dryRun {
      Output.line("would switch from \(was) to \(target)\(changes.map { ": \($0.summary)" } ?? ""); nothing changed (dry run)")
    } else if let failure = outcome.health.failure {
      Output.line("switched to \(target), was \(was)")
      printChecks(outcome.health.results)
      let why = failure.lastOutputLine.map { ": \($0)" } ?? ""
      let error = "error: health check `\(failure.command)` \(failure.statusText)\(why)"
      if let problem = outcome.health.rollbackFailure {
        Output.note(error)
        Output.note("error: rolling back failed too: \(problem)")
        Output.note("hint: mcp-gen status, then mcp-gen rollback N to a generation that works")
        return
      }
      // The journal kept the checks' output: `show` prints it.
      Output.note(error + "\nhint: mcp-gen show \(plan.to)")
      if let restored = outcome.health.restored {
        Output.line("rolled back to generation \(restored) (\(plan.fromKey?.short ?? "?")); generation \(plan.to) is marked failed and stays in the store")
      } else {
        Output.line("rolled back: nothing is current again; generation \(plan.to) is marked failed and stays in the store")
      }
    } else if plan.kind == .confirmation {
      printChecks(outcome.health.results)
      Output.line("confirmed \(target): its interrupted switch's checks now passed")
    } else {
      Output.line("switched to \(target), was \(was)")
      if let changes { Output.line("  changes: \(changes.summary)") }
      printChecks(outcome.health.results)
      Output.line("undo with: mcp-gen rollback")
    }
  }

  /// A dry run, or a switch or rollback that stands: `current` moves (or would move) to another
  /// release, so what that changes is worth a line.
  private static func movedCurrent(_ outcome: SwitchOutcome) -> Bool {
    !outcome.alreadyCurrent && outcome.health.failure == nil && outcome.plan.kind != .confirmation
  }

  /// From the release that was current to the target, by their manifests. The change itself has
  /// happened (or, in a dry run, nothing will): a manifest that cannot be read costs only this
  /// line, with a warning, never the command's success.
  private static func changes(_ outcome: SwitchOutcome, store: Store) -> ReleaseDiff? {
    let plan = outcome.plan
    do {
      var old: Manifest? = nil
      if let from = plan.from {
        guard let fromKey = plan.fromKey else {
          Output.note("warning: cannot say what changed: generation \(from) does not point into the store; run mcp-gen audit")
          return nil
        }
        old = try store.storedManifest(ReleaseReference(generation: from, key: fromKey))
      }
      let new = try outcome.pendingManifest ?? store.storedManifest(ReleaseReference(generation: plan.to, key: plan.key))
      return ReleaseDiff(from: old, to: new)
    } catch let e as MCPGenError {
      Output.note("warning: cannot say what changed: \(e.message)")
      return nil
    } catch {
      return nil
    }
  }

  static func printChecks(_ results: [CheckResult]) {
    for r in results {
      let label = r.role == .restart ? "restart" : (r.role == .advisory ? "advisory check" : "check")
      if r.passed {
        Output.line("  \(label) \(Output.paint("passed", .green)): \(r.command)")
      } else if r.role == .advisory {
        Output.note("warning: advisory check `\(r.command)` \(r.statusText)\(r.lastOutputLine.map { ": \($0)" } ?? "")")
      } else {
        Output.line("  \(label) \(Output.paint("FAILED", .red)): \(r.command) (\(r.statusText))")
      }
    }
  }
}
