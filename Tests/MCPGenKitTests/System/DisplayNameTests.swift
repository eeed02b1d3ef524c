import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// `displayName`: how byte names appear in one-line messages and `hash --manifest`.
@Suite("Names shown to people")
struct DisplayNameTests {
  @Test(
    "control characters and backslashes are escaped",
    arguments: [
      (Array("a\nb".utf8), "a\\nb"),
      (Array("a\tb".utf8), "a\\tb"),
      (Array("a\rb".utf8), "a\\rb"),
      (Array("a\\b".utf8), "a\\\\b"),
      ([0x61, 0x1B, 0x5B, 0x33, 0x31, 0x6D], "a\\x1b[31m"),
      ([0x61, 0x7F], "a\\x7f"),
      ([0x01], "\\x01"),
      (Array("plain name.txt".utf8), "plain name.txt"),
      (Array("caf\u{E9}".utf8), "caf\u{E9}"),
    ] as [([UInt8], String)])
  func escapes(bytes: [UInt8], shown: String) {
    #expect(displayName(bytes) == shown)
    #expect(FilePath(bytes: bytes).displayString == shown)
  }

  @Test("no name, however hostile, breaks a line", arguments: HostileName.all)
  func oneLine(name: HostileName) {
    let shown = displayName(name.bytes)
    #expect(!shown.contains("\n"))
    #expect(!shown.contains("\r"))
  }

  @Test(
    "names differing only in invalid bytes are shown differently")
  func invalidBytesDistinguishable() {
    #expect(displayName([0x61, 0xFE, 0x62]) != displayName([0x61, 0xFF, 0x62]))
    #expect(displayName([0x61, 0xFF, 0x62]) == "a\\xffb")
  }

  @Test(
    "C1 control characters are escaped")
  func c1Escaped() {
    #expect(!displayName([0x63, 0xC2, 0x9B, 0x64]).unicodeScalars.contains("\u{9B}"))
  }
}

/// Invisible characters that change how a line reads: escaped byte by byte for people, as JSON
/// escapes of the same code point in JSON (store-layout.md section 12).
@Suite("Names that spoof the display")
struct HiddenFormattingTests {
  @Test(
    "bidirectional overrides, zero-width and other format characters, separators, C1 controls",
    arguments: [
      ("\u{202E}", "\\xe2\\x80\\xae", "\\u202e"), ("\u{202A}", "\\xe2\\x80\\xaa", "\\u202a"),
      ("\u{2066}", "\\xe2\\x81\\xa6", "\\u2066"), ("\u{2069}", "\\xe2\\x81\\xa9", "\\u2069"),
      ("\u{200B}", "\\xe2\\x80\\x8b", "\\u200b"), ("\u{200E}", "\\xe2\\x80\\x8e", "\\u200e"),
      ("\u{2028}", "\\xe2\\x80\\xa8", "\\u2028"), ("\u{2029}", "\\xe2\\x80\\xa9", "\\u2029"),
      ("\u{FEFF}", "\\xef\\xbb\\xbf", "\\ufeff"), ("\u{0085}", "\\xc2\\x85", "\\u0085"),
      ("\u{00AD}", "\\xc2\\xad", "\\u00ad"), ("\u{061C}", "\\xd8\\x9c", "\\u061c"),
      ("\u{E0041}", "\\xf3\\xa0\\x81\\x81", "\\udb40\\udc41"),
    ] as [(String, String, String)])
  func escaped(character: String, shown: String, json: String) throws {
    let name = Array("a\(character)b".utf8)
    #expect(displayName(name) == "a\(shown)b")
    let text = JSON.string(name).serialized()
    #expect(String(decoding: text, as: UTF8.self) == "\"a\(json)b\"")
    #expect(try JSON(parsing: text) == JSON.string(name))
  }

  @Test("visible non-ASCII text stays as it is", arguments: ["café", "日本語", "e\u{0301}", "emoji \u{1F600}", "\u{00A0}nbsp"])
  func visibleUnchanged(text: String) throws {
    #expect(displayName(Array(text.utf8)) == text)
    #expect(String(decoding: JSON.string(text).serialized(), as: UTF8.self) == "\"\(text)\"")
  }
}
