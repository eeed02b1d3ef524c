import MCPGenKit
import MCPGenSystem
import Testing

private func dir(_ path: [UInt8]) -> ManifestEntry { ManifestEntry(path: path, kind: .directory, size: 0) }
private func dir(_ path: String) -> ManifestEntry { dir(Array(path.utf8)) }

private func file(_ path: [UInt8], _ content: String, executable: Bool = false) -> ManifestEntry {
  let bytes = Array(content.utf8)
  return ManifestEntry(path: path, kind: executable ? .executable : .file, size: UInt64(bytes.count), digest: SHA256.hash(bytes))
}
private func file(_ path: String, _ content: String, executable: Bool = false) -> ManifestEntry {
  file(Array(path.utf8), content, executable: executable)
}

private func link(_ path: String, _ target: String) -> ManifestEntry {
  ManifestEntry(path: Array(path.utf8), kind: .symlink, size: UInt64(target.utf8.count), target: Array(target.utf8))
}

/// A tree release: the root directory plus `entries` (in any order).
private func tree(_ entries: ManifestEntry...) -> Manifest { Manifest(entries: [dir(".")] + entries) }

private func single(_ content: String, executable: Bool = true) -> Manifest {
  Manifest(entries: [file(".", content, executable: executable)])
}

private func lines(_ diff: ReleaseDiff) -> [String] { diff.changes.map(\.line) }

@Suite("Release diff")
struct ReleaseDiffTests {
  static let base = tree(
    dir("bin"), file("bin/mcp", "#!/bin/sh\necho 1\n", executable: true),
    dir("share"), file("share/VERSION", "1.0\n"), link("share/latest", "VERSION"), file("share/old.txt", "old"))

  @Test("equal manifests: no changes, a zero summary")
  func identical() {
    let diff = ReleaseDiff(from: Self.base, to: Self.base)
    #expect(diff.changes.isEmpty)
    #expect(diff.isEmpty)
    #expect(diff.bytesDelta == 0)
    #expect(diff.summary == "+0 -0 ~0 files, +0 B")
  }

