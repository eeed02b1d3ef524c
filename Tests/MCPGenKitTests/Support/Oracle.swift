import MCPGenKit
import MCPGenSystem
import SystemPackage

/// `Tests/oracle/store-key.sh`: the store key recomputed with bash and coreutils alone.
enum Oracle {
  static var script: String { TestEnvironment.packageRoot + "/Tests/oracle/store-key.sh" }

  /// The oracle's key for the release at `path` (64 lowercase hex digits).
  static func key(_ path: FilePath) throws -> String {
    let result = try ProcessRunner.run("/bin/bash", [script, path.string])
    guard result.status == 0 else {
      throw TestFailure("store-key.sh \(path) exited \(result.status): \(result.stderrText)")
    }
    let text = result.stdoutText
    guard text.hasSuffix("\n") else { throw TestFailure("store-key.sh printed no line: \(text.debugDescription)") }
    return String(text.dropLast())
  }

  /// The oracle's raw manifest bytes for the release at `path`.
  static func manifest(_ path: FilePath) throws -> [UInt8] {
    let result = try ProcessRunner.run("/bin/bash", [script, "--manifest", path.string])
    guard result.status == 0 else {
      throw TestFailure("store-key.sh --manifest \(path) exited \(result.status): \(result.stderrText)")
    }
    return result.stdout
  }
}
