/// Runs the built `mcp-gen` binary (`TestEnvironment.binary`, or `$MCP_GEN_BIN`).
///
/// The child's environment is this process's minus `MCP_GEN_ROOT` and `MCP_GEN_FAULT` (tests run
/// in parallel and must never be steered by the caller's), plus whatever a test passes.
public enum CLI {
  public typealias Output = ProcessOutput

  public static var binary: String { TestEnvironment.binary }
  public static var packageRoot: String { TestEnvironment.packageRoot }
  public static func fixture(_ name: String) -> String { TestEnvironment.fixturesDirectory + "/" + name }

  /// This process's environment without the variables that would steer `mcp-gen`, plus `extra`.
  public static func environment(_ extra: [String: String] = [:]) -> [String: String] {
    ProcessRunner.environment(removing: ["MCP_GEN_ROOT", "MCP_GEN_FAULT"], adding: extra)
  }

  public static func run(
    _ arguments: [String], environment extra: [String: String] = [:], stdin: [UInt8]? = nil,
    as user: ProcessRunner.User? = nil, timeout: Double = 600
  ) throws -> Output {
    try ProcessRunner.run(binary, arguments, environment: environment(extra), stdin: stdin, as: user, timeout: timeout)
  }

  /// Any program, through the one runner (`environment` nil: this process's own).
  public static func runProcess(
    _ executable: String, _ arguments: [String], environment: [String: String]?, stdin: [UInt8]? = nil
  ) throws -> Output {
    try ProcessRunner.run(executable, arguments, environment: environment, stdin: stdin)
  }

  /// The store key of the release at `path`, by the coreutils oracle.
  public static func oracleKey(_ path: String) throws -> String { try Oracle.key(path) }

  public static func isImmutable(_ path: String) throws -> Bool { try TestEnvironment.isImmutable(path) }
}
