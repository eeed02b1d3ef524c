import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `mcp-gen` binary.
///
/// The binary is found next to the test bundle (the directory of /proc/self/exe: both live in the
/// same build directory), or at `$MCP_GEN_BIN`. The child's environment is this process's minus
/// `MCP_GEN_ROOT` and `MCP_GEN_FAULT`, plus whatever a test passes.
enum CLI {
  struct Output: Sendable {
    var status: Int32
    var stdout: [UInt8]
    var stderr: [UInt8]
    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    /// stderr split into lines, without the final empty one.
    var stderrLines: [Substring] { stderrText.split(separator: "\n", omittingEmptySubsequences: false).dropLast() }
  }

  static let binary: String = {
    if let override = ProcessInfo.processInfo.environment["MCP_GEN_BIN"], !override.isEmpty { return override }
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return exe.deletingLastPathComponent().appendingPathComponent("mcp-gen").path
  }()

  static let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }  // CLI.swift, EndToEndTests, Tests
    return url.path
  }()

  static func fixture(_ name: String) -> String { packageRoot + "/fixtures/" + name }

  static func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Output {
    guard FileManager.default.isExecutableFile(atPath: binary) else {
      throw E2EFailure("no mcp-gen binary at \(binary): build it first, or set MCP_GEN_BIN")
    }
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "MCP_GEN_ROOT")
    env.removeValue(forKey: "MCP_GEN_FAULT")
    env.merge(extra) { _, new in new }
    return try runProcess(binary, arguments, environment: env)
  }

  /// `bash Tests/oracle/store-key.sh PATH`.
  /// Whether `lsattr -d` shows the immutable flag on `path`.
  static func isImmutable(_ path: String) throws -> Bool {
    let out = try runProcess("/usr/bin/lsattr", ["-d", path], environment: nil)
    return out.status == 0 && (out.stdoutText.split(separator: " ").first?.contains("i") ?? false)
  }

  static func oracleKey(_ path: String) throws -> String {
    let out = try runProcess("/bin/bash", [packageRoot + "/Tests/oracle/store-key.sh", path], environment: nil)
    guard out.status == 0 else { throw E2EFailure("oracle failed on \(path): \(out.stderrText)") }
    return out.stdoutText.trimmingCharacters(in: .newlines)
  }

  static func runProcess(
    _ executable: String, _ arguments: [String], environment: [String: String]?, stdin: [UInt8]? = nil
  ) throws -> Output {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe()
    let err = Pipe()
    let input = Pipe()
    process.standardInput = stdin == nil ? FileHandle.nullDevice : input
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let errBox = Box()
    let group = DispatchGroup()
    if let stdin {
      DispatchQueue.global().async(group: group) {
        input.fileHandleForWriting.write(Data(stdin))
        try? input.fileHandleForWriting.close()
      }
    }
    DispatchQueue.global().async(group: group) { errBox.data = err.fileHandleForReading.readDataToEndOfFile() }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return Output(status: process.terminationStatus, stdout: Array(outData), stderr: Array(errBox.data))
  }

  private final class Box: @unchecked Sendable { var data = Data() }
}

struct E2EFailure: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// A fresh directory, removed (after `chattr -R -i`) by `remove()`.
///
/// By default it is under `<package>/.build-test-scratch/`, on the same file system as the build.
/// A test that runs something as another user (`nobody`) asks for `forOtherUsers`: the checkout
/// may sit in a directory other users cannot enter (root's home is 0700, so is a `mktemp -d`),
/// so such a scratch is made in the system's temporary directory instead, 0711, so that the
/// other user can reach what the test puts there and list nothing else.
final class Scratch: @unchecked Sendable {
  let path: String

  init(forOtherUsers: Bool = false) throws {
    let base = forOtherUsers ? "/tmp" : CLI.packageRoot + "/.build-test-scratch"
    if !forOtherUsers { mkdir(base, 0o755) }
    var template = Array((base + (forOtherUsers ? "/mcp-gen-test-XXXXXX" : "/e2e-XXXXXX")).utf8CString)
    guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
      throw E2EFailure("mkdtemp: \(String(cString: strerror(errno)))")
    }
    path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    if forOtherUsers { chmod(path, 0o711) }
  }

  func at(_ relative: String) -> String { path + "/" + relative }

  func remove() {
    if geteuid() == 0 { _ = try? CLI.runProcess("/usr/bin/chattr", ["-R", "-f", "-i", path], environment: nil) }
    else { _ = try? CLI.runProcess("/bin/chmod", ["-R", "u+rwX", path], environment: nil) }
    _ = try? CLI.runProcess("/bin/rm", ["-rf", "--", path], environment: nil)
  }

  /// Names in `<root>/store/` (keys, and anything left behind).
  func storeNames(_ root: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: root + "/store").sorted()
  }
}
