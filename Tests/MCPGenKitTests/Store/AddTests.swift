import Dispatch
#if canImport(Glibc)
import Glibc
#endif
@testable import MCPGenKit
import MCPGenSystem
import Synchronization
import SystemPackage
import Testing

@Suite("Adding releases to the store")
struct AddTests {
  @Test("a tree is stored under its key, read-only, with its manifest", arguments: ["mcp-1.0", "mcp-1.1", "mcp-broken"])
  func storesTree(fixture: String) throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, layout) = try Store.makeTest(in: dir)
    let source = TestEnvironment.fixture(fixture)
    let manifest = try Store.hash(source)

    let result = try store.add(source)

    #expect(result.isNew)
    #expect(result.key == manifest.key)
    #expect(result.key.hex == (try Oracle.key(source)))
    #expect(result.path == dir.at("root/store/\(manifest.key.hex)"))
    #expect(result.path == store.entryPath(result.key))
    #expect(result.files == manifest.fileCount)
    #expect(result.bytes == manifest.byteCount)
    #expect(try layout.storeNames() == [manifest.key.hex])
    #expect(try store.keys() == [manifest.key])
    #expect(try store.contains(manifest.key))

    for entry in manifest.entries {
      let st = try layout.stat(result.key, entry.path)
      let name = String(decoding: entry.path, as: UTF8.self)
      switch entry.kind {
      case .directory:
        #expect(st.st_mode & S_IFMT == S_IFDIR, "\(name)")
        #expect(st.st_mode & 0o7777 == 0o555, "\(name)")
      case .file:
        #expect(st.st_mode & S_IFMT == S_IFREG, "\(name)")
        #expect(st.st_mode & 0o7777 == 0o444, "\(name)")
      case .executable:
        #expect(st.st_mode & S_IFMT == S_IFREG, "\(name)")
        #expect(st.st_mode & 0o7777 == 0o555, "\(name)")
      case .symlink:
        #expect(st.st_mode & S_IFMT == S_IFLNK, "\(name)")
      }
    }
    // The copy, read back from disk, is the release.
    #expect(try Store.hash(store.entryPath(result.key)) == manifest)
    // manifests/<key> holds the manifest bytes, read-only.
    let manifestStat = try TestDirectory.lstat(layout.manifestsDirectory.appending(result.key.hex))
    #expect(manifestStat.st_mode & 0o7777 == 0o444)
    #expect(manifestStat.st_size == manifest.serialized().count)
    #expect(try store.readManifest(result.key) == manifest)
    if TestEnvironment.immutableFlagWorks {
      #expect(result.immutability == .applied)
    } else if !TestEnvironment.isRoot {
      #expect(result.immutability == .notRoot)
    }
  }

  @Test("adding the same release again copies nothing")
  func addAgain() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, layout) = try Store.makeTest(in: dir)
    let source = TestEnvironment.fixture("mcp-1.0")
    let first = try store.add(source)
    let rootBefore = try layout.stat(first.key, [0x2E])
    let fileBefore = try layout.stat(first.key, Array("bin/mcp".utf8))

    let second = try store.add(source)

    #expect(first.isNew)
    #expect(!second.isNew)
    #expect(second.key == first.key)
    #expect(second.path == first.path)
    #expect(second.immutability == nil)
    #expect(try layout.stat(first.key, [0x2E]).st_ino == rootBefore.st_ino)
    #expect(try layout.stat(first.key, Array("bin/mcp".utf8)).st_ino == fileBefore.st_ino)
    #expect(try layout.storeNames() == [first.key.hex])
    #expect(try layout.manifestNames() == [first.key.hex])
  }

  @Test("two releases are two entries")
  func twoReleases() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, layout) = try Store.makeTest(in: dir)
    let a = try store.add(TestEnvironment.fixture("mcp-1.0"))
    let b = try store.add(TestEnvironment.fixture("mcp-1.1"))
    #expect(a.key != b.key)
    #expect(try store.keys() == [a.key, b.key].sorted())
    #expect(try layout.storeNames().sorted() == [a.key.hex, b.key.hex].sorted())
  }

  @Test("setuid, setgid and sticky bits never survive")
  func specialBitsDropped() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, layout) = try Store.makeTest(in: dir)
    try dir.makeDirectory("tree")
    try dir.writeFile("tree/suid", "#!/bin/sh\n", mode: 0o4755)
    try dir.writeFile("tree/sgid", "#!/bin/sh\n", mode: 0o2755)
    try dir.writeFile("tree/sgid-noexec", "data\n", mode: 0o2644)
    try dir.makeDirectory("tree/setgid-dir", mode: 0o2775)
    try dir.makeDirectory("tree/sticky-dir", mode: 0o1777)
    try dir.writeFile("tree/setgid-dir/f", "f\n", mode: 0o666)
    #expect(try dir.lstat("tree/suid").st_mode & 0o7777 == 0o4755)  // the source really has the bit

    let result = try store.add(dir.at("tree"))

    let expected: [(String, mode_t)] = [
      (".", 0o555), ("suid", 0o555), ("sgid", 0o555), ("sgid-noexec", 0o444), ("setgid-dir", 0o555),
      ("sticky-dir", 0o555), ("setgid-dir/f", 0o444),
    ]
    for (name, mode) in expected {
      #expect(try layout.stat(result.key, Array(name.utf8)).st_mode & 0o7777 == mode, "\(name)")
    }
  }

  @Test("a setuid single file is stored 0555")
  func setuidSingleFile() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, layout) = try Store.makeTest(in: dir)
    try dir.writeFile("tool", "#!/bin/sh\n", mode: 0o4755)
    let result = try store.add(dir.at("tool"))
    #expect(try layout.stat(result.key, [0x2E]).st_mode & 0o7777 == 0o555)
  }

  @Test("a single-file release is stored as a regular file at store/<key>", arguments: [(0o755, 0o555), (0o644, 0o444)] as [(mode_t, mode_t)])
  func singleFile(sourceMode: mode_t, storedMode: mode_t) throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, layout) = try Store.makeTest(in: dir)
    let content = try readAll(TestEnvironment.fixture("mcp-single"))
    try dir.writeFile("single", content, mode: sourceMode)

    let result = try store.add(dir.at("single"))

    #expect(result.isNew)
    #expect(result.files == 1)
    #expect(result.bytes == UInt64(content.count))
    #expect(result.key.hex == (try Oracle.key(dir.at("single"))))
    let st = try layout.stat(result.key, [0x2E])
    #expect(st.st_mode & S_IFMT == S_IFREG)
    #expect(st.st_mode & 0o7777 == storedMode)
    #expect(try readAll(result.path) == content)
    #expect(try Store.hash(result.path).key == result.key)
    #expect(try store.readManifest(result.key).isSingleFile)
    #expect(try layout.storeNames() == [result.key.hex])
  }

  @Test("the fixture mcp-single stores and re-hashes to its key")
  func fixtureSingle() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, _) = try Store.makeTest(in: dir)
    let result = try store.add(TestEnvironment.fixture("mcp-single"))
    #expect(result.key.hex == (try Oracle.key(TestEnvironment.fixture("mcp-single"))))
    #expect(try Store.hash(store.entryPath(result.key)).key == result.key)
  }

  @Test("hostile names are stored byte for byte")
  func hostileNames() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, layout) = try Store.makeTest(in: dir)
    try dir.makeDirectory("tree")
    for (i, name) in HostileName.all.enumerated() {
      try dir.writeFile(Array("tree/".utf8) + name.bytes, Array("file \(i)\n".utf8), mode: i % 2 == 0 ? 0o644 : 0o755)
    }
    let hostileDir = Array("tree/".utf8) + [0x64, 0xFE, 0x0A, 0x09]
    try dir.makeDirectory(hostileDir)
    try dir.writeFile(hostileDir + Array("/-x\\".utf8), Array("nested\n".utf8))
    try dir.symlink(Array("tree/link".utf8), to: [0x74, 0xFF, 0x0A])

    let result = try store.add(dir.at("tree"))

    let entry = store.entryPath(result.key)
    #expect(try TestDirectory.list(entry) == TestDirectory.list(dir.at("tree")))
    #expect(try TestDirectory.list(entry.appending(bytes: [0x64, 0xFE, 0x0A, 0x09])) == [Array("-x\\".utf8)])
    #expect(try readLink(entry.appending("link")) == [0x74, 0xFF, 0x0A])
    for (i, name) in HostileName.all.enumerated() {
      #expect(try readAll(entry.appending(bytes: name.bytes)) == Array("file \(i)\n".utf8), "\(name)")
    }
    #expect(try Store.hash(entry).key == result.key)
    #expect(result.key.hex == (try Oracle.key(dir.at("tree"))))
    #expect(try layout.storeNames() == [result.key.hex])
  }

  enum Special: String, CaseIterable, Sendable, CustomStringConvertible {
    case fifo = "a FIFO"
    case socket = "a socket"
    case characterDevice = "a character device"
    var description: String { rawValue }

    /// Character devices need root to make.
    static var available: [Special] { TestEnvironment.isRoot ? allCases : [.fifo, .socket] }
  }

  @Test("FIFOs, sockets and devices are refused and nothing is stored", arguments: Special.available)
  func unsupported(kind: Special) throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, layout) = try Store.makeTest(in: dir)
    try dir.makeDirectory("tree")
    try dir.writeFile("tree/a-file", "x\n")
    try dir.makeDirectory("tree/sub")
    try dir.writeFile("tree/sub/z-file", "z\n")
    switch kind {
    case .fifo: try dir.makeFIFO("tree/sub/special")
    case .socket: try dir.makeSocket("tree/sub/special")
    case .characterDevice: try dir.makeCharacterDevice("tree/sub/special", major: 1, minor: 3)
    }
    let special = dir.at("tree/sub/special")

    let error = try #require(throws: MCPGenError.self) { try store.add(dir.at("tree")) }

    #expect(error.code == .unsupportedFileType)
    #expect(error.path == special)
    #expect(error.message.contains(special.string))
    #expect(error.message.contains(kind.rawValue))
    #expect(!error.message.contains("\n"))
    #expect(try layout.storeNames() == [])
    #expect(try layout.manifestNames() == [])
    #expect(throws: MCPGenError.self) { try Store.hash(dir.at("tree")) }
  }

  @Test("the error for a hostile-named FIFO is still one line, the name escaped")
  func unsupportedHostileName() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, layout) = try Store.makeTest(in: dir)
    try dir.makeDirectory("tree")
    try dir.makeFIFO("tree/p\nq\u{1B}[2J")
    let error = try #require(throws: MCPGenError.self) { try store.add(dir.at("tree")) }
    #expect(error.code == .unsupportedFileType)
    #expect(error.path == dir.at("tree/p\nq\u{1B}[2J"))
    #expect(!error.message.contains("\n"))
    #expect(!error.message.contains("\u{1B}"))
    #expect(error.message.contains("tree/p\\nq\\x1b[2J"))
    #expect(try layout.storeNames() == [])
  }

  @Test("a tree with empty directories, empty files, symlinks and hostile nested names stores and re-hashes")
  func hostileTree() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, _) = try Store.makeTest(in: dir)
    let tree = try makeHostileTree(dir)
    let result = try store.add(tree)
    #expect(result.key.hex == (try Oracle.key(tree)))
    #expect(try Store.hash(result.path) == Store.hash(tree))
    #expect(try TestDirectory.list(result.path.appending("empty-dir")) == [])
    #expect(try readLink(result.path.appending("link-nl")) == Array("target\n".utf8))
    #expect(try store.readManifest(result.key) == Store.hash(tree))
  }

  @Test("a special file given as the release itself is refused")
  func unsupportedTopLevel() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, layout) = try Store.makeTest(in: dir)
    try dir.makeFIFO("fifo")
    let error = try #require(throws: MCPGenError.self) { try store.add(dir.at("fifo")) }
    #expect(error.code == .unsupportedFileType)
    #expect(error.message.contains(dir.at("fifo").string))
    #expect(try layout.storeNames() == [])
  }

  @Test("a missing path is notFound")
  func missing() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, layout) = try Store.makeTest(in: dir)
    let error = try #require(throws: MCPGenError.self) { try store.add(dir.at("no-such-release")) }
    #expect(error.code == .notFound)
    #expect(error.message.contains(dir.at("no-such-release").string))
    #expect(!error.message.contains("\n"))
    #expect(try layout.storeNames() == [])
  }

  @Test("a leftover temporary from a crashed add is ignored")
  func leftoverTemporary() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, layout) = try Store.makeTest(in: dir)
    try dir.makeDirectory("root/store/.tmp-123-abc")
    try dir.writeFile("root/store/.tmp-123-abc/half-copied", "par")
    try dir.writeFile("root/store/.tmp-456-def", "single file half copied")

    let result = try store.add(TestEnvironment.fixture("mcp-1.0"))

    #expect(result.isNew)
    #expect(try store.keys() == [result.key])
    #expect(try layout.storeNames().contains(result.key.hex))
    #expect(try Store.hash(result.path).key == result.key)
  }

  @Test("concurrent adds of one release: one copy wins, the rest copy nothing, no leftovers")
  func concurrentAdds() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (_, layout) = try Store.makeTest(in: dir)
    let root = dir.at("root")
    let outcomes = Mutex<[Result<Bool, MCPGenError>]>([])
    DispatchQueue.concurrentPerform(iterations: 4) { _ in
      let outcome = Result { () throws(MCPGenError) -> Bool in
        try Store.open(root, create: false).add(TestEnvironment.fixture("mcp-1.1")).isNew
      }
      outcomes.withLock { $0.append(outcome) }
    }
    let results = outcomes.withLock { $0 }
    #expect(results.count == 4)
    let news = try results.map { try $0.get() }
    #expect(news.filter { $0 }.count == 1)
    let key = try Store.hash(TestEnvironment.fixture("mcp-1.1")).key
    #expect(try layout.storeNames() == [key.hex])
    #expect(try layout.manifestNames() == [key.hex])
  }
}

