import MCPGenRemote
import MCPGenSystem
import Synchronization
import SystemPackage

/// A `RemoteFetcher` for tests: `test://remote/<path>` is `<directory>/<path>` on disk, capped at
/// `maxLength` like the real transport, with injectable failures per path suffix and a log of
/// every URL asked for.
final class DirectoryFetcher: RemoteFetcher {
  static let base = "test://remote"
  let directory: Mutex<FilePath>
  let faults = Mutex<[String: FetchError]>([:])
  let log = Mutex<[String]>([])

  init(_ directory: FilePath) { self.directory = Mutex(directory) }

  /// Serves another state of the remote from now on.
  func serve(_ directory: FilePath) { self.directory.withLock { $0 = directory } }

  /// Makes every URL ending in `suffix` fail with `error`.
  func fail(_ suffix: String, with error: FetchError) { faults.withLock { $0[suffix] = error } }

  func clearFaults() { faults.withLock { $0 = [:] } }

  var requests: [String] { log.withLock { $0 } }

  /// The URLs of each `fetchInOrder` call, a list per call.
  let inOrderLog = Mutex<[[String]]>([])
  var inOrderCalls: [[String]] { inOrderLog.withLock { $0 } }

  func fetchInOrder(_ requests: [(url: String, maxLength: Int)]) throws(FetchError) -> [Result<[UInt8], FetchError>] {
    inOrderLog.withLock { $0.append(requests.map(\.url)) }
    return requests.map { request in
      Result { () throws(FetchError) in try fetch(request.url, maxLength: request.maxLength) }
    }
  }

  func fetch(_ url: String, maxLength: Int) throws(FetchError) -> [UInt8] {
    log.withLock { $0.append(url) }
    if let fault = faults.withLock({ f in f.first { url.hasSuffix($0.key) }?.value }) { throw fault }
    guard url.hasPrefix(DirectoryFetcher.base + "/") else { throw .unreachable(url: url, reason: "not a test URL") }
    let relative = String(url.dropFirst(DirectoryFetcher.base.count + 1))
    let root = directory.withLock { $0 }
    let bytes: [UInt8]
    do {
      let dir = try DirectoryFD.open(root)
      bytes = try dir.openFile(Array(relative.utf8), flags: OpenFlags.readOnly).readAll()
    } catch {
      if error.errno == .noSuchFileOrDirectory { throw .notFound(url: url) }
      throw .unreachable(url: url, reason: error.description)
    }
    guard bytes.count <= maxLength else { throw .tooLong(url: url, limit: maxLength) }
    return bytes
  }
}
