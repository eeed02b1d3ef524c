import ArgumentParser
import MCPGenKit
import MCPGenTerminal
import SystemPackage

struct HashCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "hash",
    _superCommandName: superCommand,
    abstract: "Print a release's store key without storing it."
  )

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Print the manifest, one entry a line (kind, size, digest, path [-> target]).")
  var manifest = false

  @Flag(help: "With --manifest: write the exact manifest bytes whose SHA-256 is the key.")
  var raw = false

  @Argument(help: ArgumentHelp("The release: a regular file or a directory.", valueName: "path"))
  var path: String

  func validate() throws {
    if raw && !manifest { throw ValidationError("--raw goes with --manifest") }
  }

  func run() throws {
    let result = try Store.hash(RawArguments.path(path), progress: global.progress)
    if raw {
      Output.raw(result.serialized())
    } else if global.json {
      var members: [(String, JSON)] = [("key", .string(result.key.hex)),
        ("files", .int(Int64(result.fileCount))), ("bytes", .int(Int64(result.byteCount)))]
      if manifest { members.append(("manifest", .array(result.entries.map(ManifestLines.json)))) }
      Output.json(.object(members))
    } else if manifest {
      for entry in result.entries { Output.line(ManifestLines.text(entry)) }
    } else {
      Output.line(result.key.hex)
    }
  }
}

/// How manifest entries are shown to people and scripts.
enum ManifestLines {
  static func text(_ e: ManifestEntry) -> String {
    let digest = e.digest?.description ?? "-"
    let kind = String(UnicodeScalar(e.kind.rawValue))
    var line = "\(kind) \(e.size) \(digest) \(displayName(e.path))"
    if e.kind == .symlink { line += " -> \(displayName(e.target))" }
    return line
  }

  static func json(_ e: ManifestEntry) -> JSON {
    var members: [(String, JSON)] = [("path", .string(e.path)), ("type", .string(e.kind.name)), ("size", .int(Int64(e.size)))]
    if let d = e.digest { members.append(("sha256", .string(d.description))) }
    if e.kind == .symlink { members.append(("target", .string(e.target))) }
    return .object(members)
  }
}
