#if canImport(Glibc)
import Glibc
#endif
@testable import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

@Suite("Hashing through a mapping")
struct MappedDigestTests {
  static func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
  }

  /// Below the size from which files are mapped, at it, and over several mapped parts.
  @Test("gives the digest and size that reading gives", arguments: [(1 << 20) - 1, 1 << 20, (9 << 20) + 4097])
  func sameAsReading(size: Int) throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let content = MappedDigestTests.randomBytes(size)
    try dir.writeFile("f", content)
    let file = try DirectoryFD.open(dir.path).openFile(Array("f".utf8), flags: .readOnly)
    let worker = FileWorker()
    let (digest, read) = try worker.digest(file, size: UInt64(size))
    #expect(digest == SHA256.hash(content))
    #expect(read == UInt64(size))
  }

  /// Reading past the end of a mapped file raises SIGBUS, which would kill an audit. The
  /// guarded hash returns instead, and the file is read: the count comes out short of the
  /// expected size, which callers report as a changed size.
  @Test("a file shorter than expected is reported short, not fatal")
  func truncatedBeforeTheRead() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try dir.writeFile("f", MappedDigestTests.randomBytes(3 << 20))
    let root = try DirectoryFD.open(dir.path)
    let file = try root.openFile(Array("f".utf8), flags: .readOnly)
    let writer = try root.openFile(Array("f".utf8), flags: .writeOnly)
    #expect(ftruncate(writer.fd, (1 << 20) + 100) == 0)
    let worker = FileWorker()
    let (_, read) = try worker.digest(file, size: 3 << 20)
    #expect(read == (1 << 20) + 100)  // the fault sent it to reading, which finds the new end
    // The hasher is usable again, and the process still takes a fault-free mapped hash.
    let again = MappedDigestTests.randomBytes(2 << 20)
    try dir.writeFile("g", again)
    #expect(try worker.digest(try root.openFile(Array("g".utf8), flags: .readOnly), size: 2 << 20).0 == SHA256.hash(again))
  }

  @Test("a file cut short while mapped stops the hash where it faults")
  func truncatedWhileMapped() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let size = 2 << 20
    try dir.writeFile("f", MappedDigestTests.randomBytes(size))
    let root = try DirectoryFD.open(dir.path)
    let file = try root.openFile(Array("f".utf8), flags: .readOnly)
    let base = try #require(mmap(nil, size, PROT_READ, MAP_SHARED, file.fd, 0))
    defer { munmap(base, size) }
    let writer = try root.openFile(Array("f".utf8), flags: .writeOnly)
    #expect(ftruncate(writer.fd, 0) == 0)
    let sha = SHA256()
    #expect(!sha.updateMapped(UnsafeRawBufferPointer(start: base, count: size)))
    sha.update(Array("abc".utf8))
    #expect(sha.finish() == SHA256.hash(Array("abc".utf8)))
  }

  /// The sink fails on the second 1 MiB chunk, after the first one was hashed; `bounded` is the
  /// reading of `StreamHasher` (`digest(limit:)`), else audit's (`digest(size:)`).
  @Test("a file that fails half-way leaves the worker's hasher clean for the next file", arguments: [false, true])
  func failureThenReuse(bounded: Bool) throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let content = MappedDigestTests.randomBytes(3 << 20)
    try dir.writeFile("f", content)
    let file = try DirectoryFD.open(dir.path).openFile(Array("f".utf8), flags: .readOnly)
    let worker = FileWorker()
    var chunks = 0
    let failingSink = { (_: UnsafeRawBufferPointer) throws(SystemCallError) in
      chunks += 1
      if chunks == 2 { throw SystemCallError("write", path: "sink", errno: .ioError) }
    }
    #expect(throws: SystemCallError.self) {
      if bounded {
        _ = try worker.digest(file, limit: UInt64(content.count), sink: failingSink)
      } else {
        _ = try worker.digest(file, size: UInt64(content.count), sink: failingSink)
      }
    }
    #expect(chunks == 2)
    let again = bounded ? try worker.digest(file, limit: UInt64(content.count)).digest : try worker.digest(file).0
    #expect(again == SHA256.hash(content))
  }
}
