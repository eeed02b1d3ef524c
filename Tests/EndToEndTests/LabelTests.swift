import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Version labels (issue 18): `add`/`switch --label`, labels found in git tags, `pyproject.toml`
/// and `VERSION`, the journal fields that keep them, `switch --release LABEL`, and what `list`,
/// `status` and `show` print.
@Suite("version labels, end to end")
struct LabelEndToEndTests {
  /// A release directory at `path` with one file naming `name` (so each has its own key) and
  /// the `files` given (relative path: content).
  static func release(_ path: String, _ name: String, _ files: [String: String] = [:]) throws {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    try Gen.write(path + "/release", "release \(name)\n")
    for (relative, content) in files {
      let full = path + "/" + relative
      try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try Gen.write(full, content)
    }
  }

  /// `show KEY --json`'s `label` and `labelFrom`.
  static func label(_ root: String, _ key: String) throws -> (String?, String?) {
    let object = try Gen.json(try Gen.ok(root, "show", [key, "--json"])) as? [String: Any]
    return (object?["label"] as? String, object?["labelFrom"] as? String)
  }

  static func addedKey(_ out: CLI.Output) -> String {
    String(out.stdoutText.trimmingCharacters(in: .newlines).split(separator: "/").last ?? "")
  }

  @Test("add finds the version in pyproject.toml's [project], else in a top-level VERSION file, and journals it with where it came from")
  func foundInRelease() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let pyproject = "[build-system]\nrequires = []\n[project]\nname = \"mcp\"\nversion = \"1.3.11\"\n"
    try Self.release(scratch.at("py"), "py", ["pyproject.toml": pyproject, "VERSION": "9.9.9\n"])
    try Self.release(scratch.at("ver"), "ver", ["VERSION": "  2.0.1 \r\nsecond line\n"])
    try Self.release(scratch.at("dyn"), "dyn", ["pyproject.toml": "[project]\ndynamic = [\"version\"]\n", "VERSION": "3.1\n"])
    try Self.release(scratch.at("deep"), "deep", ["share/VERSION": "4.0\n"])  // not at the top: no label
    try Self.release(scratch.at("big"), "big", ["pyproject.toml": "[project]\nversion = \"5.0\"\n" + String(repeating: "#\n", count: 40_000)])
    try Gen.write(scratch.at("single"), "one file\n")

