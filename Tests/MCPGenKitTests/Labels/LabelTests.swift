@testable import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// Version labels: what counts as one, where they are found, and how the journal keeps them.
@Suite("version labels")
struct LabelTests {
  // MARK: pyproject.toml

  static let pyprojects: [(String, String?)] = [
    ("[project]\nname = \"mcp\"\nversion = \"1.3.11\"\n", "1.3.11"),
    ("[project]\r\nversion='2.0'  # literal string, CRLF\r\n", "2.0"),
    ("[ project ]\n  version   =   \"3.0rc1\"   # comment\n", "3.0rc1"),
    // Another table's version, before and after: only [project] counts.
    ("[tool.poetry]\nversion = \"9.9\"\n[project]\nversion = \"1.0\"\n[tool.x]\nversion = \"8.8\"\n", "1.0"),
    ("[tool.poetry]\nversion = \"9.9\"\n", nil),
    ("version = \"0.1\"\n[project]\nname = \"x\"\n", nil),
    // Forms the exact reader does not take: nil, never a wrong label.
    ("[project]\ndynamic = [\"version\"]\n", nil),
    ("[project]\nversion = \"1.\\u0030\"\n", nil),
    ("[project]\nversion = \"\"\"1.0\"\"\"\n", nil),
    ("[project]\nversion = \"1.0\" trailing\n", nil),
    ("[project]\nversion_info = \"1.0\"\n", nil),
    // A `version = ` line inside a multi-line string is not the key.
    ("[project]\ndescription = \"\"\"\nversion = \"6.6\"\n\"\"\"\nversion = \"1.1\"\n", "1.1"),
    // `[[array]]` tables and array lines are not [project].
    ("[project]\n[[project.authors]]\nversion = \"5.5\"\n", nil),
    ("[project]\nclassifiers = [\n  [\"a\"],\n]\nversion = \"4.4\"\n", "4.4"),
  ]

  @Test("[project] version is read exactly, and only in that one form", arguments: pyprojects)
  func pyprojectVersion(text: String, expected: String?) {
    #expect(PyprojectVersion.find(in: Array(text.utf8)) == expected)
  }

  // MARK: What a label may be

  static let hostile: [String] = [
    "", " 1.0", "1.0 ", "1.0\n", "a\u{1B}[31m", "1.0\u{202E}", "\u{200B}1.0", "1.0\u{2028}x", "x\u{E000}",
    "bad\u{FFFD}utf8", String(repeating: "9", count: 129), "\u{7F}",
  ]

  @Test("control, format and invisible characters, white space at the ends, empty and over 128 bytes are refused", arguments: hostile)
  func hostileLabelRefused(text: String) throws {
    let error = try #require(throws: MCPGenError.self) { try ReleaseLabel(given: text) }
    #expect(error.code == .invalidInput)
    #expect(!error.message.contains("\n"))
    #expect(!error.message.unicodeScalars.contains { $0.value < 0x20 || $0 == "\u{202E}" }, "the refused text is not echoed")
    #expect(ReleaseLabel(text, origin: .versionFile) == nil)
  }

  @Test("printable labels, non-ASCII included, up to 128 bytes", arguments: ["1.3.11", "v2.0-rc.1+build.5", "release 7", "版本一", String(repeating: "é", count: 64)])
  func goodLabels(text: String) throws {
    #expect(try ReleaseLabel(given: text).text == text)
  }

  @Test("the message of a refused label")
  func refusedMessage() throws {
    let error = try #require(throws: MCPGenError.self) { try ReleaseLabel(given: "1.0\u{202E}") }
    #expect(error.message == "the label is not usable: it contains the control or invisible character U+202E; give at most 128 bytes of printable text")
  }

  // MARK: The journal

  static let key = StoreKey(String(repeating: "ab", count: 32))!

  static func line(_ op: String, label: String, from: String, outcome: String = "ok", escaped: Bool = false) -> String {
    let text = escaped ? label.replacingOccurrences(of: "\"", with: "\\\"") : label
    return #"{"time":"2026-11-25T12:00:00Z","pid":1,"user":"root","command":"mcp-gen","op":""# + op
      + #"","from":null,"to":null,"key":""# + key.hex + #"","source":"/srv/r","outcome":""# + outcome
      + #"","label":""# + text + #"","labelFrom":""# + from + #""}"#
  }

  @Test("a line with label and labelFrom, as written or with escapes, reads back with both in extra")
  func journalFields() throws {
    for text in [Self.line("add", label: "1.3.11", from: "pyproject.toml"), Self.line("add", label: "say \"hi\"", from: "label", escaped: true),
                 Self.line("switch", label: "版本", from: "git tag", outcome: "rolled-back")] {
      let bytes = Array(text.utf8)
      let direct = try #require(JournalRecord(line: bytes, 0..<bytes.count))
      #expect(direct.extra.map(\.0) == ["label", "labelFrom"])
      let again = direct.line()
      #expect(JournalRecord(line: again, 0..<again.count) == direct)
    }
    let written = Array(Self.line("add", label: "1.3.11", from: "VERSION").utf8)
    let read = JournalRecord(line: written, 0..<written.count)
    #expect(read.flatMap { ReleaseLabel(journaled: $0) } == ReleaseLabel("1.3.11", origin: .versionFile))
  }

  @Test("the label a record carries: add and switch lines only, a known origin, unusable text skipped")
  func labelOfRecord() throws {
    func record(_ text: String) throws -> JournalRecord {
      let bytes = Array(text.utf8)
      return try #require(JournalRecord(line: bytes, 0..<bytes.count))
    }
    #expect(ReleaseLabel(journaled: try record(Self.line("add", label: "1.0", from: "label"))) == ReleaseLabel("1.0", origin: .label))
    #expect(ReleaseLabel(journaled: try record(Self.line("pin", label: "1.0", from: "label"))) == nil)
    #expect(ReleaseLabel(journaled: try record(Self.line("add", label: "1.0", from: "guess"))) == nil)
    #expect(ReleaseLabel(journaled: try record(Self.line("add", label: "a\\u202eb", from: "label"))) == nil)
    #expect(ReleaseLabel(journaled: try record(Self.line("add", label: "a\\u001bb", from: "label"))) == nil)
  }

  @Test("replaying the journal, the newest label of a key wins, whatever the line's outcome")
  func latestWins() throws {
    var history = History(Journal())
    for (label, from, outcome) in [("1.0", "pyproject.toml", "ok"), ("2.0", "label", "already-stored"), ("v3", "git tag", "rolled-back")] {
      let bytes = Array(Self.line(label == "1.0" ? "add" : "switch", label: label, from: from, outcome: outcome).utf8)
      history.apply(try #require(JournalRecord(line: bytes, 0..<bytes.count)))
      #expect(history.labels[Self.key]?.text == label)
      #expect(history.labels[Self.key]?.origin.rawValue == from)
    }
  }
}
