import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// contrib/systemd: the units parse, start the installed binary with subcommands and options that
/// exist, and give write access exactly where the command writes.
@Suite("contrib/systemd units")
struct SystemdUnitTests {
  static let directory = CLI.packageRoot + "/contrib/systemd"
  static let units = ["mcp-gen-verify.service", "mcp-gen-verify.timer", "mcp-gen-audit.service", "mcp-gen-audit.timer"]
  static let analyze = Rel.tool(["/usr/bin/systemd-analyze", "/bin/systemd-analyze"])
  /// Where `make install` puts the binary by default.
  static let installedBinary = "/usr/local/bin/mcp-gen"

  /// `Key=value` lines of a unit, in order (comments and section headers dropped).
  static func settings(_ unit: String) throws -> [(key: String, value: String)] {
    let text = try String(contentsOfFile: directory + "/" + unit, encoding: .utf8)
    return text.split(separator: "\n").compactMap { line in
      guard !line.hasPrefix("#"), !line.hasPrefix("["), let eq = line.firstIndex(of: "=") else { return nil }
      return (String(line[..<eq]), String(line[line.index(after: eq)...]))
    }
  }

  static func value(_ settings: [(key: String, value: String)], _ key: String) -> [String] {
    settings.filter { $0.key == key }.map(\.value)
  }

  @Test("systemd-analyze verify accepts every unit, with no warning (ExecStart pointed at the built binary)",
        .enabled(if: analyze != nil, "needs systemd-analyze"))
  func analyzeVerify() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    // verify insists that ExecStart exists; /usr/local/bin/mcp-gen need not be installed here.
    var paths: [String] = []
    for unit in Self.units {
      let text = try String(contentsOfFile: Self.directory + "/" + unit, encoding: .utf8)
      let path = scratch.at(unit)
      try text.replacingOccurrences(of: Self.installedBinary, with: CLI.binary).write(toFile: path, atomically: true, encoding: .utf8)
      paths.append(path)
    }
    let out = try CLI.runProcess(Self.analyze!, ["verify", "--man=no"] + paths, environment: ProcessInfo.processInfo.environment)
    #expect(out.status == 0, "\(out.stderrText)")
    #expect(out.stderrText.isEmpty, "systemd-analyze verify: \(out.stderrText)")
  }

  @Test("no service counts an exit status but 0 as success: audit's problems (2) and repairs (6) fail the unit",
        arguments: ["mcp-gen-verify.service", "mcp-gen-audit.service"])
  func failureStatuses(_ unit: String) throws {
    let s = try Self.settings(unit)
    #expect(Self.value(s, "SuccessExitStatus").isEmpty, "\(unit)")
    #expect(Self.value(s, "RestartPreventExitStatus").isEmpty, "\(unit)")
    #expect(!(Self.value(s, "ExecStart").first ?? "").hasPrefix("-"), "\(unit): a leading - ignores every failure")
    let comment = try String(contentsOfFile: Self.directory + "/" + unit, encoding: .utf8)
    if unit == "mcp-gen-audit.service" { #expect(comment.contains("exits 6")) }
  }

  @Test("each timer is persistent, wanted by timers.target, and starts its service; daily verify, weekly audit")
  func timers() throws {
    for (timer, calendar) in [("mcp-gen-verify.timer", "daily"), ("mcp-gen-audit.timer", "weekly")] {
      let s = try Self.settings(timer)
      #expect(Self.value(s, "OnCalendar") == [calendar], "\(timer)")
      #expect(Self.value(s, "Persistent") == ["true"], "\(timer)")
      #expect(Self.value(s, "WantedBy") == ["timers.target"], "\(timer)")
      // No Unit=: a timer starts the service of its own name.
      #expect(Self.value(s, "Unit").isEmpty, "\(timer)")
      #expect(FileManager.default.fileExists(atPath: Self.directory + "/" + timer.replacingOccurrences(of: ".timer", with: ".service")))
    }
  }

  @Test("each service runs the installed mcp-gen with a subcommand from --help; verify may write nowhere, audit --record only in the root",
        arguments: [("mcp-gen-verify.service", "verify", false), ("mcp-gen-audit.service", "audit", true)])
  func services(_ unit: String, _ subcommand: String, _ writes: Bool) throws {
    let s = try Self.settings(unit)
    #expect(Self.value(s, "Type") == ["oneshot"])
    #expect(Self.value(s, "ProtectSystem") == ["strict"])
    let exec = try #require(Self.value(s, "ExecStart").first).split(separator: " ").map(String.init)
    #expect(exec.first == Self.installedBinary)
    #expect(exec.dropFirst().first == subcommand)
    let help = try CLI.run(["--help"]).stdoutText
    #expect(help.contains("\n  \(subcommand) "), "\(subcommand) is not a subcommand in --help")
    let rootIndex = try #require(exec.firstIndex(of: "--root"))
    let root = exec[rootIndex + 1]
    #expect(Self.value(s, "ReadWritePaths") == (writes ? [root] : []))

    // The same command line against a scratch root: it parses, and writes only what it says.
    let scratch = try Scratch()
    defer { scratch.remove() }
    let scratchRoot = scratch.at("root")
    try Gen.ok(scratchRoot, "switch", [CLI.fixture("mcp-1.0")])
    var arguments = Array(exec.dropFirst())
    arguments[rootIndex] = scratchRoot  // The value after --root, one place left of where it is in exec.
    let journalBefore = try Gen.journal(scratchRoot).count
    let before = Gen.snapshot(scratchRoot)
    let out = try CLI.run(arguments)
    #expect(out.status == 0, "\(arguments): \(out.stdoutText) \(out.stderrText)")
    if writes {
      let journal = try Gen.journal(scratchRoot)
      #expect(journal.count == journalBefore + 1 && journal.last?["op"] as? String == "audit", "\(journal.last ?? [:])")
      let doctor = try Gen.run(scratchRoot, "doctor", ["--json"])
      let audit = (try Gen.json(doctor) as? [[String: Any]])?.first { $0["check"] as? String == "audit" }
      #expect(audit?["status"] as? String == "ok", "\(audit ?? [:])")
    } else {
      #expect(Gen.snapshot(scratchRoot) == before, "\(subcommand) changed the root")
    }
  }
}
