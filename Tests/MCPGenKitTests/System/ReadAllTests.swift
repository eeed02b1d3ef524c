#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

@Suite("Reading a whole file")
struct ReadAllTests {
  /// Sizes around the points where reading changes: empty, one byte, a page, the size from
  /// which the buffer's pages are mapped in at once, and a few megabytes ending mid-page.
  @Test("returns exactly the file's bytes", arguments: [0, 1, 4095, 4096, 4097, 64 * 4096, 64 * 4096 + 1, 3 << 20 | 1234])
  func exactBytes(size: Int) throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    var generator = SystemRandomNumberGenerator()
    let content = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
    try dir.writeFile("f", content)
    let file = try DirectoryFD.open(dir.path).openFile(Array("f".utf8), flags: .readOnly)
    #expect(try file.readAll() == content)
  }

  /// `/proc` files report size 0; a process's `smaps` holds a block of lines per mapping, far
  /// more than the first buffer (the reported size plus a page): the read has to grow.
  @Test("a file longer than its reported size is read to its end")
  func longerThanReported() throws {
    let file = try DirectoryFD.open(FilePath("/proc/self")).openFile(Array("smaps".utf8), flags: .readOnly)
    #expect(try file.stat().size == 0)
    let bytes = try file.readAll()
    #expect(bytes.count > 4096)
    #expect(bytes.last == 0x0A)
    // Each mapping's block ends with its VmFlags line: the last one is there, whole.
    let lastLine = bytes.dropLast().split(separator: 0x0A).last.map(Array.init) ?? []
    #expect(lastLine.starts(with: Array("VmFlags:".utf8)))
  }
}
