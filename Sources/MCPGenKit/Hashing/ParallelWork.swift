import Dispatch
import MCPGenSystem
import Synchronization

/// Per-thread scratch for file work: a 1 MiB read buffer and a reusable SHA-256 context.
///
/// Raw buffers here (the read buffer, its chunks, a mapping's pages): bytes go from pread or a
/// mapping straight into SHA-256 and the copy's write, never into an array, which would be
/// zero-filled first and allocated per file.
final class FileWorker {
  static let bufferSize = 1 << 20
  let buffer: UnsafeMutableRawBufferPointer
  let sha = SHA256()
  /// Counts every chunk and file read, when someone shows progress.
  let progress: ProgressCounters?

  init(progress: ProgressCounters? = nil) {
    buffer = .allocate(byteCount: FileWorker.bufferSize, alignment: 4096)
    self.progress = progress
  }

  deinit { buffer.deallocate() }

  /// Streams `fd` from offset 0 to end of file through SHA-256, handing each chunk to `sink`
  /// first, if there is one. Returns the digest and the number of bytes read. A file of known
  /// size that is only hashed is mapped instead of read (`digestMapped`).
  ///
  /// With `size`, reading stops there instead of at a read that returns nothing: one read
  /// fewer per small file. Only for callers that then check, with fstat, that the file still
  /// has that size and was not written meanwhile (its change time), so a file that grew is
  /// still caught.
  func digest(
    _ file: FileFD, size: UInt64? = nil, sink: ((UnsafeRawBufferPointer) throws(SystemCallError) -> Void)? = nil
  ) throws(SystemCallError) -> (Digest, UInt64) {
    try resettingOnFailure { () throws(SystemCallError) in try digestToEnd(file, size: size, sink: sink) }
  }

  private func digestToEnd(
    _ file: FileFD, size: UInt64?, sink: ((UnsafeRawBufferPointer) throws(SystemCallError) -> Void)?
  ) throws(SystemCallError) -> (Digest, UInt64) {
    var offset: UInt64 = 0
    if sink == nil, let size, size >= FileWorker.mappedMinimum {
      switch digestMapped(file, size: size) {
      case .hashed(let digest, let count): return (digest, count)
      case .unmappable(let at): offset = at  // read the rest
      }
    }
    while offset != size {
      let n = try Syscall.pread(file.fd, buffer.baseAddress!, buffer.count, Int(offset)).get("read", file.path)
      if n == 0 { break }
      let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
      try sink?(chunk)
      sha.update(chunk)
      offset += UInt64(n)
      progress?.add(bytes: UInt64(n))
    }
    progress?.add(files: 1)
    return (sha.finish(), offset)
  }

  /// Like `digest`, for a file whose size is only expected: to its end, but never more than
  /// `limit` + 1 bytes; `overflow` when there were more than `limit`. A file of exactly `limit`
  /// bytes from `mappedMinimum` on, only hashed, is mapped, and a read past it must find its end.
  /// For `StreamHasher`, whose worker has no progress counters (it counts each file itself).
  func digest(
    _ file: FileFD, limit: UInt64, sink: ((UnsafeRawBufferPointer) throws(SystemCallError) -> Void)? = nil
  ) throws(SystemCallError) -> (digest: Digest, size: UInt64, overflow: Bool) {
    try resettingOnFailure { () throws(SystemCallError) in try digestBounded(file, limit: limit, sink: sink) }
  }

  /// `body`, with the hasher emptied if it fails half-way through a file: the worker goes on to
  /// the next file (a caller may take a failure as "not this file" and carry on).
  private func resettingOnFailure<T>(_ body: () throws(SystemCallError) -> T) throws(SystemCallError) -> T {
    do throws(SystemCallError) {
      return try body()
    } catch {
      sha.reset()
      throw error
    }
  }

  private func digestBounded(
    _ file: FileFD, limit: UInt64, sink: ((UnsafeRawBufferPointer) throws(SystemCallError) -> Void)?
  ) throws(SystemCallError) -> (digest: Digest, size: UInt64, overflow: Bool) {
    var offset: UInt64 = 0
    if sink == nil, limit >= FileWorker.mappedMinimum, UInt64(try file.stat().size) == limit {
      switch digestMapped(file, size: limit) {
      case .hashed(let digest, _):
        let more = try Syscall.pread(file.fd, buffer.baseAddress!, 1, Int(limit)).get("read", file.path)
        return (digest, limit + UInt64(more), more > 0)
      case .unmappable(let at):
        offset = at  // read the rest
      }
    }
    while true {
      let wanted = Int(min(UInt64(buffer.count), limit + 1 - offset))
      let n = try Syscall.pread(file.fd, buffer.baseAddress!, wanted, Int(offset)).get("read", file.path)
      if n == 0 { break }
      offset += UInt64(n)
      if offset > limit { return (sha.finish(), offset, true) }
      let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
      try sink?(chunk)
      sha.update(chunk)
    }
    return (sha.finish(), offset, false)
  }

  /// Files from this size on are hashed through a mapping when nothing else needs their bytes.
  static let mappedMinimum: UInt64 = 1 << 20
  /// Mapped a window at a time: mapped pages count as resident, and a file of many gigabytes
  /// must not raise the peak by its size.
  static let mappedWindow = 4 << 20

