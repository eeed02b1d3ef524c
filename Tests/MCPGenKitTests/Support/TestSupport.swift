// The shared test support (runner, scratch directory, oracle, binaries and fixtures), visible in
// every file of this target without an import of its own.
@_exported import MCPGenTestSupport
