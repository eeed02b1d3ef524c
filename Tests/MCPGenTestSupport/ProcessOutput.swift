/// What a finished child process said: the one result type of every runner in the tests.
public struct ProcessOutput: Sendable, CustomStringConvertible {
  /// The exit status, or 128 + the signal that ended it (as a shell reports it).
  public var status: Int32
  /// nil when a signal ended it (a crash, or the runner's kill after the deadline).
  public var exitCode: Int32?
  public var signal: Int32?
  /// The runner killed it (SIGKILL) because the deadline passed.
  public var timedOut: Bool
  public var seconds: Double
  public var stdout: [UInt8]
  public var stderr: [UInt8]

  public init(
    exitCode: Int32?, signal: Int32?, timedOut: Bool = false, seconds: Double = 0, stdout: [UInt8], stderr: [UInt8]
  ) {
    self.status = exitCode ?? 128 + (signal ?? 0)
    self.exitCode = exitCode
    self.signal = signal
    self.timedOut = timedOut
    self.seconds = seconds
    self.stdout = stdout
    self.stderr = stderr
  }

  /// An output with an exit status of its own making (a shell status: 128 + N is signal N).
  public init(status: Int32, stdout: [UInt8], stderr: [UInt8]) {
    self.init(exitCode: status, signal: nil, stdout: stdout, stderr: stderr)
  }

  public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
  public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
  /// stderr split into lines, without the final empty one.
  public var stderrLines: [Substring] { stderrText.split(separator: "\n", omittingEmptySubsequences: false).dropLast() }

  /// Itself when the status is 0; otherwise a failure naming `what`, the status and both outputs.
  @discardableResult
  public func requireSuccess(_ what: @autoclosure () -> String) throws -> ProcessOutput {
    guard status == 0 else {
      throw TestFailure("\(what()) exited \(status)\nstdout: \(stdoutText)\nstderr: \(stderrText)")
    }
    return self
  }

  public var description: String {
    let time = (seconds * 100).rounded() / 100
    return "exit \(exitCode.map(String.init) ?? "-") signal \(signal.map(String.init) ?? "-")"
      + "\(timedOut ? " TIMED OUT" : "") after \(time) s; stderr: \(stderrText.debugDescription)"
  }
}
