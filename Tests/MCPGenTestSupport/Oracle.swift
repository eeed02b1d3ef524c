import SystemPackage

/// `Tests/oracle/store-key.sh`: the store key recomputed with bash and coreutils alone, apart
/// from the engine (this target does not import it), so that it checks the format rather than
/// repeating the code.
public enum Oracle {
  public static var script: String { TestEnvironment.packageRoot + "/Tests/oracle/store-key.sh" }

  /// The oracle's key for the release at `path` (64 lowercase hex digits).
  public static func key(_ path: String) throws -> String {
    let result = try ProcessRunner.run("/bin/bash", [script, path])
    guard result.status == 0 else {
      throw TestFailure("store-key.sh \(path) exited \(result.status): \(result.stderrText)")
    }
    let text = result.stdoutText
    guard text.hasSuffix("\n") else { throw TestFailure("store-key.sh printed no line: \(text.debugDescription)") }
    return String(text.dropLast())
  }

  public static func key(_ path: FilePath) throws -> String { try key(path.string) }

  /// The oracle's raw manifest bytes for the release at `path`.
  public static func manifest(_ path: FilePath) throws -> [UInt8] {
    let result = try ProcessRunner.run("/bin/bash", [script, "--manifest", path.string])
    guard result.status == 0 else {
      throw TestFailure("store-key.sh --manifest \(path) exited \(result.status): \(result.stderrText)")
    }
    return result.stdout
  }
}
