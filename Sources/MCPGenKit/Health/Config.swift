import MCPGenSystem
import SystemPackage

/// The effective settings of a root: `<root>/config.json`, then flags, over built-in defaults.
///
/// The file is JSON; keys starting with `#` are comments and ignored. An unknown key is an error,
/// so a misspelled `"chekcs"` cannot silently disable health checks.
public struct Config: Sendable, Equatable {
  /// Required checks: any failure rolls back.
  public var checks: [String] = []
  /// Advisory checks: failures are warnings.
  public var advisoryChecks: [String] = []
  /// Run after every switch and rollback, before the checks (e.g. restart the service).
  public var restart: String? = nil
  /// Seconds each check or restart may run before its process group is killed.
  public var checkTimeout: Double = 30
  /// Seconds to wait after passing checks before running the required checks once more.
  public var settle: Double = 0
  /// Generations `gc` keeps by default.
  public var gcKeep: Int = 5
  /// What `mcp-gen expose DIR` links into DIR: paths inside the release (bytes, relative, no `.`
  /// or `..` components, distinct last components). `nil`: every executable file in `bin/`.
  public var expose: [[UInt8]]? = nil
  /// Where each setting came from: `default`, `config.json` or `flag`.
  public var origin: [String: String] = [:]

  public init() {}

  public static let fileName = Array("config.json".utf8)
  /// The longest check timeout or settle time accepted: one day.
  public static let maximumSeconds: Double = 86400
  static let keys = ["checks", "advisoryChecks", "restart", "checkTimeout", "settle", "gcKeep", "expose"]

  public var hasHooks: Bool { !checks.isEmpty || !advisoryChecks.isEmpty || restart != nil }

  public func origin(of key: String) -> String { origin[key] ?? "default" }

  /// Parses the file's bytes; `path` names it in errors.
  public static func parse(_ bytes: [UInt8], path: FilePath) throws(MCPGenError) -> Config {
    func bad(_ why: String) -> MCPGenError {
      MCPGenError(.invalidInput, "\(path.displayString): \(why); fix the file (see mcp-gen config --init)", path: path)
    }
    let json: JSON
    do { json = try JSON(parsing: bytes) } catch {
      let (line, column) = lineAndColumn(bytes, error.offset)
      throw bad("not valid JSON at line \(line), column \(column)")
    }
    guard case .object(let members) = json else { throw bad("the top level must be an object") }
    var config = Config()
    // Keys compare after unescaping: "\u0063hecks" is "checks", and a second one would silently
    // replace the first one a reader sees.
    var seen = Set<String>()
    for (key, _) in members where !key.hasPrefix("#") {
      guard seen.insert(key).inserted else { throw bad("'\(displayName(Array(key.utf8)))' is given twice") }
    }
    for (key, value) in members where !key.hasPrefix("#") {
      switch key {
      case "checks", "advisoryChecks":
        guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else { throw bad("\(key) must be a list of strings") }
        if items.contains(where: { $0.stringBytes!.contains(0) }) { throw bad("a command in \(key) contains a NUL byte") }
        let commands = items.compactMap(\.stringValue)
        if key == "checks" { config.checks = commands } else { config.advisoryChecks = commands }
      case "restart":
        if value == .null { config.restart = nil } else {
          guard let s = value.stringValue else { throw bad("restart must be a string or null") }
          if value.stringBytes!.contains(0) { throw bad("restart contains a NUL byte") }
          config.restart = s
        }
      case "checkTimeout", "settle":
        // A check must time out: with none, a hung one would hold the lock for ever.
        let least: Int64 = key == "checkTimeout" ? 1 : 0
        guard let n = value.intValue, n >= least, Double(n) <= maximumSeconds else {
          throw bad("\(key) must be a whole number of seconds from \(least) to \(Int(maximumSeconds))")
        }
        if key == "checkTimeout" { config.checkTimeout = Double(n) } else { config.settle = Double(n) }
      case "gcKeep":
        guard let n = value.intValue, n >= 0, n <= Int64(Int32.max) else { throw bad("gcKeep must be a whole number, 0 or more") }
        config.gcKeep = Int(n)
      case "expose":
        if value == .null { config.expose = nil } else {
          guard let items = value.arrayValue, items.allSatisfy({ $0.stringBytes != nil }) else {
            throw bad("expose must be a list of paths inside the release (like \"bin/mcp\"), or null")
          }
          let paths = items.compactMap(\.stringBytes)
          var names = Set<[UInt8]>()
          for p in paths {
            if let why = exposeProblem(p) { throw bad("expose: '\(displayName(p))' \(why)") }
            guard names.insert(splitLast(p).name).inserted else {
              throw bad("expose: two paths end in '\(displayName(splitLast(p).name))', but each becomes a link of that name")
            }
          }
          config.expose = paths
        }
      default:
        throw bad("unknown setting '\(key)' (known: \(keys.joined(separator: ", ")))")
      }
      config.origin[key] = "config.json"
    }
    return config
  }

