import Foundation
@testable import MCPGenKit
import MCPGenSystem
import Testing

@Suite("The journal codec: one table of fields, sealed lines")
struct JournalCodecTests {
  static let key = StoreKey(SHA256.hash(Array("codec".utf8)))

  /// A value of `kind` for a field of the table.
  static func sample(_ kind: JournalField.Kind) -> JSON {
    switch kind {
    case .time: .string("2026-11-25T12:00:00Z")
    case .integer: .int(42)
    case .text: .string("t\u{e9}xt \"q\"")
    case .bytes: .string([0x2F, 0xFF, 0x0A])
    case .operation: .string("switch")
    case .generation: .int(7)
    case .storeKey: .string(key.hex)
    case .flag: .bool(true)
    case .generations: .array([.int(1), .int(Generation.maximum)])
    case .checks: .array([.object([("role", .string("required")), ("generation", .int(3)), ("output", .string([0x01, 0x7F]))])])
    case .any: .array([.string(key.hex)])
    case .checksum: .null
    }
  }

  @Test("every field of the table round-trips through the one codec, written in the table's order")
  func everyFieldRoundTrips() throws {
    let extra = JournalField.all.filter { $0.slot == nil && $0.kind != .checksum }.map { ($0.text, Self.sample($0.kind)) }
    let record = JournalRecord(
      time: 1_764_072_000, pid: 4242, user: "r\u{f6}ot", command: [0x6D, 0xFF, 0x22, 0x5C], operation: .rollback,
      from: 3, to: Generation.maximum, key: Self.key, source: [0x2F, 0xC3, 0xA9, 0xFF], outcome: "rolled-back", undo: true,
      extra: extra)
    let line = record.line()
    let back = try #require(JournalRecord(line: line, 0..<line.count))
    #expect(back == record)
    #expect(back.time == record.time && back.pid == record.pid && back.user == record.user && back.command == record.command)
    #expect(back.operation == record.operation && back.from == record.from && back.to == record.to && back.key == record.key)
    #expect(back.source == record.source && back.outcome == record.outcome && back.undo && back.extra.count == extra.count)
    // The names as written: the table's order, every field once, `crc` last.
    guard case .object(let members) = try JSON(parsing: line, range: 0..<line.count) else {
      Issue.record("not an object")
      return
    }
    #expect(members.map(\.0) == JournalField.all.map(\.text))
    // Fields that are always written are written as null when there is none; optional ones not at all.
    let bare = JournalRecord(time: 0, pid: 1, user: "", command: [], operation: .pin)
    let bareLine = bare.line()
    guard case .object(let few) = try JSON(parsing: bareLine, range: 0..<bareLine.count) else { return }
    #expect(few.map(\.0) == JournalField.all.filter { $0.presence != .optional }.map(\.text))
    #expect(JournalRecord(line: bareLine, 0..<bareLine.count) == bare)
  }

  @Test("a required field missing makes the line no record", arguments: JournalField.all.filter { $0.presence == .required })
  func requiredFields(_ field: JournalField) throws {
    let record = JournalRecord(time: 0, pid: 1, user: "u", command: [0x63], operation: .add)
    guard case .object(let members) = record.json else { return }
    let without = JSON.object(members.filter { $0.0 != field.text }).serialized()
    #expect(JournalRecord(line: without, 0..<without.count) == nil)
    let sealed = JournalLineSeal.seal(without)
    #expect(JournalRecord(line: sealed, 0..<sealed.count) == nil)
  }

