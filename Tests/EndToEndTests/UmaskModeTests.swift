import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// The modes store-layout.md (section 1) gives everything in a root, whatever the umask of the
/// command that made it.
@Suite("modes under any umask", .serialized)
struct UmaskModeTests {
  /// `mcp-gen ARGS` run with `umask MASK`.
  static func run(umask mask: String, _ arguments: [String]) throws -> CLI.Output {
    try CLI.runProcess("/bin/sh", ["-c", "umask \(mask); exec \"$@\"", "sh", CLI.binary] + arguments, environment: Gen.childEnvironment)
  }

  static func mode(_ path: String) -> mode_t? {
    var st = stat()
    guard lstat(path, &st) == 0 else { return nil }
    return st.st_mode & 0o7777
  }

  @Test(
    "add, switch, pin, block, config --init under umask 077 and 000: every mode as store-layout.md says, and nobody reads current/bin/mcp through the root",
    .enabled(if: geteuid() == 0 && Rel.setprivPath != nil, "needs root and setpriv"),
    arguments: ["077", "000"])
  func modes(mask: String) throws {
    // Another user passes through it (as through /var/lib) but cannot list it.
    let other = try Scratch(forOtherUsers: true)
    defer { other.remove() }
    let scratch = other.path
    // Two directories above the root that mcp-gen creates itself (mkdir -p).
    let root = scratch + "/srv/mcp/root"
    let k10 = try Gen.key(CLI.fixture("mcp-1.0"))
    let k11 = try Gen.key(CLI.fixture("mcp-1.1"))
    for arguments in [
      ["switch", "--root", root, CLI.fixture("mcp-1.0")],
      ["add", "--root", root, CLI.fixture("mcp-1.1")],
      ["pin", "--root", root, "1"],
      ["block", "--root", root, k11],
      ["config", "--root", root, "--init"],
    ] {
      let out = try Self.run(umask: mask, arguments)
      #expect(out.status == 0, "umask \(mask): \(arguments[0]): \(out.stderrText)")
    }

    var expected: [(String, mode_t)] = [
      (scratch + "/srv", 0o755), (scratch + "/srv/mcp", 0o755), (root, 0o755),
      (root + "/store", 0o755), (root + "/manifests", 0o755), (root + "/generations", 0o755),
      (root + "/pins", 0o755), (root + "/blocked", 0o755),
      (root + "/journal.jsonl", 0o644), (root + "/config.json", 0o644),
      (root + "/pins/1", 0o644), (root + "/blocked/" + k11, 0o644),
    ]
    for key in [k10, k11] {
      expected.append((root + "/manifests/" + key, 0o444))
      expected.append((root + "/store/" + key, 0o555))
      expected.append((root + "/store/" + key + "/bin", 0o555))
      expected.append((root + "/store/" + key + "/bin/mcp", 0o555))
      expected.append((root + "/store/" + key + "/share/mcp/VERSION", 0o444))
    }
    for (path, mode) in expected {
      let actual = Self.mode(path)
      #expect(actual == mode, "umask \(mask): \(path) has mode \(actual.map { String($0, radix: 8) } ?? "none"), store-layout.md says \(String(mode, radix: 8))")
    }
    // The lock's mode is section 7's; whatever it is, nobody else may write it.
    #expect(Self.mode(root + "/lock").map { $0 & 0o022 } == 0, "umask \(mask): lock is writable by others")
    #expect(Gen.readlink(root + "/current") == "generations/1")

    let nobody = [Rel.setprivPath!, "--reuid=65534", "--regid=65534", "--clear-groups"]
    let read = try CLI.runProcess(nobody[0], Array(nobody.dropFirst()) + ["/bin/cat", root + "/current/share/mcp/VERSION"], environment: Gen.childEnvironment)
    #expect(read.status == 0 && read.stdoutText == "1.0\n", "umask \(mask): nobody cannot read current/share/mcp/VERSION: \(read.stderrText)")
    let exec = try CLI.runProcess(nobody[0], Array(nobody.dropFirst()) + ["/usr/bin/test", "-r", root + "/current/bin/mcp", "-a", "-x", root + "/current/bin/mcp"], environment: Gen.childEnvironment)
    #expect(exec.status == 0, "umask \(mask): nobody cannot read and run current/bin/mcp: \(exec.stderrText)")
  }
}
