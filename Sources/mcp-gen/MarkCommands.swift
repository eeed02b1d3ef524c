import ArgumentParser
import MCPGenKit
import MCPGenTerminal

struct PinCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "pin", _superCommandName: superCommand, abstract: "Keep generation N from gc, whatever its age.")
  @OptionGroup var global: GlobalOptions
  @Argument(help: ArgumentHelp("A generation number.", valueName: "N")) var generation: GenerationNumber

  func run() throws {
    let changed = try global.openStore(create: false).pin(generation.value, true)
    if global.json { return MarkReport.generation(generation.value, pinned: true, changed: changed) }
    Output.line(changed ? "pinned generation \(generation.value)" : "generation \(generation.value) was pinned already")
  }
}

struct UnpinCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "unpin", _superCommandName: superCommand, abstract: "Let gc collect generation N again.")
  @OptionGroup var global: GlobalOptions
  @Argument(help: ArgumentHelp("A generation number.", valueName: "N")) var generation: GenerationNumber

  func run() throws {
    let changed = try global.openStore(create: false).pin(generation.value, false)
    if global.json { return MarkReport.generation(generation.value, pinned: false, changed: changed) }
    Output.line(changed ? "unpinned generation \(generation.value)" : "generation \(generation.value) was not pinned")
  }
}

struct BlockCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "block", _superCommandName: superCommand, abstract: "Refuse to switch to a release known to be bad (unless --force).")
  @OptionGroup var global: GlobalOptions
  @Argument(help: ArgumentHelp("A store key or unique prefix (8+ hex digits).", valueName: "key")) var key: String

  func run() throws {
    let store = try global.openStore(create: false)
    let k = try store.resolve(key)
    let changed = try store.block(k, true)
    if global.json { return MarkReport.key(k, blocked: true, changed: changed) }
    Output.line(changed ? "blocked \(k.hex)" : "\(k.hex) was blocked already")
  }
}

struct UnblockCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "unblock", _superCommandName: superCommand, abstract: "Allow switching to a blocked release again.")
  @OptionGroup var global: GlobalOptions
  @Argument(help: ArgumentHelp("A store key or unique prefix (8+ hex digits).", valueName: "key")) var key: String

  func run() throws {
    let store = try global.openStore(create: false)
    let k = try store.resolve(key)
    let changed = try store.block(k, false)
    if global.json { return MarkReport.key(k, blocked: false, changed: changed) }
    Output.line(changed ? "unblocked \(k.hex)" : "\(k.hex) was not blocked")
  }
}

/// `--json` of pin, unpin, block and unblock: the mark as it now is, and whether this run set it.
enum MarkReport {
  static func generation(_ n: Int64, pinned: Bool, changed: Bool) {
    Output.json(.object([("generation", .int(n)), ("pinned", .bool(pinned)), ("changed", .bool(changed))]))
  }

  static func key(_ key: StoreKey, blocked: Bool, changed: Bool) {
    Output.json(.object([("key", .string(key.hex)), ("blocked", .bool(blocked)), ("changed", .bool(changed))]))
  }
}
