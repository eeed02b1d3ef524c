import Foundation
import MCPGenKit
import MCPGenSystem
import Synchronization
import SystemPackage
import Testing

/// `withLock` nests on the thread that holds the lock (a pull adds and switches inside its own
/// lock), and only there: another thread of the same process still waits for it.
@Suite("the root's lock nests on its holder's thread")
struct NestedLockTests {
  @Test("a nested withLock on the holding thread runs at once; another thread times out meanwhile")
  func nestsOnlyOnTheHoldingThread() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let store = try Store.open(dir.at("root"), create: true, options: StoreOptions(lockTimeout: 0))
    let otherThread = Mutex<MCPGenError.Code?>(nil)

    try store.withLock { () throws(MCPGenError) in
      #expect(store.holdsLock)
      try store.withLock { () throws(MCPGenError) in #expect(store.holdsLock) }
      #expect(store.holdsLock, "the outer hold outlives the nested one")
      runOnThreads(2) { k in
        guard k == 1 else { return }
        do throws(MCPGenError) {
          try store.withLock { () throws(MCPGenError) in }
        } catch {
          otherThread.withLock { $0 = error.code }
        }
      }
    }

    #expect(otherThread.withLock { $0 } == .lockTimeout)
    #expect(!store.holdsLock)
    try store.withLock { () throws(MCPGenError) in }  // Released.
  }
}
