#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// The same small tree, created in either order: directories, nested files, an executable,
/// an empty directory, an empty file, a symlink.
private func makeTree(_ dir: TestDirectory, _ name: String, reversed: Bool = false) throws {
  let steps: [() throws -> Void] = [
    { try dir.makeDirectory("\(name)/a") },
    { try dir.makeDirectory("\(name)/a/b") },
    { try dir.writeFile("\(name)/a/b/one", "one\n") },
    { try dir.writeFile("\(name)/a/two", "two\n", mode: 0o755) },
    { try dir.writeFile("\(name)/c", "three\n") },
    { try dir.writeFile("\(name)/empty", "") },
    { try dir.makeDirectory("\(name)/d") },
    { try dir.symlink("\(name)/link", to: "a/two") },
  ]
  try dir.makeDirectory(name)
  if reversed {
    // Leaves first wherever the parent allows it.
    for i in [7, 6, 5, 4, 0, 3, 1, 2] { try steps[i]() }
  } else {
    for step in steps { try step() }
  }
}

private func key(_ dir: TestDirectory, _ name: String) throws -> StoreKey {
  try Store.hash(dir.at(name)).key
}

@Suite("Key independence: what is not recorded does not change the key")
struct KeyIndependenceTests {
  @Test("creation order")
  func creationOrder() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try makeTree(dir, "forward")
    try makeTree(dir, "backward", reversed: true)
    #expect(try key(dir, "forward") == key(dir, "backward"))
  }

  @Test("location: the same tree at two paths")
  func location() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try makeTree(dir, "x")
    try dir.makeDirectory("deeper")
    try makeTree(dir, "deeper/y")
    #expect(try key(dir, "x") == key(dir, "deeper/y"))
  }

  @Test("content: one changed byte changes the key (control)")
  func contentMatters() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try makeTree(dir, "x")
    try makeTree(dir, "y")
    try dir.writeFile("y/c2", "")
    #expect(try key(dir, "x") != key(dir, "y"))
    try makeTree(dir, "z")
    try dir.append("z/a/b/one", "!")
    #expect(try key(dir, "x") != key(dir, "z"))
  }

  @Test("modification times")
  func mtimes() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try makeTree(dir, "old")
    try makeTree(dir, "new")
    for (i, p) in ["", "/a", "/a/b", "/a/b/one", "/a/two", "/c", "/empty", "/d", "/link"].enumerated() {
      try dir.setTime("old" + p, seconds: 86_400 * (i + 1))
      try dir.setTime("new" + p, seconds: 1_900_000_000 + i)
    }
    #expect(try dir.lstat("old/c").st_mtim.tv_sec != dir.lstat("new/c").st_mtim.tv_sec)
    #expect(try key(dir, "old") == key(dir, "new"))
  }

  @Test("owner and group", .enabled(if: TestEnvironment.isRoot, "chown needs root"))
  func owner() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try makeTree(dir, "mine")
    try makeTree(dir, "nobody")
    for p in ["", "/a", "/a/b", "/a/b/one", "/a/two", "/c", "/empty", "/d", "/link"] {
      try dir.chown("nobody" + p, uid: 65534, gid: 65534)
    }
    #expect(try dir.lstat("nobody/c").st_uid == 65534)
    #expect(try key(dir, "mine") == key(dir, "nobody"))
  }

  @Test(
    "file mode bits other than the owner's execute bit",
    arguments: [
      (0o600, 0o644), (0o644, 0o640), (0o600, 0o611), (0o444, 0o666), (0o400, 0o4644), (0o700, 0o755), (0o500, 0o6777),
    ] as [(mode_t, mode_t)])
  func fileModes(a: mode_t, b: mode_t) throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try makeTree(dir, "x")
    try makeTree(dir, "y")
    try dir.chmod("x/c", a)
    try dir.chmod("y/c", b)
    #expect(try key(dir, "x") == key(dir, "y"))
  }

  @Test("the owner's execute bit is recorded", arguments: [(0o644, 0o744), (0o600, 0o700), (0o655, 0o755), (0o444, 0o544)] as [(mode_t, mode_t)])
  func executeBit(plain: mode_t, executable: mode_t) throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try makeTree(dir, "x")
    try makeTree(dir, "y")
    try dir.chmod("x/c", plain)
    try dir.chmod("y/c", executable)
    #expect(try key(dir, "x") != key(dir, "y"))
    let entry = try Store.hash(dir.at("y")).entries.first { $0.path == Array("c".utf8) }
    #expect(entry?.kind == .executable)
  }

  @Test("hard links equal separate copies")
  func hardLinks() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try dir.makeDirectory("linked")
    try dir.writeFile("linked/one", "same\n")
    try dir.hardLink("linked/two", to: "linked/one")
    try dir.makeDirectory("copied")
    try dir.writeFile("copied/one", "same\n")
    try dir.writeFile("copied/two", "same\n")
    #expect(try dir.lstat("linked/two").st_nlink == 2)
    #expect(try key(dir, "linked") == key(dir, "copied"))
  }

  @Test("directory modes, setgid and sticky bits")
  func directoryModes() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try makeTree(dir, "plain")
    try makeTree(dir, "special")
    try dir.chmod("special/a", 0o2755)
    try dir.chmod("special/d", 0o1777)
    try dir.chmod("special/a/b", 0o700)
    #expect(try dir.lstat("special/a").st_mode & 0o7777 == 0o2755)
    #expect(try key(dir, "plain") == key(dir, "special"))
  }
}

