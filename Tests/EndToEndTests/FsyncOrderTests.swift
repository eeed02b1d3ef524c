import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// The order of writes and fsyncs store-layout.md sections 4 and 5 promise, read from an
/// `strace -f -y` log of a real `add` and a real `switch` (-y names the file behind every
/// descriptor, so each event is identified by path).
@Suite("fsync order", .enabled(if: KillPoints.stracePath != nil, "strace is not installed"))
struct FsyncOrderTests {
  static let trace = "write,pwrite64,fsync,fdatasync,syncfs,rename,renameat,renameat2,symlinkat,linkat,openat,openat2"

  /// Index of the first call after `after` matching `predicate`; records a failure when none.
  static func first(
    _ calls: [RelCall], after: Int = -1, _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
    _ predicate: (RelCall) -> Bool
  ) -> Int {
    guard let c = calls.first(where: { $0.index > after && predicate($0) }) else {
      Issue.record("no \(what) after event #\(after)", sourceLocation: sourceLocation)
      return Int.max / 2
    }
    return c.index
  }

  static func isTemp(_ path: String?, in dir: String) -> Bool {
    guard let path else { return false }
    return path.hasPrefix(dir + "/.tmp-") && !path.dropFirst(dir.count + 1).contains("/")
  }

  /// A file being written before it has a name: an unnamed `O_TMPFILE` one (`dir/#inode`, as
  /// strace -y shows it) or, where the file system has none, a `.tmp-` one.
  static func isTempFile(_ path: String?, in dir: String) -> Bool {
    guard let path else { return false }
    if isTemp(path, in: dir) { return true }
    let rest = path.dropFirst(dir.count + 2)
    return path.hasPrefix(dir + "/#") && !rest.isEmpty && rest.allSatisfy(\.isNumber)
  }

  /// The call after the rename into `store/` that makes it durable: fsync store/, or, when the
  /// entry is sealed, the syncfs that also makes its immutable flags durable.
  static func storeMadeDurable(
    _ calls: [RelCall], after rename: Int, _ store: String, sealed: Bool, sourceLocation: SourceLocation = #_sourceLocation
  ) -> Int {
    let call = sealed ? "syncfs" : "fsync"
    return first(calls, after: rename, "\(call) of store/", sourceLocation: sourceLocation) { $0.name == call && $0.descriptor(0) == store }
  }

  static func expectIncreasing(_ events: [(String, Int)], _ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
    for (a, b) in zip(events, events.dropFirst()) {
      #expect(a.1 < b.1, "\(context): \(a.0) (#\(a.1)) must come before \(b.0) (#\(b.1))", sourceLocation: sourceLocation)
    }
    print("fsync order \(context): " + events.map { "\($0.0)#\($0.1)" }.joined(separator: " < "))
  }

  @Test("add: file data, syncfs, manifest written + fsync, rename to manifests/<key>, fsync manifests/, renameat2 into store/<key>, fsync store/, journal")
  func addOrder() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let release = CLI.fixture("mcp-1.1")
    let key = try Gen.key(release)
    let (run, calls, _) = try RelStrace.run(["add", "--root", root, release], trace: Self.trace, log: scratch.at("add.log"), outputIn: scratch.path)
    #expect(run.exitCode == 0, "\(run)")
    let store = root + "/store"
    let manifests = root + "/manifests"

    let dataWrites = calls.filter { ($0.name == "write" || $0.name == "pwrite64") && ($0.descriptor(0)?.hasPrefix(store + "/.tmp-") ?? false) }
    let written = dataWrites.compactMap { Int($0.result) }.reduce(0, +)
    let expectedBytes = try ["bin/mcp", "share/mcp/VERSION", "share/mcp/servers.json"].map {
      try FileManager.default.attributesOfItem(atPath: release + "/" + $0)[.size] as? Int ?? 0
    }.reduce(0, +)
    #expect(written == expectedBytes, "bytes written into the temporary copy: \(written), release holds \(expectedBytes)")
    let lastData = dataWrites.map(\.index).max() ?? Int.max / 2

