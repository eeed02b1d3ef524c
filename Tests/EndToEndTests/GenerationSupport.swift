import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Helpers for the generation, concurrency, crash, bad-input and health-check tests.
///
/// Names are prefixed (`Gen…`) so they cannot collide with helpers other test files define.
enum Gen {
  /// Runs `mcp-gen SUBCOMMAND --root ROOT REST...` (the root is always explicit: tests run in
  /// parallel and must never depend on `MCP_GEN_ROOT`).
  static func run(_ root: String, _ subcommand: String, _ rest: [String] = []) throws -> CLI.Output {
    try CLI.run([subcommand, "--root", root] + rest)
  }

  /// Like `run`, but fails with stdout and stderr in the message unless the exit status is 0.
  @discardableResult
  static func ok(_ root: String, _ subcommand: String, _ rest: [String] = []) throws -> CLI.Output {
    try run(root, subcommand, rest).requireSuccess("mcp-gen \(subcommand) \(rest)")
  }

  /// The key `mcp-gen` gives the release at `path` (via `hash`, one line).
  static func key(_ path: String) throws -> String {
    let out = try CLI.run(["hash", path])
    guard out.status == 0 else { throw E2EFailure("hash \(path): \(out.stderrText)") }
    let text = out.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    guard let first = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first, first.count == 64 else {
      throw E2EFailure("hash \(path) printed \(text.debugDescription)")
    }
    return String(first)
  }

  /// Adds the release at `path` and returns its key.
  @discardableResult
  static func add(_ root: String, _ path: String) throws -> String {
    let out = try ok(root, "add", [path])
    let line = out.stdoutText.trimmingCharacters(in: .newlines)
    guard let slash = line.lastIndex(of: "/") else { throw E2EFailure("add printed \(line.debugDescription)") }
    return String(line[line.index(after: slash)...])
  }

  // MARK: Releases

  /// Makes a release directory at `path` whose `bin/mcp` embeds `version` (so two releases differ
  /// in both files) and whose `share/mcp/VERSION` is `version` + LF. `padding` bytes make
  /// `bin/mcp` larger (a reader then needs several reads for it).
  static func makeRelease(at path: String, version: String, padding: Int = 0) throws {
    let fm = FileManager.default
    try fm.createDirectory(atPath: path + "/bin", withIntermediateDirectories: true)
    try fm.createDirectory(atPath: path + "/share/mcp", withIntermediateDirectories: true)
    var script = "#!/bin/sh\n# VERSION=\(version)\necho \(version)\n"
    if padding > 0 { script += "# " + String(repeating: version.first.map(String.init) ?? "x", count: padding) + "\n" }
    try write(path + "/bin/mcp", script, mode: 0o755)
    try write(path + "/share/mcp/VERSION", version + "\n", mode: 0o644)
  }

  /// Close-on-exec (Rel.write), so that no process another test spawns meanwhile keeps a
  /// script written here busy (ETXTBSY) when it is run.
  static func write(_ path: String, _ text: String, mode: mode_t = 0o644) throws {
    try Rel.write(Array(path.utf8), Array(text.utf8), mode: mode)
  }

  static func read(_ path: String) -> String? {
    FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
  }

  // MARK: Looking at a root

  /// The target of the symlink at `path`, or nil when there is no symlink there.
  static func readlink(_ path: String) -> String? {
    Rel.readlink(Rel.bytes(path)).map { String(decoding: $0, as: UTF8.self) }
  }

  /// The generation number `current` points at, or nil.
  static func currentGeneration(_ root: String) -> Int? {
    guard let target = readlink(root + "/current"), target.hasPrefix("generations/") else { return nil }
    return Int(target.dropFirst("generations/".count))
  }

  /// The key generation `n` points at (from its link `../store/<key>`), or nil.
  static func generationKey(_ root: String, _ n: Int) -> String? {
    guard let target = readlink(root + "/generations/\(n)"), target.hasPrefix("../store/") else { return nil }
    return String(target.dropFirst("../store/".count))
  }

  static func currentKey(_ root: String) -> String? {
    currentGeneration(root).flatMap { generationKey(root, $0) }
  }

