import MCPGenKit
import MCPGenSystem
import SystemPackage

/// Where the bytes of a remote come from. The client workflow (TUF metadata) and the object
/// downloads of `pull` see only this protocol; `CurlFetcher` (the `curl` program driving many
/// transfers from one process) is the real one, and tests may serve files from a directory.
///
/// Every download is capped: the specification's endless-data attack must end at `maxLength`
/// bytes, whatever the server says about the length.
public protocol RemoteFetcher: Sendable {
  /// The whole body of `url`, at most `maxLength` bytes (more is `FetchError.tooLong`).
  func fetch(_ url: String, maxLength: Int) throws(FetchError) -> [UInt8]

  /// One attempt at each body, in order: a request is sent once the answer to the one before it
  /// has arrived, and each is capped at its own `maxLength`. A cancel throws. `CurlFetcher` makes
  /// one attempt at each, from one curl process (a process start saved per request after the
  /// first), and leaves retries to the caller (`fetch`).
  func fetchInOrder(_ requests: [(url: String, maxLength: Int)]) throws(FetchError) -> [Result<[UInt8], FetchError>]

  /// Many downloads into files, each reported as soon as it is done (see the default
  /// implementation below for the contract; `CurlFetcher` runs them from one curl process, or
  /// from one per core for a large batch).
  func fetchAll(
    _ requests: [FetchRequest], progress: ((FetchProgress) -> Void)?,
    completed: (Int, Result<Int, FetchError>) -> Bool
  ) throws(FetchError)
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

/// One download of a batch (`RemoteFetcher.fetchAll`): the body of `url` into the file
/// `destination`, at most `maxLength` bytes. `destination` is an absolute path, in an existing
/// directory no other user can write, that nothing has yet (a fresh temporary name): the batch
/// does not spend a removal on each (9,000 of them took some 35 ms of a pull), and a file already
/// there would be measured as the download's progress until curl truncates it.
public struct FetchRequest: Sendable, Equatable {
  public var url: String
  public var destination: FilePath
  public var maxLength: Int

  public init(url: String, destination: FilePath, maxLength: Int) {
    self.url = url
    self.destination = destination
    self.maxLength = maxLength
  }
}

/// How far a batch has come, for a progress line (the CLI draws it; the fetcher only counts).
public struct FetchProgress: Sendable, Equatable {
  /// Requests finished (succeeded or failed), of `totalFiles`.
  public var files: Int
  public var totalFiles: Int
  /// Bytes received so far, including those of transfers still running.
  public var bytes: UInt64
  /// Bytes per second over the last few seconds (0 until there is a measurement).
  public var bytesPerSecond: Double
  /// Seconds since the batch started.
  public var seconds: Double

  public init(files: Int, totalFiles: Int, bytes: UInt64, bytesPerSecond: Double, seconds: Double) {
    self.files = files
    self.totalFiles = totalFiles
    self.bytes = bytes
    self.bytesPerSecond = bytesPerSecond
    self.seconds = seconds
  }
}

extension RemoteFetcher {
  /// `fetch` of each request, one after the other.
  public func fetchInOrder(_ requests: [(url: String, maxLength: Int)]) throws(FetchError) -> [Result<[UInt8], FetchError>] {
    var answers: [Result<[UInt8], FetchError>] = []
    for request in requests {
      do {
        answers.append(.success(try fetch(request.url, maxLength: request.maxLength)))
      } catch .cancelled {
        throw .cancelled
      } catch {
        answers.append(.failure(error))
      }
    }
    return answers
  }

  /// Downloads every request into its destination, calling `completed` (on the calling thread)
  /// once per request as soon as it is finished, with its index in `requests` and the length of
  /// the file, or why it failed; the file of a failed request is removed. `completed` returns
  /// false to stop the batch (requests not yet reported are then abandoned and their files
  /// removed). `progress` is called every few tenths of a second.
  ///
  /// Throws only when the batch as a whole stops: `.cancelled` (a cancel signal), or curl could
  /// not run; no file of a request it did not report is left then either. One failing request
  /// does not stop the others.
  ///
  /// This default fetches one request after the other with `fetch`; `CurlFetcher` runs them all
  /// at once from one curl process (or one per core for a large batch).
  public func fetchAll(
    _ requests: [FetchRequest], progress: ((FetchProgress) -> Void)?,
    completed: (Int, Result<Int, FetchError>) -> Bool
  ) throws(FetchError) {
    let started = monotonicSeconds()
    var bytes: UInt64 = 0
    for (index, request) in requests.enumerated() {
      if Cancellation.requested { throw .cancelled }
      let result: Result<Int, FetchError>
      do {
        let body = try fetch(request.url, maxLength: request.maxLength)
        result = FetchedFile.write(body, to: request.destination, url: request.url).map { body.count }
        bytes += UInt64(body.count)
      } catch .cancelled {
        throw .cancelled
      } catch {
        FetchedFile.remove(request.destination)
        result = .failure(error)
      }
      let seconds = monotonicSeconds() - started
      progress?(FetchProgress(
        files: index + 1, totalFiles: requests.count, bytes: bytes,
        bytesPerSecond: seconds > 0 ? Double(bytes) / seconds : 0, seconds: seconds))
      if !completed(index, result) { return }
    }
  }
}
