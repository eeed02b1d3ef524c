import MCPGenSystem

extension Journal {
  /// The journal's lines from byte `offset` (the beginning of a line: a checkpoint's end) to the
  /// end of the file, read and parsed exactly as `read` reads the whole file. `overlong` says a
  /// line was over `maximumLineLength`: its bytes are not in `bytes`, so offsets into `bytes`
  /// are no longer offsets into the file.
  static func read(_ file: FileFD, from offset: Int64) throws(MCPGenError) -> (journal: Journal, overlong: Bool) {
    let lines = try attempt("read the journal") { () throws(SystemCallError) in
      try file.readLines(limit: maximumLineLength, from: offset)
    }
    return (parse(lines.bytes, overlong: lines.overlong), !lines.overlong.isEmpty)
  }

  /// How many bytes of `bytes` are whole lines: up to and including the last newline.
  var terminatedLength: Int {
    guard let last = bytes.lastIndex(of: 0x0A) else { return 0 }
    return last + 1
  }

  /// Whether record `i`'s line ends with a newline (only the last line can lack one).
  func isTerminated(_ i: Int) -> Bool { lines[i].upperBound < bytes.count }
}
