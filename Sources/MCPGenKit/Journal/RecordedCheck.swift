import MCPGenSystem

/// One health check (or restart) result as a journal line recorded it.
public struct RecordedCheck: Sendable, Equatable {
  /// When the change it gated was journaled.
  public var time: Int64
  /// The change: `switch`, `rollback`, or `check` (a confirmation).
  public var operation: JournalRecord.Operation
  /// The generation it ran against.
  public var generation: Int64?
  /// `restart`, `required` or `advisory`.
  public var role: String
  public var command: [UInt8]
  public var passed: Bool
  /// `passed`, `failed` or `cancelled`.
  public var outcome: String
  /// `passed`, `failed with exit status 1`, `timed out after 30 s (process group killed)`, ...
  public var detail: String
  public var milliseconds: Int64?
  /// The last 4 KiB of its output.
  public var output: [UInt8]
  /// Ran against the generation put back after the change's own checks failed.
  public var afterRollback: Bool
}

extension Journal {
  /// Every check recorded against a generation in `numbers`, in journal order.
  ///
  /// Each check object names its generation; one that does not (written by an older version)
  /// is attributed as its line implies: `checks` to `to`, `restoredChecks` to `from`.
  public func checks(for numbers: Set<Int64>) -> [RecordedCheck] {
    var out: [RecordedCheck] = []
    for record in records {
      for (field, restored) in [("checks", false), ("restoredChecks", true)] {
        guard let items = record.extra.first(where: { $0.0 == field })?.1.arrayValue else { continue }
        for item in items {
          let generation = item["generation"]?.intValue ?? (restored ? record.from : record.to)
          guard let generation, numbers.contains(generation) else { continue }
          out.append(RecordedCheck(
            time: record.time, operation: record.operation, generation: generation,
            role: item["role"]?.stringValue ?? "?", command: item["command"]?.stringBytes ?? [],
            passed: item["outcome"]?.stringValue == "passed", outcome: item["outcome"]?.stringValue ?? "failed",
            detail: item["detail"]?.stringValue ?? "",
            // Lines written before `milliseconds` had the same number under `seconds`.
            milliseconds: (item["milliseconds"] ?? item["seconds"])?.intValue, output: item["output"]?.stringBytes ?? [],
            afterRollback: restored))
        }
      }
    }
    return out
  }
}

extension Journal {
  /// A journal line as `log --json` prints it: as written, except that the check objects of
  /// lines from before `milliseconds` existed, which had the same number under `seconds`, use
  /// the one name every output uses now.
  public static func currentNames(_ line: JSON) -> JSON {
    guard case .object(var members) = line else { return line }
    var renamed = false
    for m in members.indices where members[m].0 == "checks" || members[m].0 == "restoredChecks" {
      guard case .array(var items) = members[m].1 else { continue }
      for i in items.indices {
        guard case .object(var fields) = items[i], !fields.contains(where: { $0.0 == "milliseconds" }),
          let k = fields.firstIndex(where: { $0.0 == "seconds" })
        else { continue }
        fields[k].0 = "milliseconds"
        items[i] = .object(fields)
        renamed = true
      }
      members[m].1 = .array(items)
    }
    return renamed ? .object(members) : line
  }
}
