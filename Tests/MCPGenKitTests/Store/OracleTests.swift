import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// `Tests/oracle/store-key.sh` re-implements store-layout.md section 2 with bash and coreutils;
/// if it and the engine ever disagree, the document and the code have drifted apart.
@Suite("The coreutils oracle agrees with the engine")
struct OracleTests {
  @Test("every fixture: same key, same manifest bytes", arguments: TestEnvironment.fixtureNames)
  func fixture(name: String) throws {
    let path = TestEnvironment.fixture(name)
    let manifest = try Store.hash(path)
    #expect(try Oracle.key(path) == manifest.key.hex)
    #expect(try Oracle.manifest(path) == manifest.serialized())
  }

  @Test("a hostile tree: same key, same manifest bytes")
  func hostileTree() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let tree = try makeHostileTree(dir)
    let manifest = try Store.hash(tree)
    let oracleBytes = try Oracle.manifest(tree)
    #expect(oracleBytes == manifest.serialized())
    #expect(try Oracle.key(tree) == manifest.key.hex)
    #expect(try Manifest(parsing: oracleBytes) == manifest)
    // The tree really has what it claims to (so the comparison covers every kind).
    let kinds = Set(manifest.entries.map(\.kind))
    #expect(kinds == [.directory, .file, .executable, .symlink])
    #expect(manifest.entries.contains { $0.kind == .symlink && $0.target.last == 0x0A })
    #expect(manifest.entries.contains { $0.kind == .file && $0.size == 0 })
    #expect(manifest.entries.count == 9 + 2 * HostileName.all.count)
  }

  @Test("a single file with a hostile name")
  func hostileSingleFile() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try dir.writeFile([0x2D, 0x0A, 0xFF], Array("x".utf8), mode: 0o700)
    // Process takes String arguments, so the oracle is given an ASCII-named symlink to it.
    try dir.symlink(Array("release".utf8), to: [0x2D, 0x0A, 0xFF])
    let byName = try Store.hash(dir.at(bytes: [0x2D, 0x0A, 0xFF]))
    #expect(try Oracle.key(dir.at("release")) == byName.key.hex)
    #expect(try Oracle.manifest(dir.at("release")) == byName.serialized())
  }
}

/// Names with newline, tab, backslash, invalid UTF-8, a leading dash, 255 bytes and spaces, at
/// the top and nested; symlinks (one whose target ends in a newline), an empty directory, an
/// empty file, an executable; and names that sort differently as bytes than as a tree walk.
func makeHostileTree(_ dir: TestDirectory) throws -> FilePath {
  try dir.makeDirectory("tree")
  try dir.makeDirectory("tree/nested")
  for (i, name) in HostileName.all.enumerated() {
    try dir.writeFile(Array("tree/".utf8) + name.bytes, Array("top \(i)\n".utf8), mode: i % 3 == 0 ? 0o755 : 0o644)
    try dir.makeDirectory(Array("tree/nested/".utf8) + name.bytes)
  }
  try dir.writeFile("tree/nested/a-b", "dash sorts before slash\n")
  try dir.writeFile(Array("tree/nested/".utf8) + HostileName.all[0].bytes + Array("/inner".utf8), Array("deep\n".utf8))
  try dir.makeDirectory("tree/empty-dir")
  try dir.writeFile("tree/empty-file", "")
  // 0755, as a release ships it: add refuses files others cannot read (a 0700 file is private).
  try dir.writeFile("tree/run me", "#!/bin/sh\necho hi\n", mode: 0o755)
  try dir.symlink(Array("tree/link-nl".utf8), to: Array("target\n".utf8))
  try dir.symlink(Array("tree/link-bad".utf8), to: [0x2E, 0x2E, 0x2F, 0xFF, 0x09])
  return dir.at("tree")
}
