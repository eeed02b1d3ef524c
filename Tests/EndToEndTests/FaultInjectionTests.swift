import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// Injected I/O errors (strace `error=`): ENOSPC, EIO, EDQUOT on write and fsync; EACCES and
/// EROFS on open, rename and symlink, at every call of the command. Each must end in a one-line
/// error naming the operation and path and a non-zero exit, or (when the failed call did not
/// matter) success; either way the store audits clean and `current` is unchanged unless the
/// command succeeded.
@Suite("Injected I/O errors", .serialized, .enabled(if: KillPoints.stracePath != nil, "strace is not installed"))
struct FaultInjectionTests {
  static let faults: [(syscall: String, errno: String)] = [
    ("write", "ENOSPC"), ("write", "EIO"), ("write", "EDQUOT"),
    ("fsync", "ENOSPC"), ("fsync", "EIO"), ("fsync", "EDQUOT"), ("syncfs", "EIO"),
    ("openat", "EACCES"), ("openat", "EROFS"), ("openat2", "EACCES"), ("openat2", "EROFS"),
    ("renameat", "EACCES"), ("renameat", "EROFS"), ("renameat2", "EACCES"), ("renameat2", "EROFS"),
    ("symlinkat", "EACCES"), ("symlinkat", "EROFS"),
  ]

  @Test("every call fails once", arguments: KillPoints.Scenario.all.filter { ["add", "switch", "rollback", "gc"].contains($0.name) })
  func inject(_ scenario: KillPoints.Scenario) throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let baseline = scratch.at("baseline")
    _ = try scenario.prepare(baseline, scratch)
    let before = try Self.currentKey(baseline)
    var injected = 0
    var failedCleanly = 0
    for (syscall, errno) in Self.faults {
      try KillPoints.copy(baseline, to: baseline + "-count")
      let calls = try KillPoints.calls(scenario.arguments(baseline + "-count"), syscall)
      KillPoints.wipe(baseline + "-count")
      let total = calls.count
      let first = syscall == "openat" ? KillPoints.loaderOpens : 1
      guard total >= first else { continue }
      for n in first...total {
        let work = scratch.at("work")
        try KillPoints.copy(baseline, to: work)
        let run = try KillPoints.runUnderStrace(scenario.arguments(work), syscall: syscall, when: n, action: "error=\(errno)")
        injected += 1
        let context = "\(scenario) with \(syscall)#\(n) failing \(errno)"
        #expect(!run.killed, "\(context): crashed")
        let store = try Store.open(FilePath(work), create: false)
        let audit = try store.audit()
        #expect(!audit.hasErrors, "\(context): \(audit.problems.map { "\($0.kind) \($0.detail)" })")
        // A failed write of the message itself (to stdout or stderr) leaves nothing to read.
        // strace counts per thread, so the Nth write of the main thread can be the message even
        // when the Nth write overall was not.
        let terminal = syscall == "write"
          && (calls[n - 1].contains("write(1,") || calls[n - 1].contains("write(2,") || run.stderr.isEmpty)
        if !scenario.expectedStatus.contains(run.status) && !terminal {
          failedCleanly += 1
          let lines = run.stderrText.split(separator: "\n")
          #expect(run.status != 0, "\(context)")
          #expect(lines.first?.hasPrefix("error: ") == true && lines.count <= 2, "\(context): \(run.stderrText)")
          #expect(lines.first?.contains("/") == true, "\(context): error names no path: \(run.stderrText)")
          #expect(try Self.currentKey(work) == before, "\(context): current changed although the command failed")
        }
        KillPoints.wipe(work)
      }
    }
    print("faults injected for \(scenario): \(injected), of which \(failedCleanly) failed the command cleanly")
    #expect(failedCleanly > 0)
  }

  static func currentKey(_ root: String) throws -> String? {
    let store = try Store.open(FilePath(root), create: false)
    guard let n = try store.current().number else { return nil }
    return try store.generation(n)?.key?.hex
  }
}
