import Dispatch
import MCPGenKit
import MCPGenSystem
import Synchronization
import SystemPackage

/// One running curl whose stdout (or stderr) the caller reads from a pipe (`read`), which it can
/// kill at any time, and which is killed when `cancelled` says so (by default: a cancel signal,
/// SIGINT or SIGTERM, arrived; see `Cancellation`).
///
/// curl is started with `posix_spawn` and reaped by `wait` on the caller's thread
/// (`ChildProcess.Spawned`), never through Swift's cooperative pool: the fetcher is synchronous,
/// and a caller that is itself a thread of that pool must not need another one to finish.
///
/// curl runs in mcp-gen's process group, so Ctrl-C at a terminal reaches it directly; a SIGTERM
/// sent to mcp-gen alone does not, hence the watcher, which polls every 20 ms as `CheckRunner`
/// does.
final class CurlRun: Sendable {
  /// The read end of the pipe; owned here, closed by `wait`.
  private let output: CInt
  private let child: ChildProcess.Spawned
  private let cancelled = Atomic<Bool>(false)
  private let isCancelled: @Sendable () -> Bool
  /// Dispatch sources are thread-safe; the type just does not say so.
  nonisolated(unsafe) private let watcher: DispatchSourceTimer

  /// Starts `curl ARGUMENTS` with `input` (a descriptor given away to it, or none: /dev/null).
  /// With `readingErrors`, the pipe is curl's stderr instead of its stdout: C's stdout is
  /// block-buffered into a pipe, so `--write-out` lines there would only arrive when curl ends;
  /// stderr is unbuffered.
  init(
    _ program: CurlProgram, _ arguments: [String], input: CInt? = nil, readingErrors: Bool = false,
    cancelled isCancelled: @escaping @Sendable () -> Bool
  ) throws(FetchError) {
    let stdin = input.map { ChildProcess.HandedDescriptor($0) }
    let pipe: (read: CInt, write: CInt)
    switch Syscall.pipe() {
    case .success(let p): pipe = p
    case .failure(let e):
      stdin?.close()
      throw .unreachable(url: "", reason: "cannot create a pipe for curl: \(e.description)")
    }
    let writeEnd = ChildProcess.HandedDescriptor(pipe.write)
    do {
      var spec = ChildProcess.Spec(.path(program.path), arguments.map { Array($0.utf8) })
      spec.environment = program.environment()
      spec.input = stdin
      if readingErrors { spec.errorOutput = writeEnd } else { spec.output = writeEnd }
      child = try ChildProcess.Spawned.start(spec)
    } catch {
      writeEnd.close()
      _ = Syscall.close(pipe.read)
      throw error.fetchError("")
    }
    writeEnd.close()
    output = pipe.read
    self.isCancelled = isCancelled
    watcher = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
    watcher.schedule(deadline: .now(), repeating: 0.02)
    let child = self.child
    watcher.setEventHandler { [weak self] in
      guard let self, isCancelled() else { return }
      self.cancelled.store(true, ordering: .sequentiallyConsistent)
      child.signal(SignalNumber.kill)
    }
    watcher.resume()
  }

  /// SIGKILL to curl (nothing once it was reaped).
  func kill() { child.signal(SignalNumber.kill) }

  /// Whether it was cancelled (Ctrl-C at a terminal reaches curl itself, which may end before
  /// the watcher's next look: the flag is read again).
  var wasCancelled: Bool { cancelled.load(ordering: .sequentiallyConsistent) || isCancelled() }

  /// Closes the read end (curl, if still writing, gets EPIPE), waits for curl to end and reaps it.
  func wait() -> ChildProcess.Finished {
    _ = Syscall.close(output)
    let finished = child.wait()
    watcher.cancel()
    return finished
  }

  /// Reads up to `buffer.count` bytes from the pipe; 0 at the end.
  func read(into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno> {
    Syscall.read(output, buffer.baseAddress!, buffer.count)
  }
}
