#if canImport(Glibc)
import Glibc
#endif
import Testing

/// The shared runner every test suite starts programs with (Tests/MCPGenTestSupport/).
@Suite("test support: the process runner")
struct ProcessRunnerTests {
  @Test("stdin bytes reach the child; stdout, stderr and the exit status come back")
  func roundTrip() throws {
    let input: [UInt8] = [0x61, 0x00, 0xFF, 0x0A]
    let out = try ProcessRunner.run("/bin/sh", ["-c", "cat; echo err >&2; exit 3"], stdin: input)
    #expect(out.stdout == input)
    #expect(out.stderrText == "err\n")
    #expect(out.status == 3 && out.exitCode == 3 && out.signal == nil && !out.timedOut)
    #expect(try ProcessRunner.run("/bin/sh", ["-c", "cat"]).stdout.isEmpty, "no stdin is /dev/null")
  }

  @Test("a child past its deadline is killed, and what it wrote before is kept")
  func deadline() throws {
    let out = try ProcessRunner.run("/bin/sh", ["-c", "echo before; exec sleep 60"], timeout: 0.5)
    #expect(out.timedOut)
    #expect(out.signal == SIGKILL && out.exitCode == nil && out.status == 128 + SIGKILL)
    #expect(out.stdoutText == "before\n")
    #expect(out.seconds < 30)
  }

  @Test("a grandchild that keeps stdout open does not hold the run up")
  func grandchild() throws {
    let out = try ProcessRunner.run("/bin/sh", ["-c", "sleep 60 & echo done"], timeout: 120)
    #expect(out.stdoutText == "done\n")
    #expect(out.seconds < 30, "waited for the grandchild: \(out)")
  }

  @Test("arguments are bytes: one that is not UTF-8 reaches the child unchanged")
  func byteArguments() throws {
    let argument: [UInt8] = [0x61, 0xFF, 0xC3, 0x0A]
    let out = try ProcessRunner.run(bytes: Array("/usr/bin/printf".utf8), [Array("%s".utf8), argument])
    #expect(out.stdout == argument)
  }

  @Test(
    "as: .nobody runs the child as uid and gid 65534, without supplementary groups",
    .enabled(if: TestEnvironment.isRoot && ProcessRunner.setpriv != nil, "needs root and setpriv"))
  func asNobody() throws {
    let out = try ProcessRunner.run("/usr/bin/id", [], as: .nobody)
    #expect(out.status == 0, "\(out)")
    #expect(out.stdoutText.hasPrefix("uid=65534"), "\(out.stdoutText)")
    #expect(out.stdoutText.contains("gid=65534"))
    #expect(!out.stdoutText.contains("groups=0"))
  }

  @Test("CLI.run hides MCP_GEN_ROOT and MCP_GEN_FAULT from mcp-gen and passes what the test adds")
  func cliEnvironment() throws {
    let env = CLI.environment(["EXTRA": "1"])
    #expect(env["MCP_GEN_ROOT"] == nil && env["MCP_GEN_FAULT"] == nil && env["EXTRA"] == "1")
    let out = try ProcessRunner.run("/usr/bin/env", [], environment: ["ONLY": "this"])
    #expect(out.stdoutText == "ONLY=this\n")
  }
}
