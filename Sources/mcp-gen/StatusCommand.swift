import ArgumentParser
import MCPGenKit
import MCPGenTerminal

struct StatusCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status",
    _superCommandName: superCommand,
    abstract: "Show the current generation, its key, label and path, whether its checks confirmed it, the rollback target, and the root.",
    discussion: "Exit status 2 when current is damaged: not a symbolic link, or not leading to an existing generation whose release is in the store."
  )

  @OptionGroup var global: GlobalOptions

  func run() throws {
    let choice = global.rootChoice
    let store: Store
    do {
      store = try global.openStore(create: false)
    } catch let e as MCPGenError where e.code == .notFound {
      report(nil, path: nil, root: choice.path.bytes)
      return
    }
    let status = try store.status()
    report(status, path: status.key.map { store.entryPath($0).bytes }, root: store.path.bytes)
    // A damaged current is no state to report and exit 0 on: what it serves is broken.
    if let damage = try store.currentDamage(status.current) {
      Output.error(MCPGenError(
        .integrity, "\(damage); make an intact generation current with mcp-gen rollback N (mcp-gen doctor tells what else is wrong)",
        hint: "mcp-gen doctor"))
      throw ExitCode(ExitStatus.integrity)
    }
    if let holder = status.holder {
      // A change in progress holds the lock: it is not one that failed to finish.
      let who = Self.describe(holder)
      if status.unconfirmed, let n = status.generation {
        Output.note("note: a change is in progress (\(who)): generation \(n) is current while its health checks run")
      } else {
        Output.note("note: a change is in progress (\(who))")
      }
    } else if status.unconfirmed {
      Output.note("warning: current was switched by a command that did not finish, so its health checks never confirmed it; confirm it, or undo it with mcp-gen rollback\nhint: mcp-gen check")
    }
  }

  /// `pid 4242: mcp-gen switch /srv/releases/mcp-1.4`.
  static func describe(_ holder: LockHolder) -> String {
    guard let pid = holder.pid else { return "a command that has not written its name yet" }
    return "pid \(pid): " + (holder.command.map(displayName) ?? "?")
  }

  /// What `current` is and how far to trust it: `nil` status when there is no root yet.
  private func report(_ status: StoreStatus?, path: [UInt8]?, root: [UInt8]) {
    let generation = status?.generation
    let key = status?.key
    let label = status?.label
    if global.json {
      Output.json(.object([
        ("generation", generation.map(JSON.int) ?? .null),
        ("key", key.map { .string($0.hex) } ?? .null),
        ("label", label.map { .string($0.text) } ?? .null),
        ("path", path.map(JSON.string) ?? .null),
        ("root", .string(root)),
        ("confirmed", status?.confirmed.map(JSON.bool) ?? .null),
        ("inProgress", status?.holder.map { holder in
          .object([
            ("pid", holder.pid.map { JSON.int(Int64($0)) } ?? .null),
            ("command", holder.command.map(JSON.string) ?? .null),
          ])
        } ?? .null),
        ("rollbackTo", status?.rollbackTarget.flatMap(\.generation).map(JSON.int) ?? .null),
      ]))
      return
    }
    Output.line("root:       \(displayName(root))")
    guard let status, let generation else {
      Output.line("generation: none (nothing is current yet; run mcp-gen switch PATH)")
      return
    }
    Output.line("generation: \(Output.paint(String(generation), .green))")
    Output.line("key:        \(key?.hex ?? "(damaged)")")
    if let label { Output.line("label:      \(label.text)") }
    Output.line("path:       \(path.map(displayName) ?? "-")")
    Output.line("checks:     \(Self.confirmation(status))")
    Output.line("rollback:   \(status.rollbackTarget.map { "to \($0)" } ?? "none (no earlier switch to undo)")")
  }

  /// Whether the health checks confirmed `current`, in words.
  static func confirmation(_ status: StoreStatus) -> String {
    if status.unconfirmed {
      return status.holder != nil
        ? "not confirmed yet: they are running"
        : "not confirmed: the command that made it current did not finish them"
    }
    switch status.confirmed {
    case true?: return "confirmed: they passed"
    case false?: return "not confirmed: none ran when it was made current"
    case nil: return "unknown (the journal does not say)"
    }
  }
}
