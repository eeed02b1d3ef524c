import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

@Suite("mcp-gen block, unblock")
struct MarkCommandTests {
  @Test("a blocked release: switch exits 1 with one error line naming --force; --force switches; unblock restores")
  func blockAndUnblock() throws {
    let r = try GARoot()
    defer { r.remove() }
    let a = try r.release("a", "1.0")
    let b = try r.release("b", "2.0")
    let kb = try r.key(b)
    try r.ok(["switch", a])
    try r.ok(["add", b])

    #expect(try r.ok(["block", kb]).stdoutText == "blocked \(kb)\n")
    #expect(try r.ok(["block", String(kb.prefix(12))]).stdoutText == "\(kb) was blocked already\n")
    #expect(r.names("blocked") == [kb])
    let journalBefore = try r.ok(["log", "--json"]).stdoutText

    for target in [kb, String(kb.prefix(8)), b] {
      let refused = try r.run(["switch", target])
      #expect(refused.status == 1, "\(target): \(refused.stderrText)")
      #expect(refused.stdout.isEmpty)
      let errors = refused.stderrLines.filter { $0.hasPrefix("error: ") }
      #expect(errors.count == 1)
      #expect(refused.stderrLines.first == "error: release \(kb.prefix(12)) is blocked as known bad; nothing was changed (pass --force to switch to it anyway)")
      #expect(try r.generations() == [1])
      #expect(try r.currentGeneration() == 1)
    }
    #expect(try r.ok(["log", "--json"]).stdoutText == journalBefore)

    let forced = try r.ok(["switch", "--force", kb])
    #expect(forced.stdoutText.hasPrefix("switched to new generation 2 (\(kb.prefix(12)))"))
    #expect(try r.currentGeneration() == 2)
    try r.ok(["rollback"])
    #expect(try r.currentGeneration() == 1)

    #expect(try r.ok(["unblock", kb]).stdoutText == "unblocked \(kb)\n")
    #expect(try r.ok(["unblock", kb]).stdoutText == "\(kb) was not blocked\n")
    #expect(r.names("blocked") == [])
    let again = try r.ok(["switch", kb])
    #expect(again.stdoutText.hasPrefix("switched to new generation 3 (\(kb.prefix(12))), was generation 1"))

    let ops = try r.ok(["log", "--json"]).stdoutText.split(separator: "\n").compactMap {
      (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["op"] as? String
    }
    #expect(ops == ["switch", "add", "block", "switch", "rollback", "unblock", "switch"])
  }

  @Test("a plain rollback passes over generations of a blocked release; rollback N to one needs --force")
  func rollbackSkipsBlocked() throws {
    let r = try GARoot()
    defer { r.remove() }
    let dirs = try (1...3).map { try r.release("rel\($0)", "\($0).0") }
    let keys = try dirs.map { try r.key($0) }
    for d in dirs { try r.ok(["switch", d]) }
    try r.ok(["block", keys[1]])

    let back = try r.ok(["rollback"])
    #expect(back.stdoutText.hasPrefix("switched to generation 1 (\(keys[0].prefix(12))), was generation 3"))
    #expect(back.stderrText.contains("passed over generations 2 (removed, failed, or current)"))
    #expect(try r.currentGeneration() == 1)
    let log = try r.ok(["log", "--json"]).stdoutText.split(separator: "\n")
    let last = try #require(try JSONSerialization.jsonObject(with: Data(log.last!.utf8)) as? [String: Any])
    #expect(last["op"] as? String == "rollback")
    #expect(last["skipped"] as? [Int] == [2])
    #expect((last["to"] as? NSNumber)?.intValue == 1)

    let refused = try r.run(["rollback", "2"])
    #expect(refused.status == 1)
    #expect(refused.stderrLines.first?.contains("is blocked as known bad") == true)
    #expect(refused.stderrLines.first?.contains("--force") == true)
    #expect(try r.currentGeneration() == 1)

    try r.ok(["rollback", "--force", "2"])
    #expect(try r.currentGeneration() == 2)
  }
}
