import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// Builds one raw record: `kind SP size SP digest SP path NUL target NUL`.
private func record(_ kind: String, _ size: String, _ digest: String, _ path: [UInt8], _ target: [UInt8] = []) -> [UInt8] {
  Array("\(kind) \(size) \(digest) ".utf8) + path + [0] + target + [0]
}

private func record(_ kind: String, _ size: String, _ digest: String, _ path: String, _ target: String = "") -> [UInt8] {
  record(kind, size, digest, Array(path.utf8), Array(target.utf8))
}

private let header = Array("mcp-gen manifest 1\n".utf8)
private let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  // SHA-256("abc")

@Suite("Manifest format")
struct ManifestTests {
  /// A small valid manifest: a directory, a file in it, a symlink.
  static let valid: [UInt8] =
    header + record("d", "0", "-", ".") + record("d", "0", "-", "a") + record("f", "3", abc, "a/b")
    + record("l", "1", "-", "c", "x")

  @Test("serialize then parse gives the same manifest")
  func roundTrip() throws {
    let manifest = Manifest(entries: [
      ManifestEntry(path: Array("z".utf8), kind: .symlink, size: 2, target: Array("..".utf8)),
      ManifestEntry(path: Array("bin/tool".utf8), kind: .executable, size: 3, digest: SHA256.hash(Array("abc".utf8))),
      ManifestEntry(path: Array(".".utf8), kind: .directory, size: 0),
      ManifestEntry(path: Array("bin".utf8), kind: .directory, size: 0),
      ManifestEntry(path: Array("empty".utf8), kind: .file, size: 0, digest: SHA256.hash([])),
    ])
    let bytes = manifest.serialized()
    let parsed = try Manifest(parsing: bytes)
    #expect(parsed == manifest)
    #expect(parsed.serialized() == bytes)
    #expect(parsed.entries.map { String(decoding: $0.path, as: UTF8.self) } == [".", "bin", "bin/tool", "empty", "z"])
    #expect(manifest.fileCount == 2)
    #expect(manifest.byteCount == 3)
    #expect(manifest.key.digest == SHA256.hash(bytes))
  }

  @Test("parses the hand-written reference bytes and writes them back unchanged")
  func parsesReference() throws {
    let parsed = try Manifest(parsing: Self.valid)
    #expect(parsed.entries.count == 4)
    #expect(parsed.entries[2].kind == .file)
    #expect(parsed.entries[2].digest?.description == abc)
    #expect(parsed.entries[3].target == Array("x".utf8))
    #expect(parsed.serialized() == Self.valid)
  }

  @Test("entries sort by raw bytes: no case folding, '-' before '/' before '0', 0xFF last")
  func sortsByBytes() {
    let names: [[UInt8]] = [[0x61, 0xFF], Array("a0".utf8), Array("a/b".utf8), Array("B".utf8), Array("a".utf8), Array("a-b".utf8)]
    var entries = [ManifestEntry(path: [0x2E], kind: .directory, size: 0)]
    for n in names { entries.append(ManifestEntry(path: n, kind: .file, size: 0, digest: SHA256.hash([]))) }
    let sorted = Manifest(entries: entries).entries.map(\.path)
    #expect(sorted == [[0x2E], Array("B".utf8), Array("a".utf8), Array("a-b".utf8), Array("a/b".utf8), Array("a0".utf8), [0x61, 0xFF]])
  }

  @Test("the store-layout.md example for fixtures/mcp-1.0 is byte-exact")
  func documentedExample() throws {
    let expected =
      header + record("d", "0", "-", ".") + record("d", "0", "-", "bin")
      + record("x", "794", "a56bf5f6ba03a9620639dfe1f5b24a04a30f24d16827d9864c2883d4953e5da1", "bin/mcp")
      + record("d", "0", "-", "share") + record("d", "0", "-", "share/mcp")
      + record("f", "4", "5717e7c840171019a4eeab5b79a7f894a4986eaff93d04ec5b12c9a189f594bf", "share/mcp/VERSION")
      + record("f", "195", "ea61c71e8a210da513009687a1fe5f6e452f9add76dca5cd647f16f04a01a8aa", "share/mcp/servers.json")
    let manifest = try Store.hash(TestEnvironment.fixture("mcp-1.0"))
    #expect(manifest.serialized() == expected)
  }