  /// Every name in `generations/`, sorted numerically where possible.
  static func generationNames(_ root: String) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root + "/generations")) ?? []
    return names.sorted { (Int($0) ?? Int.max, $0) < (Int($1) ?? Int.max, $1) }
  }

  /// The journal's lines, each parsed as a JSON object (a line that does not parse is a failure).
  /// With `skippingTorn`, lines that begin like a record and do not parse (a write `kill -9` cut
  /// short, sealed off by the next append) are left out instead; the audit judges them.
  static func journal(_ root: String, skippingTorn: Bool = false) throws -> [[String: Any]] {
    guard let data = FileManager.default.contents(atPath: root + "/journal.jsonl") else { return [] }
    let text = String(decoding: data, as: UTF8.self)
    guard text.isEmpty || text.hasSuffix("\n") else { throw E2EFailure("journal does not end in a newline: torn last line") }
    var out: [[String: Any]] = []
    for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().enumerated() {
      if skippingTorn, line.hasPrefix("{\"time\":\""), (try? JSONSerialization.jsonObject(with: Data(line.utf8))) == nil { continue }
      guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
        throw E2EFailure("journal line \(i + 1) is not an object: \(line)")
      }
      out.append(object)
    }
    return out
  }

  static func json(_ out: CLI.Output) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(out.stdout), options: [.fragmentsAllowed])
  }

  static func int(_ value: Any?) -> Int? { (value as? NSNumber)?.intValue }

  // MARK: Snapshots

  /// A recursive listing of everything under `path` (the path itself included): relative path,
  /// type, size, symlink target and mode. Stored entries are immutable, so equal listings mean
  /// nothing was created, removed, renamed, truncated, extended, relinked or chmodded. Regular
  /// files at the top of the root (journal, lock, config) are compared byte for byte as well.
  static func snapshot(_ path: String) -> [String] {
    var lines: [String] = []
    func visit(_ full: String, _ relative: String, depth: Int) {
      var st = stat()
      guard lstat(full, &st) == 0 else {
        lines.append("\(relative) missing")
        return
      }
      let type: String
      switch st.st_mode & S_IFMT {
      case S_IFDIR: type = "d"
      case S_IFREG: type = "f"
      case S_IFLNK: type = "l"
      default: type = "?"
      }
      var line = "\(relative) \(type) mode=\(String(st.st_mode & 0o7777, radix: 8))"
      if type == "f" { line += " size=\(st.st_size)" }
      if type == "l" { line += " -> \(readlink(full) ?? "?")" }
      if type == "f" && depth <= 1, let data = FileManager.default.contents(atPath: full) {
        line += " content=\(data.base64EncodedString())"
      }
      lines.append(line)
      if type == "d" {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: full)) ?? []).sorted()
        for name in names { visit(full + "/" + name, relative == "." ? name : relative + "/" + name, depth: depth + 1) }
      }
    }
    visit(path, ".", depth: 0)
    return lines
  }

  // MARK: Error shape

  /// stderr is exactly one `error: ` line, optionally followed by one `hint: ` line.
  static func isOneLineError(_ stderr: String) -> Bool {
    let lines = stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    guard stderr.hasSuffix("\n") else { return false }
    guard let first = lines.first, first.hasPrefix("error: "), first.count > "error: ".count else { return false }
    return lines.count == 1 || (lines.count == 2 && lines[1].hasPrefix("hint: "))
  }

  // MARK: Processes

  /// This process's environment without the variables that would steer `mcp-gen`.
  static var childEnvironment: [String: String] { CLI.environment() }

  static let python: String = {
    for p in ["/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3"] where FileManager.default.isExecutableFile(atPath: p) {
      return p
    }
    return "/usr/bin/env"
  }()

  static var pythonPrefix: [String] { python == "/usr/bin/env" ? ["python3"] : [] }

  static func now() -> Double { TestClock.now() }

  static func sleep(_ seconds: Double) { TestClock.sleep(seconds) }

  /// Whether process `pid` is still running (a zombie or a vanished pid is not).
  static func isRunning(_ pid: Int32) -> Bool {
    guard let stat = read("/proc/\(pid)/stat") else { return false }
    // "pid (comm) S ...": the state is the first field after the last ')'.
    guard let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
    return state != nil && state != "Z" && state != "X"
  }
}

/// The end-to-end tests' name for the spawned child of the shared support.
typealias GenChild = TestProcess
