import MCPGenSystem
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

/// Runs one command through the system target's runner: no shell, in its own process group,
/// output collected into an in-memory file (so a service left running by a restart command can
/// never block us on a pipe), killed with its whole group when it outlives its timeout.
public enum CheckRunner {
  public static let outputLimit = ChildProcess.outputLimit

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

    let program: ChildProcess.Spec.Program
    if words[0].contains("/") {
      let p = FilePath(words[0])
      program = .path(p.isAbsolute ? p : context.workingDirectory.appending(bytes: p.bytes))
    } else {
      program = .name(words[0])
    }
    var spec = ChildProcess.Spec(program, words.dropFirst().map { Array($0.utf8) })
    spec.workingDirectory = context.workingDirectory
    spec.settingEnvironment = [
      "MCP_GEN_ROOT": context.root.displayString,
      "MCP_GEN_CURRENT": context.release.displayString,
      "MCP_GEN_GENERATION": String(context.generation),
      "MCP_GEN_KEY": context.key.hex,
    ]
    spec.errorIntoOutput = true
    spec.ownProcessGroup = true  // So a timeout or a cancel reaches everything it started.
    spec.timeout = timeout
    if cancellable {
      spec.cancellation = ChildProcess.CancelForwarding(grace: cancelGrace, poll: cancelPoll) { Cancellation.signal }
    }

    switch ChildProcess.run(spec) {
    case .failure(.notInstalled):
      return result(.notStarted("\(words[0]): not found, or not executable"))
    case .failure(.couldNotStart(_, let why)):
      return result(.notStarted("\(words[0]): \(why)"))
    case .success(let finished):
      let output = finished.errorOutput
      if let signal = finished.cancelledBy { return result(.cancelled(signal), output) }
      if finished.timedOut { return result(.timedOut(timeout), output) }
      switch finished.status {
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