  @Test("added, removed and changed paths, one list in raw byte order, with counts and the size change")
  func addedRemovedChanged() {
    let new = tree(
      dir("bin"), file("bin/mcp", "#!/bin/sh\necho 2\n", executable: true),
      dir("share"), file("share/VERSION", "1.0\n"), link("share/latest", "VERSION"),
      dir("share/new"), file("share/new/a.json", "{}"), file("README", "read me"))
    let diff = ReleaseDiff(from: Self.base, to: new)
    #expect(lines(diff) == [
      "+ README",  // "R" (0x52) sorts before "b" (0x62)
      "~ bin/mcp (content)",
      "+ share/new",
      "+ share/new/a.json",
      "- share/old.txt",
    ])
    #expect((diff.added, diff.removed, diff.changed) == (3, 1, 1))
    #expect(diff.changes.first { $0.action == .changed }?.aspects == [.content])
    #expect(diff.oldBytes == Self.base.byteCount && diff.newBytes == new.byteCount)
    #expect(diff.bytesDelta == Int64(new.byteCount) - Int64(Self.base.byteCount))
    #expect(diff.bytesDelta == 2 + 7 - 3)
    #expect(diff.summary == "+3 -1 ~1 files, +6 B")
  }

  @Test("the execute bit alone, and with the content")
  func execBit() {
    let onlyBit = tree(
      dir("bin"), file("bin/mcp", "#!/bin/sh\necho 1\n", executable: false),
      dir("share"), file("share/VERSION", "1.0\n"), link("share/latest", "VERSION"), file("share/old.txt", "old", executable: true))
    let diff = ReleaseDiff(from: Self.base, to: onlyBit)
    #expect(lines(diff) == ["~ bin/mcp (exec bit)", "~ share/old.txt (exec bit)"])
    #expect(diff.changes.allSatisfy { $0.aspects == [.execBit] })
    #expect(diff.bytesDelta == 0)

    let both = tree(
      dir("bin"), file("bin/mcp", "changed", executable: false),
      dir("share"), file("share/VERSION", "1.0\n"), link("share/latest", "VERSION"), file("share/old.txt", "old"))
    let d2 = ReleaseDiff(from: Self.base, to: both)
    #expect(lines(d2) == ["~ bin/mcp (content, exec bit)"])
    #expect(d2.changes[0].aspects == [.content, .execBit])
    #expect(d2.changes[0].aspects.tokens == ["content", "exec-bit"])
  }

  @Test("a path that changes type: file, directory, symlink")
  func typeChanges() {
    let new = tree(
      file("bin", "now a file"),
      dir("share"), dir("share/VERSION"), file("share/latest", "VERSION"), link("share/old.txt", "elsewhere"))
    let diff = ReleaseDiff(from: Self.base, to: new)
    #expect(lines(diff) == [
      "~ bin (type: directory -> file)",
      "- bin/mcp",
      "~ share/VERSION (type: file -> directory)",
      "~ share/latest (type: symlink -> file)",
      "~ share/old.txt (type: file -> symlink)",
    ])
    #expect(diff.changes.filter { $0.action == .changed }.allSatisfy { $0.aspects == [.type] })
    let execToLink = ReleaseDiff(from: tree(file("x", "a", executable: true)), to: tree(link("x", "a")))
    #expect(lines(execToLink) == ["~ x (type: executable -> symlink)"])
  }

  @Test("a symlink whose target changed; symlink sizes do not count as content bytes")
  func symlinkTarget() {
    let new = tree(
      dir("bin"), file("bin/mcp", "#!/bin/sh\necho 1\n", executable: true),
      dir("share"), file("share/VERSION", "1.0\n"), link("share/latest", "../somewhere/much/longer"), file("share/old.txt", "old"))
    let diff = ReleaseDiff(from: Self.base, to: new)
    #expect(lines(diff) == ["~ share/latest (symlink target)"])
    #expect(diff.changes[0].aspects == [.symlinkTarget])
    #expect(diff.changes[0].old?.target == Array("VERSION".utf8))
    #expect(diff.changes[0].new?.target == Array("../somewhere/much/longer".utf8))
    #expect(diff.bytesDelta == 0)
  }

  @Test("names are raw bytes: sorted unsigned, never merged, shown escaped on one line")
  func oddByteNames() {
    let invalid: [UInt8] = [0x61, 0xFF, 0x62]       // a\xffb
    let otherInvalid: [UInt8] = [0x61, 0xFE, 0x62]  // a\xfeb
    let newline = Array("a\nb".utf8)
    let nfc = Array("caf\u{E9}".utf8)
    let nfd = Array("cafe\u{301}".utf8)  // equal to nfc as a Swift String, a different name on disk
    let old = tree(file(invalid, "x"), file(nfc, "same"), file(Array("-rf".utf8), "dash"))
    let new = tree(file(otherInvalid, "x"), file(nfc, "same"), file(nfd, "same"), file(newline, "nl"), file(Array("-rf".utf8), "dash!"))
    let diff = ReleaseDiff(from: old, to: new)
    #expect(diff.changes.map(\.path) == [Array("-rf".utf8), newline, otherInvalid, invalid, nfd])
    #expect(lines(diff) == ["~ -rf (content)", "+ a\\nb", "+ a\\xfeb", "- a\\xffb", "+ cafe\u{301}"])
    #expect(diff.changes.map(\.path) == diff.changes.map(\.path).sorted { $0.lexicographicallyPrecedes($1) })
    for line in lines(diff) { #expect(!line.contains("\n")) }
    #expect(diff.summary == "+3 -1 ~1 files, +7 B")
  }

  @Test("from nothing: every path of a tree is added, the root directory is not a change")
  func fromNothing() {
    let diff = ReleaseDiff(from: nil, to: Self.base)
    #expect(diff.changes.count == Self.base.entries.count - 1)
    #expect(diff.changes.allSatisfy { $0.action == .added })
    #expect(diff.bytesDelta == Int64(Self.base.byteCount))
    #expect(diff.summary == "+6 -0 ~0 files, +\(Self.base.byteCount) B")
    let file = ReleaseDiff(from: nil, to: single("#!/bin/sh\n"))
    #expect(lines(file) == ["+ ."])
  }

  @Test("single-file releases: the root is the file; a file becoming a tree changes the root's type")
  func singleFile() {
    let a = single("#!/bin/sh\necho a\n")
    let b = single("#!/bin/sh\necho bb\n", executable: false)
    #expect(lines(ReleaseDiff(from: a, to: b)) == ["~ . (content, exec bit)"])
    #expect(ReleaseDiff(from: a, to: b).summary == "+0 -0 ~1 files, +1 B")
    let toTree = ReleaseDiff(from: a, to: tree(file("mcp", "x")))
    #expect(lines(toTree) == ["~ . (type: executable -> directory)", "+ mcp"])
    #expect(toTree.bytesDelta == 1 - Int64(a.byteCount))
    let toFile = ReleaseDiff(from: tree(dir("d"), file("d/f", "x")), to: a)
    #expect(lines(toFile) == ["~ . (type: directory -> executable)", "- d", "- d/f"])
  }

  @Test("reversing a diff swaps added and removed and negates the size change")
  func symmetry() {
    let new = tree(dir("bin"), file("bin/mcp", "a much longer script than before", executable: true), file("z", "z"))
    let forward = ReleaseDiff(from: Self.base, to: new)
    let backward = ReleaseDiff(from: new, to: Self.base)
    #expect(forward.changes.map(\.path) == backward.changes.map(\.path))
    #expect(forward.added == backward.removed && forward.removed == backward.added && forward.changed == backward.changed)
    #expect(forward.bytesDelta == -backward.bytesDelta)
    #expect(forward.summary.hasSuffix(", +\(forward.bytesDelta) B"))
    #expect(backward.summary.hasSuffix(", -\(forward.bytesDelta) B"))
  }

  @Test("the summary's size uses ByteCount: decimal units, signed")
  func summaryUnits() {
    let small = tree(file("f", ""))
    let big = tree(file("f", String(repeating: "x", count: 40_000)))
    #expect(ReleaseDiff(from: small, to: big).summary == "+0 -0 ~1 files, +40.0 KB")
    #expect(ReleaseDiff(from: big, to: small).summary == "+0 -0 ~1 files, -40.0 KB")
  }

  @Test("a diff of manifests read back from their bytes is the same diff")
  func parsedManifests() throws {
    let new = tree(dir("bin"), file("bin/mcp", "v2", executable: true), link("l", "bin"))
    let a = try Manifest(parsing: Self.base.serialized())
    let b = try Manifest(parsing: new.serialized())
    #expect(ReleaseDiff(from: a, to: b) == ReleaseDiff(from: Self.base, to: new))
  }
}

