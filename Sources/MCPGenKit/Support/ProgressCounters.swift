import MCPGenSystem
import Synchronization

/// How far long work has come: files and bytes done, of a total, for a caller that shows it.
///
/// Hashing workers add to the counters once per chunk read (1 MiB) with a relaxed atomic add,
/// which costs nothing next to hashing the chunk (gc adds once per file it deletes); whoever
/// displays progress polls `snapshot()` from another thread. The engine only counts, it never
/// prints.
///
/// Work comes in phases (`hashing`, `copying`, `verifying`, `auditing`, `removing`). A phase's
/// totals are either known when it begins (from a manifest) or grow while a scan finds files and
/// become final with `foundAll()`.
public final class ProgressCounters: Sendable {
  /// One reading of the counters, possibly torn between fields (they are read one by one).
  public struct Snapshot: Sendable, Equatable {
    /// What is being done; empty when nothing is.
    public var phase: String
    /// Changes at every `begin`, so a reader can tell a new phase from the same one.
    public var step: Int
    public var files: Int
    public var bytes: UInt64
    public var totalFiles: Int
    public var totalBytes: UInt64
    /// False while a scan is still finding files: the totals can still grow.
    public var totalsFinal: Bool
    public var isActive: Bool { !phase.isEmpty }
  }

  private let filesDone = Atomic<Int>(0)
  private let bytesDone = Atomic<UInt64>(0)
  private let filesTotal = Atomic<Int>(0)
  private let bytesTotal = Atomic<UInt64>(0)
  private let totalsKnown = Atomic<Bool>(false)
  private let phase = Mutex<(name: String, step: Int)>(("", 0))

  public init() {}

  /// Starts a phase with its done counters at zero. With `files` and `bytes` the totals are
  /// final; without, they grow through `found` until `foundAll`. Returns false, and changes
  /// nothing, when a phase is running already (the outer work counts for both).
  @discardableResult
  public func begin(_ name: String, files: Int? = nil, bytes: UInt64? = nil) -> Bool {
    phase.withLock { p in
      guard p.name.isEmpty else { return false }
      filesDone.store(0, ordering: .relaxed)
      bytesDone.store(0, ordering: .relaxed)
      filesTotal.store(files ?? 0, ordering: .relaxed)
      bytesTotal.store(bytes ?? 0, ordering: .relaxed)
      totalsKnown.store(files != nil && bytes != nil, ordering: .relaxed)
      p = (name, p.step + 1)
      return true
    }
  }

  /// Ends the running phase.
  public func end() {
    phase.withLock { $0.name = "" }
  }

  /// A scan found one more file of `bytes` bytes (ignored once the totals are final).
  public func found(bytes: UInt64) {
    guard !totalsKnown.load(ordering: .relaxed) else { return }
    _ = filesTotal.wrappingAdd(1, ordering: .relaxed)
    _ = bytesTotal.wrappingAdd(bytes, ordering: .relaxed)
  }

  /// The scan is over: the totals found so far are the totals.
  public func foundAll() {
    totalsKnown.store(true, ordering: .relaxed)
  }

  /// `bytes` more were read (called per chunk, from any thread).
  @inline(__always)
  public func add(bytes: UInt64) {
    _ = bytesDone.wrappingAdd(bytes, ordering: .relaxed)
  }

  /// One more file is done (from any thread).
  @inline(__always)
  public func add(files: Int) {
    _ = filesDone.wrappingAdd(files, ordering: .relaxed)
  }

  public func snapshot() -> Snapshot {
    let (name, step) = phase.withLock { $0 }
    return Snapshot(
      phase: name, step: step,
      files: filesDone.load(ordering: .relaxed), bytes: bytesDone.load(ordering: .relaxed),
      totalFiles: filesTotal.load(ordering: .relaxed), totalBytes: bytesTotal.load(ordering: .relaxed),
      totalsFinal: totalsKnown.load(ordering: .relaxed))
  }
}

extension Optional where Wrapped == ProgressCounters {
  /// Runs `body` as phase `name` of this progress, if there is one and no phase is running yet.
  func tracking<R>(
    _ name: String, files: Int? = nil, bytes: UInt64? = nil, _ body: () throws(MCPGenError) -> R
  ) throws(MCPGenError) -> R {
    guard let progress = self, progress.begin(name, files: files, bytes: bytes) else { return try body() }
    defer { progress.end() }
    return try body()
  }
}
