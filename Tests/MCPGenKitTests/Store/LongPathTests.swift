#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// Paths longer than PATH_MAX (4096) inside a release: every name is fine on its own, only the
/// joined path is too long for one `open`. Built with `mkdirat`/`openat` one level at a time.
@Suite("Releases deeper than PATH_MAX")
struct LongPathTests {
  static let component = [UInt8](repeating: UInt8(ascii: "d"), count: 250)
  static let depth = 20  // 20 × 251 bytes > 4096

  private func makeDeepTree(_ dir: TestDirectory) throws -> FilePath {
    try dir.makeDirectory("tree")
    let top = dir.at("tree")
    var fd = try withCPath(top) { try check(open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC), "open", top) }
    defer { close(fd) }
    let name = Self.component.map { CChar(bitPattern: $0) } + [0]
    for _ in 0..<Self.depth {
      try check(mkdirat(fd, name, 0o755), "mkdirat", top)
      let next = try check(openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC), "openat", top)
      close(fd)
      fd = next
    }
    let file = try check(openat(fd, "deep-file", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755), "openat", top)
    let bytes = Array("at the bottom\n".utf8)
    _ = bytes.withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
    close(file)
    try check(symlinkat("../up", fd, "link"), "symlinkat", top)
    return top
  }

  @Test("hash and add work, and the stored copy re-hashes to the key")
  func deepTree() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let tree = try makeDeepTree(dir)
    let manifest = try Store.hash(tree)

    #expect(manifest.entries.count == 1 + Self.depth + 2)
    let deepest = try #require(manifest.entries.first { $0.kind == .executable })
    #expect(deepest.path.count > 4096)
    #expect(deepest.digest == SHA256.hash(Array("at the bottom\n".utf8)))
    #expect(manifest.entries.contains { $0.kind == .symlink && $0.target == Array("../up".utf8) })

    let (store, _) = try Store.makeTest(in: dir)
    let result = try store.add(tree)
    #expect(result.key == manifest.key)
    #expect(try Store.hash(store.entryPath(result.key)) == manifest)
  }
}
