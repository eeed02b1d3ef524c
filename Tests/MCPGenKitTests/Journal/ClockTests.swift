#if canImport(Glibc)
import Glibc
#endif
@testable import MCPGenKit
import MCPGenSystem
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

  @Test("the calendar arithmetic agrees with gmtime_r, before 1970 and across leap days and centuries")
  func agreesWithLibc() {
    var t: Int64 = -62_167_219_200  // 0000-01-01T00:00:00Z
    while t < 253_402_300_800 {  // to the end of 9999, every ~3.7 days at a varying second
      var time = time_t(t)
      var parts = tm()
      gmtime_r(&time, &parts)
      func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
      let year = String(parts.tm_year + 1900)
      let expected = String(repeating: "0", count: 4 - year.count) + year + "-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
        + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
      #expect(Clock.format(t) == expected)
      t += 321_987
    }
    #expect(Clock.format(-1) == "1969-12-31T23:59:59Z")
    #expect(Clock.format(-86_400) == "1969-12-31T00:00:00Z")
    #expect(Clock.format(4_107_542_400) == "2100-03-01T00:00:00Z")
  }
}
