import Foundation
import MCPGenKit
import MCPGenSystem
import Testing

@Suite("mcp-gen hash")
struct HashCommandTests {
  @Test("prints the oracle's key", arguments: ["mcp-1.0", "mcp-1.1", "mcp-broken", "mcp-single"])
  func key(fixture: String) throws {
    let out = try CLI.run(["hash", CLI.fixture(fixture)])
    #expect(out.status == 0, "\(out.stderrText)")
    #expect(out.stdoutText == (try CLI.oracleKey(CLI.fixture(fixture))) + "\n")
    #expect(out.stderr.isEmpty)
  }

  @Test("--manifest --raw writes the bytes whose SHA-256 is the key")
  func rawManifest() throws {
    let path = CLI.fixture("mcp-1.0")
    let out = try CLI.run(["hash", "--manifest", "--raw", path])
    #expect(out.status == 0, "\(out.stderrText)")
    #expect(out.stdout.starts(with: Array("mcp-gen manifest 1\n".utf8)))
    #expect(out.stdout.last == 0)
    #expect(SHA256.hash(out.stdout).description == (try CLI.oracleKey(path)))
    let sha = try CLI.runProcess("/usr/bin/sha256sum", [], environment: nil, stdin: out.stdout)
    #expect(sha.stdoutText == (try CLI.oracleKey(path)) + "  -\n")
  }

  @Test("--raw without --manifest is a usage error (64)")
  func rawAlone() throws {
    let out = try CLI.run(["hash", "--raw", CLI.fixture("mcp-1.0")])
    #expect(out.status == 64)
    #expect(out.stdout.isEmpty)
    #expect(out.stderrText.contains("--raw"))
  }

  @Test("a missing path: exit 1, one error line")
  func missing() throws {
    let out = try CLI.run(["hash", CLI.fixture("no-such-fixture")])
    #expect(out.status == 1)
    #expect(out.stdout.isEmpty)
    #expect(out.stderrLines.count == 1, "\(out.stderrText)")
    #expect(out.stderrText.hasPrefix("error: "))
  }
}

@Suite("mcp-gen root")
struct RootCommandTests {
  @Test("MCP_GEN_ROOT is reported with its source")
  func fromEnvironment() throws {
    let out = try CLI.run(["root"], environment: ["MCP_GEN_ROOT": "/x"])
    #expect(out.status == 0)
    #expect(out.stdoutText == "/x\t(MCP_GEN_ROOT)\n")
  }

  @Test("--root wins over MCP_GEN_ROOT")
  func explicitWins() throws {
    let out = try CLI.run(["root", "--root", "/y"], environment: ["MCP_GEN_ROOT": "/x"])
    #expect(out.status == 0)
    #expect(out.stdoutText == "/y\t(--root)\n")
  }
}
