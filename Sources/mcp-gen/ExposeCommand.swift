import ArgumentParser
import MCPGenKit
import MCPGenTerminal
import SystemPackage

struct ExposeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "expose",
    _superCommandName: superCommand,
    abstract: "Link the current release's commands into a directory, through <root>/current, so a switch needs no relinking.",
    discussion: """
      Links DIR/NAME -> <root>/current/PATH for each PATH the release declares: the "expose" list \
      in config.json, else every executable file in bin/. A PATH that is a symlink leading out of \
      the release (absolute, or up through ..) is skipped and said so. A file or link in DIR that \
      mcp-gen did not create is never replaced without --force; --remove takes away only mcp-gen's links.
      """
  )

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Replace files and links in <dir> that mcp-gen did not create.")
  var force = false

  @Flag(help: "Remove the links this root's expose made in <dir>, and nothing else.")
  var remove = false

  @Argument(help: ArgumentHelp("The directory the links go in (e.g. /usr/local/bin).", valueName: "dir"))
  var directory: String

  func validate() throws {
    if directory.isEmpty { throw ValidationError("<dir> must not be empty") }
    if force && remove { throw ValidationError("--force cannot be combined with --remove (which never touches other files)") }
  }

  func run() throws {
    let store = try global.openStore(create: false)
    let dir = RawArguments.path(directory)
    let result = remove ? try store.removeExposed(from: dir) : try store.expose(in: dir, force: force)
    if global.json {
      Output.json(.object([
        ("directory", .string(result.directory.bytes)),
        ("generation", result.generation.map(JSON.int) ?? .null),
        ("links", .array(result.links.map { link in
          .object([
            ("name", .string(link.name)),
            ("path", .string(link.path.bytes)),
            ("target", .string(link.target)),
            ("change", .string(link.change.rawValue)),
          ])
        })),
        ("skipped", .array(result.skipped.map { skipped in
          .object([
            ("path", .string(skipped.path)),
            ("target", skipped.target.map(JSON.string) ?? .null),
            ("reason", .string("leads out of the release")),
          ])
        })),
      ]))
      return
    }
    let skippedNames = Set(result.skipped.map { $0.path.split(separator: 0x2F).last.map(Array.init) ?? $0.path })
    for skipped in result.skipped {
      Output.line("skipped   \(skipped.text); not linked")
    }
    for link in result.links {
      let why = link.change != .removed || remove ? "" : skippedNames.contains(link.name) ? " (it now leads out of the release)" : " (no longer declared)"
      Output.line("\(link.change.rawValue.padding(9)) \(link.path.displayString) -> \(displayName(link.target))\(why)")
    }
    if remove && result.links.isEmpty {
      Output.note("nothing to remove: no link in \(result.directory.displayString) points into \(displayName(store.exposedTargetPrefix))")
    }
  }
}
