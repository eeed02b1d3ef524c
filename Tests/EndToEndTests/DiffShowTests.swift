import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// What a release on disk holds, read by the test itself with lstat and plain reads (never
/// through mcp-gen), and the diff lines the store-layout rules imply for two of them.
enum DiffShowExpect {
  struct Entry: Equatable {
    /// `directory`, `file`, `executable` or `symlink`, as `diff` names kinds.
    var kind: String
    var content: [UInt8] = []
    var target: String = ""
  }

  /// Every path of the release at `path`, `.` for the release itself.
  static func entries(_ path: String) throws -> [String: Entry] {
    var out: [String: Entry] = [:]
    func visit(_ full: String, _ relative: String) throws {
      var st = stat()
      guard lstat(full, &st) == 0 else { throw E2EFailure("lstat \(full): \(String(cString: strerror(errno)))") }
      switch st.st_mode & S_IFMT {
      case S_IFDIR:
        out[relative] = Entry(kind: "directory")
        for name in try FileManager.default.contentsOfDirectory(atPath: full) {
          try visit(full + "/" + name, relative == "." ? name : relative + "/" + name)
        }
      case S_IFLNK:
        out[relative] = Entry(kind: "symlink", target: Gen.readlink(full) ?? "")
      case S_IFREG:
        guard let data = FileManager.default.contents(atPath: full) else { throw E2EFailure("read \(full)") }
        out[relative] = Entry(kind: st.st_mode & S_IXUSR != 0 ? "executable" : "file", content: Array(data))
      default:
        throw E2EFailure("unexpected file type at \(full)")
      }
    }
    try visit(path, ".")
    return out
  }

  static func isRegular(_ e: Entry) -> Bool { e.kind == "file" || e.kind == "executable" }

  /// What differs at one path present in both, as `diff` words it ("" when nothing does).
  static func what(_ a: Entry, _ b: Entry) -> [String] {
    if isRegular(a) && isRegular(b) {
      return (a.content != b.content ? ["content"] : []) + (a.kind != b.kind ? ["exec bit"] : [])
    }
    if a.kind != b.kind { return ["type: \(a.kind) -> \(b.kind)"] }
    if a.kind == "symlink" && a.target != b.target { return ["symlink target"] }
    return []
  }

  struct Diff {
    var lines: [String] = []
    var added: [String] = []
    var removed: [String] = []
    var changed: [String: [String]] = [:]
    /// Changed paths in diff order.
    var changedPaths: [String] = []
    var bytesDelta = 0
  }

  /// The release root first, then every path by its raw bytes.
  static func diff(_ oldPath: String, _ newPath: String) throws -> Diff {
    let old = try entries(oldPath)
    let new = try entries(newPath)
    let paths = Set(old.keys).union(new.keys).sorted { a, b in
      a == "." ? b != "." : (b == "." ? false : Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)))
    }
    var d = Diff()
    for p in paths {
      switch (old[p], new[p]) {
      case (nil, .some):
        d.lines.append("+ \(p)")
        d.added.append(p)
      case (.some, nil):
        d.lines.append("- \(p)")
        d.removed.append(p)
      case (let a?, let b?):
        let what = Self.what(a, b)
        if !what.isEmpty {
          d.lines.append("~ \(p) (\(what.joined(separator: ", ")))")
          d.changed[p] = what
          d.changedPaths.append(p)
        }
      default: break
      }
    }
    func bytes(_ e: [String: Entry]) -> Int { e.values.filter(isRegular).reduce(0) { $0 + $1.content.count } }
    d.bytesDelta = bytes(new) - bytes(old)
    return d
  }

  /// The summary line for a diff under 1000 bytes (the fixtures'), where the size is exact.
  static func summary(_ d: Diff) -> String {
    let size = abs(d.bytesDelta) < 1000 ? "\(abs(d.bytesDelta)) B" : "(not exact: \(d.bytesDelta) bytes)"
    return "+\(d.added.count) -\(d.removed.count) ~\(d.changed.count) files, \(d.bytesDelta < 0 ? "-" : "+")\(size)"
  }

  /// Changes one byte of a stored file in place (same size, same mode): the store no longer
  /// matches its manifest, which only a re-hash would notice.
  static func corrupt(_ path: String) throws {
    if geteuid() == 0 { _ = try CLI.runProcess("/usr/bin/chattr", ["-f", "-i", path], environment: nil) }
    chmod(path, 0o644)
    let fd = open(path, O_WRONLY)
    guard fd >= 0 else { throw E2EFailure("open \(path): \(String(cString: strerror(errno)))") }
    var byte: UInt8 = 0x7E
    let written = pwrite(fd, &byte, 1, 0)
    close(fd)
    guard written == 1 else { throw E2EFailure("pwrite \(path)") }
    chmod(path, 0o444)
  }

  static func object(_ out: CLI.Output) throws -> [String: Any] {
    guard let object = try Gen.json(out) as? [String: Any] else { throw E2EFailure("not a JSON object: \(out.stdoutText)") }
    return object
  }

  /// Each line of stdout, without the final empty one.
  static func lines(_ out: CLI.Output) -> [String] {
    out.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
  }

  static func short(_ key: String) -> String { String(key.prefix(12)) }
}

