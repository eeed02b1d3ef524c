@testable import MCPGenKit
import MCPGenSystem
import Testing

@Suite("Reading the journal")
struct JournalParseTests {
  static let lines: [String] = [
    #"{"time":"2026-11-25T12:00:00Z","pid":1,"user":"root","command":"mcp-gen switch","op":"switch","from":null,"to":2,"key":null,"source":"/srv/r2","outcome":"ok"}"#,
    #"{"time":"2026-11-25T12:00:01Z","pid":7,"user":"u","command":"mcp-gen rollback","op":"rollback","from":2,"to":1,"key":null,"outcome":"ok","undo":true}"#,
    #"{"time":"2026-11-25T12:00:02Z","pid":7,"user":"u","command":"x","op":"switch","from":1,"to":3,"key":null,"outcome":"check-failed","checks":[{"command":"mcp check","status":1,"output":"bad\n"}],"message":"m"}"#,
    // Escapes, a non-UTF-8 byte (surrogateescape), spaces around tokens, a repeated known name.
    #" { "time" : "2026-11-25T12:00:03Z" , "pid" : 9 , "user":"a\"b","command":"c\\d \udcff","op":"add","outcome":"ok","pid":10 } "#,
    #"{"time":"2026-11-25T12:00:04Z","pid":1,"command":"c","op":"gc","outcome":"ok","note":"n","note":"m"}"#,
    // Not records: torn, missing fields, bad time, not an object, trailing garbage.
    #"{"time":"2026-11-25T12:00:05Z","pid":1,"command":"c","op":"sw"#,
    #"{"time":"2026-11-25T12:00:05Z","pid":1,"command":"c","outcome":"ok"}"#,
    #"{"time":"2026-13-25T12:00:05Z","pid":1,"command":"c","op":"add","outcome":"ok"}"#,
    #"[1,2]"#,
    #"{"time":"2026-11-25T12:00:05Z","pid":1,"command":"c","op":"add","outcome":"ok"} x"#,
    #"{"time":"2026-11-25T12:00:05Z","pid":-99999999999999999999,"command":"c","op":"add","outcome":"ok"}"#,
  ]

  @Test("the first five lines are records (escapes, spaces, repeats: the first counts), the others are not", arguments: 0..<lines.count)
  func readsLine(index: Int) {
    let bytes = Array(JournalParseTests.lines[index].utf8)
    let record = JournalRecord(line: bytes, 0..<bytes.count)
    #expect((record != nil) == (index < 5))
    switch index {
    case 0: #expect(record?.source == Array("/srv/r2".utf8) && record?.to == 2 && record?.from == nil)
    case 1: #expect(record?.undo == true && record?.operation == .rollback)
    case 2: #expect(record?.extra.map(\.0) == ["checks", "message"])
    case 3:
      #expect(record?.pid == 9 && record?.user == "a\"b")
      #expect(record?.command == Array("c\\d ".utf8) + [0xFF])
    case 4: #expect(record?.extra.map(\.0) == ["note", "note"] && record?.user == "")
    default: break
    }
  }

