import MCPGenSystem

/// Keeping every journal line within `Journal.maximumLineLength`, which readers enforce.
///
/// What a line carries is bounded except for three things: the command line, the captured output
/// of many health checks, and the lists of a large gc. The command line is cut where it is
/// recorded, check output is shortened only when the line would not fit otherwise, and gc writes
/// several lines (`GarbageCollector`). A change is never refused for a long line that can be
/// shortened: its journal line comes after the change, and refusing it would undo the change.
extension JournalRecord {
  /// The longest command line recorded in full.
  static let maximumCommandLength = 64 << 10

  /// `command` as recorded: its first `maximumCommandLength` bytes, and how much was cut.
  static func recordedCommand(_ command: [UInt8]) -> [UInt8] {
    guard command.count > maximumCommandLength else { return command }
    return Array(command.prefix(maximumCommandLength)) + Array(" [\(command.count - maximumCommandLength) more bytes not recorded]".utf8)
  }

  /// The extra fields that hold check results, each with an `output`.
  private static let checkFields: Set<String> = ["checks", "restoredChecks"]

  /// This record's sealed line, fitted to a journal line: if it is too long, the output captured from
  /// its checks is shortened to its last kilobyte, then dropped. Nil when even that is too long.
  func fittedLine(limit: Int = Journal.maximumLineLength) -> [UInt8]? {
    var record = self
    record.command = JournalRecord.recordedCommand(command)
    for keep in [nil, 1024, 0] as [Int?] {
      if let keep {
        guard record.extra.contains(where: { JournalRecord.checkFields.contains($0.0) }) else { return nil }
        record.extra = record.extra.map { field in
          guard JournalRecord.checkFields.contains(field.0), let items = field.1.arrayValue else { return field }
          return (field.0, .array(items.map { JournalRecord.shortening($0, toLast: keep) }))
        }
      }
      let line = record.line()
      if line.count <= limit { return line }
    }
    return nil
  }

  /// A check result whose `output` keeps only its last `keep` bytes.
  private static func shortening(_ check: JSON, toLast keep: Int) -> JSON {
    guard case .object(let members) = check else { return check }
    return .object(members.map { name, value in
      guard name == "output", let bytes = value.stringBytes, bytes.count > keep else { return (name, value) }
      return (name, .string(Array(bytes.suffix(keep))))
    })
  }
}
