#if canImport(Glibc)
import Glibc
#endif
@testable import MCPGenSystem
import SystemPackage
import Testing

@Suite("TemporaryFile: unnamed until linked, replaced atomically, no leftovers")
struct TemporaryFileTests {
  static func names(_ dir: TestDirectory) throws -> [String] {
    try DirectoryFD.open(dir.path).list().map { String(decoding: $0, as: UTF8.self) }.sorted()
  }

  static func temporaryName() -> [UInt8] {
    Array(".tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))".utf8)
  }

  static func make(_ dir: DirectoryFD, unnamed: Bool) throws -> TemporaryFile {
    try TemporaryFile(in: dir, mode: 0o640, temporaryName: temporaryName, unnamed: unnamed)
  }

  @Test("an unnamed file has no name in its directory until it is linked, then exactly its mode and bytes", arguments: [true, false])
  func linkNew(unnamed: Bool) throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let d = try DirectoryFD.open(dir.path)
    let temp = try Self.make(d, unnamed: unnamed)
    #expect(temp.isUnnamed == unnamed)
    try temp.file.writeAll(Array("hello".utf8))
    try temp.file.sync()
    let before = try Self.names(dir)
    #expect(before.count == (unnamed ? 0 : 1), "before the link: \(before)")
    try temp.link(as: Array("final".utf8), replacing: false)
    #expect(try Self.names(dir) == ["final"])
    let st = try d.stat(Array("final".utf8))
    #expect(st.permissions.rawValue == 0o640)
    #expect(try d.openFile(Array("final".utf8), flags: .readOnly).readAll() == Array("hello".utf8))
  }

  @Test("without replacing, an existing name is left alone (EEXIST) and nothing else stays", arguments: [true, false])
  func noReplace(unnamed: Bool) throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try dir.writeFile("final", Array("old".utf8))
    let d = try DirectoryFD.open(dir.path)
    do {
      let temp = try Self.make(d, unnamed: unnamed)
      try temp.file.writeAll(Array("new".utf8))
      #expect(throws: SystemCallError.self) { try temp.link(as: Array("final".utf8), replacing: false) }
    }
    #expect(try Self.names(dir) == ["final"])
    #expect(try d.openFile(Array("final".utf8), flags: .readOnly).readAll() == Array("old".utf8))
  }

  @Test("replacing puts the new bytes under the name, and no temporary name is left", arguments: [true, false])
  func replace(unnamed: Bool) throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try dir.writeFile("final", Array("old".utf8))
    let d = try DirectoryFD.open(dir.path)
    let temp = try Self.make(d, unnamed: unnamed)
    try temp.file.writeAll(Array("new bytes".utf8))
    try temp.file.sync()
    try temp.link(as: Array("final".utf8), replacing: true)
    #expect(try Self.names(dir) == ["final"])
    #expect(try d.openFile(Array("final".utf8), flags: .readOnly).readAll() == Array("new bytes".utf8))
  }

  @Test("a file dropped before its link leaves nothing behind", arguments: [true, false])
  func dropped(unnamed: Bool) throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let d = try DirectoryFD.open(dir.path)
    do {
      let temp = try Self.make(d, unnamed: unnamed)
      try temp.file.writeAll(Array("never named".utf8))
    }
    #expect(try Self.names(dir) == [])
  }

  @Test("write: whole file, atomically replaced, mode exact")
  func writeWhole() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let d = try DirectoryFD.open(dir.path)
    try TemporaryFile.write(Array("one".utf8), mode: 0o444, in: d, as: Array("m".utf8), replacing: true, temporaryName: Self.temporaryName)
    try TemporaryFile.write(Array("two".utf8), mode: 0o444, in: d, as: Array("m".utf8), replacing: true, temporaryName: Self.temporaryName)
    #expect(try Self.names(dir) == ["m"])
    #expect(try d.stat(Array("m".utf8)).permissions.rawValue == 0o444)
    #expect(try d.openFile(Array("m".utf8), flags: .readOnly).readAll() == Array("two".utf8))
  }
}
