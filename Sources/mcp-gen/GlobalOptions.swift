import ArgumentParser
import MCPGenKit
import MCPGenTerminal
import SystemPackage

/// Options every subcommand accepts, after its name or before it (`FastDispatch` moves them).
struct GlobalOptions: ParsableArguments {
  @Option(name: .long, help: ArgumentHelp("The mcp-gen root (default: $MCP_GEN_ROOT, /var/lib/mcp as root, else ~/.local/state/mcp-gen).", valueName: "dir"))
  var root: String?

  @Flag(name: .long, help: "Print machine-readable JSON on stdout.")
  var json = false

  @Option(name: .long, help: ArgumentHelp("Seconds to wait for another mcp-gen holding the lock.", valueName: "seconds"))
  var lockTimeout: Double = 30

  @Flag(name: [.long, .customShort("q")], help: "Show no progress line (it is shown only when stderr is a terminal).")
  var quiet = false

  /// Output reads this from the raw arguments, before parsing, so that an argument error obeys
  /// it too; it is declared here to be parsed and shown in the help.
  @Flag(name: .long, help: "Print without colour (also off when NO_COLOR is set or the output is not a terminal).")
  var noColor = false

  func validate() throws {
    if let root, root.isEmpty { throw ValidationError("--root must not be empty") }
    if lockTimeout < 0 || !lockTimeout.isFinite { throw ValidationError("--lock-timeout must be a number of seconds, 0 or more") }
  }

  var rootChoice: RootLocator.Choice { RootLocator.choose(explicit: root.map(RawArguments.path)) }

  /// Opens the store; commands that change it create the root on first use. With `progress`,
  /// long work (hashing, copying, removing) is shown on the progress line.
  func openStore(create: Bool, progress: Bool = false) throws -> Store {
    let options = StoreOptions(
      lockTimeout: lockTimeout, commandLine: RawArguments.commandLine, progress: progress ? self.progress : nil)
    return try Store.open(rootChoice.path, create: create, options: options)
  }

  /// The counters the progress line shows, or nil when there is no progress line.
  var progress: ProgressCounters? { ProgressLine.start(quiet: quiet) }
}

/// The command line as bytes. ArgumentParser hands out `String`s, which repair invalid UTF-8;
/// a path argument is mapped back to the exact bytes the shell passed.
enum RawArguments {
  static let all: [[UInt8]] = commandLineBytes()

  /// Whether `flag` is one of the arguments (before a `--` that ends the options).
  static func hasFlag(_ flag: String) -> Bool {
    let wanted = Array(flag.utf8)
    for arg in all.dropFirst() {
      if arg == [0x2D, 0x2D] { return false }
      if arg == wanted { return true }
    }
    return false
  }

  static var commandLine: [UInt8] {
    var out = Array("mcp-gen".utf8)
    for arg in all.dropFirst() { out += [0x20] + arg }
    return out
  }

  /// The file path the user typed for `argument`, byte for byte: a whole argument, or the value
  /// of an `--option=value` argument, whose repaired text equals `argument`.
  static func path(_ argument: String) -> FilePath {
    for raw in all.dropFirst().reversed() {
      var candidates = [raw]
      if raw.starts(with: [0x2D, 0x2D]), let eq = raw.firstIndex(of: 0x3D) { candidates.append(Array(raw[(eq + 1)...])) }
      for c in candidates where String(decoding: c, as: UTF8.self) == argument { return FilePath(bytes: c) }
    }
    return FilePath(argument)
  }
}
