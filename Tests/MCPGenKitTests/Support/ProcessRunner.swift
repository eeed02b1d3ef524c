import Dispatch
import Foundation

/// What a finished child process said.
struct ProcessOutput: Sendable {
  var status: Int32
  var stdout: [UInt8]
  var stderr: [UInt8]

  var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
  var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Runs a program to completion with Foundation's `Process`, capturing stdout and stderr.
enum ProcessRunner {
  /// - Parameters:
  ///   - executable: an absolute path.
  ///   - environment: the child's whole environment; `nil` inherits this process's.
  ///   - currentDirectory: the child's working directory; `nil` inherits.
  static func run(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
    currentDirectory: String? = nil
  ) throws -> ProcessOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    let out = Pipe()
    let err = Pipe()
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Drain stderr on another thread so a child filling one pipe cannot block on the other.
    let errBox = DataBox()
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) {
      errBox.data = err.fileHandleForReading.readDataToEndOfFile()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return ProcessOutput(status: process.terminationStatus, stdout: Array(outData), stderr: Array(errBox.data))
  }

  /// This process's environment with `removing` taken out and `adding` put in.
  static func environment(removing: [String] = [], adding: [String: String] = [:]) -> [String: String] {
    var env = ProcessInfo.processInfo.environment
    for name in removing { env.removeValue(forKey: name) }
    env.merge(adding) { _, new in new }
    return env
  }
}

private final class DataBox: @unchecked Sendable {
  var data = Data()
}
