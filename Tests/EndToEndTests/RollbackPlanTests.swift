import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// `rollback --dry-run` and `rollback` plan with one planner from one history: the dry run names
/// the generation the rollback then takes, whatever the history (issue 18).
@Suite("rollback --dry-run names what rollback takes")
struct RollbackPlanTests {
  /// Starts `switch --check SLEEPER RELEASE`, waits until `current` has moved to `generation` and
  /// the check runs, then sends `signal` to mcp-gen (not to the check) and waits for it to end.
  /// SIGKILL leaves the switch unconfirmed (current on the new generation, no journal line);
  /// SIGINT does today too, or, once Ctrl-C cancels, puts the previous generation back.
  static func interruptedSwitch(_ root: String, _ release: String, generation: Int, signal: Int32, scratch: Scratch) throws {
    let marker = scratch.at("check-\(generation)-\(signal)")
    // Slow only in the new generation: a cancel puts the previous one back and runs its checks
    // to their end (as after a failed check), which must not wait a minute.
    let slow = "sh -c 'if [ \"$MCP_GEN_GENERATION\" = \(generation) ]; then echo $$ > \(marker); exec sleep 60; fi'"
    let child = try GenChild(CLI.binary, ["switch", "--root", root, "--check", slow, "--check-timeout", "120", release],
                             stderr: scratch.at("switch-err"))
    defer {
      if let pid = Gen.read(marker).flatMap({ pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) { kill(pid, SIGKILL) }
    }
    let started = Rel.poll(timeout: 30, while: { !child.poll() }) {
      Gen.currentGeneration(root) == generation && Gen.read(marker)?.hasSuffix("\n") == true
    }
    guard started else {
      child.kill()
      child.wait()
      throw E2EFailure("the switch's check never started: \(Gen.read(scratch.at("switch-err")) ?? "")")
    }
    child.kill(signal)
    // A cancel may run the restore and the journal first; a second signal is never sent.
    let deadline = Gen.now() + 30
    while !child.poll() && Gen.now() < deadline { Gen.sleep(0.01) }
    if !child.poll() {
      child.kill()
      child.wait()
      throw E2EFailure("mcp-gen did not end after signal \(signal)")
    }
  }

  /// The dry run's text and `--json` `to`, then the real rollback's `to`; both must agree.
  static func expectSamePlan(_ root: String, _ arguments: [String], _ context: String,
                             sourceLocation: SourceLocation = #_sourceLocation) throws -> Int? {
    let dryText = try Gen.run(root, "rollback", ["--dry-run"] + arguments)
    let dryJSON = try Gen.run(root, "rollback", ["--dry-run", "--json"] + arguments)
    let real = try Gen.run(root, "rollback", ["--json"] + arguments)
    #expect(dryText.status == real.status && dryJSON.status == real.status,
            "\(context): dry run exited \(dryText.status)/\(dryJSON.status), rollback \(real.status): \(dryText.stderrText) | \(real.stderrText)",
            sourceLocation: sourceLocation)
    guard real.status == 0 else {
      // Refused alike: the same error line.
      #expect(dryText.stderrText.split(separator: "\n").first == real.stderrText.split(separator: "\n").first,
              "\(context): \(dryText.stderrText) | \(real.stderrText)", sourceLocation: sourceLocation)
      return nil
    }
    let planned = Gen.int((try Gen.json(dryJSON) as? [String: Any])?["to"])
    let taken = Gen.int((try Gen.json(real) as? [String: Any])?["to"])
    #expect(planned != nil && planned == taken, "\(context): dry run --json says \(planned.map(String.init) ?? "nil"), rollback took \(taken.map(String.init) ?? "nil")",
            sourceLocation: sourceLocation)
    let current: Int? = Gen.currentGeneration(root)
    #expect(taken == current, "\(context): rollback said \(taken.map(String.init) ?? "nil"), current is \(current.map(String.init) ?? "nil")",
            sourceLocation: sourceLocation)
    if let taken {
      #expect(dryText.stdoutText.contains(" to generation \(taken) ("), "\(context): \(dryText.stdoutText)", sourceLocation: sourceLocation)
    }
    return taken
  }

  @Test("a switch interrupted during its health check (kill -9, or SIGINT): the dry run, text and --json, names the generation rollback takes",
        arguments: [SIGKILL, SIGINT])
  func interruptedDuringCheck(_ signal: Int32) throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    // Generations 1 (1.0), 2 (1.1), 3 (1.0 again): undo stack [-, 1, 2], current 3.
    for release in ["mcp-1.0", "mcp-1.1", "mcp-1.0"] { try Gen.ok(root, "switch", [CLI.fixture(release)]) }
    try Self.interruptedSwitch(root, CLI.fixture("mcp-single"), generation: 4, signal: signal, scratch: scratch)
    let taken = try Self.expectSamePlan(root, [], "after signal \(signal)")
    if signal == SIGKILL {
      // Unconfirmed generation 4 is current; undoing it returns to 3, current before it.
      #expect(taken == 3)
    }
  }

  /// A history, built step by step, and the rollback arguments to plan and take at its end.
  enum Step: Sendable {
    case switchTo(String)
    case failingSwitch(String)
    case rollback([String])
    case interrupted(String, generation: Int)
  }

  struct Case: Sendable, CustomStringConvertible {
    var name: String
    var steps: [Step]
    var arguments: [String]
    /// What the real rollback must take (nil: refused).
    var expected: Int?
    var description: String { name }
  }

  static let cases: [Case] = [
    Case(name: "switch, switch: rollback", steps: [.switchTo("mcp-1.0"), .switchTo("mcp-1.1")], arguments: [], expected: 1),
    Case(name: "three switches and a rollback: rollback walks further back",
         steps: [.switchTo("mcp-1.0"), .switchTo("mcp-1.1"), .switchTo("mcp-single"), .rollback([])], arguments: [], expected: 1),
    Case(name: "rollback 1 after three switches: rollback undoes it",
         steps: [.switchTo("mcp-1.0"), .switchTo("mcp-1.1"), .switchTo("mcp-single"), .rollback(["1"])], arguments: [], expected: 3),
    Case(name: "rollback N", steps: [.switchTo("mcp-1.0"), .switchTo("mcp-1.1"), .switchTo("mcp-single")], arguments: ["1"], expected: 1),
    Case(name: "a failed switch is passed over",
         steps: [.switchTo("mcp-1.0"), .switchTo("mcp-1.1"), .failingSwitch("mcp-broken")], arguments: [], expected: 1),
    Case(name: "rollback N to a failed generation without --force: refused alike",
         steps: [.switchTo("mcp-1.0"), .switchTo("mcp-1.1"), .failingSwitch("mcp-broken")], arguments: ["3"], expected: nil),
    Case(name: "rollback N --force to a failed generation",
         steps: [.switchTo("mcp-1.0"), .switchTo("mcp-1.1"), .failingSwitch("mcp-broken")], arguments: ["3", "--force"], expected: 3),
    Case(name: "an interrupted switch: rollback undoes it",
         steps: [.switchTo("mcp-1.0"), .switchTo("mcp-1.1"), .interrupted("mcp-single", generation: 3)], arguments: [], expected: 2),
    Case(name: "an interrupted switch after a rollback",
         steps: [.switchTo("mcp-1.0"), .switchTo("mcp-1.1"), .rollback([]), .interrupted("mcp-single", generation: 3)], arguments: [], expected: 1),
    Case(name: "an interrupted switch, then rollback N",
         steps: [.switchTo("mcp-1.0"), .switchTo("mcp-1.1"), .interrupted("mcp-single", generation: 3)], arguments: ["1"], expected: 1),
    Case(name: "nothing to undo: refused alike", steps: [.switchTo("mcp-1.0")], arguments: [], expected: nil),
  ]

  @Test("dry run == rollback over a table of histories", arguments: cases)
  func table(_ c: Case) throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    for step in c.steps {
      switch step {
      case .switchTo(let release): try Gen.ok(root, "switch", [CLI.fixture(release)])
      case .failingSwitch(let release):
        let out = try Gen.run(root, "switch", ["--check", "bin/mcp check", CLI.fixture(release)])
        #expect(out.status == 4, "\(out.stderrText)")
      case .rollback(let arguments): try Gen.ok(root, "rollback", arguments)
      case .interrupted(let release, let generation):
        try Self.interruptedSwitch(root, CLI.fixture(release), generation: generation, signal: SIGKILL, scratch: scratch)
      }
    }
    let taken = try Self.expectSamePlan(root, c.arguments, c.name)
    #expect(taken == c.expected, "\(c.name)")
  }

  @Test("rollback N to a generation marked failed asks for --force (one error line with the hint), changes nothing; --force goes")
  func failedNeedsForce() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.1")])
    let failed = try Gen.run(root, "switch", ["--check", "bin/mcp check", CLI.fixture("mcp-broken")])
    #expect(failed.status == 4)
    #expect(Gen.currentGeneration(root) == 2)
    let before = Gen.snapshot(root)

    for dry in [false, true] {
      let refused = try Gen.run(root, "rollback", (dry ? ["--dry-run"] : []) + ["3"])
      #expect(refused.status == 1, "\(refused.stderrText)")
      #expect(Gen.isOneLineError(refused.stderrText), "\(refused.stderrText)")
      #expect(refused.stderrText.hasPrefix("error: generation 3 failed its health checks"), "\(refused.stderrText)")
      #expect(refused.stderrText.hasSuffix("\nhint: mcp-gen rollback 3 --force\n"), "\(refused.stderrText)")
      #expect(refused.stdoutText.isEmpty)
    }
    #expect(Gen.snapshot(root) == before, "a refused rollback changed the root")

    let forced = try Gen.ok(root, "rollback", ["3", "--force"])
    #expect(forced.stdoutText.hasPrefix("switched to generation 3 ("), "\(forced.stdoutText)")
    #expect(Gen.currentGeneration(root) == 3)
  }
}
