import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// Where things are, and who we run as: the package, its fixtures, the built binaries.
public enum TestEnvironment {
  /// The package root, found from this file: `<root>/Tests/MCPGenTestSupport/TestEnvironment.swift`.
  public static let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
  }()

  /// Scratch space on the build directory's file system (not /tmp: tmpfs has no inode flags).
  public static var scratchRoot: String { packageRoot + "/.build-test-scratch" }

  public static var fixturesDirectory: String { packageRoot + "/fixtures" }

  public static func fixture(_ name: String) -> FilePath { FilePath(fixturesDirectory + "/" + name) }

  public static let fixtureNames = ["mcp-1.0", "mcp-1.1", "mcp-broken", "mcp-single"]

  /// The directory the test bundle was built into (`.build/debug`): the directory of
  /// /proc/self/exe, where SwiftPM puts the package's executables too.
  public static let buildDirectory: String = {
    URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
  }()

  /// The built `mcp-gen`, or `$MCP_GEN_BIN`.
  public static let binary: String = built("mcp-gen", override: "MCP_GEN_BIN")

  /// The built TUF conformance client, or `$MCP_GEN_TUF_CLIENT_BIN`.
  public static let tufClientBinary: String = built("mcp-gen-tuf-client", override: "MCP_GEN_TUF_CLIENT_BIN")

  private static func built(_ name: String, override: String) -> String {
    if let path = ProcessInfo.processInfo.environment[override], !path.isEmpty { return path }
    return buildDirectory + "/" + name
  }

  public static var isRoot: Bool { geteuid() == 0 }

  /// The first of `candidates` that is an executable file.
  public static func tool(_ candidates: [String]) -> String? {
    candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
  }

  /// Whether `lsattr -d` shows the immutable flag on `path`.
  public static func isImmutable(_ path: String) throws -> Bool {
    let out = try ProcessRunner.run("/usr/bin/lsattr", ["-d", path])
    // lsattr prints "----i---------e------- path": the flags come before the first space.
    return out.status == 0 && (out.stdoutText.split(separator: " ").first?.contains("i") ?? false)
  }

  /// Whether `chattr +i` works in the scratch space (root, CAP_LINUX_IMMUTABLE, a file system
  /// with inode flags). Probed once by setting and reading back the flag on a scratch file.
  public static let immutableFlagWorks: Bool = {
    guard isRoot, let dir = try? TestDirectory() else { return false }
    defer { dir.remove() }
    guard (try? dir.writeFile("probe", [])) != nil else { return false }
    let probe = dir.at("probe").string
    guard let set = try? ProcessRunner.run("/usr/bin/chattr", ["+i", probe]), set.status == 0 else { return false }
    return (try? isImmutable(probe)) == true
  }()
}

/// A test's own failure (a helper that could not do its job), with what went wrong.
public struct TestFailure: Error, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// The end-to-end tests' name for `TestFailure`.
public typealias E2EFailure = TestFailure

/// Seconds on the monotonic clock, and sleeping: deadlines for children and polls.
public enum TestClock {
  public static func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
  }

  public static func sleep(_ seconds: Double) {
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
  }
}
