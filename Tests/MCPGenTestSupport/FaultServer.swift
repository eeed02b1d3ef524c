import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `Tests/remote/fault_server.py` running on 127.0.0.1: cut, slow, delayed, stalled, wrong and
/// endless bodies, any status, and a forward proxy that logs what it was asked for. Optionally in
/// front of an `upstream` (nginx) with faults chosen by a rules file the test edits while it runs.
public final class FaultServer: @unchecked Sendable {
  public static var script: String { TestEnvironment.packageRoot + "/Tests/remote/fault_server.py" }
  public static let python = TestEnvironment.tool(["/usr/bin/python3", "/usr/local/bin/python3"])
  public static var isAvailable: Bool { python != nil }

  public let port: Int
  public let scratch: Scratch
  private let process: TestProcess

  public var url: String { "http://127.0.0.1:\(port)" }
  public var rulesPath: String { scratch.at("rules") }

  public init(upstream: String? = nil) throws {
    guard let python = FaultServer.python else { throw TestFailure("python3 is not installed") }
    scratch = try Scratch()
    FileManager.default.createFile(atPath: scratch.at("requests.log"), contents: Data())
    process = try TestProcess(
      python,
      [FaultServer.script, "--log", scratch.at("requests.log"), "--rules", scratch.at("rules")]
        + (upstream.map { ["--upstream", $0] } ?? []),
      stdout: scratch.at("stdout"), environment: CLI.environment())
    // The first line of its stdout is the port it listens on.
    let deadline = TestClock.now() + 30
    var port: Int? = nil
    while port == nil && TestClock.now() < deadline && !process.poll() {
      let text = (try? String(contentsOfFile: scratch.at("stdout"), encoding: .utf8)) ?? ""
      if let line = text.split(separator: "\n", omittingEmptySubsequences: false).first, text.contains("\n") {
        port = Int(line)
      } else {
        TestClock.sleep(0.01)
      }
    }
    guard let port else {
      process.kill()
      process.wait()
      scratch.remove()
      throw TestFailure("fault_server.py did not start")
    }
    self.port = port
  }

  /// Replaces the rules: `(substring of the path, fault)` pairs, first match wins.
  public func setRules(_ rules: [(String, String)]) throws {
    try rules.map { "\($0.0) \($0.1)\n" }.joined().write(toFile: rulesPath, atomically: true, encoding: .utf8)
  }

  /// Request lines received so far: `GET /path`, or `GET http://host/path` through the proxy.
  public func requests() -> [String] {
    ((try? String(contentsOfFile: scratch.at("requests.log"), encoding: .utf8)) ?? "")
      .split(separator: "\n").map(String.init)
  }

  /// SIGKILL: Python handles SIGTERM only between bytecodes of its main thread, which sits in
  /// `serve_forever`; nothing of its state needs a clean end.
  public func stop() {
    process.kill()
    process.wait()
    scratch.remove()
  }
}

/// `count` bytes of the pattern the fault server sends (0, 1, ..., 255, 0, ...).
public func patternBytes(_ count: Int) -> [UInt8] {
  (0..<count).map { UInt8(truncatingIfNeeded: $0) }
}
