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

  /// The journal `file` from byte `offset` (the beginning of a line) to its end, read and parsed
  /// exactly as `read` reads it but in parts of about `partSize` bytes of whole lines, each
  /// handed to `body` in order, then dropped: a journal of a gigabyte costs a part's memory, not a
  /// gigabyte. Damage line numbers are counted from `offset`'s line (the file's from 0). Returns
  /// whether a line was over `maximumLineLength` (offsets into a part after it are then no
  /// longer offsets into the file).
  @discardableResult
  static func forEachPart(_ file: FileFD, from offset: Int64, partSize: Int = 1 << 20, _ body: (Journal) -> Void) throws(MCPGenError) -> Bool {
    var sealed = false  // a sealed line came before: every later one must be sealed too
    var overlong = false
    try attempt("read the journal") { () throws(SystemCallError) in
      try file.forEachLines(limit: maximumLineLength, from: offset, chunk: partSize) { lines, first in
        var part = parse(lines.bytes, overlong: lines.overlong, sealed: sealed)
        sealed = part.sealed
        overlong = overlong || !lines.overlong.isEmpty
        if first > 0 { for i in part.damage.indices { part.damage[i].line += first } }
        body(part)
      }
    }
    return overlong
  }

  /// How many bytes of `bytes` are whole lines: up to and including the last newline.
  var terminatedLength: Int {
    guard let last = bytes.lastIndex(of: 0x0A) else { return 0 }
    return last + 1
  }

  /// Whether record `i`'s line ends with a newline (only the last line can lack one).
  func isTerminated(_ i: Int) -> Bool { lines[i].upperBound < bytes.count }
}

extension Store {
  /// The journal in parts (`Journal.forEachPart`), in order, for `log` and `audit`, which look at
  /// every line: a journal of a gigabyte is read a part at a time. Nothing when there is none.
  public func forEachJournalPart(_ body: (Journal) -> Void) throws(MCPGenError) {
    guard let file = try Journal.open(in: root, flags: OpenFlags.readOnly) else { return }
    try Journal.forEachPart(file, from: 0, body)
  }
}
