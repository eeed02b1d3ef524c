import Foundation

/// python-tuf and securesystemslib in .build-venv (scripts/python-tuf.sh makes it): the
/// independent implementation the remote tests compare against.
enum PythonPeer {
  static var packageRoot: String { TestEnvironment.packageRoot }

  /// The venv's python, or nil when it cannot be made (no network for pip, no python3).
  static let python: String? = {
    guard let result = try? run("/bin/bash", [packageRoot + "/scripts/python-tuf.sh"]), result.status == 0 else { return nil }
    let path = String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    return path.isEmpty ? nil : path
  }()

  static var available: Bool { python != nil }

  struct Result {
    var status: Int32
    var stdout: [UInt8]
    var stderr: String
  }

  /// Runs `program` with `arguments`, stdin from `input`; collects both outputs.
  static func run(_ program: String, _ arguments: [String], input: [UInt8] = []) throws -> Result {
    let out = try ProcessRunner.run(program, arguments, stdin: input)
    return Result(status: out.status, stdout: out.stdout, stderr: out.stderrText)
  }

  /// Runs a python program (the script text) with `arguments`; throws on a non-zero exit.
  static func script(_ text: String, _ arguments: [String] = [], input: [UInt8] = []) throws -> [UInt8] {
    guard let python else { throw TestFailure("python-tuf is not available") }
    let result = try run(python, ["-c", text] + arguments, input: input)
    guard result.status == 0 else { throw TestFailure("python exited \(result.status): \(result.stderr)") }
    return result.stdout
  }
}
