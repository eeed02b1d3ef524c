import Foundation
import Testing

/// Power loss, not only process death: `Tests/powerloss/crash_states.py` records the file-system
/// operations of a command (strace -y), builds every crash state its model allows (anything not
/// yet made durable by an fsync of the file, its directory, or a syncfs may be lost), and checks
/// the invariants on each. `--justify` then drops each fsync in turn and must find a state that
/// breaks without it: every fsync the code does is shown to be needed.
@Suite("Power-loss crash states", .serialized, .enabled(if: KillPoints.stracePath != nil, "strace is not installed"))
struct PowerLossTests {
  @Test(
    "every crash state holds, every fsync is needed",
    arguments: ["add", "switch", "rollback", "gc", "switch with a checkpoint", "pull", "pull of an update"])
  func crashStates(_ command: String) throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let baseline = scratch.at("baseline")
    var args: [String]
    var environment: [String: String]? = nil
    // A pull stores the tree it built in remotes/origin/partial/ where it is (Store.addVerified),
    // made of its objects' inodes and, for an update, of the stored release's (hard links).
    let publisher = command.hasPrefix("pull") ? try PubRemote() : nil
    defer { publisher?.remove() }
    switch command {
    case "pull", "pull of an update":
      let p = publisher!
      try p.ok(["add", try p.release("r1", version: "1.0", files: 4), "--label", "1.0"])
      try p.ok(p.publishArguments("1.0"))
      try KillPoints.Scenario.must(["remote", "add", "origin", "file://" + p.remote, "--trust", p.remote + "/metadata/1.root.json", "--root", baseline])
      if command == "pull of an update" {
        try KillPoints.Scenario.must(["pull", "origin", "--root", baseline])
        // The same data files, another VERSION: four contents shared with the stored release.
        try p.ok(["add", try p.release("r2", version: "1.1", files: 4), "--label", "1.1"])
        try p.ok(p.publishArguments("1.1"))
      }
      args = ["pull", "origin", "--root", "{root}"]
    case "add":
      try KillPoints.Scenario.must(["switch", "--root", baseline, CLI.fixture("mcp-1.0")])
      args = ["add", "--root", "{root}", CLI.fixture("mcp-1.1")]
    case "switch":
      try KillPoints.Scenario.must(["switch", "--root", baseline, CLI.fixture("mcp-1.0")])
      args = ["switch", "--root", "{root}", CLI.fixture("mcp-1.1")]
    case "rollback":
      for f in ["mcp-1.0", "mcp-1.1"] { try KillPoints.Scenario.must(["switch", "--root", baseline, CLI.fixture(f)]) }
      args = ["rollback", "--root", "{root}"]
    case "switch with a checkpoint":
      // Every change writes the checkpoint (debug builds): the baseline has one, the switch
      // appends to the journal and replaces it.
      let every = ["MCP_GEN_DEBUG_CHECKPOINT_LINES": "0"]
      try KillPoints.Scenario.must(["switch", "--root", baseline, CLI.fixture("mcp-1.0")], environment: every)
      try KillPoints.Scenario.must(["switch", "--root", baseline, CLI.fixture("mcp-1.1")], environment: every)
      #expect(FileManager.default.fileExists(atPath: baseline + "/checkpoint.json"))
      args = ["switch", "--root", "{root}", CLI.fixture("mcp-1.0")]
      environment = ProcessInfo.processInfo.environment.merging(every) { $1 }
    default:
      for f in ["mcp-1.0", "mcp-1.1", "mcp-1.0"] { try KillPoints.Scenario.must(["switch", "--root", baseline, CLI.fixture(f)]) }
      args = ["gc", "--root", "{root}", "--keep", "1", "--grace", "0"]
    }
    let script = CLI.packageRoot + "/Tests/powerloss/crash_states.py"
    let out = try CLI.runProcess(
      "/usr/bin/python3", [script, "--justify", CLI.binary, baseline, scratch.at("work")] + args, environment: environment)
    print(out.stdoutText, terminator: "")
    #expect(out.status == 0, "\(out.stdoutText)\(out.stderrText)")
    #expect(out.stdoutText.contains("crash states checked"))
    #expect(!out.stdoutText.contains("BROKEN"), "\(out.stdoutText)")
    #expect(!out.stdoutText.contains("UNJUSTIFIED"), "\(out.stdoutText)")
  }
}
