import MCPGenSystem
import SystemPackage

/// Where the root is when the command line does not say.
public enum RootLocator {
  public struct Choice: Sendable {
    public var path: FilePath
    /// Which rule picked it: `--root`, `MCP_GEN_ROOT`, `root default` or `per-user default`.
    public var source: String
  }

  /// `--root`, else `MCP_GEN_ROOT`, else `/var/lib/mcp` for root, else
  /// `$XDG_STATE_HOME/mcp-gen` or `~/.local/state/mcp-gen`.
  public static func choose(explicit: FilePath?) -> Choice {
    if let explicit, !explicit.isEmpty { return Choice(path: explicit, source: "--root") }
    if let env = environmentBytes("MCP_GEN_ROOT"), !env.isEmpty { return Choice(path: FilePath(bytes: env), source: "MCP_GEN_ROOT") }
    if Syscall.effectiveUserID() == 0 { return Choice(path: "/var/lib/mcp", source: "default for root") }
    if let state = variable("XDG_STATE_HOME"), state.hasPrefix("/") {
      return Choice(path: FilePath(state).appending("mcp-gen"), source: "XDG_STATE_HOME")
    }
    let home = variable("HOME") ?? "/"
    return Choice(path: FilePath(home).appending(".local/state/mcp-gen"), source: "per-user default (~/.local/state)")
  }

  static func variable(_ name: String) -> String? {
    environmentValue(name)
  }
}
