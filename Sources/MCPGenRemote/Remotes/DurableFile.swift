import MCPGenKit
import MCPGenSystem
import SystemPackage

/// Small files of a remote's directory, written the way every file of the root is: a
/// temporary created exclusively, written, `fchmod`, `fsync`, `renameat` over the name, `fsync`
/// of the directory. A crash leaves the old file or the new one, and at most a `.tmp-*` file.
enum DurableFile {
  static func write(_ bytes: [UInt8], as name: [UInt8], in dir: DirectoryFD, mode: UInt32 = 0o644) throws(MCPGenError) {
    let temp = temporaryName()
    do throws(SystemCallError) {
      let file = try dir.openFile(temp, flags: [.writeOnly, .create, .exclusive], mode: 0o600)
      do throws(SystemCallError) {
        try file.writeAll(bytes)
        try file.changeMode(mode)
        try file.sync()
        try dir.rename(temp, to: dir, as: name)
      } catch {
        try? dir.unlink(temp)
        throw error
      }
      try dir.sync()
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

  /// `.tmp-<pid>-<16 hex>`, as every temporary of the root is named (gc knows the pattern).
  static func temporaryName() -> [UInt8] {
    var rng = SystemRandomNumberGenerator()
    let random = String(rng.next() as UInt64, radix: 16)
    return Array(".tmp-\(Syscall.processID())-\(String(repeating: "0", count: 16 - random.count) + random)".utf8)
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
