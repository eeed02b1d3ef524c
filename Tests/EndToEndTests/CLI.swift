// `CLI` (the built binary), `Scratch`, the process runner and the oracle live in the shared
// test support (Tests/MCPGenTestSupport/), visible in every file of this target through this
// import.
@_exported import MCPGenTestSupport
