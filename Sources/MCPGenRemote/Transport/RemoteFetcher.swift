/// Where the bytes of a remote come from. The client workflow (TUF metadata) and the object
/// downloads of `pull` see only this protocol; `CurlFetcher` (the `curl` program driving many
/// transfers from one process) is the real one, and tests may serve files from a directory.
///
/// Every download is capped: the specification's endless-data attack must end at `maxLength`
/// bytes, whatever the server says about the length.
public protocol RemoteFetcher: Sendable {
  /// The whole body of `url`, at most `maxLength` bytes (more is `FetchError.tooLong`).
  func fetch(_ url: String, maxLength: Int) throws(FetchError) -> [UInt8]
}

/// Why a download gave no body. `notFound` is its own case: the client workflow treats a 404 (or
/// 403) on the next root version as "no newer root", and every other failure as a failure.
public enum FetchError: Error, Equatable, Sendable {
  /// HTTP 404 or 403, or a missing `file://` file.
  case notFound(url: String)
  /// Any other HTTP status that is not 2xx.
  case status(url: String, code: Int)
  /// The body went past `maxLength` bytes.
  case tooLong(url: String, limit: Int)
  /// No answer: connection refused, DNS, timeout after the retries, a cut transfer.
  case unreachable(url: String, reason: String)
  /// Ctrl-C or SIGTERM.
  case cancelled
}