@Suite("Byte counts for people")
struct ByteCountTests {
  @Test(
    "decimal units, one decimal rounded half up, rolling over into the next unit",
    arguments: [
      (0, "0 B"), (1, "1 B"), (999, "999 B"), (1000, "1.0 KB"), (1049, "1.0 KB"), (1050, "1.1 KB"),
      (40_000, "40.0 KB"), (999_949, "999.9 KB"), (999_950, "1.0 MB"), (1_500_000, "1.5 MB"),
      (1_000_000_000, "1.0 GB"), (2_500_000_000_000, "2.5 TB"), (1_000_000_000_000_000, "1.0 PB"),
      (UInt64.max, "18.4 EB"),
    ] as [(UInt64, String)])
  func text(_ n: UInt64, _ shown: String) {
    #expect(ByteCount.text(n) == shown)
  }

  @Test("signed: always a sign, zero is +0 B, the extremes do not trap")
  func signed() {
    #expect(ByteCount.signedText(0) == "+0 B")
    #expect(ByteCount.signedText(40_000) == "+40.0 KB")
    #expect(ByteCount.signedText(-512) == "-512 B")
    #expect(ByteCount.signedText(Int64.min) == "-9.2 EB")
    #expect(ByteCount.signedText(Int64.max) == "+9.2 EB")
  }
}
