import MCPGenKit
import MCPGenSystem
import Synchronization

/// One object a pull must download: `U/objects/<2 hex>/<62 hex>`, exactly `size` bytes whose
/// SHA-256 is `digest` (both from the verified manifest).
struct ObjectRequest: Sendable {
  var digest: Digest
  var size: UInt64
}

/// Downloads objects into `partial/objects/`, several transfers at once.
///
/// Each download is capped at the object's size (the transport stops past it: an endless or
/// oversized body is `tooLong`), then hashed; only bytes that hash to the digest are written, and
/// renamed to it. A mismatch is `.untrusted`: a mirror that serves wrong or substituted content
/// (another release's object under this name) gets nothing stored.
enum ObjectDownload {
  /// Transfers in flight: enough to hide a round trip per object on loopback and LAN.
  static let parallel = 8

  static func run(
    _ requests: [ObjectRequest], url: RemoteURL, fetcher: any RemoteFetcher, into partial: PartialDirectory,
    progress: ProgressCounters?
  ) throws(MCPGenError) {
    guard !requests.isEmpty else { return }
    let shared = Shared()
    let threads = min(parallel, requests.count)
    runOnThreads(threads) { _ in
      while shared.failure.withLock({ $0 == nil }) {
        let i = shared.next.wrappingAdd(1, ordering: .relaxed).oldValue
        guard i < requests.count else { return }
        do throws(MCPGenError) {
          if Cancellation.requested { throw MCPGenError(.cancelled, Puller.cancelledMessage) }
          try fetchOne(requests[i], url: url, fetcher: fetcher, into: partial)
          progress?.add(files: 1)
          progress?.add(bytes: requests[i].size)
        } catch {
          shared.failure.withLock { if $0 == nil { $0 = error } }
          return
        }
      }
    }
    if let error = shared.failure.withLock({ $0 }) { throw error }
  }

  /// What the transfer threads share: the next request to take, and the first failure (which
  /// stops the others after their current transfer).
  private final class Shared: Sendable {
    let next = Atomic<Int>(0)
    let failure = Mutex<MCPGenError?>(nil)
  }

  static func fetchOne(_ r: ObjectRequest, url: RemoteURL, fetcher: any RemoteFetcher, into partial: PartialDirectory) throws(MCPGenError) {
    let hex = r.digest.hexString(64)
    let address = url.objectURL(hex)
    let bytes: [UInt8]
    do {
      bytes = try fetcher.fetch(address, maxLength: Int(r.size))
    } catch {
      throw FetchFailure.error(error, url: address, what: "object \(hex.prefix(12))")
    }
    guard UInt64(bytes.count) == r.size, SHA256.hash(bytes) == r.digest else {
      throw MCPGenError(
        .untrusted,
        "object \(hex.prefix(12)) from \(address) does not match the digest and size its signed manifest gives; the remote or a mirror serves wrong content, nothing was stored")
    }
    try attempting("store a downloaded object") { () throws(SystemCallError) in try partial.store(bytes, r.digest) }
  }
}

/// `FetchError` as the codes a remote failure has (`.unreachable`, `.untrusted`, `.cancelled`).
enum FetchFailure {
  static func error(_ error: FetchError, url: String, what: String) -> MCPGenError {
    switch error {
    case .notFound:
      return MCPGenError(.unreachable, "the remote has no \(what) (\(url) not found); nothing was stored, check the remote's URL or ask its publisher")
    case .status(_, let code):
      return MCPGenError(.unreachable, "the remote answered HTTP \(code) for \(what) (\(url)); nothing was stored, run the pull again later")
    case .tooLong(_, let limit):
      return MCPGenError(.untrusted, "\(url) sent more than the \(limit) bytes \(what) has; the remote or a mirror serves wrong content, nothing was stored")
    case .unreachable(_, let reason):
      return MCPGenError(.unreachable, "cannot download \(what) from \(url): \(reason); nothing was stored, run the pull again later (verified downloads are kept)")
    case .cancelled:
      return MCPGenError(.cancelled, Puller.cancelledMessage)
    }
  }
}
