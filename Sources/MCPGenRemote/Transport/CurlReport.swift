/// What curl says about one finished transfer through `--write-out` (one line), and how that maps
/// to a `FetchError`.
///
/// The line is `%{urlnum}\t%{exitcode}\t%{http_code}\t%{size_download}\t%{errormsg}`: the index of
/// the transfer (in the order given), curl's exit code for it (0, or CURLE_*), the last HTTP
/// status (000 for `file://`), the bytes written, and curl's one-line reason.
struct CurlReport: Sendable, Equatable {
  var index: Int
  var exitCode: Int
  var httpCode: Int
  var size: Int
  var reason: String

  static let format = "%{urlnum}\\t%{exitcode}\\t%{http_code}\\t%{size_download}\\t%{errormsg}\\n"

  /// Parses one line (without its newline); nil when it is not such a line.
  ///
  /// All five fields, the last one possibly empty: curl always writes the tab before the
  /// reason, so a line without it was cut short (curl killed while writing), and its size field
  /// may be cut too ("12" of "123"). The numbers are plain decimal digits, as curl writes them:
  /// a sign or a space is no report.
  init?(line: ArraySlice<UInt8>) {
    let fields = line.split(separator: 0x09, maxSplits: 4, omittingEmptySubsequences: false)
    guard fields.count == 5,
      let index = CurlReport.number(fields[0]),
      let exitCode = CurlReport.number(fields[1]),
      let httpCode = CurlReport.number(fields[2]),
      let size = CurlReport.number(fields[3])
    else { return nil }
    self.index = index
    self.exitCode = exitCode
    self.httpCode = httpCode
    self.size = size
    reason = String(decoding: fields[4], as: UTF8.self)
  }

  /// A field of ASCII digits only (at most 18, so no overflow), nil for anything else.
  private static func number(_ field: ArraySlice<UInt8>) -> Int? {
    guard !field.isEmpty, field.count <= 18, field.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
    return field.reduce(0) { $0 * 10 + Int($1 - 0x30) }
  }

  /// The report of each of `count` transfers in `bytes` (curl's stderr, where `fetch` and
  /// `fetchInOrder` send them), by transfer index: nil for a transfer without one (curl ended
  /// first); the last line of an index counts, and lines of other indices are ignored.
  static func byTransfer(in bytes: [UInt8], count: Int) -> [CurlReport?] {
    var reports = [CurlReport?](repeating: nil, count: count)
    for line in bytes.split(separator: 0x0A) {
      if let report = CurlReport(line: line), reports.indices.contains(report.index) { reports[report.index] = report }
    }
    return reports
  }

  /// curl exit codes (CURLE_*) this code tells apart.
  enum Exit {
    static let couldNotResolveProxy = 5
    static let couldNotResolveHost = 6
    static let couldNotConnect = 7
    static let partialFile = 18
    static let httpError = 22  // --fail: a status of 400 or more
    static let operationTimedOut = 28
    static let fileNotFound = 37  // CURLE_FILE_COULDNT_READ_FILE
    static let gotNothing = 52
    static let sendError = 55
    static let receiveError = 56
    static let fileTooLarge = 63  // --max-filesize, from the announced length
    /// TLS: handshake failed, local certificate, peer not verified, CA file unreadable.
    static let certificateProblems: Set<Int> = [35, 58, 60, 77]
  }

  /// HTTP statuses worth another try (the ones curl's own `--retry` retries).
  static let transientStatuses: Set<Int> = [408, 429, 500, 502, 503, 504]

  /// nil when the transfer succeeded (exit 0 with a 2xx status, or no status for `file://`),
  /// else the failure of `url` (whose cap was `maxLength`) and whether trying again may help.
  func failure(url: String, maxLength: Int) -> (error: FetchError, transient: Bool)? {
    // An error status first, whatever curl's exit code: `--max-filesize` (exit 63) can stop a
    // 404 before `--fail` (exit 22) does, when the error page is longer than the cap.
    if httpCode >= 400 && exitCode != 0 {
      if httpCode == 404 || httpCode == 403 { return (.notFound(url: url), false) }
      return (.status(url: url, code: httpCode), Self.transientStatuses.contains(httpCode))
    }
    switch exitCode {
    case 0:
      if httpCode == 0 || (200..<300).contains(httpCode) {
        return size > maxLength ? (.tooLong(url: url, limit: maxLength), false) : nil
      }
      return (.status(url: url, code: httpCode), false)  // A 3xx that was not followed.
    case Exit.httpError:
      return (.unreachable(url: url, reason: reasonText), false)
    case Exit.fileNotFound:
      return (.notFound(url: url), false)
    case Exit.fileTooLarge:
      return (.tooLong(url: url, limit: maxLength), false)
    case Exit.couldNotResolveProxy, Exit.couldNotResolveHost, Exit.couldNotConnect, Exit.partialFile,
      Exit.operationTimedOut, Exit.gotNothing, Exit.sendError, Exit.receiveError:
      return (.unreachable(url: url, reason: reasonText), true)
    default:
      return (.unreachable(url: url, reason: reasonText), false)
    }
  }

  /// curl's reason, or its exit code when it gave none; for a certificate curl could not check,
  /// where the CA it needs goes.
  var reasonText: String {
    let text = reason.isEmpty ? "curl failed with exit code \(exitCode)" : "\(reason) (curl exit code \(exitCode))"
    guard Exit.certificateProblems.contains(exitCode) else { return text }
    return text + "; a server certificate from a private CA needs that CA in the system's store or its file named by CURL_CA_BUNDLE"
  }
}
