import MCPGenSystem

/// The destination of a copy, which starts the disk writing its bytes while the copy goes on
/// (`sync_file_range`, no wait), so that the `syncfs` which later makes them durable finds
/// less left to write: a copy of hundreds of megabytes otherwise leaves all of them for that
/// one call, after the last byte is copied.
struct WritebackCopy {
  /// Bytes between two writeback starts: large enough for big sequential writes, small enough
  /// that the disk starts on a large file long before its copy ends.
  static let stride: UInt64 = 8 << 20
  /// Smaller files are left to the final syncfs, which writes many of them in one go.
  static let threshold: UInt64 = 256 << 10

  let destination: FileFD
  private var written: UInt64 = 0
  private var started: UInt64 = 0

  init(to destination: FileFD) { self.destination = destination }

  /// Writes `chunk`; true when a writeback was started (a point to look for a cancel).
  mutating func write(_ chunk: UnsafeRawBufferPointer) throws(SystemCallError) -> Bool {
    try destination.writeAll(chunk)
    written += UInt64(chunk.count)
    guard written - started >= WritebackCopy.stride else { return false }
    try destination.startWriteback(offset: started, length: written - started)
    started = written
    return true
  }

  /// After the last chunk: starts the rest of a file of at least `threshold` bytes.
  mutating func finish() throws(SystemCallError) {
    guard written > started, written >= WritebackCopy.threshold else { return }
    try destination.startWriteback(offset: started, length: written - started)
    started = written
  }
}
