#if canImport(Glibc)
import Glibc
#endif

/// Calls `body(k)` for every `k` in `0..<threads`, each on a thread of its own (k = 0 on the
/// calling one), and returns when all are done (`pthread_create(3)`, `pthread_join(3)`). When no
/// thread can be had, that share runs on the calling thread.
public func runOnThreads(_ threads: Int, _ body: @escaping @Sendable (Int) -> Void) {
  final class Job {
    let body: @Sendable (Int) -> Void
    let k: Int
    init(_ body: @escaping @Sendable (Int) -> Void, _ k: Int) { (self.body, self.k) = (body, k) }
  }
  var started: [pthread_t] = []
  for k in 1..<max(threads, 1) {
    let job = Unmanaged.passRetained(Job(body, k)).toOpaque()
    var thread = pthread_t()
    let created = pthread_create(&thread, nil, { context in
      let job = Unmanaged<Job>.fromOpaque(context!).takeRetainedValue()
      job.body(job.k)
      return nil
    }, job)
    if created == 0 {
      started.append(thread)
    } else {
      Unmanaged<Job>.fromOpaque(job).release()
      body(k)  // no thread to be had: do its share here
    }
  }
  body(0)
  for thread in started { pthread_join(thread, nil) }
}
