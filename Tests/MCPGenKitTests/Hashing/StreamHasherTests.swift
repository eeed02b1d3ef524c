import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// `StreamHasher`: the engine's reader with a bound, as a pull uses it for what it downloaded,
/// resumed or copies.
@Suite("Hashing a file with a bound")
struct StreamHasherTests {
  func open(_ dir: TestDirectory, _ name: String) throws -> FileFD {
    try DirectoryFD.open(dir.path).openFile(Array(name.utf8), flags: .readOnly)
  }

  /// Read, mapped (from 1 MiB), and over several mapped parts.
  @Test("a file of exactly the limit: its digest and size, no overflow", arguments: [0, 1, 4096, (1 << 20) - 1, 1 << 20, (9 << 20) + 4097])
  func exactly(size: Int) throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let content = MappedDigestTests.randomBytes(size)
    try dir.writeFile("f", content)
    let outcome = try StreamHasher().run(try open(dir, "f"), limit: UInt64(size))
    #expect(outcome.digest == SHA256.hash(content) && outcome.size == UInt64(size) && !outcome.overflow)
  }

  @Test("one byte more than the limit is an overflow; fewer bytes are a short size", arguments: [100, (2 << 20) + 5])
  func overAndUnder(size: Int) throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let content = MappedDigestTests.randomBytes(size)
    try dir.writeFile("f", content)
    let hasher = StreamHasher()
    let over = try hasher.run(try open(dir, "f"), limit: UInt64(size - 1))
    #expect(over.overflow)
    #expect(over.size == UInt64(size))  // never more than limit + 1 read
    let under = try hasher.run(try open(dir, "f"), limit: UInt64(size + 1))
    #expect(under.digest == SHA256.hash(content) && under.size == UInt64(size) && !under.overflow)
  }

  @Test("one hasher serves file after file, an overflow between them")
  func reused() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let a = MappedDigestTests.randomBytes(3 << 20)
    let b = MappedDigestTests.randomBytes(70_000)
    try dir.writeFile("a", a)
    try dir.writeFile("b", b)
    let hasher = StreamHasher()
    #expect(try hasher.run(try open(dir, "a"), limit: 1000).overflow)
    #expect(try hasher.run(try open(dir, "b"), limit: 70_000).digest == SHA256.hash(b))
    #expect(try hasher.run(try open(dir, "a"), limit: 3 << 20).digest == SHA256.hash(a))
  }

  @Test("with a destination, the bytes are copied as they are hashed, and counted")
  func copies() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let content = MappedDigestTests.randomBytes((1 << 20) + 3)
    try dir.writeFile("f", content)
    let root = try DirectoryFD.open(dir.path)
    let copy = try root.openFile(Array("copy".utf8), flags: [.writeOnly, .create, .exclusive], mode: 0o600)
    let progress = ProgressCounters()
    let outcome = try StreamHasher().run(try open(dir, "f"), limit: UInt64(content.count), into: copy, progress: progress)
    #expect(outcome.digest == SHA256.hash(content))
    #expect(try root.openFile(Array("copy".utf8), flags: .readOnly).readAll() == content)
    #expect(progress.snapshot().bytes == UInt64(content.count))
  }
}
