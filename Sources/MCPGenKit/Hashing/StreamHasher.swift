import MCPGenSystem

/// The engine's file reader (`FileWorker`) for work outside it: a pull hashing what it
/// downloaded, resumed or copies, a publish copying stored files into objects. One 1 MiB
/// buffer for every file it reads (a buffer per file of that size is mapped and unmapped by
/// malloc each time: page faults, and a TLB shootdown on every core), and files from 1 MiB on
/// hashed through a mapping instead of copied.
///
/// Reads to the end of the file but never more than `limit` + 1 bytes, so a file that grew
/// (or a stored file that is not what its manifest says) is never read without bound. Not for
/// two threads at once: one per thread.
public final class StreamHasher {
  public struct Outcome: Sendable, Equatable {
    public var digest: Digest
    /// Bytes read: more than the limit when `overflow`.
    public var size: UInt64
    /// The file had more than `limit` bytes (the digest is then of no use).
    public var overflow: Bool
  }

  private let worker = FileWorker()

  public init() {}

  /// Hashes `file` from its start, writing each chunk to `destination` first when given (its
  /// writeback started as it goes, `WritebackCopy`), and adds the bytes read to `progress`.
  public func run(
    _ file: FileFD, limit: UInt64, into destination: FileFD? = nil, progress: ProgressCounters? = nil
  ) throws(SystemCallError) -> Outcome {
    let (digest, size, overflow): (Digest, UInt64, Bool)
    if let destination {
      var copy = WritebackCopy(to: destination)
      (digest, size, overflow) = try worker.digest(file, limit: limit) { (chunk) throws(SystemCallError) in _ = try copy.write(chunk) }
      try copy.finish()
    } else {
      (digest, size, overflow) = try worker.digest(file, limit: limit)
    }
    progress?.add(bytes: min(size, limit))
    return Outcome(digest: digest, size: size, overflow: overflow)
  }
}
