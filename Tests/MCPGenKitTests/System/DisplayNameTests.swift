import MCPGenKit
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
