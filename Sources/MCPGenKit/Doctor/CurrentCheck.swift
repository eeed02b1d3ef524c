import MCPGenSystem

/// Whether `current` is a generation its health checks confirmed.
///
/// A command killed between the swap and its checks leaves `current` unconfirmed (store-layout.md,
/// section 6); a switch whose checks failed and whose restore failed too leaves it on a failed
/// generation. `status` warns about the first; the doctor reports both. While a changing command
/// holds the lock, an unconfirmed `current` is that command at work, not a problem.
enum CurrentCheck {
  static func run(_ store: Store, changeInProgress: Bool) -> DoctorFinding {
    let state: CurrentState
    let journal: Journal
    do {
      state = try store.current()
      journal = try store.readJournal()
    } catch {
      return DoctorFinding("current", .problem, error.message, hint: error.hint ?? "mcp-gen audit")
    }
    let history = History(journal)
    switch state {
    case .none:
      return DoctorFinding("current", .ok, "nothing is current yet")
    case .damaged(let target):
      return DoctorFinding("current", .problem, "current is damaged (points at \(displayName(target)))",
                           hint: "mcp-gen audit --repair, or mcp-gen rollback N")
    case .generation(let n):
      let key = (try? store.generation(n))??.key
      let shown = "generation \(n)" + (key.map { " (\($0.short))" } ?? "")
      guard key != nil else {
        return DoctorFinding("current", .problem, "current points at \(shown), which does not exist or is not a store link",
                             hint: "mcp-gen audit --repair, or mcp-gen rollback N")
      }
      if n != history.recordedCurrent || history.unconfirmed == n {
        if changeInProgress {
          return DoctorFinding("current", .warning,
            "\(shown) is being made current by the command holding the lock; its health checks have not finished yet",
            hint: "run mcp-gen doctor again once the lock is free")
        }
        return DoctorFinding("current", .problem,
          "\(shown) was made current by a command that did not finish; its health checks never confirmed it",
          hint: "mcp-gen check (confirms it), or mcp-gen rollback")
      }
      if history.failed.contains(n) {
        return DoctorFinding("current", .problem,
          "\(shown) failed its health checks and restoring the previous generation failed too",
          hint: "mcp-gen rollback N to a generation that works (see mcp-gen list)")
      }
      return DoctorFinding("current", .ok, "\(shown), \(confirmation(of: n, journal))")
    }
  }

  /// What the line that made `n` current says about its checks.
  private static func confirmation(of n: Int64, _ journal: Journal) -> String {
    let made = journal.records.last { r in
      r.to == n && [JournalRecord.Operation.switch, .rollback, .recover, .check].contains(r.operation)
    }
    let checks = made?.extra.first { $0.0 == "checks" }?.1.arrayValue ?? []
    return checks.isEmpty ? "its change finished (no health checks ran)" : "confirmed by its health checks"
  }
}
