import MCPGenKit
import MCPGenSystem
import Testing

@Suite("Text appended as bytes")
struct ByteTextTests {
  @Test("decimal digits are those of String(n)", arguments: [0, 1, -1, 9, 10, 999, 1000, -1000, 1 << 53, Int64.max, Int64.min])
  func decimal(n: Int64) {
    var out: [UInt8] = [0x78]
    out.append(decimal: n)
    #expect(out == [0x78] + Array(String(n).utf8))
  }

  @Test("a literal's bytes, including UTF-8 beyond ASCII")
  func literal() {
    var out: [UInt8] = []
    out.append(text: #"{"k":"#)
    out.append(text: "é")
    #expect(out == Array(#"{"k":é"#.utf8))
  }
}