  enum Mapped {
    /// Done: the digest of all `size` bytes.
    case hashed(Digest, UInt64)
    /// Bytes from `at` on could not be mapped or faulted; the hasher holds those before.
    case unmappable(at: UInt64)
  }

  /// Hashes the first `size` bytes of `file` where they are in the page cache, mapped
  /// read-only: reading would copy each byte once more (about a tenth of an audit's time).
  /// A page that faults (the file was cut short meanwhile, or could not be read) is not fatal:
  /// the caller reads the file instead, and reports what reading finds.
  private func digestMapped(_ file: FileFD, size: UInt64) -> Mapped {
    var offset: UInt64 = 0
    while offset < size {
      let n = Int(min(UInt64(FileWorker.mappedWindow), size - offset))
      guard let base = Syscall.mapReadOnly(file.fd, offset: Int64(offset), length: n) else {
        return .unmappable(at: offset)
      }
      let hashed = sha.updateMapped(UnsafeRawBufferPointer(start: base, count: n))
      Syscall.unmap(base, length: n)
      // A fault: the file was cut short, or the device failed to read a page. The hasher is
      // reset; reading from the start tells the two apart (a short read, or EIO). Progress
      // then counts the bytes before the fault twice, on this rare path only.
      guard hashed else { return .unmappable(at: 0) }
      offset += UInt64(n)
      progress?.add(bytes: UInt64(n))
    }
    progress?.add(files: 1)
    return .hashed(sha.finish(), size)
  }
}

/// Runs independent file jobs on every core.
public enum ParallelWork {
  public static let cores: Int = Syscall.onlineCores()

  /// Below this many bytes, starting threads costs more than it saves.
  static let parallelThreshold: UInt64 = 4 << 20

  /// Calls `job(i, worker)` once for every `i` in `order`, on up to `cores` threads (one, on
  /// the calling thread, for less than `parallelThreshold` bytes). The first error stops the
  /// remaining jobs and is rethrown; so does a cancel (`Cancellation`), checked before each job.
  static func run(
    _ order: [Int], bytes: UInt64, progress: ProgressCounters? = nil, _ job: (Int, FileWorker) throws(MCPGenError) -> Void
  ) throws(MCPGenError) {
    if order.isEmpty { return }
    if bytes < parallelThreshold || order.count == 1 || cores == 1 {
      let worker = FileWorker(progress: progress)
      for i in order {
        try Cancellation.check()
        try job(i, worker)
      }
      return
    }
    let threads = min(cores, order.count)
    let next = Atomic<Int>(0)
    let failure = Mutex<MCPGenError?>(nil)
    let failed = Atomic<Bool>(false)
    withoutActuallyEscaping(job) { job in
      let box = UncheckedBox(job)
      DispatchQueue.concurrentPerform(iterations: threads) { _ in
        let worker = FileWorker(progress: progress)
        while !failed.load(ordering: .relaxed) {
          let k = next.wrappingAdd(1, ordering: .relaxed).oldValue
          if k >= order.count { return }
          do throws(MCPGenError) {
            try Cancellation.check()
            try box.value(order[k], worker)
          } catch {
            failure.withLock { if $0 == nil { $0 = error } }
            failed.store(true, ordering: .relaxed)
          }
        }
      }
    }
    if let error = failure.withLock({ $0 }) { throw error }
  }
}

extension ParallelWork {
  /// `transform` of each of `items`, one item per thread at once, results in the order of `items`
  /// (for work that is not file reading: no read buffers, no byte threshold).
  public static func map<T: Sendable, U: Sendable>(_ items: [T], _ transform: @Sendable (T) -> U) -> [U] {
    if items.count == 1 { return [transform(items[0])] }
    let results = Mutex<[Int: U]>([:])
    DispatchQueue.concurrentPerform(iterations: items.count) { k in
      let result = transform(items[k])
      results.withLock { $0[k] = result }
    }
    return results.withLock { done in items.indices.map { done[$0]! } }
  }

  /// `0..<count` cut into `parts` consecutive ranges of (nearly) equal length, one per thread or job.
  public static func ranges(_ count: Int, parts: Int) -> [Range<Int>] {
    (0..<parts).map { (count * $0 / parts)..<(count * ($0 + 1) / parts) }
  }
}

extension ParallelWork {
  /// Threads for work that mostly waits for the device rather than a core.
  static let waitingThreads = 8

  /// Calls `body(k)` for every `k` in `0..<threads`, each on a thread of its own (k = 0 on the
  /// calling one), and returns when all are done. Dispatch's pool has a thread per core, which
  /// would leave the device idle while each thread waits for it.
  static func onThreads(_ threads: Int, _ body: @escaping @Sendable (Int) -> Void) {
    runOnThreads(threads, body)
  }
}

/// Hands a non-Sendable value to threads that the caller keeps apart by construction.
// Unchecked: its one use is `run`'s job, a closure with typed throws that is not @Sendable but
// is run on every core by design; its callers keep what it writes behind a Mutex or in slots of
// their own (DigestSlots).
struct UncheckedBox<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
