import Foundation
import MCPGenRemote
import SystemPackage

/// Repositories written and signed by python-tuf's Metadata API
/// (fixtures/tuf/make_tuf_repo.py), in a scratch directory of their own.
///
/// Expiry is counted from `now`: the unit tests pass a fixed time and give the `Updater` the
/// same one, the end-to-end tests pass the real time.
final class TUFFixture: @unchecked Sendable {
  let scratch: Scratch
  var path: String { scratch.path }

  static var packageRoot: String { TestEnvironment.packageRoot }

  /// The python of .build-venv, which has python-tuf (scripts/python-tuf.sh makes it).
  static let python: String? = {
    guard let out = try? ProcessRunner.run("/bin/bash", [packageRoot + "/scripts/python-tuf.sh"]), out.status == 0 else { return nil }
    let path = out.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    return path.isEmpty ? nil : path
  }()

  static var available: Bool { python != nil }

  /// A fixed "now" for the unit tests: 2030-03-17T17:46:40Z.
  static let fixedNow: Int64 = 1_900_000_000

  /// Writes `scenario` (basic, rotation, dupkey) with expiry counted from `now`.
  init(_ scenario: String, now: Int64 = TUFFixture.fixedNow) throws {
    guard let python = TUFFixture.python else { throw TestFailure("python-tuf is not installed: run scripts/python-tuf.sh") }
    scratch = try Scratch()
    let script = TUFFixture.packageRoot + "/fixtures/tuf/make_tuf_repo.py"
    let out = try ProcessRunner.run(python, [script, scenario, path + "/repo", String(now)])
    guard out.status == 0 else {
      scratch.remove()
      throw TestFailure("make_tuf_repo.py \(scenario) failed: \(out.stderrText)")
    }
  }

  /// `repo/<state>`: what the server serves in that state.
  func state(_ name: String) -> String { path + "/repo/" + name }
  /// The root a client starts from.
  var initialRoot: String { path + "/repo/root.json" }

  /// A fresh trusted metadata directory holding only the initial root.
  func makeMetadataDirectory(_ name: String = "client") throws -> String {
    let dir = path + "/" + name
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: initialRoot, toPath: dir + "/root.json")
    return dir
  }

  func remove() { scratch.remove() }
}

/// Every file of a directory and its bytes: "the trusted files are unchanged" is an equality.
func directoryContents(_ path: String) throws -> [String: [UInt8]] {
  var out: [String: [UInt8]] = [:]
  for name in try FileManager.default.contentsOfDirectory(atPath: path) {
    out[name] = Array(try Data(contentsOf: URL(fileURLWithPath: path + "/" + name)))
  }
  return out
}
