import ArgumentParser
import MCPGenKit
import MCPGenRemote
import MCPGenTerminal

extension MCPGen {
  /// Parses the command line, going straight to the named subcommand when that is all it takes.
  ///
  /// `parseAsRoot()` on the root builds the argument tables of every subcommand (among other
  /// things, to look for a completion-script request), which cost several milliseconds per run
  /// of any command: a third of a `switch`. A plain `mcp-gen SUBCOMMAND ARGS` only needs that
  /// subcommand's table. Anything the root handles itself (help, version, completion scripts,
  /// an unknown name) goes the full way, so its output is unchanged.
  ///
  /// Global options may come before the subcommand (`mcp-gen --root R list`): they are moved
  /// after its name first, where every subcommand declares them. A bare `mcp-gen` and an
  /// unknown subcommand are usage errors (64), the latter with the nearest name.
  static func parseCommand(_ given: [String] = Array(CommandLine.arguments.dropFirst())) throws -> ParsableCommand {
    let arguments = try placeGlobalOptions(given)
    dispatched = arguments
    // Before any thread exists (the hashing set-up starts one).
    if let name = arguments.first, subcommand(named: name) is any HoldsManyDescriptors.Type {
      Puller.prepareDescriptorTable()
    }
    if let name = arguments.first, subcommand(named: name) is any HashesFiles.Type {
      HashingSetup.prepareInBackground()
    }
    guard let name = arguments.first, let command = subcommand(named: name),
      !arguments.dropFirst().contains(where: needsRoot)
    else { return try parseAsRoot(arguments) }
    return try command.parseAsRoot(Array(arguments.dropFirst()))
  }

  /// The arguments as parsed: global options given first moved after the subcommand's name.
  nonisolated(unsafe) static var dispatched: [String] = []

  /// Global options that take a value as the next argument (or after `=`).
  static let globalOptionsWithValue: Set<String> = ["--root", "--lock-timeout"]
  static let globalFlags: Set<String> = ["--json", "--quiet", "-q", "--no-color"]

  /// `[--root R, --json, list, -n, 3]` becomes `[list, --root, R, --json, -n, 3]`. Anything the
  /// root answers itself (help, version, completion scripts) is left for it, without the global
  /// options; a bare `mcp-gen` or an unknown name throws a usage error.
  static func placeGlobalOptions(_ arguments: [String]) throws -> [String] {
    var globals: [String] = []
    var k = 0
    while k < arguments.count {
      let a = arguments[k]
      if globalFlags.contains(a) || globalOptionsWithValue.contains(where: { a.hasPrefix($0 + "=") }) {
        globals.append(a)
        k += 1
      } else if globalOptionsWithValue.contains(a), k + 1 < arguments.count {
        globals += [a, arguments[k + 1]]
        k += 2
      } else {
        break
      }
    }
    let rest = arguments[k...]
    guard let first = rest.first else { throw UsageError.bare }
    if first.hasPrefix("-") || first == "help" { return globals.isEmpty ? arguments : Array(rest) }
    guard let command = subcommand(named: first) else { throw UsageError.unknown(first, suggestion: nearestName(to: first)) }
    // A group (`remote add`): the global options go after the nested subcommand's name, where
    // it declares them.
    var head = [first]
    var tail = rest.dropFirst()
    if let word = tail.first, command.configuration.subcommands.contains(where: { $0.configuration.commandName == word }) {
      head.append(word)
      tail = tail.dropFirst()
    }
    return head + globals + tail
  }

  /// Every name a subcommand answers to, `help` included.
  static var allNames: [String] {
    configuration.subcommands.flatMap { [$0.configuration.commandName ?? ""] + $0.configuration.aliases } + ["help"]
  }

  /// The subcommand name closest to a mistyped one (`lsit` → `list`), when one is close enough
  /// to be what was meant: one edit per three letters of the name, at least one (`gcc` → `gc`).
  static func nearestName(to word: String) -> String? {
    let typed = Array(word.lowercased().utf8)
    var best: (name: String, distance: Int)? = nil
    for name in allNames where !name.isEmpty {
      let d = editDistance(typed, Array(name.utf8))
      if d <= max(1, name.utf8.count / 3), d < best?.distance ?? Int.max { best = (name, d) }
    }
    return best?.name
  }

  /// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
  /// neighbours each cost one (`lsit` is one edit from `list`).
  static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
    if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
    var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d[i][0] = i }
    for j in 0...b.count { d[0][j] = j }
    for i in 1...a.count {
      for j in 1...b.count {
        let cost = a[i - 1] == b[j - 1] ? 0 : 1
        d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
        if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
      }
    }
    return d[a.count][b.count]
  }

  static func subcommand(named name: String) -> ParsableCommand.Type? {
    configuration.subcommands.first { type in
      let c = type.configuration
      return (c.commandName ?? "") == name || c.aliases.contains(name)
    }
  }

  /// Arguments whose meaning the root command decides.
  private static func needsRoot(_ argument: String) -> Bool {
    argument == "-h" || argument == "help" || argument.hasPrefix("--help") || argument.hasPrefix("--version")
      || argument.hasPrefix("--generate-") || argument.hasPrefix("--experimental-")
  }
}

/// A command line that names no subcommand, or one that does not exist: exit 64, as every other
/// usage error.
enum UsageError: Error {
  case bare
  case unknown(String, suggestion: String?)
}

/// A command that hashes files: OpenSSL's one-time set-up starts on another thread while its
/// arguments are parsed (`MCPGen.main`), instead of delaying its first file. The others never
/// pay for it.
protocol HashesFiles {}

/// A command that may hold thousands of descriptors at once (a pull keeps the stored files it
/// shares and the tree's directories open): its descriptor table is grown in one step before
/// the process has threads (`Puller.prepareDescriptorTable`).
protocol HoldsManyDescriptors {}

extension PullCommand: HoldsManyDescriptors {}

extension AddCommand: HashesFiles {}
extension SwitchCommand: HashesFiles {}
extension RollbackCommand: HashesFiles {}
extension HashCommand: HashesFiles {}
extension AuditCommand: HashesFiles {}
extension VerifyCommand: HashesFiles {}

/// Every subcommand names `mcp-gen` as its super-command. When `parseCommand` hands a subcommand
/// its arguments directly, the subcommand is the root of that parse: with this, its usage and
/// errors still read `mcp-gen NAME`, and the parser skips its completion-script check (two more
/// commands' argument tables, built by reflection, about 0.3 ms), which only the root path can
/// be asked for (`needsRoot`). Under the root command, the name is not used.
let superCommand = "mcp-gen"
