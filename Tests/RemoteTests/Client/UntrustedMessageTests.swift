import MCPGenKit
import MCPGenRemote
import Testing

/// A refusal quotes what it refuses, and those bytes come from the server before any signature
/// was checked: they must not break the one error line nor reach the terminal as controls.
/// (Found by MetadataFuzzTests: a `_type` or `spec_version` holding "\n" or DEL went out raw.)
@Suite("Refusals of hostile metadata stay one safe line")
struct UntrustedMessageTests {
  static func metadata(type: String, specVersion: String = "1.0.31") -> [UInt8] {
    let signed: JSON = .object([
      ("_type", .string(type)), ("expires", .string("2030-01-01T00:00:00Z")), ("meta", .object([])),
      ("spec_version", .string(specVersion)), ("version", .int(1)),
    ])
    return JSON.object([("signatures", .array([])), ("signed", signed)]).serialized()
  }

  static func refusal(_ bytes: [UInt8]) -> MCPGenError? {
    failure { () throws(MCPGenError) in _ = try TUFTimestamp(parsing: bytes, file: "timestamp.json") }
  }

  @Test("an unexpected _type with a line break and terminal escapes is quoted escaped")
  func typeWithControls() throws {
    let e = try #require(UntrustedMessageTests.refusal(UntrustedMessageTests.metadata(type: "x\u{1B}]0;owned\u{7}\nerror: fake\u{7F}")))
    #expect(e.code == .untrusted)
    #expect(isOneSafeLine(e.message), "\(e.message.debugDescription)")
    #expect(e.message.contains(#"x\x1b]0;owned\x07\nerror: fake\x7f"#))
  }

  @Test("a spec_version with a right-to-left override and a line separator is quoted escaped")
  func specVersionWithFormatting() throws {
    let e = try #require(UntrustedMessageTests.refusal(UntrustedMessageTests.metadata(type: "timestamp", specVersion: "1.\u{202E}0\u{2028}")))
    #expect(e.code == .untrusted)
    #expect(isOneSafeLine(e.message), "\(e.message.debugDescription)")
  }
}