    let syncfs = Self.first(calls, "syncfs of the store's file system") { $0.name == "syncfs" && ($0.descriptor(0)?.hasPrefix(store + "/") ?? false) }
    // Sealed (root, flags supported), a second syncfs after the rename makes the immutable flags
    // durable and takes the place of fsync store/.
    let sealed = try CLI.isImmutable(store + "/" + key)
    #expect(calls.filter { $0.name == "syncfs" }.count == (sealed ? 2 : 1), "one syncfs, two when the entry is sealed")
    let manifestWrite = Self.first(calls, after: syncfs, "write of manifests/.tmp-*") {
      $0.name == "write" && Self.isTempFile($0.descriptor(0), in: manifests)
    }
    let manifestFsync = Self.first(calls, after: manifestWrite, "fsync of manifests/.tmp-*") {
      $0.name == "fsync" && Self.isTempFile($0.descriptor(0), in: manifests)
    }
    // An unnamed manifest gets a name (linkat) only once its data is durable.
    if let unnamed = calls.first(where: { $0.index == manifestWrite })?.descriptor(0), !Self.isTemp(unnamed, in: manifests) {
      let link = Self.first(calls, after: manifestFsync, "linkat of the unnamed manifest") {
        $0.name == "linkat" && Self.isTemp($0.resolvedPaths.last, in: manifests)
      }
      #expect(!calls.contains { $0.name == "linkat" && $0.index < manifestFsync && $0.resolvedPaths.last?.hasPrefix(manifests + "/") == true })
      #expect(link < Int.max / 2)
    }
    let manifestRename = Self.first(calls, after: manifestFsync, "rename to manifests/<key>") {
      ($0.name == "renameat" || $0.name == "renameat2") && $0.descriptor(0) == manifests && $0.resolvedPaths.last == manifests + "/" + key
    }
    let manifestsFsync = Self.first(calls, after: manifestRename, "fsync of manifests/") { $0.name == "fsync" && $0.descriptor(0) == manifests }
    let storeRename = Self.first(calls, after: manifestsFsync, "renameat2 of store/.tmp-* to store/<key>") {
      $0.name == "renameat2" && Self.isTemp($0.resolvedPaths.first, in: store) && $0.resolvedPaths.last == store + "/" + key
        && $0.arguments.contains("RENAME_NOREPLACE")
    }
    let storeFsync = Self.storeMadeDurable(calls, after: storeRename, store, sealed: sealed)
    let journalWrite = Self.first(calls, after: storeFsync, "journal write") { $0.name == "write" && $0.descriptor(0) == root + "/journal.jsonl" }
    let journalFsync = Self.first(calls, after: journalWrite, "journal fsync") { $0.name == "fsync" && $0.descriptor(0) == root + "/journal.jsonl" }

