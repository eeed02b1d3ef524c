@testable import MCPGenKit
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

  @Test("the direct line reader gives what the general JSON parser gives", arguments: lines)
  func sameAsGeneralParser(line: String) {
    let bytes = Array(line.utf8)
    let general = (try? JSON(parsing: bytes, range: 0..<bytes.count)).flatMap { JournalRecord(json: $0) }
    let direct = JournalRecord(line: bytes, 0..<bytes.count)
    #expect(direct == general)
    #expect((direct == nil) == (general == nil))
  }

  @Test("a long journal parsed in parts: same records, raw lines and damage line numbers as line by line")
  func partsMatchWhole() {
    var text: [UInt8] = []
    for n in 0..<12_000 {
      let line = JournalParseTests.lines[n % JournalParseTests.lines.count]
      text += Array(line.utf8) + [0x0A]
    }
    text += Array(#"{"time":"2026-11-25T12:00:06Z","pid":1,"#.utf8)  // torn last line
    #expect(text.count > 1 << 20)
    let whole = Journal.parse(text, 0..<text.count, firstLine: 1)
    let parts = Journal.parse(text)
    #expect(parts.records == whole.records)
    #expect(parts.raw == whole.raw)
    #expect(parts.damage == whole.damage)
    #expect(parts.damage.last == Journal.Damage(line: 12_001, torn: true))
    #expect(parts.damage.filter(\.torn).count == 1)
  }
}
