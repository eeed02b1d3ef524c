import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Each bad input: a one-line error (`error: ...`, at most one `hint: ...` line after it), the
/// documented non-zero exit status, nothing on stdout, and the root exactly as it was.
@Suite("bad input to switch and rollback: one-line error, non-zero exit, nothing changed")
struct BadInputTests {
  enum Case: String, CaseIterable, Sendable, CustomStringConvertible {
    case unknownKey = "unknown full key"
    case unknownPrefix = "unknown key prefix"
    case ambiguousPrefix = "ambiguous prefix"
    case shortPrefix = "prefix shorter than 8"
    case shortExpect = "--expect prefix shorter than 8"
    case rollbackNothingToUndo = "rollback with no older generation"
    case rollbackMissingN = "rollback to a missing N"
    case rollbackZero = "rollback 0"
    case rollbackNonNumeric = "rollback to a non-numeric N"
    case rollbackLeadingZero = "rollback 01"
    case rollbackOverflow = "rollback to an N beyond 2^63"
    case rootIsFile = "root that is a file"
    case rootMissing = "rollback in a root that does not exist"
    case pathMissing = "a release path that does not exist"
    case expectMismatch = "--expect mismatch"
    case corruptedTarget = "a corrupted target entry"
    case corruptedRollbackTarget = "rollback N to a corrupted generation"

    var description: String { rawValue }

    var expectedStatus: Int32 {
      switch self {
      case .corruptedTarget, .corruptedRollbackTarget: return 2
      case .rollbackNonNumeric, .rollbackZero, .rollbackLeadingZero, .rollbackOverflow: return 64
      default: return 1
      }
    }

    var isUsageError: Bool { expectedStatus == 64 }
  }

  @Test("bad input", arguments: Case.allCases)
  func badInput(_ c: Case) throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    var root = scratch.at("root")
    let k10 = try Gen.key(CLI.fixture("mcp-1.0"))
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let k11 = try Gen.add(root, CLI.fixture("mcp-1.1"))
    var watched = root
    var arguments: [String]
    var mentions: String
    switch c {
    case .unknownKey:
      let missing = String(repeating: "0123456789abcdef", count: 4)
      arguments = ["switch", missing]
      mentions = "no store entry \(missing)"
    case .unknownPrefix:
      arguments = ["switch", "deadbeef"]
      mentions = "deadbeef"
    case .ambiguousPrefix:
      // Two entries whose keys share their first 8 (indeed 9) hex digits.
      for tail in ["1", "2"] {
        try FileManager.default.createDirectory(atPath: root + "/store/abcdef011" + String(repeating: tail, count: 55), withIntermediateDirectories: false)
      }
      arguments = ["switch", "abcdef01"]
      mentions = "abcdef01 matches 2 store entries"
    case .shortPrefix:
      arguments = ["switch", String(k11.prefix(7))]
      mentions = "at least 8"
    case .shortExpect:
      arguments = ["switch", "--expect", String(k10.prefix(4)), k11]
      mentions = "at least 8"
    case .rollbackNothingToUndo:
      arguments = ["rollback"]
      mentions = "nothing to roll back to"
    case .rollbackMissingN:
      arguments = ["rollback", "99"]
      mentions = "no generation 99"
    case .rollbackZero:
      arguments = ["rollback", "0"]
      mentions = "'0'"
    case .rollbackNonNumeric:
      arguments = ["rollback", "x1"]
      mentions = "'x1'"
    case .rollbackLeadingZero:
      arguments = ["rollback", "01"]
      mentions = "'01'"
    case .rollbackOverflow:
      arguments = ["rollback", "9223372036854775808"]
      mentions = "'9223372036854775808'"
    case .rootIsFile:
      root = scratch.at("file")
      try Gen.write(root, "not a root\n")
      watched = root
      arguments = ["switch", k11]
      mentions = "is not a directory"
    case .rootMissing:
      root = scratch.at("no-such-root")
      watched = scratch.path
      arguments = ["rollback"]
      mentions = "no store at \(root)"
    case .pathMissing:
      arguments = ["switch", scratch.at("no-such-release")]
      mentions = scratch.at("no-such-release")
    case .expectMismatch:
      arguments = ["switch", "--expect", k11, k11]
      mentions = "as --expect requires"
    case .corruptedTarget:
      try corrupt(root + "/store/\(k11)/share/mcp/VERSION", scratch)
      arguments = ["switch", k11]
      mentions = "is corrupted"
    case .corruptedRollbackTarget:
      try Gen.ok(root, "switch", [k11])
      try corrupt(root + "/store/\(k10)/bin/mcp", scratch)
      arguments = ["rollback", "1"]
      mentions = "generation 1 \(k10.prefix(12)) is corrupted"
    }
    let currentBefore = Gen.readlink(root + "/current")
    let before = Gen.snapshot(watched)

