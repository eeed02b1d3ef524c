import MCPGenKit
import MCPGenTerminal

/// Makes Ctrl-C (SIGINT) and SIGTERM a request to cancel for `add`, `switch` and `rollback`: the
/// engine stops at its next safe point, undoes what it began, and the command exits 130.
func installCancelSignals() throws(MCPGenError) {
  if case .failure(let e) = CancelSignals.install() {
    throw MCPGenError(.io, "cannot install the SIGINT and SIGTERM handlers: \(e.description) (sigaction); run the command again")
  }
}