  @Test("a single-file release is exactly one root record")
  func singleFile() throws {
    let bytes = header + record("x", "3", abc, ".")
    let parsed = try Manifest(parsing: bytes)
    #expect(parsed.isSingleFile)
    #expect(parsed.entries.count == 1)
    #expect(parsed.serialized() == bytes)
  }

  @Test("hostile names round-trip through the manifest bytes", arguments: HostileName.all)
  func hostileNameParses(name: HostileName) throws {
    let manifest = Manifest(entries: [
      ManifestEntry(path: [0x2E], kind: .directory, size: 0),
      ManifestEntry(path: name.bytes, kind: .file, size: 3, digest: SHA256.hash(Array("abc".utf8))),
      ManifestEntry(path: Array("l".utf8), kind: .symlink, size: UInt64(name.bytes.count), target: name.bytes),
    ])
    let parsed = try Manifest(parsing: manifest.serialized())
    #expect(parsed == manifest)
    #expect(parsed.entries.contains { $0.path == name.bytes && $0.kind == .file })
    #expect(parsed.entries.contains { $0.target == name.bytes && $0.kind == .symlink })
  }

  @Test("hostile names on disk: recorded byte for byte, key equals the oracle's", arguments: HostileName.all)
  func hostileNameOnDisk(name: HostileName) throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try dir.makeDirectory("tree")
    try dir.writeFile(Array("tree/".utf8) + name.bytes, Array("content\n".utf8))
    let manifest = try Store.hash(dir.at("tree"))
    #expect(manifest.entries.count == 2)
    #expect(manifest.entries.last?.path == name.bytes)
    #expect(manifest.entries.last?.digest == SHA256.hash(Array("content\n".utf8)))
    #expect(try Manifest(parsing: manifest.serialized()) == manifest)
    #expect(manifest.key.hex == (try Oracle.key(dir.at("tree"))))
  }

  struct Malformed: Sendable, CustomStringConvertible {
    var description: String
    var bytes: [UInt8]
    var error: ManifestError
  }

  static let root = header + record("d", "0", "-", ".")

  static let malformed: [Malformed] = [
    Malformed(description: "empty input", bytes: [], error: .badHeader),
    Malformed(description: "wrong version", bytes: Array("mcp-gen manifest 2\n".utf8) + record("d", "0", "-", "."), error: .badHeader),
    Malformed(description: "header without LF", bytes: Array("mcp-gen manifest 1".utf8) + record("d", "0", "-", "."), error: .badHeader),
    Malformed(description: "header only", bytes: header, error: .truncated(record: 0)),
    Malformed(description: "truncated: last NUL missing", bytes: Array(valid.dropLast()), error: .truncated(record: 3)),
    Malformed(description: "truncated mid-record", bytes: Array(valid.prefix(header.count + 9 + 9 + 6)), error: .truncated(record: 2)),
    Malformed(description: "trailing garbage", bytes: valid + Array("x".utf8), error: .truncated(record: 4)),
    Malformed(description: "trailing LF", bytes: valid + [0x0A], error: .truncated(record: 4)),
    Malformed(description: "unsorted records", bytes: root + record("f", "3", abc, "b") + record("f", "3", abc, "a"),
              error: .badRecord(record: 2, reason: "not sorted")),
    Malformed(description: "duplicate path", bytes: root + record("f", "3", abc, "a") + record("f", "3", abc, "a"),
              error: .badRecord(record: 2, reason: "not sorted")),
    Malformed(description: "'..' as a path", bytes: root + record("f", "3", abc, ".."), error: .badRecord(record: 1, reason: "bad path")),
    Malformed(description: "'..' inside a path", bytes: root + record("d", "0", "-", "a") + record("f", "3", abc, "a/../b"),
              error: .badRecord(record: 2, reason: "bad path")),
    Malformed(description: "'.' below the root", bytes: root + record("d", "0", "-", "a") + record("f", "3", abc, "a/."),
              error: .badRecord(record: 2, reason: "bad path")),
    Malformed(description: "leading slash", bytes: root + record("f", "3", abc, "/a"), error: .badRecord(record: 1, reason: "bad path")),
    Malformed(description: "trailing slash", bytes: root + record("d", "0", "-", "a/"), error: .badRecord(record: 1, reason: "bad path")),
    Malformed(description: "empty component", bytes: root + record("d", "0", "-", "a") + record("f", "3", abc, "a//b"),
              error: .badRecord(record: 2, reason: "bad path")),
    Malformed(description: "missing parent", bytes: root + record("f", "3", abc, "a/b"),
              error: .badRecord(record: 1, reason: "parent is not a directory")),
    Malformed(description: "parent is a file", bytes: root + record("f", "3", abc, "a") + record("f", "3", abc, "a/b"),
              error: .badRecord(record: 2, reason: "parent is not a directory")),
    Malformed(description: "root not first", bytes: header + record("d", "0", "-", "a"),
              error: .badRecord(record: 0, reason: "first record is not the root")),
    Malformed(description: "root is a symlink", bytes: header + record("l", "1", "-", ".", "x"),
              error: .badRecord(record: 0, reason: "first record is not the root")),
    Malformed(description: "second root", bytes: root + record("d", "0", "-", "."), error: .badRecord(record: 1, reason: "bad path")),
    Malformed(description: "records after a single-file root", bytes: header + record("f", "3", abc, ".") + record("f", "3", abc, "a"),
              error: .badRecord(record: 1, reason: "a single-file release has one record")),
    Malformed(description: "uppercase digest", bytes: root + record("f", "3", abc.uppercased(), "a"),
              error: .badRecord(record: 1, reason: "bad digest")),
    Malformed(description: "short digest", bytes: root + record("f", "3", String(abc.dropLast()), "a"),
              error: .badRecord(record: 1, reason: "bad digest")),
    Malformed(description: "dash digest on a file", bytes: root + record("f", "3", "-", "a"), error: .badRecord(record: 1, reason: "bad digest")),
    Malformed(description: "digest on a directory", bytes: root + record("d", "0", abc, "a"),
              error: .badRecord(record: 1, reason: "digest on a non-file")),
    Malformed(description: "unknown kind", bytes: root + record("p", "0", "-", "a"), error: .badRecord(record: 1, reason: "unknown kind")),
    Malformed(description: "uppercase kind", bytes: root + record("F", "3", abc, "a"), error: .badRecord(record: 1, reason: "unknown kind")),
    Malformed(description: "size with a leading zero", bytes: root + record("f", "03", abc, "a"), error: .badRecord(record: 1, reason: "bad size")),
    Malformed(description: "size with a plus sign", bytes: root + record("f", "+3", abc, "a"), error: .badRecord(record: 1, reason: "bad size")),
    Malformed(description: "empty size", bytes: root + record("f", "", abc, "a"), error: .badRecord(record: 1, reason: "bad size")),
    Malformed(description: "directory with a size", bytes: root + record("d", "1", "-", "a"), error: .badRecord(record: 1, reason: "bad directory")),
    Malformed(description: "symlink size differs from its target", bytes: root + record("l", "2", "-", "a", "x"),
              error: .badRecord(record: 1, reason: "bad symlink")),
    Malformed(description: "symlink without target", bytes: root + record("l", "0", "-", "a"), error: .badRecord(record: 1, reason: "bad symlink")),
    Malformed(description: "file with a target", bytes: root + record("f", "3", abc, "a", "x"), error: .badRecord(record: 1, reason: "target on a file")),
  ]

  @Test("parsing rejects what serialized() would never produce", arguments: malformed)
  func rejects(_ input: Malformed) {
    #expect(throws: input.error) { try Manifest(parsing: input.bytes) }
  }
}
