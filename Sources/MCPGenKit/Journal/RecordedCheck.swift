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
            passed: item["outcome"]?.stringValue == "passed", detail: item["detail"]?.stringValue ?? "",
            milliseconds: item["seconds"]?.intValue, output: item["output"]?.stringBytes ?? [],
            afterRollback: restored))
        }
      }
    }
    return out
  }
}