    let cases: [(String, String?, String?)] = [
      ("py", "1.3.11", "pyproject.toml"), ("ver", "2.0.1", "VERSION"), ("dyn", "3.1", "VERSION"),
      ("deep", nil, nil), ("big", nil, nil), ("single", nil, nil),
    ]
    for (name, label, from) in cases {
      let key = Self.addedKey(try Gen.ok(root, "add", [scratch.at(name)]))
      let shown = try Self.label(root, key)
      #expect(shown.0 == label, "\(name)")
      #expect(shown.1 == from, "\(name)")
      let line = try #require(try Gen.journal(root).last { $0["key"] as? String == key && $0["op"] as? String == "add" })
      #expect(line["label"] as? String == label, "\(name)")
      #expect(line["labelFrom"] as? String == from, "\(name)")
    }
  }

  @Test("a pyproject.toml or VERSION that is a symlink is not followed, even to a file inside the release")
  func symlinksNotFollowed() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Self.release(scratch.at("rel"), "rel", ["share/VERSION": "6.0\n", "share/pyproject.toml": "[project]\nversion = \"6.1\"\n"])
    #expect(symlink("share/VERSION", scratch.at("rel/VERSION")) == 0)
    #expect(symlink("/etc/hostname", scratch.at("rel/pyproject.toml")) == 0)
    let key = Self.addedKey(try Gen.ok(root, "add", [scratch.at("rel")]))
    #expect(try Self.label(root, key) == (nil, nil))
  }

  @Test("--label overrides a found label; the latest label given wins and a found one never replaces it")
  func latestGivenWins() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let rel = scratch.at("rel")
    try Self.release(rel, "rel", ["VERSION": "1.0\n"])

    let key = Self.addedKey(try Gen.ok(root, "add", [rel, "--label", "first"]))
    #expect(try Self.label(root, key) == ("first", "label"))
    // Adding or switching again without --label keeps it, and writes no label line.
    let lines = try Gen.journal(root).count
    try Gen.ok(root, "add", [rel])
    #expect(try Gen.journal(root).count == lines)
    try Gen.ok(root, "switch", [rel])
    #expect(try Self.label(root, key) == ("first", "label"))
    #expect(try Gen.journal(root).last?["label"] == nil)
    // A release stored already gets an `add` line of its own for a new label.
    try Gen.ok(root, "add", [rel, "--label", "second"])
    let relabel = try #require(try Gen.journal(root).last)
    #expect(relabel["op"] as? String == "add")
    #expect(relabel["outcome"] as? String == "already-stored")
    #expect(relabel["label"] as? String == "second")
    #expect(try Self.label(root, key) == ("second", "label"))
    // On a switch, the switch line carries it (the release is current: an `add` line again).
    try Self.release(scratch.at("other"), "other")
    try Gen.ok(root, "switch", [scratch.at("other"), "--label", "o-1"])
    #expect(try Gen.journal(root).last?["label"] as? String == "o-1")
    try Gen.ok(root, "switch", [key, "--label", "third"])
    #expect(try Gen.journal(root).last?["op"] as? String == "switch")
    #expect(try Gen.journal(root).last?["labelFrom"] as? String == "label")
    try Gen.ok(root, "switch", [key, "--label", "fourth"])
    #expect(try Gen.journal(root).last?["outcome"] as? String == "already-stored")
    #expect(try Self.label(root, key) == ("fourth", "label"))
    // `show` of the generation says the same; `stored` stays the time the release was stored.
    let show = try Gen.ok(root, "show", ["1"]).stdoutText
    #expect(show.contains("label:       fourth (given with --label)\n"))
  }

  @Test("switch --release LABEL names the one stored release with that label; an unknown or shared label is one error line; a plain argument is never a label")
  func switchByLabel() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    for name in ["a", "b", "c"] { try Self.release(scratch.at(name), name) }
    let a = Self.addedKey(try Gen.ok(root, "add", [scratch.at("a"), "--label", "1.3.9"]))
    let b = Self.addedKey(try Gen.ok(root, "add", [scratch.at("b"), "--label", "1.3.10"]))
    _ = Self.addedKey(try Gen.ok(root, "add", [scratch.at("c"), "--label", "1.3.10"]))

    try Gen.ok(root, "switch", ["--release", "1.3.9"])
    #expect(Gen.currentKey(root) == a)

    let unknown = try Gen.run(root, "switch", ["--release", "2.0"])
    #expect(unknown.status == 1)
    #expect(Gen.isOneLineError(unknown.stderrText))
    #expect(unknown.stderrText.contains("no stored release is labelled '2.0'"))

    let shared = try Gen.run(root, "switch", ["--release", "1.3.10"])
    #expect(shared.status == 1)
    #expect(Gen.isOneLineError(shared.stderrText))
    #expect(shared.stderrText.contains("names 2 stored releases"))
    #expect(Gen.currentKey(root) == a)

    // Relabelling one of them makes the label unique again.
    try Gen.ok(root, "add", [scratch.at("c"), "--label", "1.3.10-rc"])
    try Gen.ok(root, "switch", ["--release", "1.3.10"])
    #expect(Gen.currentKey(root) == b)

    // Without --release, `1.3.9` is a path (here a missing one), not a label.
    let plain = try Gen.run(root, "switch", ["1.3.9"])
    #expect(plain.status == 1)
    #expect(Gen.currentKey(root) == b)
    #expect(!plain.stderrText.contains("label"))

    let both = try Gen.run(root, "switch", ["--release", "1.3.9", scratch.at("a")])
    #expect(both.status == 64)
    #expect(Gen.currentKey(root) == b)
  }

  @Test("a hostile --label is refused with one error line that does not echo it, and nothing is created or journaled", arguments: [
    "1.0\u{202E}lmth.exe", "a\u{1B}[2Jb", "line\nbreak", "", " padded", String(repeating: "x", count: 129), "zero\u{200B}width",
  ])
  func hostileLabelRefused(label: String) throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Self.release(scratch.at("rel"), "rel")
    for (command, rest) in [("add", [scratch.at("rel")]), ("switch", [scratch.at("rel")])] {
      let out = try Gen.run(root, command, rest + ["--label", label])
      #expect(out.status == 1, "\(command)")
      #expect(Gen.isOneLineError(out.stderrText), "\(command): \(out.stderrText)")
      #expect(out.stderrText.contains("the label is not usable"))
      #expect(!out.stderrText.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || $0 == "\u{202E}" || $0 == "\u{200B}" })
      #expect(!FileManager.default.fileExists(atPath: root), "\(command) created the root")
    }
  }

  @Test("a label written into the journal by hand that is not printable is never shown")
  func hostileJournalLabelIgnored() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Self.release(scratch.at("rel"), "rel")
    try Gen.ok(root, "switch", [scratch.at("rel"), "--label", "ok-1"])
    let key = try #require(Gen.currentKey(root))
    let unsealed = #"{"time":"2026-11-25T12:00:00Z","pid":1,"user":"root","command":"x","op":"add","from":null,"to":null,"key":""#
      + key + #"","outcome":"ok","label":"evil\u202e\u001b[31m","labelFrom":"label"}"# + "\n"
    let line = JournalSeal.seal(unsealed)
    let handle = try #require(FileHandle(forWritingAtPath: root + "/journal.jsonl"))
    handle.seekToEndOfFile()
    handle.write(Data(line.utf8))
    handle.closeFile()
    let list = try Gen.ok(root, "list")
    #expect(list.stdoutText.contains("ok-1"))
    #expect(!list.stdoutText.contains("evil"))
    #expect(try Self.label(root, key) == ("ok-1", "label"))
  }

  @Test("list, status and show print the label (show says where it came from); list has no LABEL column while nothing is labelled")
  func listStatusShow() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    try Self.release(scratch.at("plain"), "plain")
    try Gen.ok(root, "switch", [scratch.at("plain")])
    #expect(try Gen.ok(root, "list").stdoutText.hasPrefix("    GEN  KEY           CREATED               SOURCE\n"))
    #expect(!(try Gen.ok(root, "status").stdoutText.contains("label:")))

    try Self.release(scratch.at("py"), "py", ["pyproject.toml": "[project]\nversion = \"1.3.11\"\n"])
    try Gen.ok(root, "switch", [scratch.at("py")])
    let key = try #require(Gen.currentKey(root))

    let list = try Gen.ok(root, "list").stdoutText.split(separator: "\n").map(String.init)
    #expect(list.first == "    GEN  KEY           LABEL   CREATED               SOURCE")
    #expect(list.count == 3)
    #expect(list[1].contains("  -       2"), "\(list[1])")  // no label: a dash, the column kept
    #expect(list[2].contains("\(key.prefix(12))  1.3.11  2"), "\(list[2])")
    // Each heading starts in its column: KEY over the key, LABEL over the label.
    let header = Array(list[0].utf8), row = Array(list[2].utf8)
    func column(_ text: String, in line: [UInt8]) -> Int? {
      let t = Array(text.utf8)
      return line.indices.first { line[$0...].starts(with: t) }
    }
    #expect(column("KEY", in: header) == column(String(key.prefix(12)), in: row))
    #expect(column("LABEL", in: header) == column("1.3.11", in: row))
    let rows = try #require(try Gen.json(try Gen.ok(root, "list", ["--json"])) as? [[String: Any]])
    #expect(rows.map { $0["label"] as? String } == [nil, "1.3.11"])
    #expect(rows[0].keys.contains("label"))

    let status = try Gen.ok(root, "status").stdoutText
    #expect(status.contains("key:        \(key)\nlabel:      1.3.11\n"))
    let statusJSON = try #require(try Gen.json(try Gen.ok(root, "status", ["--json"])) as? [String: Any])
    #expect(statusJSON["label"] as? String == "1.3.11")

    let show = try Gen.ok(root, "show", ["2"]).stdoutText
    #expect(show.contains("label:       1.3.11 (from pyproject.toml)\n"))
    #expect(try Gen.ok(root, "show", ["1"]).stdoutText.contains("label:       -\n"))
    let showJSON = try #require(try Gen.json(try Gen.ok(root, "show", ["2", "--json"])) as? [String: Any])
    #expect(showJSON["label"] as? String == "1.3.11")
    #expect(showJSON["labelFrom"] as? String == "pyproject.toml")
  }
}

