import MCPGenKit
import MCPGenSystem
import Testing

@Suite("Generation names")
struct GenerationNameTests {
  @Test(
    "decimal from 1 to 2^53-1, no sign, no leading zero",
    arguments: [
      ("1", Int64(1)), ("42", 42), ("10000", 10_000), ("9007199254740991", Generation.maximum),
    ])
  func accepted(name: String, number: Int64) {
    #expect(Generation.number(Array(name.utf8)) == number)
  }

  @Test(
    "anything else is not a generation",
    arguments: ["", "0", "007", "-1", "+1", "1a", "a1", " 1", "1 ", "1.0", "9007199254740992", "9223372036854775807", "9223372036854775808", "99999999999999999999", ".tmp-1"])
  func rejected(name: String) {
    #expect(Generation.number(Array(name.utf8)) == nil)
  }
}
