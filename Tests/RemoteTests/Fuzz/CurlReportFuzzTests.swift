@testable import MCPGenRemote
import Testing

/// curl's `--write-out` report lines (`CurlReport`), random, truncated and with hostile fields:
/// each parses to nil or to a report, never crashes, and only a well-formed line of a transfer
/// that succeeded within its cap reads as a success.
@Suite("Hostile curl report lines parse to nothing or to a failure")
struct CurlReportFuzzTests {
  static let maxLength = 1_000

  /// Whether `line` is a success report as curl writes it: five tab-separated fields, the
  /// first four plain decimal numbers, exit code 0, no status or a 2xx one, a size within the cap.
  static func isWellFormedSuccess(_ line: [UInt8]) -> Bool {
    let fields = line.split(separator: 0x09, maxSplits: 4, omittingEmptySubsequences: false)
    guard fields.count == 5 else { return false }
    let numbers = fields[0..<4].map { f -> Int? in
      guard !f.isEmpty, f.count <= 18, f.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
      return Int(String(decoding: f, as: UTF8.self))
    }
    guard let exit = numbers[1], let status = numbers[2], let size = numbers[3], numbers[0] != nil else { return false }
    return exit == 0 && (status == 0 || (200..<300).contains(status)) && size <= maxLength
  }

  /// Parses and judges `line`; returns whether it parsed.
  @discardableResult
  static func check(_ line: [UInt8], _ what: String) -> Bool {
    guard let report = CurlReport(line: line[...]) else { return false }
    let verdict = report.failure(url: "u", maxLength: maxLength)
    _ = report.reasonText
    if verdict == nil {
      #expect(isWellFormedSuccess(line), "\(what): \(String(decoding: line, as: UTF8.self).debugDescription) reads as a success")
    }
    return true
  }

  static let templates: [String] = [
    "3\t0\t200\t123\t", "0\t0\t000\t6\t", "12\t22\t404\t0\tThe requested URL returned error: 404",
    "1\t28\t200\t5\tOperation timed out after 30000 milliseconds", "7\t63\t200\t0\tMaximum file size exceeded",
  ]

  @Test("random, truncated and field-mutated lines never crash and never read as a false success")
  func lines() {
    var random = FuzzRandom(seed: 0xC0FF_EE00)
    var cases = 0
    var parsed = 0
    // Every template cut at every byte: a report line cut short is no success.
    for t in CurlReportFuzzTests.templates {
      let bytes = Array(t.utf8)
      for cut in 0...bytes.count {
        cases += 1
        if CurlReportFuzzTests.check(Array(bytes[..<cut]), "cut \(cut) of \(t.debugDescription)") { parsed += 1 }
      }
    }
    // Each field replaced by hostile numbers and text.
    let hostile = [
      "", "-1", "+1", "-0", "00", " 1", "1 ", "1.0", "1e3", "0x10", "99999999999999999999", "9223372036854775807",
      "-9223372036854775808", "\u{FF11}", "\u{0}", "\n", "\t", "abc", "200", "0", "1000", "1001",
    ]
    for t in CurlReportFuzzTests.templates {
      let fields = t.split(separator: "\t", maxSplits: 4, omittingEmptySubsequences: false).map(String.init)
      for i in fields.indices {
        for h in hostile {
          var f = fields
          f[i] = h
          cases += 1
          if CurlReportFuzzTests.check(Array(f.joined(separator: "\t").utf8), "field \(i) = \(h.debugDescription)") { parsed += 1 }
        }
      }
    }
    // Random lines over the bytes that matter (digits, tab, signs, letters, NUL, invalid UTF-8).
    let alphabet = Array("0123456789\t\t\t-+ .eExX".utf8) + [0x00, 0xFF, 0xC0, 0x80, 0x0D]
    for _ in 0..<4_000 {
      let count = random.below(48)
      var line: [UInt8] = []
      for _ in 0..<count { line.append(random.below(4) == 0 ? random.byte() : random.pick(alphabet)) }
      line.removeAll { $0 == 0x0A }
      cases += 1
      if CurlReportFuzzTests.check(line, "random") { parsed += 1 }
    }
    // Whole outputs: `byTransfer(in:count:)` over random lines with and without newlines.
    for _ in 0..<500 {
      var blob: [UInt8] = []
      for _ in 0..<random.below(6) {
        blob += Array(random.pick(CurlReportFuzzTests.templates).utf8).prefix(random.below(40))
        if random.below(3) > 0 { blob.append(0x0A) }
      }
      cases += 1
      for report in CurlReport.byTransfer(in: blob, count: 100) {
        _ = report?.failure(url: "u", maxLength: CurlReportFuzzTests.maxLength)
      }
    }
    print("curl report fuzz: \(cases) cases, \(parsed) parsed as reports")
    #expect(parsed > 0)
  }
}
