#if canImport(Glibc)
import Glibc
#endif
@testable import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

@Suite("Progress counters")
struct ProgressCountersTests {
  /// `files` files of `size` bytes each under `name/` (in two directories).
  static func tree(_ dir: TestDirectory, _ name: String, files: Int, size: Int) throws -> FilePath {
    try dir.makeDirectory(name)
    try dir.makeDirectory(name + "/a")
    try dir.makeDirectory(name + "/b")
    for i in 0..<files {
      try dir.writeFile("\(name)/\(i % 2 == 0 ? "a" : "b")/f\(i)", [UInt8](repeating: UInt8(i & 0xFF), count: size + i))
    }
    return dir.at(name)
  }

  @Test("hash counts every file and byte once, with final totals: one thread, many threads, a single file",
        arguments: [(3, 1000), (24, 512 << 10), (1, 6 << 20)])
  func hashCounts(files: Int, size: Int) throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let source = files == 1 ? dir.at("one") : try Self.tree(dir, "tree", files: files, size: size)
    if files == 1 { try dir.writeFile("one", [UInt8](repeating: 7, count: size)) }
    let counters = ProgressCounters()
    let manifest = try Store.hash(source, progress: counters)
    let s = counters.snapshot()
    #expect(!s.isActive, "the phase ends with the hash")
    #expect(s.step == 1)
    #expect(s.totalsFinal)
    #expect(s.files == manifest.fileCount && s.totalFiles == manifest.fileCount)
    #expect(s.bytes == manifest.byteCount && s.totalBytes == manifest.byteCount)
  }

  @Test("add counts its copy; audit counts every stored entry against totals from the manifests")
  func addAndAudit() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let counters = ProgressCounters()
    let (store, _) = try Store.makeTest(in: dir, options: StoreOptions(progress: counters))
    let first = try store.add(try Self.tree(dir, "one", files: 10, size: 700 << 10))
    var s = counters.snapshot()
    #expect(s.phase == "" && s.files == first.files && s.bytes == first.bytes && s.totalBytes == first.bytes)

    let second = try store.add(try Self.tree(dir, "two", files: 5, size: 3000))
    let report = try store.audit()
    #expect(report.problems.isEmpty)
    s = counters.snapshot()
    #expect(s.totalFiles == first.files + second.files && s.files == s.totalFiles)
    #expect(s.totalBytes == first.bytes + second.bytes && s.bytes == s.totalBytes)
  }

  @Test("a phase begun inside another counts into the outer one; found is ignored once totals are final")
  func nesting() {
    let counters = ProgressCounters()
    #expect(counters.begin("auditing", files: 2, bytes: 10))
    #expect(!counters.begin("verifying", files: 1, bytes: 5))
    counters.found(bytes: 99)
    counters.add(bytes: 4)
    counters.add(files: 1)
    var s = counters.snapshot()
    #expect(s.phase == "auditing" && s.totalFiles == 2 && s.totalBytes == 10 && s.files == 1 && s.bytes == 4)
    counters.end()
    #expect(counters.begin("hashing"))
    counters.found(bytes: 3)
    counters.found(bytes: 4)
    s = counters.snapshot()
    #expect(!s.totalsFinal && s.totalFiles == 2 && s.totalBytes == 7 && s.files == 0 && s.step == 2)
    counters.foundAll()
    counters.found(bytes: 100)
    #expect(counters.snapshot().totalBytes == 7)
  }
}