@Suite("version labels from git", .enabled(if: GitFixture.git != nil, "git is not installed (scripts/deps.sh installs it)"))
struct GitLabelTests {
  @Test("add --git and switch --git label the release with the tag REF names; a branch gives none; --label overrides the tag")
  func gitTag() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let repo = scratch.at("repo")
    try GitFixture.make(at: repo)

    let v1 = LabelEndToEndTests.addedKey(try Gen.ok(root, "add", ["--git", repo, "v1"]))
    #expect(try LabelEndToEndTests.label(root, v1) == ("v1", "git tag"))
    let line = try #require(try Gen.journal(root).last)
    #expect(line["label"] as? String == "v1")
    #expect(line["labelFrom"] as? String == "git tag")

    // main is v2's commit, named by a branch: no tag, and the fixture has no top-level VERSION.
    try Gen.ok(root, "switch", ["--git", repo, "main"])
    let v2 = try #require(Gen.currentKey(root))
    #expect(try LabelEndToEndTests.label(root, v2) == (nil, nil))
    // The tag given later labels it (`refs/tags/...` names the same tag).
    try Gen.ok(root, "add", ["--git", repo, "refs/tags/v2"])
    #expect(try LabelEndToEndTests.label(root, v2) == ("v2", "git tag"))

    try Gen.ok(root, "switch", ["--git", repo, "v1", "--label", "1.0.0"])
    #expect(try LabelEndToEndTests.label(root, v1) == ("1.0.0", "label"))
    try Gen.ok(root, "switch", ["--release", "v2"])
    #expect(Gen.currentKey(root) == v2)
  }
}
