import ArgumentParser
import MCPGenKit
import MCPGenTerminal
import SystemPackage

struct AddCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "add",
    _superCommandName: superCommand,
    abstract: "Store a release (a file or a directory tree) under its key and print its store path.",
    usage: """
      mcp-gen add [<options>] <path>
      mcp-gen add [<options>] --git <repo> <ref>
      """,
    discussion: "With --git, the release is the tree of a tag, branch or commit of a git repository, read with git archive (no working tree needed); the journal and mcp-gen list record it as REPO@REF (COMMIT)."
  )

  @OptionGroup var global: GlobalOptions

  @Option(help: ArgumentHelp("Take the release from this git repository (a clone or a bare repository); <path> is then a tag, branch or commit.", valueName: "repo"))
  var git: String?

  @Option(help: ArgumentHelp("With --git: also accept a repository owned by this user (its git configuration runs as you).", valueName: "user"))
  var allowOwner: String?

  @Argument(help: ArgumentHelp("The release: a regular file or a directory (with --git: a tag, branch or commit).", valueName: "path"))
  var path: String?

  @Option(help: ArgumentHelp("Label the release with this version (at most 128 bytes of printable text); by default the git tag, or the version in the release's pyproject.toml or VERSION file.", valueName: "text"))
  var label: String?

  func validate() throws {
    try GitOwnerOption.validate(allowOwner, git: git)
    if path == nil {
      throw ValidationError(git == nil
        ? "Missing expected argument '<path>'"
        : "--git takes a repository and a ref: mcp-gen add --git REPO REF (the ref is missing)")
    }
  }

  func run() throws {
    let path = self.path!
    let label = try self.label.map { (text) throws(MCPGenError) in try ReleaseLabel(given: text) }
    // A git release is resolved before the root is touched: a bad repository or ref creates nothing.
    let release = try git.map { try GitRelease.resolve(repository: RawArguments.path($0), ref: path, owners: GitOwnerOption.owners(allowOwner)) }
    let store = try global.openStore(create: true, progress: true)
    try installCancelSignals()  // Ctrl-C removes the partial copy: "cancelled: nothing was added", exit 130.
    let result = try release.map { try store.add($0, label: label) } ?? store.add(RawArguments.path(path), label: label)
    if global.json {
      let recorded = try store.labels()[result.key]
      Output.json(.object([
        ("key", .string(result.key.hex)),
        ("path", .string(result.path.bytes)),
        ("files", .int(Int64(result.files))),
        ("bytes", .int(Int64(result.bytes))),
        ("new", .bool(result.isNew)),
        ("label", recorded.map { .string($0.text) } ?? .null),
        ("labelFrom", recorded.map { .string($0.origin.rawValue) } ?? .null),
      ]))
    } else {
      Output.line(result.path.displayString)
    }
    if !result.isNew {
      Output.note("already stored: \(result.key.short) (nothing copied)")
    } else if case .unsupported(let reason)? = result.immutability {
      Output.note("note: stored files are read-only but not immutable: \(reason)")
    }
  }
}