    let out = try CLI.run([arguments[0], "--root", root] + arguments.dropFirst())

    #expect(out.status == c.expectedStatus, "\(out.stderrText)")
    #expect(out.stdout.isEmpty, "\(out.stdoutText)")
    #expect(out.stderrText.contains(mentions), "\(out.stderrText)")
    #expect(Gen.isOneLineError(out.stderrText), "\(out.stderrText)")
    #expect(Gen.readlink(root + "/current") == currentBefore)
    #expect(Gen.snapshot(watched) == before)
  }

  /// Changes one byte of a stored file (same size, same mode), clearing and restoring its
  /// immutable flag.
  private func corrupt(_ path: String, _ scratch: Scratch) throws {
    let immutable = geteuid() == 0
    if immutable { _ = try CLI.runProcess("/usr/bin/chattr", ["-f", "-i", path], environment: nil) }
    let fd = open(path, O_WRONLY)
    guard fd >= 0 else { throw E2EFailure("open \(path): \(String(cString: strerror(errno)))") }
    var byte: UInt8 = 0x7E  // "~": no stored file here starts with it.
    #expect(pwrite(fd, &byte, 1, 0) == 1)
    close(fd)
    if immutable { _ = try CLI.runProcess("/usr/bin/chattr", ["-f", "+i", path], environment: nil) }
  }

  @Test("a root on a read-only mount: switch and rollback fail with one line and change nothing")
  func readOnlyMount() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let mountPoint = scratch.at("ro")
    try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
    guard geteuid() == 0,
      let mounted = try? CLI.runProcess("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", mountPoint], environment: nil),
      mounted.status == 0
    else {
      print("skipped: a root on a read-only mount (mounting a tmpfs is not permitted here)")
      return
    }
    defer {
      let u = try? CLI.runProcess("/usr/bin/umount", [mountPoint], environment: nil)
      if u?.status != 0 { _ = try? CLI.runProcess("/usr/bin/umount", ["-l", mountPoint], environment: nil) }
    }
    let root = mountPoint + "/root"
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let k11 = try Gen.add(root, CLI.fixture("mcp-1.1"))
    try Gen.ok(root, "switch", [k11])
    let remount = try CLI.runProcess("/usr/bin/mount", ["-o", "remount,ro", mountPoint], environment: nil)
    try #require(remount.status == 0, "remount,ro: \(remount.stderrText)")
    let before = Gen.snapshot(root)

    for arguments in [["switch", CLI.fixture("mcp-1.0")], ["switch", k11], ["switch", CLI.fixture("mcp-broken")], ["rollback"], ["rollback", "1"]] {
      let out = try CLI.run([arguments[0], "--root", root] + arguments.dropFirst())
      #expect(out.status == 1, "\(arguments): \(out.stderrText)")
      #expect(out.stdout.isEmpty, "\(arguments): \(out.stdoutText)")
      #expect(Gen.isOneLineError(out.stderrText), "\(arguments): \(out.stderrText)")
      #expect(out.stderrText.contains("Read-only file system"), "\(arguments): \(out.stderrText)")
      #expect(Gen.snapshot(root) == before, "\(arguments)")
    }
    // Readers still work.
    let status = try Gen.ok(root, "status", ["--json"])
    #expect(Gen.int((try Gen.json(status) as? [String: Any])?["generation"]) == 2)
  }
}
