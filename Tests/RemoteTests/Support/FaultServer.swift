import Foundation

/// `fault_server.py` (beside this file) running on 127.0.0.1: cut, slow, stalled, wrong and
/// endless bodies, any status, and a forward proxy that logs what it was asked for. Optionally in
/// front of an `upstream` (nginx) with faults chosen by a rules file the test edits while it runs.
final class FaultServer: @unchecked Sendable {
  static let script = RemoteScratch.packageRoot + "/Tests/RemoteTests/Support/fault_server.py"
  static let python = installedProgram("/usr/bin/python3", "/usr/local/bin/python3")
  static var isAvailable: Bool { python != nil }

  let port: Int
  let scratch: RemoteScratch
  private let process: Process

  var url: String { "http://127.0.0.1:\(port)" }
  var rulesPath: String { scratch.at("rules") }

  /// Starts one from a Dispatch thread: waiting for Python to start must not hold a thread of
  /// the cooperative pool, which the fetcher's own tasks need (see `blocking`).
  static func start(upstream: String? = nil) async throws -> FaultServer {
    try await blocking { try FaultServer(upstream: upstream) }
  }

  init(upstream: String? = nil) throws {
    guard let python = FaultServer.python else { throw HarnessFailure("python3 is not installed") }
    scratch = try RemoteScratch("fault")
    FileManager.default.createFile(atPath: scratch.at("requests.log"), contents: Data())
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [FaultServer.script, "--log", scratch.at("requests.log"), "--rules", scratch.at("rules")]
      + (upstream.map { ["--upstream", $0] } ?? [])
    let out = Pipe()
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    // The first line of its stdout is the port it listens on.
    var line = Data()
    while true {
      let byte = out.fileHandleForReading.readData(ofLength: 1)
      if byte.isEmpty || byte.first == 0x0A { break }
      line.append(byte)
    }
    guard let port = Int(String(decoding: line, as: UTF8.self)) else {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
      scratch.remove()
      throw HarnessFailure("fault_server.py did not start")
    }
    self.port = port
    self.process = process
  }

  /// Replaces the rules: `(substring of the path, fault)` pairs, first match wins.
  func setRules(_ rules: [(String, String)]) throws {
    try rules.map { "\($0.0) \($0.1)\n" }.joined().write(toFile: rulesPath, atomically: true, encoding: .utf8)
  }

  /// Request lines received so far: `GET /path`, or `GET http://host/path` through the proxy.
  func requests() -> [String] {
    ((try? String(contentsOfFile: scratch.at("requests.log"), encoding: .utf8)) ?? "")
      .split(separator: "\n").map(String.init)
  }

  /// SIGKILL: the test runner's threads block SIGTERM, and Python, unlike nginx, keeps the
  /// signal mask it inherited, so a SIGTERM would never arrive.
  func stop() {
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    scratch.remove()
  }
}