@Suite("A release that changes while it is read")
struct SourceChangedTests {
  enum Change: String, CaseIterable, Sendable, CustomStringConvertible {
    case appended, replaced, removed, rewrittenInPlace
    var description: String { rawValue }
  }

  @Test("scan, change a file, hash: sourceChanged", arguments: Change.allCases)
  func changedBetweenScanAndHash(change: Change) throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try dir.makeDirectory("tree")
    try dir.writeFile("tree/a", "aaa\n")
    try dir.writeFile("tree/b", "bbb\n")
    try dir.writeFile("other", "bbb\n")  // same size and content: only identity tells it apart

    let scanned = try TreeScanner.scan(dir.at("tree"))
    switch change {
    case .appended: try dir.append("tree/b", "more\n")
    case .replaced:
      try withCPath(dir.at("other")) { from in
        try withCPath(dir.at("tree/b")) { to in try check(rename(from, to), "rename", dir.at("tree/b")) }
      }
    case .removed: try withCPath(dir.at("tree/b")) { try check(unlink($0), "unlink", dir.at("tree/b")) }
    case .rewrittenInPlace: try dir.overwrite("tree/b", "BBB\n")  // same inode, same size
    }

    let error = try #require(throws: MCPGenError.self) { try ReleaseHasher.manifest(of: scanned) }
    #expect(error.code == .sourceChanged)
    #expect(error.message.contains(dir.at("tree/b").string))
    #expect(!error.message.contains("\n"))
  }

  @Test("a file rewritten in place (same size) between scan and add: sourceChanged, nothing stored")
  func rewrittenBeforeAdd() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try dir.makeDirectory("tree")
    try dir.writeFile("tree/a", "aaa\n")
    let store = try Store.open(dir.at("root"), create: true)
    let scanned = try TreeScanner.scan(dir.at("tree"))
    try dir.overwrite("tree/a", "AAA\n")
    // A store with no manifest of this length: add copies without hashing first, so only the
    // change time can tell that the bytes it reads are not the ones scanned.
    #expect(try store.mayHold(scanned) == false)
    let error = try #require(throws: MCPGenError.self) { try store.add(scanned: scanned) }
    #expect(error.code == .sourceChanged)
    #expect(try TestDirectory.list(dir.at("root/store")).isEmpty)
  }

  /// `add` hashes a release before copying it when the store may hold it already; each copied
  /// file's digest must then be the one hashed. A file whose bytes changed in between (the
  /// expected digest no longer matches) must stop the copy, whatever its change time says.
  @Test("the copy with a wrong expected digest for one file: sourceChanged naming it, nothing stored",
        arguments: ["mcp-1.0", "mcp-single"])
  func copyWithWrongDigest(fixture: String) throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let (store, layout) = try Store.makeTest(in: dir)
    let source = TestEnvironment.fixture(fixture)
    let scanned = try TreeScanner.scan(source)
    let hashed = try ReleaseHasher.manifest(of: scanned)
    var entries = hashed.entries
    let file = try #require(scanned.fileIndices.first)
    entries[file].digest = Digest(bytes: [UInt8](repeating: 0, count: 32))
    let temp = Store.temporaryName()

    let error = try #require(throws: MCPGenError.self) {
      try store.copy(scanned, Manifest(sorted: entries), to: temp, Immutability())
    }
    #expect(error.code == .sourceChanged)
    let named = entries[file].path == ManifestEntry.rootPath ? source : source.appending(bytes: entries[file].path)
    #expect(error.message.contains("\(named.string) changed while mcp-gen was reading it; nothing was stored"), "\(error.message)")
    // Nothing is stored: no entry, no manifest; only the temporary copy, which add removes.
    #expect(try store.keys().isEmpty)
    #expect(try !store.contains(hashed.key))
    #expect(try layout.manifestNames().isEmpty)
    #expect(try layout.storeNames() == [String(decoding: temp, as: UTF8.self)])
  }

  @Test("manifestLength, known from the scan alone, is the serialized manifest's length")
  func manifestLength() throws {
    for name in ["mcp-1.0", "mcp-1.1", "mcp-single"] {
      let scanned = try TreeScanner.scan(TestEnvironment.fixture(name))
      #expect(scanned.manifestLength == (try ReleaseHasher.manifest(of: scanned)).serialized().count, "\(name)")
    }
  }

  @Test("a single file that grows between scan and hash: sourceChanged")
  func singleFileGrows() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try dir.writeFile("single", "v1\n")
    let scanned = try TreeScanner.scan(dir.at("single"))
    try dir.append("single", "v2\n")
    let error = try #require(throws: MCPGenError.self) { try ReleaseHasher.manifest(of: scanned) }
    #expect(error.code == .sourceChanged)
  }

  @Test("unchanged: scan then hash gives the same manifest as Store.hash (control)")
  func unchanged() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try dir.makeDirectory("tree")
    try dir.writeFile("tree/a", "aaa\n")
    let scanned = try TreeScanner.scan(dir.at("tree"))
    #expect(try ReleaseHasher.manifest(of: scanned) == Store.hash(dir.at("tree")))
  }
}

/// The whole content of the file at `path`.
func readAll(_ path: FilePath) throws -> [UInt8] {
  let fd = try withCPath(path) { try check(open($0, O_RDONLY | O_CLOEXEC), "open", path) }
  defer { close(fd) }
  var out: [UInt8] = []
  var buffer = [UInt8](repeating: 0, count: 65536)
  while true {
    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    if n < 0 { throw TestFailure("read \(path): \(String(cString: strerror(errno)))") }
    if n == 0 { return out }
    out += buffer[0..<n]
  }
}

/// The target bytes of the symlink at `path`.
func readLink(_ path: FilePath) throws -> [UInt8] {
  var buffer = [CChar](repeating: 0, count: 4096)
  let n = withCPath(path) { readlink($0, &buffer, buffer.count) }
  if n < 0 { throw TestFailure("readlink \(path): \(String(cString: strerror(errno)))") }
  return buffer[0..<n].map { UInt8(bitPattern: $0) }
}