  @Test("store-layout.md section 6 names exactly the fields of the table")
  func documented() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    let text = try String(contentsOf: root.appendingPathComponent("store-layout.md"), encoding: .utf8)
    let start = try #require(text.range(of: "## 6. The journal"))
    let end = try #require(text.range(of: "## 7.", range: start.upperBound..<text.endIndex))
    var names: [String] = []
    for line in text[start.upperBound..<end.lowerBound].split(separator: "\n") where line.hasPrefix("| `") {
      let cell = line.dropFirst(2).prefix { $0 != "|" }
      names += cell.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "`")) }
    }
    #expect(names == JournalField.all.map(\.text))
  }

  @Test("CRC-32C is the Castagnoli CRC (check value of 123456789)")
  func checkValue() {
    let bytes = Array("123456789".utf8)
    #expect(bytes.withUnsafeBufferPointer { JournalLineSeal.crc32c($0) } == 0xE306_9283)
  }

  static let old = Array(#"{"time":"2026-11-25T12:00:00Z","pid":1,"user":"root","command":"mcp-gen switch","op":"switch","from":null,"to":1,"key":null,"outcome":"ok"}"#.utf8)
  static func new(_ to: Int64, from: Int64? = 1) -> [UInt8] {
    JournalRecord(time: 1_764_072_000, pid: 7, user: "root", command: Array("mcp-gen switch /srv/r".utf8), operation: .switch,
                  from: from, to: to, key: key, source: Array("/srv/r".utf8), extra: [("label", .string("1.0")), ("labelFrom", .string("label"))]).line()
  }

  @Test("a flipped bit anywhere in a sealed line (key and digits of the seal too) makes it damage, not torn, the first sealed line too")
  func everyFlippedBit() {
    let line = Self.new(2)
    for first in [true, false] {
      for k in line.indices {
        for bit in 0..<8 {
          var bad = line
          bad[k] ^= 1 << bit
          // The first sealed line of the journal (after an old one), or one after a sealed one.
          let before = first ? Self.old : Self.new(1, from: nil)
          let journal = Journal.parse(before + [0x0A] + bad + [0x0A] + Self.new(3, from: 2) + [0x0A])
          #expect(journal.records.count == 2, "byte \(k) bit \(bit)")
          #expect(!journal.damage.isEmpty && journal.damage.contains { !$0.torn }, "byte \(k) bit \(bit): \(journal.damage)")
          #expect(journal.records.allSatisfy { $0.to != 2 }, "byte \(k) bit \(bit)")
        }
      }
    }
  }

  @Test("old lines read before the first sealed one; an old line after a sealed one is damage")
  func oldAfterNew() {
    let journal = Journal.parse(Self.old + [0x0A] + Self.old + [0x0A] + Self.new(2) + [0x0A] + Self.old + [0x0A] + Self.new(3, from: 2) + [0x0A])
    #expect(journal.records.map(\.to) == [1, 1, 2, 3])
    #expect(journal.damage == [Journal.Damage(line: 4, torn: false)])
    #expect(journal.sealed)
    // A sealed line whose seal is wrong still starts the checked part.
    var wrong = Self.new(2)
    wrong[wrong.count - 3] = wrong[wrong.count - 3] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
    let after = Journal.parse(wrong + [0x0A] + Self.old + [0x0A])
    #expect(after.records.isEmpty && after.damage.count == 2)
    // A journal of old lines only reads as before; a tail known to follow a sealed line checks them all.
    let oldOnly = Journal.parse(Self.old + [0x0A] + Self.old + [0x0A])
    #expect(oldOnly.records.count == 2 && oldOnly.damage.isEmpty && !oldOnly.sealed)
    let tail = Journal.parse(Self.old + [0x0A] + Self.new(2) + [0x0A], sealed: true)
    #expect(tail.records.map(\.to) == [2] && tail.damage == [Journal.Damage(line: 1, torn: false)] && tail.sealed)
  }

  @Test("a crc that is not the seal is damage; a line of old fields is not taken for a sealed one")
  func crcElsewhere() {
    let inside = Array(#"{"time":"2026-11-25T12:00:00Z","pid":1,"command":"c","op":"add","crc":"00000000","outcome":"ok"}"#.utf8)
    #expect(JournalRecord(line: inside, 0..<inside.count) == nil)
    var twice = Self.new(2)
    twice.removeLast(JournalLineSeal.length)
    twice += Array(#","crc":"00000000"}"#.utf8)
    let resealed = JournalLineSeal.seal(twice)
    #expect(JournalRecord(line: resealed, 0..<resealed.count) == nil)
  }

  @Test("appending to a journal of old lines seals the new one; the journal then reads whole")
  func appendAfterOld() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try dir.writeFile("journal.jsonl", Self.old + [0x0A] + Self.old + [0x0A])
    let root = try DirectoryFD.open(dir.path)
    let record = JournalRecord(pid: 3, user: "u", command: Array("mcp-gen switch".utf8), operation: .switch, from: 1, to: 2)
    try Journal.append(record, in: root)
    let journal = try Journal.read(in: root)
    #expect(journal.records.count == 3 && journal.damage.isEmpty && journal.sealed)
    #expect(journal.records.last == record)
    #expect(journal.raw.last?["crc"] == nil, "log --json shows no seal")
  }
}