  /// The 1-based line and column (in characters) of byte `offset`, for an editor.
  static func lineAndColumn(_ bytes: [UInt8], _ offset: Int) -> (line: Int, column: Int) {
    var line = 1
    var column = 1
    for b in bytes.prefix(max(0, offset)) {
      if b == 0x0A {
        line += 1
        column = 1
      } else if b & 0xC0 != 0x80 {
        column += 1  // A UTF-8 continuation byte belongs to the character before it.
      }
    }
    return (line, column)
  }

  /// Why `path` cannot be an `expose` entry, or nil when it can: a path inside the release,
  /// relative, every component a plain name.
  static func exposeProblem(_ path: [UInt8]) -> String? {
    if path.isEmpty { return "is empty" }
    if path.first == 0x2F { return "is absolute; give a path inside the release, like bin/mcp" }
    if path.contains(0) { return "contains a NUL byte" }
    for component in path.split(separator: 0x2F, omittingEmptySubsequences: false) {
      if component.isEmpty { return "has an empty component (a doubled or trailing /)" }
      if component.elementsEqual([0x2E]) || component.elementsEqual([0x2E, 0x2E]) {
        return "has a . or .. component; give a plain path inside the release"
      }
    }
    return nil
  }

  /// A commented example, written by `mcp-gen config --init`.
  public static let example = """
    {
      "#": "mcp-gen settings for this root. Keys starting with # are comments. Flags override them for one run.",
      "#checks": "Required health checks, run in the new release after every switch and rollback. Any failure switches back.",
      "checks": ["bin/mcp --help", "bin/mcp status", "bin/mcp check"],
      "#advisoryChecks": "Checks whose failure is only reported as a warning.",
      "advisoryChecks": [],
      "#restart": "Run after every switch and rollback, before the checks. No shell unless you write sh -c '...'. null for none.",
      "restart": null,
      "#checkTimeout": "Seconds a check or the restart command may run before its whole process group is killed.",
      "checkTimeout": 30,
      "#settle": "Seconds to wait after the checks pass before running the required checks once more (catches crash loops).",
      "settle": 0,
      "#gcKeep": "How many generations mcp-gen gc keeps (besides current, pinned, and the newest good one).",
      "gcKeep": 5,
      "#expose": "What mcp-gen expose DIR links into DIR, as a list of paths inside the release, like bin/mcp. null: every executable file in bin/.",
      "expose": null
    }

    """
}

extension Store {
  /// Reads `<root>/config.json`; defaults when there is none.
  public func loadConfig() throws(MCPGenError) -> Config {
    let where_ = path.appending(bytes: Config.fileName)
    do {
      guard let file = try root.openRegular(
        Config.fileName, flags: OpenFlags.readOnly, what: "the configuration", doing: "read the configuration",
        fix: "and write a new one with mcp-gen config --init")
      else { return Config() }
      let bytes = try file.readAll()
      return try Config.parse(bytes, path: where_)
    } catch let e as SystemCallError where e.errno == .noSuchFileOrDirectory {
      return Config()
    } catch let e as SystemCallError {
      throw MCPGenError(e, doing: "read the configuration")
    } catch let e as MCPGenError {
      throw e
    } catch {
      throw MCPGenError(.io, "cannot read \(where_.displayString): \(error)")
    }
  }

  /// Writes the commented example as `<root>/config.json` (durably); refuses to overwrite.
  public func writeExampleConfig() throws(MCPGenError) -> FilePath {
    let where_ = path.appending(bytes: Config.fileName)
    try withLock { () throws(MCPGenError) in
      do throws(SystemCallError) {
        try TemporaryFile.write(Array(Config.example.utf8), mode: 0o644, in: root, as: Config.fileName, replacing: false) {
          Store.temporaryName()
        }
      } catch where error.errno == .fileExists {
        throw MCPGenError(.conflict, "\(where_.displayString) exists already; edit it, or move it away and run the command again", path: where_)
      } catch {
        throw MCPGenError(error, doing: "write the configuration")
      }
    }
    return where_
  }
}
