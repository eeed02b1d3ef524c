import MCPGenSystem

/// A file of lines read with a cap on each line's length.
///
/// Every command reads the whole journal. Read at once, a journal with one line of a gigabyte
/// (anyone who could append to it, or a disk error) would cost every command that gigabyte twice
/// over. Read here in chunks, a line over the cap is dropped as soon as it passes the cap, and
/// its remaining bytes are read and thrown away without being kept: at most `limit` bytes of one
/// line and one chunk are ever held beyond the lines kept.
struct BoundedLines {
  /// Every line of the file, each over-long one left in place as an empty line (so line numbers
  /// stay those of the file). An over-long unterminated last line becomes a terminated empty one.
  var bytes: [UInt8] = []
  /// 0-based numbers of the lines that were longer than the cap, ascending.
  var overlong: [Int] = []
}

extension FileFD {
  /// Reads the file from `start` (the beginning of a line) to its end as `BoundedLines`, lines
  /// of at most `limit` bytes (newline excluded), in reads of at most `chunk` bytes.
  func readLines(limit: Int, from start: Int64 = 0, chunk: Int = 4 << 20) throws(SystemCallError) -> BoundedLines {
    var all = BoundedLines()
    try forEachLines(limit: limit, from: start, chunk: chunk, whole: true) { part, first in
      all.overlong += part.overlong.map { $0 + first }
      if all.bytes.isEmpty { all.bytes = part.bytes } else { all.bytes += part.bytes }
    }
    return all
  }

  /// Reads the file from `start` (the beginning of a line) to its end, in reads of at most
  /// `chunk` bytes, and hands `body` its lines, at most `limit` bytes each, in parts: each part
  /// whole lines (only the file's last line can lack its newline) as `BoundedLines`, with the
  /// number of its first line. Unless `whole`, a part is handed on as soon as it holds `chunk`
  /// bytes, so that a journal of a gigabyte is never held whole; `whole` gives one part.
  func forEachLines(
    limit: Int, from start: Int64 = 0, chunk: Int = 4 << 20, whole: Bool = false, _ body: (BoundedLines, _ firstLine: Int) -> Void
  ) throws(SystemCallError) {
    var result = BoundedLines()
    var first = 0  // the number of the first line in `result`
    var line = 0  // the number of the line being read
    var lineStart = 0  // where it begins in `result.bytes`
    var skipping = false  // inside an over-long line: its bytes are not kept
    // The first read takes a journal of normal size whole, in one buffer sized from fstat.
    // From a checkpoint's offset, only the tail is read: the buffer is sized for it.
    var want = min(max(Int(Int64(try stat().size) - start), 0) + 4096, chunk)
    try seek(to: start)
    while true {
      let part = try readUpTo(want)
      if part.isEmpty { break }
      var from = 0
      if skipping {
        guard let nl = BoundedLines.newline(in: part, 0) else {
          if part.count < want { break }
          continue
        }
        from = nl  // the newline stays: the over-long line remains as an empty one
        skipping = false
      }
      var at = result.bytes.count
      if result.bytes.isEmpty && from == 0 { result.bytes = part } else { result.bytes += part[from...] }
      while true {
        let nl = BoundedLines.newline(in: result.bytes, at)
        let end = nl ?? result.bytes.count
        if end - lineStart > limit {
          result.overlong.append(line)
          result.bytes.removeSubrange(lineStart..<end)
          guard nl != nil else {
            skipping = true
            break
          }
          at = lineStart  // now the newline
        } else if nl == nil {
          break
        } else {
          at = end
        }
        line += 1
        at += 1
        lineStart = at
      }
      if part.count < want { break }
      want = chunk
      if !whole && !skipping && lineStart >= chunk {
        // The whole lines go; the start of the next stays.
        body(BoundedLines(bytes: Array(result.bytes[..<lineStart]), overlong: result.overlong.map { $0 - first }), first)
        result.bytes.removeSubrange(..<lineStart)
        result.overlong = []
        first = line
        lineStart = 0
      }
    }
    if skipping { result.bytes.append(0x0A) }
    if !result.bytes.isEmpty || first == 0 {
      body(BoundedLines(bytes: result.bytes, overlong: result.overlong.map { $0 - first }), first)
    }
  }

  /// Up to `count` bytes, fewer only at the end of the file.
  private func readUpTo(_ count: Int) throws(SystemCallError) -> [UInt8] {
    var failure: SystemCallError? = nil
    // Uninitialized: zero-filling first would touch every page once more before read(2) does.
    let part = [UInt8](unsafeUninitializedCapacity: count) { buffer, filled in
      Syscall.populate(UnsafeMutableRawBufferPointer(buffer))
      while filled < buffer.count {
        do throws(SystemCallError) {
          let n = try read(into: buffer.baseAddress! + filled, count: buffer.count - filled)
          if n == 0 { return }
          filled += n
        } catch {
          failure = error
          return
        }
      }
    }
    if let failure { throw failure }
    return part
  }
}

extension BoundedLines {
  /// The index of the first newline in `bytes` at or after `from`.
  static func newline(in bytes: [UInt8], _ from: Int) -> Int? {
    from < bytes.count ? firstIndex(of: 0x0A, in: bytes, from..<bytes.count) : nil
  }
}