  @Test("a long journal read in parts (forEachPart): same records, raw lines and damage line numbers as read whole")
  func partsMatchWhole() throws {
    var text: [UInt8] = []
    for n in 0..<12_000 {
      let line = Array(JournalParseTests.lines[n % JournalParseTests.lines.count].utf8)
      // The second half sealed, as lines are since issue 19; every 7th line not, which is then
      // damage, whichever part it falls in.
      if n >= 6_000 && n % 7 != 0, line.first == UInt8(ascii: "{"), line.last == UInt8(ascii: "}") {
        text += JournalLineSeal.seal(line) + [0x0A]
      } else {
        text += line + [0x0A]
      }
    }
    text += Array(#"{"time":"2026-11-25T12:00:06Z","pid":1,"#.utf8)  // torn last line
    let whole = Journal.parse(text)
    #expect(whole.sealed && whole.damage.count > 12_000 / JournalParseTests.lines.count * 6)
    let dir = try TestDirectory()
    defer { dir.remove() }
    try dir.writeFile("journal.jsonl", text)
    let file = try DirectoryFD.open(dir.path).openFile(Journal.name, flags: OpenFlags.readOnly)
    var parts = 0
    var records: [JournalRecord] = [], raw: [JSON] = [], damage: [Journal.Damage] = []
    try Journal.forEachPart(file, from: 0, partSize: 64 << 10) { part in
      parts += 1
      records += part.records
      raw += part.raw
      damage += part.damage
    }
    #expect(parts > 10)
    #expect(records == whole.records)
    #expect(raw == whole.raw)
    #expect(damage == whole.damage)
    #expect(damage.last == Journal.Damage(line: 12_001, torn: true))
  }

  @Test("every beginning of a record is told apart from a corrupted line", arguments: lines.prefix(5))
  func cutShortPrefixes(line: String) {
    let bytes = Array(line.utf8)
    let start = bytes.firstIndex(of: UInt8(ascii: "{"))!
    for end in (start + 1)..<bytes.count where !bytes[end...].allSatisfy({ $0 == 0x20 }) {
      #expect(JSON.isObjectCutShort(bytes, range: start..<end), "\(String(decoding: bytes[start..<end], as: UTF8.self))")
    }
    #expect(!JSON.isObjectCutShort(bytes, range: start..<bytes.count))
    // One byte changed before the end is corruption, not a cut: the parse fails where it is.
    var changed = bytes
    changed[start + 3] = 0x01
    #expect(!JSON.isObjectCutShort(changed, range: start..<(bytes.count - 3)))
  }

  @Test("a line that is not a record's beginning is damage, not a torn write", arguments: lines.suffix(5))
  func notCutShort(line: String) {
    let text = Array((line + "\n" + JournalParseTests.lines[0] + "\n").utf8)
    let journal = Journal.parse(text)
    #expect(journal.damage == [Journal.Damage(line: 1, torn: false)])
    #expect(journal.records.count == 1)
  }

  @Test("a torn line sealed off by the next append is still reported as torn, and the append is read")
  func sealedTornLine() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let torn = JournalParseTests.lines[1].utf8.prefix(70)
    try dir.writeFile("journal.jsonl", Array((JournalParseTests.lines[0] + "\n").utf8) + torn)
    let root = try DirectoryFD.open(dir.path)
    let record = JournalRecord(pid: 3, user: "u", command: Array("mcp-gen switch".utf8), operation: .switch, from: 1, to: 2)
    try Journal.append(record, in: root)
    let journal = try Journal.read(in: root)
    #expect(journal.damage == [Journal.Damage(line: 2, torn: true)])
    #expect(journal.records.count == 2)
    #expect(journal.records.last == record)
  }

  /// Records as commands write them: escapes, extra fields, long numbers.
  static let written: [(record: JournalRecord, asWritten: Bool)] = {
    let key = StoreKey(SHA256.hash(Array("a".utf8)))
    let base = JournalRecord(
      time: 1_764_072_000, pid: 4242, user: "root", command: Array("mcp-gen switch /srv/r".utf8), operation: .switch,
      from: 3, to: 4, key: key, source: Array("/srv/r".utf8))
    var out: [(JournalRecord, Bool)] = [(base, true)]
    var r = base
    r.from = nil; r.key = nil; r.source = nil
    out.append((r, true))
    r = base
    r.operation = .rollback; r.undo = true; r.outcome = "restored"; r.pid = -1
    out.append((r, true))
    r = base
    r.user = "a very long user name, longer than fifteen bytes"
    r.pid = 999_999_999_999_999_999
    r.to = Generation.maximum
    out.append((r, true))
    r = base
    r.pid = 1_000_000_000_000_000_000  // 19 digits
    out.append((r, false))
    r = base
    r.command = Array("say \"hi\"\n".utf8)
    out.append((r, false))
    r = base
    r.source = [0x2F, 0xFF, 0xC3, 0xA9]  // a non-UTF-8 byte is written as an escape
    out.append((r, false))
    r = base
    r.source = Array("/srv/caf\u{e9}".utf8)
    out.append((r, true))
    r = base
    r.outcome = "check-failed"
    r.extra = [("checks", .array([.object([("command", .string(Array("mcp check".utf8))), ("status", .int(1))])])), ("current", .int(3))]
    out.append((r, false))
    return out
  }()

  @Test("a line as written reads back to the same record, sealed or not; cut short or with a byte changed, a sealed one is no record", arguments: 0..<written.count)
  func asWritten(index: Int) {
    let record = JournalParseTests.written[index].record
    let unsealed = record.json.serialized()
    #expect(JournalRecord(line: unsealed, 0..<unsealed.count) == record)
    let bytes = record.line()
    #expect(JournalRecord(line: bytes, 0..<bytes.count) == record)
    #expect(JournalRecord(line: bytes, 0..<bytes.count, sealed: true) == record)
    #expect(JournalRecord(line: unsealed, 0..<unsealed.count, sealed: true) == nil)
    for end in stride(from: 0, to: bytes.count, by: 7) {
      let cut = Array(bytes[..<end])
      #expect(JournalRecord(line: cut, 0..<cut.count, sealed: true) == nil)
      var changed = bytes
      changed[end] = changed[end] == 0x2C ? 0x20 : 0x2C
      #expect(JournalRecord(line: changed, 0..<changed.count) == nil)
    }
  }
}