@Suite("diff and show")
struct DiffShowTests {
  typealias X = DiffShowExpect

  // MARK: diff

  @Test(
    "diff of two stored fixtures lists exactly the differences of their files, in byte order, with the size change",
    arguments: [("mcp-1.0", "mcp-1.1"), ("mcp-1.1", "mcp-1.0"), ("mcp-1.0", "mcp-broken"), ("mcp-broken", "mcp-single")])
  func fixtures(_ pair: (String, String)) throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let (a, b) = (CLI.fixture(pair.0), CLI.fixture(pair.1))
    let ka = try Gen.add(root, a)
    let kb = try Gen.add(root, b)
    let expected = try X.diff(a, b)
    #expect(!expected.lines.isEmpty, "the fixtures \(pair) should differ")

    let out = try Gen.ok(root, "diff", [ka, kb])
    let lines = X.lines(out)
    #expect(lines.first == "release \(X.short(ka)) -> release \(X.short(kb))")
    #expect(Array(lines.dropFirst().dropLast()) == expected.lines, "\(out.stdoutText)")
    #expect(lines.last == X.summary(expected))
    #expect(out.stderr.isEmpty)

    let object = try X.object(try Gen.ok(root, "diff", ["--json", ka, kb]))
    let added = (object["added"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
    let removed = (object["removed"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
    let changed = object["changed"] as? [[String: Any]] ?? []
    #expect(added == expected.added)
    #expect(removed == expected.removed)
    #expect(changed.compactMap { $0["path"] as? String } == expected.changedPaths)
    for c in changed {
      let path = c["path"] as? String ?? "?"
      let what = (c["what"] as? [String] ?? []).map { $0 == "exec-bit" ? "exec bit" : $0 }
      let words = expected.changed[path]?.map { $0.hasPrefix("type:") ? "type" : $0 } ?? []
      #expect(Set(what) == Set(words), "\(path)")
    }
    #expect(Gen.int(object["bytesDelta"]) == expected.bytesDelta)
  }

  @Test("diff sees added and removed files, a changed exec bit, symlink target and type, and reads manifests only")
  func kindsOfChange() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let (a, b) = (scratch.at("a"), scratch.at("b"))
    for (dir, version) in [(a, "1"), (b, "2")] { try Gen.makeRelease(at: dir, version: version) }
    let fm = FileManager.default
    try Gen.write(a + "/share/mcp/tool", "#!/bin/sh\n", mode: 0o755)
    try Gen.write(b + "/share/mcp/tool", "#!/bin/sh\n", mode: 0o644)
    try fm.createSymbolicLink(atPath: a + "/share/mcp/latest", withDestinationPath: "VERSION")
    try fm.createSymbolicLink(atPath: b + "/share/mcp/latest", withDestinationPath: "tool")
    try Gen.write(a + "/share/mcp/thing", "a file first")
    try fm.createDirectory(atPath: b + "/share/mcp/thing", withIntermediateDirectories: true)
    try Gen.write(a + "/gone.txt", "only in a")
    try Gen.write(b + "/new.txt", String(repeating: "n", count: 2000))
    let expected = try X.diff(a, b)
    #expect(expected.lines == [
      "~ bin/mcp (content)", "- gone.txt", "+ new.txt", "~ share/mcp/VERSION (content)",
      "~ share/mcp/latest (symlink target)", "~ share/mcp/thing (type: file -> directory)", "~ share/mcp/tool (exec bit)",
    ])
    try Gen.ok(root, "switch", [a])
    try Gen.ok(root, "switch", [b])
    let out = try Gen.ok(root, "diff", ["1", "2"])
    #expect(Array(X.lines(out).dropFirst().dropLast()) == expected.lines, "\(out.stdoutText)")
    #expect(X.lines(out).last == "+1 -1 ~5 files, +2.0 KB")  // 2000 - 12 - 9 = 1,979 bytes

    // No content is read: a stored file corrupted in place changes nothing in the diff (verify,
    // which re-hashes, does notice).
    let kb = try #require(Gen.generationKey(root, 2))
    try X.corrupt(root + "/store/" + kb + "/share/mcp/VERSION")
    #expect(try Gen.ok(root, "diff", ["1", "2"]).stdout == out.stdout)
    #expect(try Gen.run(root, "verify", ["2"]).status == 2)
  }

