import Dispatch
import MCPGenSystem
import Synchronization

/// File jobs handed out while a scan is still finding them, so that walking the tree and
/// hashing it overlap instead of running one after the other.
///
/// The producer (the scanning thread) `push`es jobs; helper threads start once enough bytes or
/// files are queued to be worth a thread (a small tree is hashed by the producer alone, after
/// its scan). When the scan ends, the jobs still queued are reordered largest first, so the threads
/// finish together, and the producer joins in.
// @unchecked: the producer-only fields below are used only by the thread that pushes and
// finishes, and `work` is not @Sendable though helpers run it (its one caller, StreamingHash,
// keeps what it writes behind Mutexes).
final class JobStream<Job: Sendable>: @unchecked Sendable {
  typealias Work = (Job, FileWorker) throws(MCPGenError) -> Void

  private struct Queue {
    var jobs: [(job: Job, size: UInt64)] = []
    var head = 0
    var finished = false
  }

  private let queue = Mutex(Queue())
  private let available = DispatchSemaphore(value: 0)
  private let helpersDone = DispatchGroup()
  private let failure = Mutex<MCPGenError?>(nil)
  private let failed = Atomic<Bool>(false)
  private let work: Work
  private let progress: ProgressCounters?
  private let helperCount = max(0, ParallelWork.cores - 1)
  // Producer-only state.
  private var queuedBytes: UInt64 = 0
  private var queuedFiles = 0
  static var fileThreshold: Int { 256 }
  private var helpersStarted = false

  init(progress: ProgressCounters? = nil, _ work: @escaping Work) {
    self.progress = progress
    self.work = work
  }

  func push(_ job: Job, size: UInt64) {
    queue.withLock { $0.jobs.append((job, size)) }
    available.signal()
    queuedBytes += size
    queuedFiles += 1
    // Many small files are worth a thread as soon as enough are queued, not only once they add
    // up to the byte threshold (which a tree of small files reaches late in its scan).
    if !helpersStarted, queuedBytes >= ParallelWork.parallelThreshold || queuedFiles >= JobStream.fileThreshold {
      startHelpers()
    }
  }

  /// Ends the stream, works through what is left on the calling thread too, waits for the
  /// helpers, and rethrows the first job error.
  func finish() throws(MCPGenError) {
    queue.withLock { q in
      q.finished = true
      q.jobs[q.head...].sort { $0.size > $1.size }
    }
    for _ in 0..<helperCount { available.signal() }  // wakes helpers waiting on an empty queue
    drain(FileWorker(progress: progress))
    if helpersStarted { helpersDone.wait() }
    if let error = failure.withLock({ $0 }) { throw error }
  }

  /// Stops the stream after a producer error: helpers finish their current job and exit.
  func abandon() {
    failed.store(true, ordering: .relaxed)
    queue.withLock { $0.finished = true }
    for _ in 0..<helperCount { available.signal() }
    if helpersStarted { helpersDone.wait() }
  }

  private func startHelpers() {
    helpersStarted = true
    for _ in 0..<helperCount {
      helpersDone.enter()
      DispatchQueue.global().async { [self] in
        let worker = FileWorker(progress: progress)
        while true {
          available.wait()
          if !drainOne(worker) && queue.withLock({ $0.finished && $0.head == $0.jobs.count }) { break }
          if failed.load(ordering: .relaxed) { break }
        }
        helpersDone.leave()
      }
    }
  }

  private func drain(_ worker: FileWorker) {
    while !failed.load(ordering: .relaxed), drainOne(worker) {}
  }

  /// Runs one queued job, if there is one.
  private func drainOne(_ worker: FileWorker) -> Bool {
    guard let job = queue.withLock({ q -> Job? in
      guard q.head < q.jobs.count else { return nil }
      q.head += 1
      return q.jobs[q.head - 1].job
    }) else { return false }
    do throws(MCPGenError) {
      try work(job, worker)
    } catch {
      failure.withLock { if $0 == nil { $0 = error } }
      failed.store(true, ordering: .relaxed)
    }
    return true
  }
}
