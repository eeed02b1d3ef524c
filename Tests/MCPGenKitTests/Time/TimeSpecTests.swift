@testable import MCPGenKit
import MCPGenSystem
import Testing

@Suite("Times and durations as typed (log --since, gc --older-than)")
struct TimeSpecTests {
  @Test("a number and one unit", arguments: [
    ("45s", 45), ("90m", 5400), ("12h", 43200), ("30d", 2_592_000), ("2w", 1_209_600), ("0d", 0),
  ] as [(String, Int64)])
  func durations(_ text: String, _ seconds: Int64) {
    #expect(TimeSpec.duration(text) == seconds)
  }

  @Test("anything else is no duration", arguments: ["", "d", "30", "30x", "-1d", "1.5h", "30 d", "d30", "99999999999999999999d", "9223372036854775807w"])
  func notDurations(_ text: String) {
    #expect(TimeSpec.duration(text) == nil)
  }

  @Test("a moment: a journal time, a UTC day from its midnight, or an age before now")
  func moments() {
    let now: Int64 = 1_777_000_000
    #expect(TimeSpec.moment("2026-05-04T09:12:38Z", now: now) == Clock.parse("2026-05-04T09:12:38Z"))
    #expect(TimeSpec.moment("2026-05-04", now: now) == Clock.parse("2026-05-04T00:00:00Z"))
    #expect(TimeSpec.moment("30d", now: now) == now - 30 * 86400)
    for bad in ["yesterday", "2026-05-04T09:12", "2026-13-01", "2026-05-04T09:12:38", "05/04/2026"] {
      #expect(TimeSpec.moment(bad, now: now) == nil, "\(bad)")
    }
  }

  @Test("durations shown in the largest unit that divides them; ages rounded down")
  func texts() {
    #expect(TimeSpec.text(3600) == "1 h")
    #expect(TimeSpec.text(30 * 86400) == "30 d")
    #expect(TimeSpec.text(5400) == "90 min")
    #expect(TimeSpec.text(61) == "61 s")
    #expect(TimeSpec.approximate(12) == "12 s")
    #expect(TimeSpec.approximate(300) == "5 min")
    #expect(TimeSpec.approximate(3 * 86400 + 5) == "3 d")
  }
}
