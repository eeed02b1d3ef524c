// The TUF conformance suite's client under test (issue 20): filled in by the client work.
import MCPGenRemote
import MCPGenTerminal

Terminal.writeAll(2, Array("mcp-gen-tuf-client: not built yet\n".utf8))
Terminal.exit(1)
