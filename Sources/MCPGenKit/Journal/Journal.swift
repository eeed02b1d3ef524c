#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// `<root>/journal.jsonl`: the recorded history every rollback follows.
///
/// Appended with `O_APPEND` and fsynced before a command reports success. A crash mid-write can
/// leave a torn last line; readers skip it and report it, and the next append starts on a fresh
/// line so the torn bytes never merge with a good record.
public struct Journal: Sendable {
  public static let name = Array("journal.jsonl".utf8)

  /// Lines that did not parse: `line` is 1-based; `torn` when it is the last, unterminated one.
  public struct Damage: Sendable, Equatable {
    public var line: Int
    public var torn: Bool
  }

  public var records: [JournalRecord]
  public var raw: [JSON]
  public var damage: [Damage]

  static func read(in root: DirectoryFD) throws(MCPGenError) -> Journal {
    let bytes: [UInt8]
    do {
      bytes = try root.openFile(name, flags: O_RDONLY).readAll()
    } catch let e where e.errno == .noSuchFileOrDirectory {
      return Journal(records: [], raw: [], damage: [])
    } catch {
      throw MCPGenError(error, doing: "read the journal")
    }
    return parse(bytes)
  }

  public static func parse(_ bytes: [UInt8]) -> Journal {
    var journal = Journal(records: [], raw: [], damage: [])
    var start = 0
    var lineNumber = 0
    while start < bytes.count {
      lineNumber += 1
      let end = bytes[start...].firstIndex(of: 0x0A)
      let range = start..<(end ?? bytes.count)
      start = (end ?? bytes.count) + 1
      if bytes[range].allSatisfy({ $0 == 0x20 }) && end != nil { continue }
      if let json = try? JSON(parsing: bytes, range: range), let record = JournalRecord(json: json) {
        journal.records.append(record)
        journal.raw.append(json)
      } else {
        journal.damage.append(Damage(line: lineNumber, torn: end == nil))
      }
    }
    return journal
  }

  /// Appends one record and makes it durable.
  static func append(_ record: JournalRecord, in root: DirectoryFD) throws(MCPGenError) {
    try attempt("append to the journal") { () throws(SystemCallError) in
      let file = try root.openFile(name, flags: O_RDWR | O_APPEND | O_CREAT, mode: 0o644)
      let st = try file.stat()
      var line = record.json.serialized()
      line.append(0x0A)
      if st.st_size > 0 {
        var last: UInt8 = 0
        _ = try Syscall.pread(file.fd, &last, 1, st.st_size - 1).get("read", file.path)
        if last != 0x0A { line.insert(0x0A, at: 0) }  // Seal off a torn line.
      }
      try file.writeAll(line)
      try file.sync()
      if st.st_size == 0 { try root.sync() }  // A new journal's name must be durable too.
    }
  }
}
