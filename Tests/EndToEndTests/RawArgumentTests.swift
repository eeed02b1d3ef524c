import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Paths on the command line are bytes. `Process` only takes `String` arguments, so these run
/// the binary through bash, which builds the bytes with printf.
@Suite("Command-line paths that are not UTF-8")
struct RawArgumentTests {
  /// Runs `mcp-gen ARGS...` where each argument is a printf format (so `\xff` is one byte).
  private func runRaw(_ formats: [String], in directory: String) throws -> CLI.Output {
    var script = "cd \"$1\" && shift && exec \"$0\""
    for (i, _) in formats.enumerated() { script += " \"$(printf -- \"${\(i + 1)}\")\"" }
    return try CLI.runProcess("/bin/bash", ["-c", script, CLI.binary, directory] + formats, environment: nil)
  }

  @Test("hash and add find a release whose name is not UTF-8")
  func releasePath() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let make = try CLI.runProcess(
      "/bin/bash", ["-c", "cd \"$1\" && mkdir \"$(printf 'r\\xff')\" && cp -r \"$2\"/. \"$(printf 'r\\xff')\"/", "sh", scratch.path, CLI.fixture("mcp-1.0")],
      environment: nil)
    try #require(make.status == 0, "\(make.stderrText)")
    let key = try CLI.oracleKey(CLI.fixture("mcp-1.0"))

    let hash = try runRaw(["hash", "r\\xff"], in: scratch.path)
    #expect(hash.status == 0, "\(hash.stderrText)")
    #expect(hash.stdoutText == key + "\n")

    let add = try runRaw(["add", "--root", "root", "r\\xff"], in: scratch.path)
    #expect(add.status == 0, "\(add.stderrText)")
    #expect(add.stdoutText == "root/store/\(key)\n")
  }

  @Test(
    "--root that is not UTF-8 is used byte for byte")
  func rootPath() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let add = try runRaw(["add", "--root", "R\\xfe", CLI.fixture("mcp-1.0")], in: scratch.path)
    #expect(add.status == 0, "\(add.stderrText)")
    let names = try CLI.runProcess("/bin/ls", ["-1", "--quoting-style=escape", scratch.path], environment: nil)
    #expect(names.stdoutText == "R\\376\n")
  }
}
