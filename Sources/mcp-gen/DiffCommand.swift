import ArgumentParser
import MCPGenKit
import MCPGenTerminal

struct DiffCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "diff",
    _superCommandName: superCommand,
    abstract: "Show which files differ between two releases, and the change in size.",
    discussion: """
      A and B are generation numbers, full store keys, or unique key prefixes of 8+ hex digits. \
      Without arguments, compares the generation a plain `mcp-gen rollback` would return to with \
      current; with only A, compares A with current. Reads the stored manifests: no content is \
      re-hashed. Sizes use decimal units (1 KB = 1000 bytes).
      """
  )

  @OptionGroup var global: GlobalOptions

  @Argument(help: ArgumentHelp("The older release: N, KEY or a key prefix (default: what rollback would return to).", valueName: "A"))
  var from: String?

  @Argument(help: ArgumentHelp("The newer release (default: current).", valueName: "B"))
  var to: String?

  func run() throws {
    let store = try global.openStore(create: false)
    let (a, b) = try releases(store)
    let diff = try store.diff(from: a, to: b)
    if global.json {
      Output.json(.object([
        ("from", Self.json(a)),
        ("to", Self.json(b)),
        ("added", .array(diff.changes.filter { $0.action == .added }.map { Self.json(path: $0.path, $0.new!) })),
        ("removed", .array(diff.changes.filter { $0.action == .removed }.map { Self.json(path: $0.path, $0.old!) })),
        ("changed", .array(diff.changes.filter { $0.action == .changed }.map { change in
          .object([
            ("path", .string(change.path)),
            ("what", .array(change.aspects.tokens.map(JSON.string))),
            ("from", Self.json(change.old!)),
            ("to", Self.json(change.new!)),
          ])
        })),
        ("bytesDelta", .int(diff.bytesDelta)),
        ("summary", .string(diff.summary)),
      ]))
      return
    }
    Output.line("\(a) -> \(b)")
    for change in diff.changes { Output.line(change.line) }
    Output.line(diff.summary)
  }

  /// A and B as given; without B, current; without A, the rollback target.
  private func releases(_ store: Store) throws -> (ReleaseReference, ReleaseReference) {
    let b: ReleaseReference
    if let to { b = try store.release(named: to) } else { b = try store.currentRelease() }
    if let from { return (try store.release(named: from), b) }
    do {
      return (try store.rollbackTarget(), b)
    } catch where error.code == .nothingToUndo {
      throw MCPGenError(
        .nothingToUndo,
        "no previous generation to compare current with: no earlier switch is left to undo; name the releases, as in mcp-gen diff A B",
        hint: "mcp-gen list")
    }
  }

  static func json(_ ref: ReleaseReference) -> JSON {
    .object([("generation", ref.generation.map(JSON.int) ?? .null), ("key", .string(ref.key.hex))])
  }

  static func json(path: [UInt8], _ entry: ManifestEntry) -> JSON {
    guard case .object(let members) = json(entry) else { return .null }
    return .object([("path", .string(path))] + members)
  }

  /// Kind, size, and the content hash of a file or the target of a symlink.
  static func json(_ entry: ManifestEntry) -> JSON {
    var members: [(String, JSON)] = [("kind", .string(entry.kind.shortName)), ("size", .int(Int64(clamping: entry.size)))]
    if let digest = entry.digest { members.append(("sha256", .string(digest.description))) }
    if entry.kind == .symlink { members.append(("target", .string(entry.target))) }
    return .object(members)
  }
}
