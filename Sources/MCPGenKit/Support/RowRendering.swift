import MCPGenSystem
import SystemPackage

/// Rendering of long outputs in parts, so that the CLI never schedules threads itself: it says
/// how one part of the rows becomes bytes, and the engine decides how many threads that is worth.
public enum RowRendering {
  /// Below this many rows, one part on the calling thread: starting threads costs more.
  static let parallelThreshold = 2048

  /// `render` applied to consecutive parts of `rows` (on every core for a long list), the
  /// results in the order of the rows.
  public static func inParts<Row: Sendable>(
    _ rows: [Row], _ render: @escaping @Sendable (ArraySlice<Row>) -> [UInt8]
  ) -> [[UInt8]] {
    let ranges = ParallelWork.ranges(rows.count, parts: rows.count < parallelThreshold ? 1 : ParallelWork.cores * 2)
    return ParallelWork.map(ranges) { range in render(rows[range]) }
  }
}

/// Questions about a path the operator typed, before it is known to be a release.
public enum OperatorPath {
  /// Whether anything (even a dangling symlink) is at `path`; an error counts as nothing.
  public static func exists(_ path: FilePath) -> Bool {
    (try? FileStatus.exists(path)) ?? false
  }
}