@Suite("Symlinks are recorded, never followed")
struct SymlinkRecordingTests {
  @Test("targets outside the tree, '..', loops and self-links hash as symlinks")
  func recordedNotFollowed() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try dir.makeDirectory("tree")
    try dir.symlink("tree/passwd", to: "/etc/passwd")
    try dir.symlink("tree/up", to: "..")
    try dir.symlink("tree/loop-a", to: "loop-b")
    try dir.symlink("tree/loop-b", to: "loop-a")
    try dir.symlink("tree/self", to: "self")
    try dir.symlink("tree/dangling", to: "does/not/exist")
    let manifest = try Store.hash(dir.at("tree"))
    let found = Dictionary(uniqueKeysWithValues: manifest.entries.dropFirst().map {
      (String(decoding: $0.path, as: UTF8.self), $0)
    })
    let expected = ["passwd": "/etc/passwd", "up": "..", "loop-a": "loop-b", "loop-b": "loop-a", "self": "self", "dangling": "does/not/exist"]
    #expect(found.count == expected.count)
    for (name, target) in expected {
      let e = try #require(found[name])
      #expect(e.kind == .symlink)
      #expect(e.target == Array(target.utf8))
      #expect(e.size == UInt64(target.utf8.count))
      #expect(e.digest == nil)
    }
    #expect(manifest.key.hex == (try Oracle.key(dir.at("tree"))))
  }

  @Test("long targets are read whole", arguments: [1, 255, 256, 257, 1023, 1024, 1025, 4095])
  func longTargets(length: Int) throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try dir.makeDirectory("tree")
    let target = (0..<length).map { i in i % 8 == 7 ? UInt8(ascii: "/") : UInt8(ascii: "a") + UInt8(i % 26) }
    try dir.symlink(Array("tree/l".utf8), to: target)
    let manifest = try Store.hash(dir.at("tree"))
    #expect(manifest.entries.last?.target == target)
    #expect(manifest.entries.last?.size == UInt64(length))
    #expect(manifest.key.hex == (try Oracle.key(dir.at("tree"))))
  }

  @Test("a symlink's target is part of the key")
  func targetMatters() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try dir.makeDirectory("x")
    try dir.symlink("x/l", to: "a")
    try dir.makeDirectory("y")
    try dir.symlink("y/l", to: "b")
    #expect(try key(dir, "x") != key(dir, "y"))
  }

  @Test("a symlink named as the release itself is followed once")
  func releaseSymlinkFollowed() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try makeTree(dir, "tree")
    try dir.symlink("tree-link", to: "tree")
    try dir.writeFile("file", "x\n", mode: 0o755)
    try dir.symlink("file-link", to: "file")
    #expect(try key(dir, "tree-link") == key(dir, "tree"))
    #expect(try key(dir, "file-link") == key(dir, "file"))
    #expect(try Store.hash(dir.at("file-link")).entries == [
      ManifestEntry(path: [0x2E], kind: .executable, size: 2, digest: SHA256.hash(Array("x\n".utf8)))
    ])
  }
}
