import Dispatch
import MCPGenKit
import MCPGenSystem
import Synchronization
import SystemPackage

/// One running curl whose stdout (or stderr) the caller reads from a pipe (`output`), which it can kill at any
/// time, and which is killed when `cancelled` says so (by default: a cancel signal, SIGINT or
/// SIGTERM, arrived; see `Cancellation`).
///
/// curl runs in mcp-gen's process group, so Ctrl-C at a terminal reaches it directly; a SIGTERM
/// sent to mcp-gen alone does not, hence the watcher, which polls every 20 ms as `CheckRunner`
/// does.
final class CurlRun: Sendable {
  /// The read end of curl's stdout; owned here, closed by `wait`.
  let output: CInt
  private let state = State()
  private let isCancelled: @Sendable () -> Bool

  /// What the task running curl, the cancel watcher and the reader share.
  private final class State: Sendable {
    let pid = Atomic<Int32>(0)
    let finished = Atomic<Bool>(false)
    let killRequested = Atomic<Bool>(false)
    let cancelled = Atomic<Bool>(false)
    let done = DispatchSemaphore(value: 0)
    let outcome = Mutex<Result<ChildProcess.Finished, ChildProcess.StartFailure>?>(nil)
    /// Dispatch sources are thread-safe; the type just does not say so.
    nonisolated(unsafe) let watcher = DispatchSource.makeTimerSource(queue: DispatchQueue.global())

    /// SIGKILL to curl, now if it runs, else as soon as it has started.
    func kill() {
      // Each side writes its flag before reading the other's: one of them sees both.
      killRequested.store(true, ordering: .sequentiallyConsistent)
      let p = pid.load(ordering: .sequentiallyConsistent)
      if p > 0 && !finished.load(ordering: .sequentiallyConsistent) { _ = ChildProcess.signal(p, SignalNumber.kill) }
    }

    func started(_ p: Int32) {
      pid.store(p, ordering: .sequentiallyConsistent)
      if killRequested.load(ordering: .sequentiallyConsistent) { _ = ChildProcess.signal(p, SignalNumber.kill) }
    }

    func end(_ result: Result<ChildProcess.Finished, ChildProcess.StartFailure>) {
      finished.store(true, ordering: .sequentiallyConsistent)
      watcher.cancel()
      outcome.withLock { $0 = result }
      done.signal()
    }
  }

  /// Starts `curl ARGUMENTS` with `input` (a descriptor given away to it, or none: /dev/null).
  /// With `readingErrors`, the pipe is curl's stderr instead of its stdout: C's stdout is
  /// block-buffered into a pipe, so `--write-out` lines there would only arrive when curl ends;
  /// stderr is unbuffered.
  init(
    _ program: CurlProgram, _ arguments: [String], input: CInt? = nil, readingErrors: Bool = false,
    cancelled isCancelled: @escaping @Sendable () -> Bool
  ) throws(FetchError) {
    let pipe: (read: CInt, write: CInt)
    switch Syscall.pipe() {
    case .success(let p): pipe = p
    case .failure(let e):
      if let input { _ = Syscall.close(input) }
      throw .unreachable(url: "", reason: "cannot create a pipe for curl: \(e.description)")
    }
    output = pipe.read
    self.isCancelled = isCancelled

    let writeEnd = ChildProcess.HandedDescriptor(pipe.write)
    let (stdout, stderr) = readingErrors ? (nil, writeEnd) : (writeEnd, nil)
    let stdin = input.map { ChildProcess.HandedDescriptor($0) }
    let argv = arguments.map { Array($0.utf8) }
    let path = program.path
    let environment = CurlProgram.environment()
    let state = self.state
    state.watcher.schedule(deadline: .now(), repeating: 0.02)
    state.watcher.setEventHandler {
      guard isCancelled() else { return }
      state.cancelled.store(true, ordering: .sequentiallyConsistent)
      state.kill()
    }
    state.watcher.resume()
    Task.detached {
      let result: Result<ChildProcess.Finished, ChildProcess.StartFailure>
      do throws(ChildProcess.StartFailure) {
        result = .success(try await ChildProcess.run(
          executable: path, argv, input: stdin, output: stdout, errorOutput: stderr, environment: environment,
          started: { p in state.started(p) }))
      } catch {
        result = .failure(error)
      }
      state.end(result)
    }
  }

  /// SIGKILL to curl, now if it runs, else as soon as it has started.
  func kill() { state.kill() }

  /// Whether it was cancelled (Ctrl-C at a terminal reaches curl itself, which may end before
  /// the watcher's next look: the flag is read again).
  var wasCancelled: Bool { state.cancelled.load(ordering: .sequentiallyConsistent) || isCancelled() }

  /// Closes the read end (curl, if still writing, gets EPIPE) and waits for curl to end.
  func wait() -> Result<ChildProcess.Finished, ChildProcess.StartFailure> {
    _ = Syscall.close(output)
    state.done.wait()
    return state.outcome.withLock { $0! }
  }

  /// Reads up to `buffer.count` bytes of curl's stdout; 0 at the end.
  func read(into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno> {
    Syscall.read(output, buffer.baseAddress!, buffer.count)
  }
}
