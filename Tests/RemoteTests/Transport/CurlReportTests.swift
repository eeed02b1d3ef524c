@testable import MCPGenRemote
import Testing

/// curl's `--write-out` report lines, what they map to, and the quoting of the batch
/// configuration: no curl needed.
@Suite("curl report")
struct CurlReportTests {
  static func line(_ text: String) -> CurlReport? { CurlReport(line: ArraySlice(Array(text.utf8))) }

  @Test("a report line is parsed; anything else is not a report")
  func parsing() {
    let report = Self.line("12\t22\t404\t0\tThe requested URL returned error: 404")
    #expect(report?.index == 12 && report?.exitCode == 22 && report?.httpCode == 404 && report?.size == 0)
    #expect(report?.reason == "The requested URL returned error: 404")
    #expect(Self.line("0\t0\t000\t6\t")?.httpCode == 0)
    #expect(Self.line("curl: (7) Failed to connect") == nil)
    #expect(Self.line("") == nil)
    #expect(Self.line("1\t2\t3") == nil)
    #expect(CurlReport.byTransfer(in: Array("curl: (6) x\n\n0\t6\t000\t0\tCould not resolve host: h\n".utf8), count: 1)[0]?.exitCode == 6)
  }

  @Test("a line cut short, or with a signed or spaced number, is no report (found by CurlReportFuzzTests)")
  func strictLines() {
    // "3\t0\t200\t123\t" cut inside its size would read as a success of 12 bytes.
    #expect(Self.line("3\t0\t200\t12") == nil)
    #expect(Self.line("3\t0\t200\t123") == nil)
    #expect(Self.line("3\t0\t200\t123\t")?.size == 123)
    #expect(Self.line("3\t0\t200\t-1\t") == nil)
    #expect(Self.line("3\t0\t200\t+1\t") == nil)
    #expect(Self.line("-0\t0\t200\t1\t") == nil)
    #expect(Self.line("3\t0\t 200\t1\t") == nil)
    #expect(Self.line("3\t0\t200\t99999999999999999999\t") == nil)
  }

  @Test(
    "exit code and status map to one FetchError, and whether to try again",
    arguments: [
      ("0\t0\t200\t10\t", nil, false),
      ("0\t0\t000\t10\t", nil, false),  // file://
      ("0\t0\t200\t11\t", FetchError.tooLong(url: "u", limit: 10), false),
      ("0\t0\t301\t0\t", .status(url: "u", code: 301), false),
      ("0\t22\t404\t0\tnot found", .notFound(url: "u"), false),
      ("0\t22\t403\t0\tforbidden", .notFound(url: "u"), false),
      // --max-filesize stops a long 404 page before --fail sees the status: still notFound.
      ("0\t63\t404\t0\tMaximum file size exceeded", .notFound(url: "u"), false),
      ("0\t22\t500\t0\terror", .status(url: "u", code: 500), true),
      ("0\t22\t503\t0\terror", .status(url: "u", code: 503), true),
      ("0\t22\t418\t0\terror", .status(url: "u", code: 418), false),
      ("0\t63\t200\t0\tMaximum file size exceeded", .tooLong(url: "u", limit: 10), false),
      ("0\t37\t000\t0\tCouldn't open file /x", .notFound(url: "u"), false),
      ("0\t18\t200\t5\ttransfer closed", .unreachable(url: "u", reason: "transfer closed (curl exit code 18)"), true),
      ("0\t28\t200\t5\ttoo slow", .unreachable(url: "u", reason: "too slow (curl exit code 28)"), true),
      ("0\t7\t000\t0\tCouldn't connect", .unreachable(url: "u", reason: "Couldn't connect (curl exit code 7)"), true),
      ("0\t1\t000\t0\tProtocol not supported", .unreachable(url: "u", reason: "Protocol not supported (curl exit code 1)"), false),
      ("0\t60\t000\t0\t", .unreachable(url: "u", reason: "curl failed with exit code 60; a server certificate from a private CA needs that CA in the system's store or its file named by CURL_CA_BUNDLE"), false),
    ] as [(String, FetchError?, Bool)])
  func mapping(line: String, error: FetchError?, transient: Bool) {
    let failure = Self.line(line)?.failure(url: "u", maxLength: 10)
    #expect(failure?.error == error)
    #expect((failure?.transient ?? false) == transient)
  }

  @Test("values in the batch configuration are quoted so that curl reads them back unchanged")
  func quoting() {
    let quoted = CurlFetcher.quoted(Array("a\"b\\c\nd\te\rf\u{0B}g h".utf8) + [0xFF])
    #expect(quoted == Array("a\\\"b\\\\c\\nd\\te\\rf\\vg h".utf8) + [0xFF])
  }
}

/// `CurlFetcher.capClass`: the `--max-filesize` of the curl operation a batch request joins.
@Suite("cap classes of a batch")
struct CapClassTests {
  @Test("the smallest power of two at or above the cap")
  func powers() {
    let cases: [(Int, Int)] = [
      (0, 1), (1, 1), (2, 2), (3, 4), (4, 4), (5, 8), (4095, 4096), (4096, 4096), (4097, 8192),
      (1 << 40, 1 << 40), ((1 << 40) + 1, 1 << 41), (1 << 62, 1 << 62), ((1 << 62) + 1, Int.max), (Int.max, Int.max),
    ]
    for (cap, expected) in cases { #expect(CurlFetcher.capClass(cap) == expected, "cap \(cap)") }
    // Never below the cap, never twice it or more (up to the largest power of two).
    for cap in 1...5000 { #expect(CurlFetcher.capClass(cap) >= cap && CurlFetcher.capClass(cap) < 2 * cap) }
  }
}
