import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// `audit --repair` quarantines a corrupted entry but keeps the generations that use it (and
/// their pins), marked `!`, until the release is added again (issue 18).
@Suite("audit --repair keeps a generation whose release it quarantined")
struct RepairKeepsGenerationTests {
  @Test("pin 1, corrupt generation 1's entry, repair: 1 stays (pinned, !), audit warns only; add it again: restorable, rollback 1 works")
  func pinnedGenerationSurvivesRepair() throws {
    let r = try GARoot()
    defer { r.remove() }
    let a = try r.release("a", "1.0")
    let b = try r.release("b", "2.0")
    let ka = try r.key(a)
    try r.ok(["switch", a])
    try r.ok(["switch", b])
    try r.ok(["pin", "1"])
    try GARoot.unfreeze(r.entry(ka) + "/share/data.txt")
    try GARoot.sh("printf X | dd of=\"$1\" bs=1 seek=0 count=1 conv=notrunc 2>/dev/null && chmod 444 \"$1\"", r.entry(ka) + "/share/data.txt")

    // The engine's report says it repaired something (the CLI's exit status builds on it).
    let store = try Store.open(FilePath(r.root), create: false)
    let report = try store.repair()
    #expect(report.repaired >= 2, "\(report.repairs)")
    #expect(report.repairs.contains { $0.hasPrefix("quarantined store/\(ka) as quarantine/\(ka)-") }, "\(report.repairs)")
    #expect(report.repairs.contains("kept generation 1, not restorable (!) until the release is added again (mcp-gen add PATH)"), "\(report.repairs)")
    // Nothing left to repair: a second repair changes nothing and says so.
    let again = try store.repair()
    #expect(again.repaired == 0 && again.repairs.isEmpty, "\(again.repairs)")

    // The generation and its pin stay; list marks it `!`.
    #expect(try r.generations() == [1, 2])
    #expect(r.linkTarget("generations/1") == "../store/\(ka)")
    #expect(FileManager.default.fileExists(atPath: r.root + "/pins/1"))
    let rows = try #require(try Gen.json(try r.ok(["list", "--json"])) as? [[String: Any]])
    #expect(rows.map { Gen.int($0["generation"]) } == [1, 2])
    #expect(rows.map { $0["restorable"] as? Bool } == [false, true])
    let list = try r.ok(["list"])
    #expect(list.stdoutText.split(separator: "\n").contains { $0.hasPrefix(" !    1  ") }, "\(list.stdoutText)")
    let show = try r.ok(["show", "1"])
    #expect(show.stdoutText.contains("path:        \(r.root)/store/\(ka) (missing)"), "\(show.stdoutText)")
    #expect(show.stdoutText.contains("pinned:      yes"), "\(show.stdoutText)")
    #expect(show.stdoutText.contains("\nrestorable:  no (!): add its release again, then mcp-gen rollback 1\n"), "\(show.stdoutText)")

    // The audit reports the kept generation as a warning only, with the way back.
    let audit = try GARoot.object(try r.run(["audit", "--json"]))
    let problems = try #require(audit["problems"] as? [[String: Any]])
    #expect(problems.count == 1, "\(problems)")
    #expect(problems.first?["severity"] as? String == "warning")
    #expect(problems.first?["kind"] as? String == "dangling-generation")
    #expect(problems.first?["hint"] as? String == "mcp-gen add \(a)")
    #expect(try r.run(["audit"]).status == 0)

    // Not restorable until added again; the refusal says how.
    let refused = try r.run(["rollback", "1"])
    #expect(refused.status == 1 && Gen.isOneLineError(refused.stderrText), "\(refused.stderrText)")
    #expect(refused.stderrText.contains("generation 1 cannot be restored: its release \(String(ka.prefix(12))) is not in the store"), "\(refused.stderrText)")
    #expect(refused.stderrText.hasSuffix("hint: mcp-gen add \(a)\n"), "\(refused.stderrText)")

    try r.ok(["add", a])
    let restored = try #require(try Gen.json(try r.ok(["list", "--json"])) as? [[String: Any]])
    #expect(restored.map { $0["restorable"] as? Bool } == [true, true])
    #expect(try r.run(["audit"]).stdoutText.hasSuffix("; no problems\n"))
    let back = try r.ok(["rollback", "1"])
    #expect(back.stdoutText.hasPrefix("switched to generation 1 ("), "\(back.stdoutText)")
    #expect(try r.currentGeneration() == 1)
    #expect(try r.ok(["verify"]).status == 0)
  }

  @Test("a release lost again after it was added back is an error again, not the old warning")
  func lostAgainIsAnError() throws {
    let r = try GARoot()
    defer { r.remove() }
    let a = try r.release("a", "1.0")
    let b = try r.release("b", "2.0")
    let ka = try r.key(a)
    try r.ok(["switch", a])
    try r.ok(["switch", b])
    if geteuid() == 0 { try GARoot.sh("chattr -i \"$1\" 2>/dev/null || true", r.entry(ka)) }
    try GARoot.sh("mv \"$1\" \"$2\"", r.entry(ka), r.scratch.at("moved-away-1"))
    #expect(try r.run(["audit", "--repair"]).status == 6)
    #expect(try r.generations() == [1, 2])
    #expect(try r.run(["audit"]).status == 0)
    try r.ok(["add", a])
    if geteuid() == 0 { try GARoot.sh("chattr -i \"$1\" 2>/dev/null || true", r.entry(ka)) }
    try GARoot.sh("mv \"$1\" \"$2\"", r.entry(ka), r.scratch.at("moved-away-2"))
    let audit = try GARoot.object(try r.run(["audit", "--json"]))
    let problems = try #require(audit["problems"] as? [[String: Any]])
    #expect(problems.map { $0["severity"] as? String } == ["error"], "\(problems)")
  }
}
