import Dispatch
import MCPGenSystem
import Subprocess
import Synchronization
import SystemPackage

/// Where a check runs: the release it checks.
public struct CheckContext: Sendable {
  public var root: FilePath
  public var release: FilePath
  public var generation: Int64
  public var key: StoreKey
  /// The working directory: the release itself, or the root for a single-file release.
  public var workingDirectory: FilePath
}

/// Runs one command with swift-subprocess: no shell, in its own process group, output collected
/// into an in-memory file (so a service left running by a restart command can never block us on
/// a pipe), killed with its whole group when it outlives its timeout.
public enum CheckRunner {
  public static let outputLimit = 4096

  /// With `cancellable`, a cancel (SIGINT, SIGTERM; see `Cancellation`) while it runs is
  /// forwarded to its process group, then SIGKILL follows `cancelGrace` seconds later if it
  /// still runs; the result is then `.cancelled`.
  public static func run(
    _ command: String, role: CheckResult.Role, context: CheckContext, timeout: Double, cancellable: Bool = false
  ) -> CheckResult {
    let started = monotonicSeconds()
    func result(_ status: CheckResult.Status, _ output: [UInt8] = []) -> CheckResult {
      CheckResult(role: role, command: command, status: status, output: output,
                  seconds: monotonicSeconds() - started, generation: context.generation)
    }
    if cancellable, let signal = Cancellation.signal { return result(.cancelled(signal)) }
    let words: [String]
    do { words = try CommandWords.split(command) } catch { return result(.notStarted(error.reason)) }

    let memfd: CInt
    switch Syscall.memfd("mcp-gen-check") {
    case .success(let fd): memfd = fd
    case .failure(let e): return result(.notStarted("memfd_create: \(e)"))
    }
    defer { _ = Syscall.close(memfd) }

    let executable: Executable
    if words[0].contains("/") {
      let p = FilePath(words[0])
      executable = .path(p.isAbsolute ? p : context.workingDirectory.appending(bytes: p.bytes))
    } else {
      executable = .name(words[0])
    }
    var platformOptions = PlatformOptions()
    platformOptions.processGroupID = 0  // Its own group, so a timeout can kill everything it started.
    let options = platformOptions
    let environment = Environment.inherit.updating([
      "MCP_GEN_ROOT": context.root.displayString,
      "MCP_GEN_CURRENT": context.release.displayString,
      "MCP_GEN_GENERATION": String(context.generation),
      "MCP_GEN_KEY": context.key.hex,
    ])
    let arguments = Arguments(Array(words.dropFirst()))
    let workingDirectory = context.workingDirectory
    let pid = Atomic<Int32>(0)
    let finished = Atomic<Bool>(false)
    let timedOut = Atomic<Bool>(false)
    let deadlinePassed = Atomic<Bool>(false)
    /// SIGKILL to the child's whole group, once the deadline has passed and its pid is known.
    @Sendable func killGroup(_ p: Int32) {
      guard !finished.load(ordering: .sequentiallyConsistent) else { return }
      timedOut.store(true, ordering: .sequentiallyConsistent)
      _ = Syscall.killGroup(p, SignalNumber.kill)
    }

    // The watchdog: past the deadline, SIGKILL the whole process group. The deadline can pass
    // before the spawn has stored the pid; then the spawn's callback kills the group as soon as
    // it has. Each side writes its flag before reading the other's (sequentially consistent), so
    // at least one of them sees both: a hung check can never outlive its timeout, and so hold the
    // root's lock for ever.
    let deadline = DispatchTime.now() + .nanoseconds(Int(min(timeout, 1e6) * 1e9))
    DispatchQueue.global().asyncAfter(deadline: deadline) {
      deadlinePassed.store(true, ordering: .sequentiallyConsistent)
      let p = pid.load(ordering: .sequentiallyConsistent)
      if p > 0 { killGroup(p) }
    }
    #if DEBUG
    // Tests widen the window between the spawn and the pid store to show the kill still comes.
    let pidStoreDelay = environmentValue("MCP_GEN_DEBUG_PID_STORE_DELAY").flatMap { Double($0) } ?? 0
    #endif
    // A cancel: polled every 20 ms (the signal handler may only set its flag), forwarded to
    // the check's process group once its pid is known; SIGKILL if it outlives `cancelGrace`.
    let forwarded = Atomic<Int32>(0)
    let ticksAfter = Atomic<Int>(0)
    var canceller: DispatchSourceTimer? = nil
    if cancellable {
      let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
      timer.schedule(deadline: .now(), repeating: cancelPoll)
      timer.setEventHandler {
        guard let signal = Cancellation.signal, !finished.load(ordering: .acquiring) else { return }
        let p = pid.load(ordering: .acquiring)
        guard p > 0 else { return }  // Not started yet: a later tick sends it.
        if forwarded.load(ordering: .acquiring) == 0 {
          forwarded.store(signal, ordering: .releasing)
          _ = Syscall.killGroup(p, signal)
        } else if ticksAfter.add(1, ordering: .relaxed).newValue == Int(cancelGrace / cancelPoll) {
          _ = Syscall.killGroup(p, SignalNumber.kill)
        }
      }
      timer.resume()
      canceller = timer
    }

    let outcome: Swift.Result<TerminationStatus, any Error> = blockingAwait {
      let fd = FileDescriptor(rawValue: memfd)
      let execution = try await Subprocess.run(
        executable, arguments: arguments, environment: environment, workingDirectory: workingDirectory,
        platformOptions: options, input: .none,
        output: .fileDescriptor(fd, closeAfterSpawningProcess: false),
        error: .fileDescriptor(fd, closeAfterSpawningProcess: false)
      ) { execution in
        #if DEBUG
        if pidStoreDelay > 0 { try? await Task.sleep(nanoseconds: UInt64(pidStoreDelay * 1e9)) }
        #endif
        let p = execution.processIdentifier.value
        pid.store(p, ordering: .sequentiallyConsistent)
        if deadlinePassed.load(ordering: .sequentiallyConsistent) { killGroup(p) }
      }
      return execution.terminationStatus
    }
    finished.store(true, ordering: .sequentiallyConsistent)
    canceller?.cancel()

    let output = ChildProcess.tail(memfd, limit: outputLimit)
    let cancelSignal = forwarded.load(ordering: .acquiring)
    if cancelSignal != 0 { return result(.cancelled(cancelSignal), output) }
    switch outcome {
    case .failure(let error):
      return result(.notStarted("\(words[0]): \(error)"), output)
    case .success(let status):
      if timedOut.load(ordering: .sequentiallyConsistent) { return result(.timedOut(timeout), output) }
      switch status {
      case .exited(let code): return result(code == 0 ? .passed : .exited(code), output)
      case .signaled(let signal): return result(.signaled(signal), output)
      }
    }
  }
}

extension CheckRunner {
  /// Seconds a check has to end after the cancel signal was forwarded before it is killed.
  static let cancelGrace = 3.0
  static let cancelPoll = 0.02
}

/// Runs async work to completion from synchronous engine code (which holds the root's lock).
func blockingAwait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> Swift.Result<T, any Error> {
  let done = DispatchSemaphore(value: 0)
  let box = Mutex<Swift.Result<T, any Error>?>(nil)
  Task {
    let r: Swift.Result<T, any Error>
    do { r = .success(try await body()) } catch { r = .failure(error) }
    box.withLock { $0 = r }
    done.signal()
  }
  done.wait()
  return box.withLock { $0! }
}
