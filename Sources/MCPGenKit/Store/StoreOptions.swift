import MCPGenSystem

/// What the caller decides about a store, given to `Store.open` and fixed while it is open.
///
/// One value, not settings changed after opening: every operation of a store sees the same lock
/// timeout, records the same command line and counts into the same progress sink.
public struct StoreOptions: Sendable {
  /// Seconds a change waits for another process holding the root's lock before giving up.
  public let lockTimeout: Double
  /// The command line exactly as passed (bytes: arguments need not be UTF-8). The journal records
  /// it as it is; the lock file names the holder with it as text (`StoreLock.holderLine`).
  public let commandLine: [UInt8]
  /// Counts files and bytes of long work (add, verify, audit, gc) for a caller that shows it.
  public let progress: ProgressCounters?

  public init(lockTimeout: Double = 30, commandLine: [UInt8] = [], progress: ProgressCounters? = nil) {
    self.lockTimeout = lockTimeout
    self.commandLine = commandLine
    self.progress = progress
  }
}
