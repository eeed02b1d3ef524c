import MCPGenKit
import MCPGenSystem
import Testing

/// Strings are scanned eight bytes at a time: every byte value, at every position of a word and
/// across word boundaries, must come back exactly, and a raw control byte must fail.
@Suite("JSON strings")
struct JSONStringTests {
  @Test("every byte value at every offset round-trips")
  func everyByteEveryOffset() throws {
    for offset in 0..<17 {
      for byte in 0...255 {
        let text = [UInt8](repeating: UInt8(ascii: "x"), count: offset) + [UInt8(byte)] + Array("tail-of-the-string".utf8)
        let written = JSON.string(text).serialized()
        let back = try JSON(parsing: written, range: 0..<written.count)
        #expect(back.stringBytes == text, "byte \(byte) at offset \(offset)")
      }
    }
  }

  @Test("a raw control byte or a missing closing quote is an error")
  func rawControlByte() {
    for offset in 0..<20 {
      let body = [UInt8](repeating: UInt8(ascii: "a"), count: offset)
      for bad: UInt8 in [0x00, 0x0A, 0x1F] {
        let line = [UInt8(ascii: "\"")] + body + [bad] + Array("more\"".utf8)
        #expect(throws: JSONParseError.self) { try JSON(parsing: line, range: 0..<line.count) }
      }
      let open = [UInt8(ascii: "\"")] + body
      #expect(throws: JSONParseError.self) { try JSON(parsing: open, range: 0..<open.count) }
    }
  }

  @Test("every Int64 the writer writes reads back, Int64.min included; one past either end is an error (found by MetadataFuzzTests)")
  func integerBounds() throws {
    for n: Int64 in [0, 1, -1, 10, -10, Int64.max, Int64.min, Int64.max - 1, Int64.min + 1] {
      #expect(try JSON(parsing: JSON.int(n).serialized()) == .int(n))
    }
    #expect(throws: JSONParseError.self) { try JSON(parsing: Array("9223372036854775808".utf8)) }
    #expect(throws: JSONParseError.self) { try JSON(parsing: Array("-9223372036854775809".utf8)) }
    #expect(throws: JSONParseError.self) { try JSON(parsing: Array("-".utf8)) }
    #expect(try JSON(parsing: Array("-0".utf8)) == .int(0))
  }
}
