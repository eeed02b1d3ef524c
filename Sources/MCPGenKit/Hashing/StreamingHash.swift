import MCPGenSystem
import Synchronization
import SystemPackage

/// Hashes the files of a tree while it is being scanned: the scanning thread hands each file
/// to a `JobStream` as it finds it, so walking the directories costs no wall time of its own.
enum StreamingHash {
  struct Result {
    var release: ScannedRelease
    /// Digest of each file entry that was read, by entry index.
    var digests: [Int: Digest]
    /// Files that could not be read, by entry index (only when not stopping on errors).
    var failures: [Int: MCPGenError]
  }

  /// `scan` walks the tree, calling the sink for every regular file. With `stopOnError`, the
  /// first failed file stops the work and is thrown; otherwise failures are collected. Files
  /// found and read are counted in `progress`.
  static func run(
    stopOnError: Bool, progress: ProgressCounters? = nil,
    _ scan: (@escaping TreeScanner.FileSink) throws(MCPGenError) -> (release: ScannedRelease, order: [Int])
  ) throws(MCPGenError) -> Result {
    let digests = Mutex<[(Int, Digest)]>([])
    let failures = Mutex<[(Int, MCPGenError)]>([])
    let stream = JobStream<TreeScanner.FoundFile>(progress: progress) { (file, worker) throws(MCPGenError) in
      let (dir, path) = (file.root, file.releasePath)
      do throws(MCPGenError) {
        // Checked against the scan once, after the read (`digest(scanned:)`), not also here.
        let fd = try TreeScanner.openFile(file.path, in: dir, as: nil, releasePath: path)
        let digest = try worker.digest(scanned: fd, file.path, size: UInt64(file.identity.size), file.identity, in: path)
        digests.withLock { $0.append((file.found, digest)) }
      } catch {
        if stopOnError { throw error }
        failures.withLock { $0.append((file.found, error)) }
      }
    }
    let scanned: (release: ScannedRelease, order: [Int])
    do {
      scanned = try scan { file, size in
        progress?.found(bytes: size)
        stream.push(file, size: size)
      }
    } catch {
      stream.abandon()
      throw error
    }
    // A single file is not shown to the sink: the caller reads it after the scan.
    if case .file = scanned.release.source { progress?.found(bytes: scanned.release.byteCount) }
    progress?.foundAll()
    try stream.finish()
    var result = Result(release: scanned.release, digests: [:], failures: [:])
    for (found, digest) in digests.withLock({ $0 }) { result.digests[scanned.order[found]] = digest }
    for (found, error) in failures.withLock({ $0 }) { result.failures[scanned.order[found]] = error }
    return result
  }
}
