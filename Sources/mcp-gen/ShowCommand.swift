import ArgumentParser
import MCPGenKit
import MCPGenTerminal

struct ShowCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "show",
    _superCommandName: superCommand,
    abstract: "Show one generation or store entry: source, label, times, key, path, size, marks, health checks.",
    discussion: "Given a key that no generation uses, shows the entry and says so. Reads the journal and the manifest; takes no lock."
  )

  @OptionGroup var global: GlobalOptions

  @Argument(help: ArgumentHelp("A generation number, a full store key, or a unique key prefix (8+ hex digits).", valueName: "N|KEY"))
  var release: String

  func run() throws {
    let store = try global.openStore(create: false)
    let d = try store.describe(try store.release(named: release))
    if global.json {
      printJSON(d)
    } else {
      printText(d)
    }
  }

  private func printJSON(_ d: ReleaseDescription) {
    let m = d.manifest
    func count(_ n: Int?) -> JSON { n.map { .int(Int64($0)) } ?? .null }
    func time(_ t: Int64?) -> JSON { t.map { .string(Clock.format($0)) } ?? .null }
    func flag(_ b: Bool?) -> JSON { b.map(JSON.bool) ?? .null }
    let uses: [JSON] = d.uses.map(Self.json)
    let checks: [JSON] = d.checks.map(Self.json)
    var members: [(String, JSON)] = [
      ("generation", d.reference.generation.map(JSON.int) ?? .null),
      ("key", .string(d.reference.key.hex)),
      ("label", d.label.map { .string($0.text) } ?? .null),
      ("labelFrom", d.label.map { .string($0.origin.rawValue) } ?? .null),
      ("path", .string(d.path.bytes)),
      ("present", .bool(m != nil)),
      ("missing", d.missing.map(JSON.string) ?? .null),
      ("source", d.source.map(JSON.string) ?? .null),
      ("created", time(d.created)),
      ("stored", time(d.stored)),
    ]
    members += [
      ("files", count(m?.fileCount)),
      ("directories", count(m.map(Self.directories))),
      ("symlinks", count(m.map(Self.symlinks))),
      ("bytes", m.map { JSON.int(Int64(clamping: $0.byteCount)) } ?? .null),
      ("current", .bool(d.isCurrent)),
      ("pinned", flag(d.isPinned)),
      ("blocked", .bool(d.isBlocked)),
      ("failed", flag(d.isFailed)),
      ("generations", .array(uses)),
      ("checks", .array(checks)),
    ]
    Output.json(.object(members))
  }

  static func json(_ use: ReleaseDescription.Use) -> JSON {
    .object([
      ("generation", .int(use.generation)), ("current", .bool(use.isCurrent)),
      ("pinned", .bool(use.isPinned)), ("failed", .bool(use.isFailed)),
    ])
  }

  static func json(_ c: RecordedCheck) -> JSON {
    let members: [(String, JSON)] = [
      ("time", .string(Clock.format(c.time))),
      ("op", .string(c.operation.rawValue)),
      ("generation", c.generation.map(JSON.int) ?? .null),
      ("role", .string(c.role)),
      ("command", .string(c.command)),
      ("outcome", .string(c.outcome)),
      ("detail", .string(c.detail)),
      ("milliseconds", c.milliseconds.map(JSON.int) ?? .null),
      ("afterRollback", .bool(c.afterRollback)),
      ("output", .string(c.output)),
    ]
    return .object(members)
  }

  private func printText(_ d: ReleaseDescription) {
    func field(_ label: String, _ value: String) {
      Output.line((label + ":").padding(to: 13) + value)
    }
    func yesNo(_ b: Bool) -> String { b ? "yes" : "no" }
    if let n = d.reference.generation { field("generation", String(n)) }
    field("key", d.reference.key.hex)
    field("label", d.label.map { "\($0.text) (\(Self.origin($0.origin)))" } ?? "-")
    field("path", displayName(d.path.bytes) + (d.manifest == nil ? " (missing)" : ""))
    field("source", d.source.map(displayName) ?? "-")
    if d.reference.generation != nil { field("created", d.created.map(Clock.format) ?? "-") }
    field("stored", d.stored.map(Clock.format) ?? "-")
    if let m = d.manifest {
      let bytes = m.byteCount >= 1000 ? "\(ByteCount.text(m.byteCount)) (\(m.byteCount) bytes)" : ByteCount.text(m.byteCount)
      field("contents", "\(Self.plural(m.fileCount, "file")), \(Self.plural(Self.directories(m), "directory", "directories")), \(Self.plural(Self.symlinks(m), "symlink")), \(bytes)")
    } else {
      field("contents", "unknown: \(d.missing ?? "the store entry is missing")")
      // `list` marks such a generation `!`; adding its release again makes it restorable.
      if let n = d.reference.generation { field("restorable", "no (!): add its release again, then mcp-gen rollback \(n)") }
    }
    field("current", yesNo(d.isCurrent))
    if let pinned = d.isPinned { field("pinned", yesNo(pinned)) }
    field("blocked", yesNo(d.isBlocked))
    if let failed = d.isFailed { field("failed", yesNo(failed)) }
    if let n = d.reference.generation {
      let others = d.uses.filter { $0.generation != n }
      if !others.isEmpty { field("shared with", "generation\(others.count == 1 ? "" : "s") " + others.map { Self.use($0) }.joined(separator: ", ")) }
    } else {
      field("generations", d.uses.isEmpty ? "none: no generation uses this release" : d.uses.map { Self.use($0) }.joined(separator: ", "))
    }
    if d.checks.isEmpty {
      field("checks", "none recorded")
      return
    }
    field("checks", "\(d.checks.count) recorded, oldest first")
    for c in d.checks {
      let label = c.role == "restart" ? "restart" : (c.role == "advisory" ? "advisory check" : "check")
      let op = c.afterRollback ? "restored after a failed \(c.operation.rawValue)" : c.operation.rawValue
      let gen = d.reference.generation == nil ? ", generation \(c.generation.map(String.init) ?? "?")" : ""
      let result = c.passed ? "passed: \(displayName(c.command))"
        : "\(c.outcome == "cancelled" ? "cancelled" : "FAILED"): \(displayName(c.command)) (\(displayName(Array(c.detail.utf8))))"
      Output.line("  \(Clock.format(c.time))  \(op)\(gen): \(label) \(result)")
      if !c.passed { Self.printOutput(c.output) }
    }
  }

  /// Where a label came from, in words.
  static func origin(_ o: ReleaseLabel.Origin) -> String {
    switch o {
    case .label: return "given with --label"
    case .gitTag: return "from the git tag"
    case .pyproject: return "from pyproject.toml"
    case .versionFile: return "from the VERSION file"
    }
  }

  /// What a check that did not pass printed (its last 4 KiB, as the journal kept it), indented
  /// under its line; each line escaped as names are.
  static func printOutput(_ output: [UInt8]) {
    var lines = output.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
    while lines.last?.isEmpty == true { lines.removeLast() }
    guard !lines.isEmpty else {
      Output.line("      (no output)")
      return
    }
    for line in lines { Output.line("      | " + displayName(line)) }
  }

  /// `3 (current, pinned)`: a generation that uses the release, with its marks.
  static func use(_ u: ReleaseDescription.Use) -> String {
    let marks = [u.isCurrent ? "current" : nil, u.isPinned ? "pinned" : nil, u.isFailed ? "failed" : nil].compactMap { $0 }
    return String(u.generation) + (marks.isEmpty ? "" : " (\(marks.joined(separator: ", ")))")
  }

  static func directories(_ m: Manifest) -> Int { m.entries.dropFirst().filter { $0.kind == .directory }.count }
  static func symlinks(_ m: Manifest) -> Int { m.entries.filter { $0.kind == .symlink }.count }

  static func plural(_ n: Int, _ one: String, _ many: String? = nil) -> String {
    "\(n) \(n == 1 ? one : (many ?? one + "s"))"
  }
}

extension String {
  /// Left-aligned in a column `width` characters wide (never cut).
  fileprivate func padding(to width: Int) -> String {
    count >= width ? self + " " : self + String(repeating: " ", count: width - count)
  }
}
