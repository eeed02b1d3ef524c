import Dispatch
import Foundation
import MCPGenRemote
import SystemPackage

/// Repositories written and signed by python-tuf's Metadata API
/// (fixtures/tuf/make_tuf_repo.py), in a scratch directory of their own.
///
/// Expiry is counted from `now`: the unit tests pass a fixed time and give the `Updater` the
/// same one, the end-to-end tests pass the real time.
final class TUFFixture: @unchecked Sendable {
  let path: String

  static let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { url.deleteLastPathComponent() }  // TUFFixtures.swift, Client, RemoteTests, Tests
    return url.path
  }()

  /// The python of .build-venv, which has python-tuf (scripts/python-tuf.sh makes it).
  static let python: String? = {
    guard let out = try? TUFProcess.run("/bin/bash", [packageRoot + "/scripts/python-tuf.sh"]), out.status == 0 else { return nil }
    let path = out.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    return path.isEmpty ? nil : path
  }()

  static var available: Bool { python != nil }

  /// A fixed "now" for the unit tests: 2030-03-17T17:46:40Z.
  static let fixedNow: Int64 = 1_900_000_000

  /// Writes `scenario` (basic, rotation, dupkey) with expiry counted from `now`.
  init(_ scenario: String, now: Int64 = TUFFixture.fixedNow) throws {
    path = try TUFScratch.make("tuf-\(scenario)")
    guard let python = TUFFixture.python else { throw TUFTestFailure("python-tuf is not installed: run scripts/python-tuf.sh") }
    let script = TUFFixture.packageRoot + "/fixtures/tuf/make_tuf_repo.py"
    let out = try TUFProcess.run(python, [script, scenario, path + "/repo", String(now)])
    guard out.status == 0 else { throw TUFTestFailure("make_tuf_repo.py \(scenario) failed: \(out.stderrText)") }
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

  func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Every file of a directory and its bytes: "the trusted files are unchanged" is an equality.
func directoryContents(_ path: String) throws -> [String: [UInt8]] {
  var out: [String: [UInt8]] = [:]
  for name in try FileManager.default.contentsOfDirectory(atPath: path) {
    out[name] = Array(try Data(contentsOf: URL(fileURLWithPath: path + "/" + name)))
  }
  return out
}

enum TUFScratch {
  /// A new directory under `<package>/.build-test-scratch/`.
  static func make(_ prefix: String) throws -> String {
    let base = TUFFixture.packageRoot + "/.build-test-scratch"
    try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    let path = base + "/\(prefix)-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    return path
  }
}

struct TUFTestFailure: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// Runs a program to completion, capturing its output.
enum TUFProcess {
  struct Output: Sendable {
    var status: Int32
    var stdout: [UInt8]
    var stderr: [UInt8]
    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    var stderrText: String { String(decoding: stderr, as: UTF8.self) }
  }

  static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> Output {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe()
    let err = Pipe()
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let box = Box()
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) { box.data = err.fileHandleForReading.readDataToEndOfFile() }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return Output(status: process.terminationStatus, stdout: Array(outData), stderr: Array(box.data))
  }

  private final class Box: @unchecked Sendable { var data = Data() }
}