  @Test("diff with odd byte names: raw-byte order, escaped on one line, surrogate escapes in --json")
  func oddNames() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let (a, b) = (scratch.at("a"), scratch.at("b"))
    // Raw names need bytes, not Strings: Python makes them.
    let script = """
      import os, sys
      a, b = sys.argv[1].encode(), sys.argv[2].encode()
      for d in (a, b): os.makedirs(d)
      def w(d, name, data): open(os.path.join(d, name), "wb").write(data)
      w(a, b"a\\xffb", b"1"); w(b, b"a\\xffb", b"22")
      w(a, b"caf\\xc3\\xa9", b"same"); w(b, b"caf\\xc3\\xa9", b"same")
      w(b, b"cafe\\xcc\\x81", b"same")
      w(b, b"new\\nline", b"x")
      w(a, b"-rf", b"dash")
      """
    let made = try CLI.runProcess(Gen.python, Gen.pythonPrefix + ["-c", script, a, b], environment: Gen.childEnvironment)
    #expect(made.status == 0, "\(made.stderrText)")
    let ka = try Gen.add(root, a)
    let kb = try Gen.add(root, b)
    let out = try Gen.ok(root, "diff", [String(ka.prefix(8)), String(kb.prefix(8))])
    // "cafe\u{301}" (decomposed) sorts before the unchanged "caf\u{E9}": 0x65 < 0xC3.
    #expect(X.lines(out) == [
      "release \(X.short(ka)) -> release \(X.short(kb))",
      "- -rf", "~ a\\xffb (content)", "+ cafe\u{301}", "+ new\\nline", "+2 -1 ~1 files, +2 B",
    ], "\(out.stdoutText)")
    #expect(out.stdout.split(separator: 0x0A)[3].elementsEqual(Array("+ cafe\u{301}".utf8)), "the decomposed name must stay decomposed")
    let json = try Gen.ok(root, "diff", ["--json", ka, kb]).stdoutText
    #expect(json.contains(#"{"path":"a\udcffb","what":["content"]"#), "\(json)")
    #expect(json.contains(#"{"path":"new\nline","kind":"file","size":1,"sha256":"#), "\(json)")
  }

  @Test("diff without arguments: from what rollback would return to, to current; with one: from it to current")
  func defaults() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let k10 = try Gen.key(CLI.fixture("mcp-1.0"))
    let k11 = try Gen.key(CLI.fixture("mcp-1.1"))
    let kBroken = try Gen.key(CLI.fixture("mcp-broken"))
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])

    let none = try Gen.run(root, "diff")
    #expect(none.status == 1)
    #expect(Gen.isOneLineError(none.stderrText), "\(none.stderrText)")
    #expect(none.stderrText.hasPrefix("error: no previous generation to compare current with"), "\(none.stderrText)")
    #expect(none.stdout.isEmpty)

    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.1")])
    let byDefault = try Gen.ok(root, "diff")
    #expect(byDefault.stdout == (try Gen.ok(root, "diff", ["1", "2"])).stdout)
    #expect(X.lines(byDefault) == [
      "generation 1 (\(X.short(k10))) -> generation 2 (\(X.short(k11)))",
      "~ share/mcp/VERSION (content)",
      "+0 -0 ~1 files, +0 B",
    ])

    // A failed generation is passed over, as rollback passes over it.
    #expect(try Gen.run(root, "switch", ["--check", "bin/mcp check", CLI.fixture("mcp-broken")]).status == 4)
    #expect(X.lines(try Gen.ok(root, "diff")).first == "generation 1 (\(X.short(k10))) -> generation 2 (\(X.short(k11)))")
    let one = try Gen.ok(root, "diff", ["3"])
    #expect(X.lines(one).first == "generation 3 (\(X.short(kBroken))) -> generation 2 (\(X.short(k11)))")
    #expect(X.lines(one).dropFirst().dropLast() == ["~ bin/mcp (content)", "~ share/mcp/VERSION (content)"])

    try Gen.ok(root, "rollback")
    let after = try Gen.run(root, "diff")
    #expect(after.status == 1 && Gen.isOneLineError(after.stderrText), "\(after.stderrText)")
  }

  @Test("A and B as generation numbers, full keys, and key prefixes of 8 and 12 digits give the same changes")
  func prefixes() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    try Gen.ok(root, "switch", [CLI.fixture("mcp-broken"), "--no-checks"])
    let k1 = try #require(Gen.generationKey(root, 1))
    let k2 = try #require(Gen.generationKey(root, 2))
    let reference = X.lines(try Gen.ok(root, "diff", ["1", "2"])).dropFirst()
    #expect(reference.count == 3)
    for (a, b) in [(k1, k2), (String(k1.prefix(8)), String(k2.prefix(8))), (String(k1.prefix(12)), "2"), ("1", String(k2.prefix(40)))] {
      let out = try Gen.ok(root, "diff", [a, b])
      #expect(X.lines(out).dropFirst() == reference, "\(a) \(b): \(out.stdoutText)")
    }
    let reverse = try X.object(try Gen.ok(root, "diff", ["--json", String(k2.prefix(8)), "1"]))
    #expect((reverse["from"] as? [String: Any])?["key"] as? String == k2)
    #expect((reverse["from"] as? [String: Any])?["generation"] is NSNull)
    #expect(Gen.int((reverse["to"] as? [String: Any])?["generation"]) == 1)
    #expect(Gen.int(reverse["bytesDelta"]) == -59)
  }

  @Test("diff --json: from, to, added, removed, changed (path, what, from, to), bytesDelta, summary")
  func diffJSON() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.1")])
    let object = try X.object(try Gen.ok(root, "diff", ["--json"]))
    #expect(Set(object.keys) == ["from", "to", "added", "removed", "changed", "bytesDelta", "summary"])
    let from = try #require(object["from"] as? [String: Any])
    #expect(Set(from.keys) == ["generation", "key"])
    #expect(Gen.int(from["generation"]) == 1)
    #expect(from["key"] as? String == Gen.generationKey(root, 1))
    #expect(Gen.int((object["to"] as? [String: Any])?["generation"]) == 2)
    #expect((object["added"] as? [Any])?.isEmpty == true)
    #expect((object["removed"] as? [Any])?.isEmpty == true)
    let changed = try #require((object["changed"] as? [[String: Any]])?.first)
    #expect(Set(changed.keys) == ["path", "what", "from", "to"])
    #expect(changed["path"] as? String == "share/mcp/VERSION")
    #expect(changed["what"] as? [String] == ["content"])
    let old = try #require(changed["from"] as? [String: Any])
    #expect(Set(old.keys) == ["kind", "size", "sha256"])
    #expect(old["kind"] as? String == "file")
    #expect(Gen.int(old["size"]) == 4)
    #expect(old["sha256"] as? String == "5717e7c840171019a4eeab5b79a7f894a4986eaff93d04ec5b12c9a189f594bf")  // store-layout.md, section 2
    #expect(Gen.int(object["bytesDelta"]) == 0)
    #expect(object["summary"] as? String == "+0 -0 ~1 files, +0 B")
  }

  @Test("diff errors: unknown generation or key, a short or malformed name, nothing current, a collected, quarantined or vanished entry")
  func diffErrors() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let empty = try Gen.run(root, "diff")
    #expect(empty.status == 1 && Gen.isOneLineError(empty.stderrText), "\(empty.stderrText)")

    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.1")])
    for (args, message) in [
      (["99"], "error: there is no generation 99"),
      (["1", "77"], "error: there is no generation 77"),
      (["deadbeef"], "error: no store entry starts with deadbeef"),
      (["12345678"], "error: there is no generation 12345678 and no store entry starts with 12345678"),
      (["abc"], "error: 'abc' is neither a generation number nor a store key"),
      (["1", "x/y"], "error: 'x/y' is neither a generation number nor a store key"),
      ([String(repeating: "0", count: 64)], "error: no store entry 000000000000: no release with this key was ever stored in this root"),
    ] {
      let out = try Gen.run(root, "diff", args)
      #expect(out.status == 1, "\(args)")
      #expect(out.stdout.isEmpty, "\(args)")
      #expect(Gen.isOneLineError(out.stderrText), "\(args): \(out.stderrText)")
      #expect(out.stderrText.hasPrefix(message), "\(args): \(out.stderrText)")
    }

    // Collected by gc: an entry no generation kept.
    let kSingle = try Gen.add(root, CLI.fixture("mcp-single"))
    try Gen.ok(root, "gc", ["--grace", "0"])
    let collected = try Gen.run(root, "diff", [kSingle])
    #expect(collected.status == 1 && Gen.isOneLineError(collected.stderrText), "\(collected.stderrText)")
    #expect(collected.stderrText.contains("error: no store entry \(X.short(kSingle)): it was collected by gc on "), "\(collected.stderrText)")

    // Quarantined by audit --repair: a corrupted entry of a generation that is not current.
    let k1 = try #require(Gen.generationKey(root, 1))
    try X.corrupt(root + "/store/" + k1 + "/share/mcp/VERSION")
    _ = try Gen.run(root, "audit", ["--repair"])
    let quarantined = try Gen.run(root, "diff", [k1, "2"])
    #expect(quarantined.status == 1 && Gen.isOneLineError(quarantined.stderrText), "\(quarantined.stderrText)")
    #expect(quarantined.stderrText.contains("quarantined by audit --repair"), "\(quarantined.stderrText)")

    // Gone without a trace: the entry of a generation removed by hand.
    try Gen.ok(root, "switch", [CLI.fixture("mcp-broken"), "--no-checks"])
    let k3 = try #require(Gen.generationKey(root, 3))
    if geteuid() == 0 { _ = try CLI.runProcess("/usr/bin/chattr", ["-R", "-f", "-i", root + "/store/" + k3], environment: nil) }
    _ = try CLI.runProcess("/bin/chmod", ["-R", "u+w", root + "/store/" + k3], environment: nil)
    _ = try CLI.runProcess("/bin/rm", ["-rf", root + "/store/" + k3], environment: nil)
    let vanished = try Gen.run(root, "diff", ["2", "3"])
    #expect(vanished.status == 1, "\(vanished.stderrText)")
    #expect(vanished.stderrLines == [
      "error: generation 3 (\(X.short(k3))) is not in the store any more: its store entry is gone (removed by hand?); run mcp-gen audit",
      "hint: mcp-gen audit",
    ])
  }

  // MARK: switch, rollback

  @Test("switch, rollback and --dry-run print the one-line summary; --json carries it")
  func summaries() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let first = try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let bytes10 = try X.entries(CLI.fixture("mcp-1.0")).values.filter(X.isRegular).reduce(0) { $0 + $1.content.count }
    #expect(X.lines(first)[1] == "  changes: +6 -0 ~0 files, +\(bytes10) B", "\(first.stdoutText)")

    let k11 = try Gen.key(CLI.fixture("mcp-1.1"))
    let dry = try Gen.ok(root, "switch", ["--dry-run", CLI.fixture("mcp-1.1")])  // not stored yet
    #expect(dry.stdoutText.hasSuffix(" to new generation 2 (\(X.short(k11))): +0 -0 ~1 files, +0 B; nothing changed (dry run)\n"), "\(dry.stdoutText)")
    #expect(Gen.generationNames(root) == ["1"])
    #expect(!(try scratch.storeNames(root)).contains(k11), "a dry run stored the release")

    let up = try Gen.ok(root, "switch", [CLI.fixture("mcp-1.1")])
    #expect(Array(X.lines(up).prefix(2)) == [
      "switched to new generation 2 (\(X.short(k11))), was generation 1 (\(X.short(try Gen.key(CLI.fixture("mcp-1.0")))))",
      "  changes: +0 -0 ~1 files, +0 B",
    ])
    let broken = try Gen.ok(root, "switch", ["--dry-run", "--json", CLI.fixture("mcp-broken")])
    let changes = try #require(try X.object(broken)["changes"] as? [String: Any])
    #expect(Set(changes.keys) == ["added", "removed", "changed", "bytesDelta", "summary"])
    #expect(changes["summary"] as? String == "+0 -0 ~2 files, +59 B")

    let back = try Gen.ok(root, "rollback")
    #expect(X.lines(back)[1] == "  changes: +0 -0 ~1 files, +0 B", "\(back.stdoutText)")
    let same = try Gen.ok(root, "rollback", ["1"])
    #expect(X.lines(same).count == 1, "already current prints no summary: \(same.stdoutText)")
    let json = try X.object(try Gen.ok(root, "rollback", ["--json", "2"]))
    #expect((json["changes"] as? [String: Any])?["summary"] as? String == "+0 -0 ~1 files, +0 B")
  }

  // MARK: show

  @Test("show N for current: every fact, and show --json with every key")
  func showCurrent() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.1")])
    let key = try Gen.key(CLI.fixture("mcp-1.1"))
    let entries = try X.entries(CLI.fixture("mcp-1.1"))
    let files = entries.values.filter(X.isRegular).count
    let dirs = entries.filter { $0.key != "." && $0.value.kind == "directory" }.count
    let bytes = entries.values.filter(X.isRegular).reduce(0) { $0 + $1.content.count }

    let text = try Gen.ok(root, "show", ["2"])
    let lines = X.lines(text)
    #expect(lines.contains("generation:  2"))
    #expect(lines.contains("key:         \(key)"))
    #expect(lines.contains("path:        \(root)/store/\(key)"))
    #expect(lines.contains("source:      \(CLI.fixture("mcp-1.1"))"))
    #expect(lines.contains { $0.hasPrefix("created:     20") && $0.hasSuffix("Z") }, "\(text.stdoutText)")
    #expect(lines.contains("contents:    \(files) files, \(dirs) directories, 0 symlinks, \(bytes) B"), "\(text.stdoutText)")
    #expect(lines.contains("current:     yes"))
    #expect(lines.contains("pinned:      no"))
    #expect(lines.contains("blocked:     no"))
    #expect(lines.contains("failed:      no"))
    #expect(lines.contains("checks:      none recorded"))
    #expect(text.stderr.isEmpty)
    #expect(try Gen.ok(root, "show", [String(key.prefix(8))]).stdoutText.contains("generations: 2 (current)\n"))

    let object = try X.object(try Gen.ok(root, "show", ["--json", "2"]))
    #expect(Set(object.keys) == [
      "generation", "key", "label", "labelFrom", "path", "present", "missing", "source", "created", "stored", "files", "directories",
      "symlinks", "bytes", "current", "pinned", "blocked", "failed", "generations", "checks",
    ])
    #expect(Gen.int(object["generation"]) == 2)
    #expect(object["key"] as? String == key)
    #expect(object["path"] as? String == root + "/store/" + key)
    #expect(object["present"] as? Bool == true)
    #expect(object["source"] as? String == CLI.fixture("mcp-1.1"))
    #expect(Gen.int(object["files"]) == files && Gen.int(object["directories"]) == dirs && Gen.int(object["bytes"]) == bytes)
    #expect(object["current"] as? Bool == true)
    #expect(object["pinned"] as? Bool == false)
    #expect(object["failed"] as? Bool == false)
    #expect((object["generations"] as? [[String: Any]])?.compactMap { Gen.int($0["generation"]) } == [2])
    #expect((object["checks"] as? [Any])?.isEmpty == true)
  }

  @Test("show for a pinned generation, and for a key that no generation uses")
  func showPinnedAndUnused() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.1")])
    try Gen.ok(root, "pin", ["1"])
    let pinned = X.lines(try Gen.ok(root, "show", ["1"]))
    #expect(pinned.contains("pinned:      yes"))
    #expect(pinned.contains("current:     no"))
    let object = try X.object(try Gen.ok(root, "show", ["--json", "1"]))
    #expect(object["pinned"] as? Bool == true)
    #expect(object["current"] as? Bool == false)

    let single = try Gen.add(root, CLI.fixture("mcp-single"))
    let size = try X.entries(CLI.fixture("mcp-single"))["."]?.content.count
    let unused = try Gen.ok(root, "show", [String(single.prefix(10))])
    let lines = X.lines(unused)
    #expect(lines.first == "key:         \(single)")
    #expect(lines.contains("generations: none: no generation uses this release"), "\(unused.stdoutText)")
    #expect(lines.contains("contents:    1 file, 0 directories, 0 symlinks, \(size ?? -1) B"), "\(unused.stdoutText)")
    #expect(!lines.contains { $0.hasPrefix("generation:") || $0.hasPrefix("pinned:") || $0.hasPrefix("failed:") })
    let json = try X.object(try Gen.ok(root, "show", ["--json", single]))
    #expect(json["generation"] is NSNull)
    #expect(json["pinned"] is NSNull && json["failed"] is NSNull && json["created"] is NSNull)
    #expect(json["current"] as? Bool == false)
    #expect((json["generations"] as? [Any])?.isEmpty == true)
    #expect(Gen.int(json["files"]) == 1 && Gen.int(json["bytes"]) == size)
    #expect(json["source"] as? String == CLI.fixture("mcp-single"))
  }

  @Test("show for a failed generation (mcp-broken's check) lists the failed check; the restored one lists its re-check")
  func showFailed() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let failing = try Gen.run(root, "switch", ["--check", "bin/mcp check", CLI.fixture("mcp-broken")])
    #expect(failing.status == 4, "\(failing.stdoutText) \(failing.stderrText)")
    let kBroken = try Gen.key(CLI.fixture("mcp-broken"))
    try Gen.ok(root, "block", [kBroken])

    let out = try Gen.ok(root, "show", ["2"])
    let lines = X.lines(out)
    #expect(lines.contains("failed:      yes"), "\(out.stdoutText)")
    #expect(lines.contains("blocked:     yes"))
    #expect(lines.contains("current:     no"))
    #expect(lines.contains("checks:      1 recorded, oldest first"))
    #expect(lines.contains { $0.hasSuffix("  switch: check FAILED: bin/mcp check (failed with exit status 1)") }, "\(out.stdoutText)")

    let object = try X.object(try Gen.ok(root, "show", ["--json", "2"]))
    #expect(object["failed"] as? Bool == true)
    #expect(object["blocked"] as? Bool == true)
    let check = try #require((object["checks"] as? [[String: Any]])?.first)
    #expect(Set(check.keys) == ["time", "op", "generation", "role", "command", "outcome", "detail", "milliseconds", "afterRollback", "output"])
    #expect(check["op"] as? String == "switch")
    #expect(Gen.int(check["generation"]) == 2)
    #expect(check["role"] as? String == "required")
    #expect(check["command"] as? String == "bin/mcp check")
    #expect(check["outcome"] as? String == "failed")
    #expect(check["detail"] as? String == "failed with exit status 1")
    #expect(check["afterRollback"] as? Bool == false)
    #expect((check["output"] as? String)?.contains("configuration invalid") == true)

    let restored = try X.object(try Gen.ok(root, "show", ["--json", "1"]))
    let recheck = try #require((restored["checks"] as? [[String: Any]])?.first)
    #expect(recheck["outcome"] as? String == "passed")
    #expect(recheck["afterRollback"] as? Bool == true)
    #expect(X.lines(try Gen.ok(root, "show", ["1"])).contains { $0.hasSuffix("  restored after a failed switch: check passed: bin/mcp check") })

    let byKey = X.lines(try Gen.ok(root, "show", [String(kBroken.prefix(8))]))
    #expect(byKey.contains("generations: 2 (failed)"), "\(byKey)")
    #expect(byKey.contains { $0.hasSuffix("  switch, generation 2: check FAILED: bin/mcp check (failed with exit status 1)") }, "\(byKey)")
  }

  @Test("show errors: unknown generation or key, a malformed name; an entry that is gone is described, not an error")
  func showErrors() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    for (arg, message) in [
      ("42", "error: there is no generation 42"),
      ("0123abcd", "error: no store entry starts with 0123abcd"),
      ("abc", "error: 'abc' is neither a generation number nor a store key"),
      ("-1", "error: "),
    ] {
      let out = try Gen.run(root, "show", [arg])
      #expect(out.status != 0, "\(arg)")
      #expect(out.stdout.isEmpty, "\(arg)")
      #expect(Gen.isOneLineError(out.stderrText), "\(arg): \(out.stderrText)")
      #expect(out.stderrText.hasPrefix(message), "\(arg): \(out.stderrText)")
    }
    let missingArgument = try Gen.run(root, "show")
    #expect(missingArgument.status == 64 && Gen.isOneLineError(missingArgument.stderrText), "\(missingArgument.stderrText)")

    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.1")])
    let k1 = try #require(Gen.generationKey(root, 1))
    if geteuid() == 0 { _ = try CLI.runProcess("/usr/bin/chattr", ["-R", "-f", "-i", root + "/store/" + k1], environment: nil) }
    _ = try CLI.runProcess("/bin/chmod", ["-R", "u+w", root + "/store/" + k1], environment: nil)
    _ = try CLI.runProcess("/bin/rm", ["-rf", root + "/store/" + k1], environment: nil)
    let gone = try Gen.ok(root, "show", ["1"])
    #expect(X.lines(gone).contains("path:        \(root)/store/\(k1) (missing)"), "\(gone.stdoutText)")
    #expect(X.lines(gone).contains { $0.hasPrefix("contents:    unknown: its store entry is gone") }, "\(gone.stdoutText)")
    let json = try X.object(try Gen.ok(root, "show", ["--json", "1"]))
    #expect(json["present"] as? Bool == false)
    #expect(json["files"] is NSNull)
  }
}
