#if canImport(Glibc)
import Glibc
#endif
@testable import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

@Suite("gc removes many generation links")
struct GenerationRemovalTests {
  @Test("300 generations, gc --keep 5: exactly the newest five remain, whichever thread removed the rest")
  func manyLinks() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let store = try Store.makeTest(in: dir).0
    let a = try store.add(TestEnvironment.fixture("mcp-1.0")).key
    let b = try store.add(TestEnvironment.fixture("mcp-1.1")).key
    for n in Int64(1)...300 { try store.createGeneration(n, n % 2 == 0 ? a : b) }
    try store.pointCurrent(at: 300)

    let report = try store.collectGarbage(keep: 5, grace: 0)
    #expect(report.removedGenerations == Array(1...295))
    #expect(try store.generations().map(\.number) == Array(296...300))
    #expect(report.removedEntries.isEmpty)
    // Removing them again (a gc that crashed half-way and runs again) finds nothing missing.
    try store.removeGenerationLinks(Array(1...295))
    #expect(try store.generations().map(\.number) == Array(296...300))
  }
}
