import MCPGenKit
import MCPGenSystem
import SystemPackage

/// Small files of a remote's directory, written the way every whole file of the root is
/// (`TemporaryFile`: unnamed until written and synced, then linked or renamed over the name, then
/// the directory synced). A crash leaves the old file or the new one, and at most a `.tmp-*` file.
enum DurableFile {
  static func write(_ bytes: [UInt8], as name: [UInt8], in dir: DirectoryFD, mode: UInt32 = 0o644) throws(MCPGenError) {
    do throws(SystemCallError) {
      try TemporaryFile.write(bytes, mode: mode, in: dir, as: name, replacing: true) { Store.temporaryName() }
    } catch {
      throw MCPGenError(error, doing: "write \(dir.path.appending(bytes: name).displayString)")
    }
  }

  /// Reads a regular file of at most `limit` bytes, never following a symlink.
  static func read(_ name: [UInt8], in dir: DirectoryFD, limit: Int) throws(SystemCallError) -> [UInt8] {
    let file = try dir.openFile(name, flags: [.readOnly, .nonBlocking])
    let st = try file.stat()
    guard st.type == .regular else {
      throw SystemCallError("open", path: dir.path.appending(bytes: name), errno: .invalidArgument)
    }
    guard st.size <= limit else { throw SystemCallError("read", path: dir.path.appending(bytes: name), errno: .fileTooLarge) }
    return try file.read(at: 0, count: limit + 1)
  }
}

/// Runs `body`, turning a `SystemCallError` into an `MCPGenError` that names `action`.
func attempting<R>(_ action: @autoclosure () -> String, _ body: () throws(SystemCallError) -> R) throws(MCPGenError) -> R {
  do {
    return try body()
  } catch {
    throw MCPGenError(error, doing: action())
  }
}
