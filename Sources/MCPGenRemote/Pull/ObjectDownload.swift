import MCPGenKit
import MCPGenSystem
import SystemPackage

/// One object a pull must download: `U/objects/<2 hex>/<62 hex>`, exactly `size` bytes whose
/// SHA-256 is `digest` (both from the verified manifest); `path` is its first use in the
/// release, where it goes, and `mode` that use's stored mode.
struct ObjectRequest: Sendable {
  var digest: Digest
  var size: UInt64
  var mode: UInt32
  var path: [UInt8]
}

/// Downloads objects into the tree being assembled as one batch of the transport (`fetchAll`:
/// many transfers from each curl process), verifying each as soon as it is reported done.
///
/// Each download goes to `objects/.tmp-<pid>-<64 hex>`, capped at the object's size (the
/// transport stops past it: an endless or oversized body is `tooLong`); it is then hashed from
/// the file, and renamed to its first use in `partial/tree` only when its size and hash match:
/// one rename, where a name in `objects/` then a link and an unlink took three directory
/// operations (a full pull of 8,788 objects spent about 0.17 s of CPU in them). A mismatch is
/// `.untrusted` and stops the batch: a mirror that serves wrong or substituted content (another
/// release's object under this name) gets nothing stored. Objects verified before a failure
/// stay in the tree, which the next pull takes back (`PartialDirectory.salvageTree`).
enum ObjectDownload {
  static func run(
    _ requests: [ObjectRequest], url: RemoteURL, fetcher: any RemoteFetcher, into partial: PartialDirectory,
    tree: Background<TreeDirectories>, progress: ProgressCounters?
  ) throws(MCPGenError) {
    guard !requests.isEmpty else { return }
    let directory = absolutePath(partial.objects.path)
    let prefix = Store.temporaryName()
    let temporaries = requests.map { prefix + [0x2D] + $0.digest.hexBytes }
    let batch = requests.indices.map { i in
      FetchRequest(
        url: url.objectURL(requests[i].digest.hexString(64)), destination: directory.appending(bytes: temporaries[i]),
        maxLength: Int(requests[i].size))
    }
    let counted = CountedBytes()
    let hasher = StreamHasher()
    var failure: MCPGenError? = nil
    do {
      try fetcher.fetchAll(
        batch,
        progress: { p in
          // The transport counts bytes of transfers still running: the line moves during a
          // large object too.
          if let progress, p.bytes > counted.bytes {
            progress.add(bytes: p.bytes - counted.bytes)
            counted.bytes = p.bytes
          }
        },
        completed: { i, result in
          do throws(MCPGenError) {
            switch result {
            case .failure(let error):
              throw FetchFailure.error(error, url: batch[i].url, what: "object \(requests[i].digest.hexString(12))")
            case .success:
              try verify(requests[i], temporaries[i], url: batch[i].url, in: partial, tree: tree, hasher: hasher)
            }
            progress?.add(files: 1)
            return true
          } catch {
            try? partial.objects.unlink(temporaries[i])
            failure = error
            return false
          }
        })
    } catch {
      throw FetchFailure.error(error, url: url.objectsURL, what: "objects")
    }
    // A batch stopped early (`failure`) has removed the files of the transfers it did not
    // report (the transport's contract); the next pull removes any temporary left by a kill.
    if let failure { throw failure }
  }

  /// The downloaded file must be the object: its size and SHA-256, read back from the file.
  /// It then gets its mode and its place in the tree.
  static func verify(
    _ r: ObjectRequest, _ temporary: [UInt8], url: String, in partial: PartialDirectory, tree: Background<TreeDirectories>,
    hasher: StreamHasher
  ) throws(MCPGenError) {
    let matches = try attempting("check a downloaded object") { () throws(SystemCallError) -> Bool in
      let file = try partial.objects.openFile(temporary, flags: [.readOnly, .nonBlocking])
      let read = try hasher.run(file, limit: r.size)
      guard !read.overflow && read.size == r.size && read.digest == r.digest else { return false }
      // Its mode in the tree, given through the descriptor already open: the tree's pass over
      // the objects then finds it set.
      try file.changeMode(r.mode)
      return true
    }
    guard matches else {
      throw MCPGenError(
        .untrusted,
        "object \(r.digest.hexString(12)) from \(url) does not match the digest and size its signed manifest gives; the remote or a mirror serves wrong content, nothing was stored")
    }
    let directories = try tree.value()
    try attempting("keep a downloaded object") { () throws(SystemCallError) in
      let (parent, name) = try directories.place(of: r.path)
      try partial.objects.rename(temporary, to: parent, as: name)
    }
  }

  /// Bytes already counted into the progress line (the transport reports running totals).
  private final class CountedBytes {
    var bytes: UInt64 = 0
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
