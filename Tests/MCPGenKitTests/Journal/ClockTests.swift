@testable import MCPGenKit
import Testing

@Suite("Journal times")
struct ClockTests {
  @Test("times are written as UTC RFC 3339 and read back to the same second")
  func formatAndParse() {
    #expect(Clock.format(0) == "1970-01-01T00:00:00Z")
    #expect(Clock.format(1_795_656_245) == "2026-11-26T01:24:05Z")
    #expect(Clock.format(951_782_400) == "2000-02-29T00:00:00Z")
    #expect(Clock.format(253_402_300_799) == "9999-12-31T23:59:59Z")
    #expect(Clock.format(253_402_300_800) == "10000-01-01T00:00:00Z")
    var t: Int64 = 0
    while t < 4_102_444_800 {  // to 2100, about every 11 days at an odd second
      let text = Clock.format(t)
      #expect(text.utf8.count == 20)
      #expect(Clock.parse(bytes: Array(text.utf8)[...]) == t, "\(text)")
      t += 987_654
    }
  }
}
