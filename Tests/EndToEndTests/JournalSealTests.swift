import Foundation
import Testing

/// The journal's line checksum end to end (store-layout.md section 6): damage to a new line is
/// reported by `audit` (exit 2) and read as data by no command.
@Suite("journal line checksums")
struct JournalSealTests {
  /// Where to flip a bit of the last line: in its data, in its checksum's key and in its digits.
  enum Spot: String, CaseIterable, CustomTestStringConvertible {
    case toNumber = "the `to` generation number", key = "the checksum's key (\"crc\" -> \"crb\")",
         digit = "a digit of the checksum", quote = "the quote that ends the checksum"
    var testDescription: String { rawValue }
  }

  static func root(_ scratch: Scratch) throws -> String {
    let root = scratch.at("root")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.1")])
    return root
  }

  @Test("a flipped bit in a new line: audit names the line and exits 2; list, status and rollback do not read it", arguments: Spot.allCases)
  func flippedBit(_ spot: Spot) throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.root(scratch)
    let path = root + "/journal.jsonl"
    var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    let lines = bytes.split(separator: 0x0A)
    #expect(lines.count == 2 && lines.allSatisfy { JournalSeal.hasSeal($0) })
    let last = try #require(lines.last)
    let at: Int
    switch spot {
    case .toNumber:
      let needle = Array(#""to":2"#.utf8)
      at = try #require(last.indices.first { last[$0...].starts(with: needle) }) + needle.count - 1
    case .key: at = last.endIndex - 14  // the last "c" of "crc"
    case .digit: at = last.endIndex - 5
    case .quote: at = last.endIndex - 2
    }
    let before = bytes[at]
    bytes[at] ^= 0x01
    #expect(bytes[at] != before)
    try Data(bytes).write(to: URL(fileURLWithPath: path))

    let audit = try Gen.run(root, "audit")
    #expect(audit.status == 2, "\(audit.stdoutText)")
    #expect(audit.stdoutText.contains("error: journal \(path): line 2 is not a journal record"), "\(audit.stdoutText)")
    let list = try Gen.ok(root, "list")
    #expect(!list.stdoutText.contains("mcp-1.1"), "the damaged line's source was read: \(list.stdoutText)")
    let status = try Gen.run(root, "status")
    #expect(status.status == 0, "\(status.stdoutText) \(status.stderrText)")
  }

  @Test("a line without a checksum after one with it is damage (audit exits 2); the same line with one is a record")
  func oldAfterNew() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.root(scratch)
    let url = URL(fileURLWithPath: root + "/journal.jsonl")
    let original = Array(try Data(contentsOf: url))
    let old = #"{"time":"2026-01-01T00:00:00Z","pid":1,"user":"root","command":"mcp-gen test","op":"audit","from":null,"to":null,"key":null,"outcome":"ok"}"#
    try Data(original + Array((old + "\n").utf8)).write(to: url)
    let audit = try Gen.run(root, "audit")
    #expect(audit.status == 2 && audit.stdoutText.contains("line 3 is not a journal record"), "\(audit.stdoutText)")
    try Data(original + Array(JournalSeal.seal(old + "\n").utf8)).write(to: url)
    let again = try Gen.run(root, "audit")
    #expect(again.status == 0, "\(again.stdoutText)")
  }
}
