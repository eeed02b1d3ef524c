import ArgumentParser
import MCPGenKit
import SystemPackage

struct AddCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "add",
    abstract: "Store a release (a file or a directory tree) under its key and print its store path."
  )

  @OptionGroup var global: GlobalOptions

  @Argument(help: ArgumentHelp("The release: a regular file or a directory.", valueName: "path"))
  var path: String

  func run() throws {
    let store = try global.openStore(create: true)
    let result = try store.add(RawArguments.path(path))
    if global.json {
      Output.json(.object([
        ("key", .string(result.key.hex)),
        ("path", .string(result.path.bytes)),
        ("files", .int(Int64(result.files))),
        ("bytes", .int(Int64(result.bytes))),
        ("new", .bool(result.isNew)),
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
