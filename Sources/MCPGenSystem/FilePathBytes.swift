#if canImport(Glibc)
import Glibc
#endif
@_exported import MCPGenTerminal
import SystemPackage

/// `path` made absolute against the working directory (lexically: `..` and symlinks are kept).
public func absolutePath(_ path: FilePath) -> FilePath {
  if path.isAbsolute { return path }
  guard let cwd = Syscall.currentDirectory() else { return path }
  return FilePath(bytes: cwd).appending(bytes: path.bytes)
}

/// Calls `body` with `bytes` as a NUL-terminated C string.
@inline(__always)
public func withCString<R, E: Error>(
  _ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws(E) -> R
) throws(E) -> R {
  // On the stack for the usual short path: this runs once per file opened or statted.
  let result = withUnsafeTemporaryAllocation(of: CChar.self, capacity: bytes.count + 1) { buffer -> Result<R, E> in
    bytes.withUnsafeBytes { source in
      UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
    }
    buffer[bytes.count] = 0
    do throws(E) {
      return .success(try body(UnsafePointer(buffer.baseAddress!)))
    } catch {
      return .failure(error)
    }
  }
  return try result.get()
}

/// Splits a relative byte path into its parent (empty for a top-level name) and last component.
public func splitLast(_ path: [UInt8]) -> (parent: [UInt8], name: [UInt8]) {
  guard let slash = path.lastIndex(of: 0x2F) else { return ([], path) }
  return (Array(path[..<slash]), Array(path[(slash + 1)...]))
}

/// The bytes of a NUL-terminated name, without the NUL (no UTF-8 repair, unlike `String(cString:)`).
public func cStringBytes(_ name: UnsafePointer<CChar>) -> [UInt8] {
  Array(UnsafeRawBufferPointer(start: name, count: strlen(name)))
}
