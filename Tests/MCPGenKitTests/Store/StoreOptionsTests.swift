#if canImport(Glibc)
import Glibc
#endif
@testable import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

@Suite("A store's options, given when it is opened")
struct StoreOptionsTests {
  /// A command line that is not UTF-8: the journal keeps its bytes, the lock file shows text.
  static let commandLine = Array("mcp-gen add ".utf8) + [0xFF, 0x41] + Array(" --label x".utf8)

  static func lockFile(_ root: FilePath) throws -> [UInt8] {
    try DirectoryFD.open(root).openFile(StoreLock.name, flags: .readOnly).readAll()
  }

  @Test("the command line given at open is what the journal records, byte for byte, and what the lock file names as text")
  func commandLine() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, _) = try Store.makeTest(in: dir, options: StoreOptions(commandLine: Self.commandLine))
    #expect(store.options.commandLine == Self.commandLine)

    _ = try store.add(TestEnvironment.fixture("mcp-1.0"))
    let added = try #require(try store.readJournal().records.last)
    #expect(added.operation == .add)
    #expect(added.command == Self.commandLine)

    var held: [UInt8] = []
    try store.withLock { () throws(MCPGenError) in
      held = (try? Self.lockFile(store.path)) ?? []
    }
    #expect(String(decoding: held, as: UTF8.self) == "pid \(getpid()): mcp-gen add \u{FFFD}A --label x\n")
    #expect(try Self.lockFile(store.path).isEmpty, "the holder line goes with the lock")
  }

  @Test("the lock timeout given at open bounds the wait; the waiter names the holder by its command line")
  func lockTimeout() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (holder, _) = try Store.makeTest(in: dir, options: StoreOptions(commandLine: Array("mcp-gen switch 3".utf8)))
    let waiter = try Store.open(holder.path, create: false, options: StoreOptions(lockTimeout: 0.2))

    var caught: MCPGenError?
    var waited = 0.0
    try holder.withLock { () throws(MCPGenError) in
      let started = monotonicSeconds()
      do throws(MCPGenError) {
        try waiter.withLock { () throws(MCPGenError) in }
      } catch {
        caught = error
      }
      waited = monotonicSeconds() - started
    }
    let error = try #require(caught, "the waiter got a lock that another store holds")
    #expect(error.code == .lockTimeout)
    #expect(error.message.contains("(pid \(getpid()): mcp-gen switch 3) and did not finish within 0.2 s"), "\(error.message)")
    #expect(waited >= 0.2 && waited < 10, "waited \(waited) s")
  }
}
