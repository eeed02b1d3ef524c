import MCPGenSystem
import SystemPackage

/// Rendering of long outputs in parts, so that the CLI never schedules threads itself: it says
/// how one part of the rows becomes bytes, and the engine decides how many threads that is worth.
/// Today one part on the calling thread: with the checkpoint, `list` of 10,000 generations
/// formatted on two cores ran no faster than on one (bench/results-history.md, item 6).
public enum RowRendering {
  /// `render` applied to consecutive parts of `rows`, the results in the order of the rows.
  public static func inParts<Row: Sendable>(
    _ rows: [Row], _ render: @escaping @Sendable (ArraySlice<Row>) -> [UInt8]
  ) -> [[UInt8]] {
    [render(rows[...])]
  }
}

/// Questions about a path the operator typed, before it is known to be a release.
public enum OperatorPath {
  /// Whether anything (even a dangling symlink) is at `path`; an error counts as nothing.
  public static func exists(_ path: FilePath) -> Bool {
    (try? FileStatus.exists(path)) ?? false
  }
}