    Self.expectIncreasing([
      ("last data write", lastData), ("syncfs", syncfs), ("manifest write", manifestWrite), ("manifest fsync", manifestFsync),
      ("rename manifests/<key>", manifestRename), ("fsync manifests/", manifestsFsync), ("renameat2 store/<key>", storeRename),
      (sealed ? "syncfs" : "fsync store/", storeFsync), ("journal write", journalWrite), ("journal fsync", journalFsync),
    ], "add")
    // Nothing is written into the copy once it was made durable, and nothing of the entry or its
    // manifest appears under its final name before that.
    #expect(!calls.contains { $0.index > syncfs && ($0.name == "write" || $0.name == "pwrite64") && ($0.descriptor(0)?.hasPrefix(store + "/") ?? false) })
    #expect(!calls.contains { $0.index < manifestRename && $0.resolvedPaths.contains(manifests + "/" + key) && $0.arguments.contains("O_CREAT") })
  }

  @Test("switch: verify, symlinkat generations/N, fsync generations/, symlinkat .tmp-* in the root, renameat over current, fsync root, journal write + fsync")
  func switchOrder() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let k11 = try Gen.add(root, CLI.fixture("mcp-1.1"))
    let (run, calls, _) = try RelStrace.run(["switch", "--root", root, k11], trace: Self.trace, log: scratch.at("switch.log"), outputIn: scratch.path)
    #expect(run.exitCode == 0, "\(run)")
    let generations = root + "/generations"
    let entry = root + "/store/" + k11

    let verifyRead = Self.first(calls, "an open of the entry's files (the verification)") {
      ($0.name == "openat2" || $0.name == "openat") && ($0.resultPath?.hasPrefix(entry + "/") ?? false) && !$0.openFlags.contains("O_DIRECTORY")
    }
    let generationLink = Self.first(calls, "symlinkat generations/2") {
      $0.name == "symlinkat" && $0.resolvedPaths == [generations + "/2"] && $0.fields.first == "\"../store/\(k11)\""
    }
    let generationsFsync = Self.first(calls, after: generationLink, "fsync of generations/") { $0.name == "fsync" && $0.descriptor(0) == generations }
    let tempLink = Self.first(calls, after: generationsFsync, "symlinkat of a .tmp-* link in the root") {
      $0.name == "symlinkat" && Self.isTemp($0.resolvedPaths.first, in: root) && $0.fields.first == "\"generations/2\""
    }
    let swap = Self.first(calls, after: tempLink, "renameat of the .tmp-* link over current") {
      $0.name == "renameat" && Self.isTemp($0.resolvedPaths.first, in: root) && $0.resolvedPaths.last == root + "/current"
    }
    let rootFsync = Self.first(calls, after: swap, "fsync of the root") { $0.name == "fsync" && $0.descriptor(0) == root }
    let journalWrite = Self.first(calls, after: rootFsync, "journal write") { $0.name == "write" && $0.descriptor(0) == root + "/journal.jsonl" }
    let journalFsync = Self.first(calls, after: journalWrite, "journal fsync") { $0.name == "fsync" && $0.descriptor(0) == root + "/journal.jsonl" }

    Self.expectIncreasing([
      ("verify read", verifyRead), ("symlinkat generations/2", generationLink), ("fsync generations/", generationsFsync),
      ("symlinkat .tmp-*", tempLink), ("renameat current", swap), ("fsync root", rootFsync),
      ("journal write", journalWrite), ("journal fsync", journalFsync),
    ], "switch")
    // current is never unlinked or written any other way, and the journal line is the only one.
    #expect(calls.filter { $0.name == "write" && $0.descriptor(0) == root + "/journal.jsonl" }.count == 1)
    #expect(!calls.contains { $0.index < journalWrite && $0.name == "write" && $0.descriptor(0) == root + "/journal.jsonl" && $0.index < swap })
    #expect(Gen.readlink(root + "/current") == "generations/2")
  }

  @Test("switch PATH: the add's order, then the switch's, then one journal line")
  func switchPathOrder() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let release = CLI.fixture("mcp-1.1")
    let key = try Gen.key(release)
    let (run, calls, _) = try RelStrace.run(["switch", "--root", root, release], trace: Self.trace, log: scratch.at("switch-path.log"), outputIn: scratch.path)
    #expect(run.exitCode == 0, "\(run)")
    let store = root + "/store"
    let syncfs = Self.first(calls, "syncfs") { $0.name == "syncfs" }
    let storeRename = Self.first(calls, after: syncfs, "renameat2 into store/<key>") { $0.name == "renameat2" && $0.resolvedPaths.last == store + "/" + key }
    let sealed = try CLI.isImmutable(store + "/" + key)
    let storeFsync = Self.storeMadeDurable(calls, after: storeRename, store, sealed: sealed)
    let generationLink = Self.first(calls, after: storeFsync, "symlinkat generations/2") { $0.name == "symlinkat" && $0.resolvedPaths == [root + "/generations/2"] }
    let swap = Self.first(calls, after: generationLink, "renameat over current") { $0.name == "renameat" && $0.resolvedPaths.last == root + "/current" }
    let rootFsync = Self.first(calls, after: swap, "fsync root") { $0.name == "fsync" && $0.descriptor(0) == root }
    let journalWrite = Self.first(calls, after: rootFsync, "journal write") { $0.name == "write" && $0.descriptor(0) == root + "/journal.jsonl" }
    let journalFsync = Self.first(calls, after: journalWrite, "journal fsync") { $0.name == "fsync" && $0.descriptor(0) == root + "/journal.jsonl" }
    Self.expectIncreasing([
      ("syncfs", syncfs), ("renameat2 store/<key>", storeRename), (sealed ? "syncfs" : "fsync store/", storeFsync),
      ("symlinkat generations/2", generationLink), ("renameat current", swap), ("fsync root", rootFsync),
      ("journal write", journalWrite), ("journal fsync", journalFsync),
    ], "switch PATH")
    #expect(calls.filter { $0.name == "write" && $0.descriptor(0) == root + "/journal.jsonl" }.count == 1, "one journal line for add + switch")
  }
}
