import ArgumentParser
import MCPGenKit

struct StatusCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status",
    _superCommandName: superCommand,
    abstract: "Show the current generation, its key, label and path, and the root.",
    discussion: "Exit status 2 when current is damaged: not a symbolic link, or not leading to an existing generation whose release is in the store."
  )

  @OptionGroup var global: GlobalOptions

  func run() throws {
    let choice = global.rootChoice
    let store: Store
    do {
      store = try global.openStore(create: false)
    } catch let e as MCPGenError where e.code == .notFound {
      report(generation: nil, key: nil, label: nil, path: nil, root: choice.path.bytes)
      return
    }
    let status = try store.status()
    report(generation: status.generation, key: status.key, label: status.label, path: status.key.map { store.entryPath($0).bytes }, root: store.path.bytes)
    // A damaged current is no state to report and exit 0 on: what it serves is broken.
    if let damage = try store.currentDamage(status.current) {
      Output.error(MCPGenError(
        .integrity, "\(damage); make an intact generation current with mcp-gen rollback N (mcp-gen doctor tells what else is wrong)",
        hint: "mcp-gen doctor"))
      throw ExitCode(ExitStatus.integrity)
    }
    if status.unconfirmed {
      Output.note("warning: current was switched by a command that did not finish, so its health checks never confirmed it; confirm it, or undo it with mcp-gen rollback\nhint: mcp-gen check")
    }
  }

  private func report(generation: Int64?, key: StoreKey?, label: ReleaseLabel?, path: [UInt8]?, root: [UInt8]) {
    if global.json {
      Output.json(.object([
        ("generation", generation.map(JSON.int) ?? .null),
        ("key", key.map { .string($0.hex) } ?? .null),
        ("label", label.map { .string($0.text) } ?? .null),
        ("path", path.map(JSON.string) ?? .null),
        ("root", .string(root)),
      ]))
      return
    }
    Output.line("root:       \(displayName(root))")
    guard let generation else {
      Output.line("generation: none (nothing is current yet; run mcp-gen switch PATH)")
      return
    }
    Output.line("generation: \(Output.paint(String(generation), .green))")
    Output.line("key:        \(key?.hex ?? "(damaged)")")
    if let label { Output.line("label:      \(label.text)") }
    Output.line("path:       \(path.map(displayName) ?? "-")")
  }
}
