import MCPGenSystem
import SystemPackage

extension Store {
  /// Checks every entry (re-hashing every file unless `quick`), every generation link,
  /// `current`, strays and leftovers, and the journal. Takes no lock and never stops at the
  /// first problem: an unreadable file is a finding, not a failure.
  public func audit(quick: Bool = false) throws(MCPGenError) -> AuditReport {
    var report = AuditReport(quick: quick)
    // Read in the order things are made (entry, then generation link, then current), backwards:
    // current first, then the links, then the store. A switch running meanwhile can only add
    // things that this order still finds complete.
    let currentState = try current()
    let generations = try generations()
    var usedBy: [StoreKey: [Int64]] = [:]
    for g in generations { if let k = g.key { usedBy[k, default: []].append(g.number) } }
    var intact: [StoreKey: Bool] = [:]

    // Store entries, strays and leftovers.
    let names = try attempt("list the store") { () throws(SystemCallError) in try entries.list() }
    let began = !quick && beginAuditProgress(names)
    defer { if began { options.progress?.end() } }
    for name in names.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
      let where_ = path.appending(bytes: Store.storeName + [0x2F] + name)
      if name.starts(with: Store.tempPrefix) {
        let live = (try? isLive(name, in: entries)) ?? false
        if !live {
          report.problems.append(AuditProblem(severity: .warning, kind: "leftover", path: where_,
            detail: "temporary copy left by a crashed add", hint: "mcp-gen gc"))
        }
        continue
      }
      guard let key = StoreKey(bytes: name) else {
        report.problems.append(AuditProblem(severity: .error, kind: "stray", path: where_,
          detail: "a name that is not a store key", hint: "mcp-gen audit --repair"))
        continue
      }
      report.entriesChecked += 1
      let problems: [EntryProblem]
      var manifest: Manifest? = nil
      do throws(MCPGenError) {
        (problems, manifest, _) = try verifyAgainstManifest(key, quick: quick)
      } catch {
        problems = [EntryProblem(.unreadable, ManifestEntry.rootPath, error.message)]
      }
      // Collected by a concurrent gc while it was being read: gone, not corrupted.
      if !problems.isEmpty, try !contains(key) { continue }
      if !quick, let m = manifest {
        report.filesHashed += m.fileCount
        report.bytesHashed += m.byteCount
      }
      intact[key] = problems.allSatisfy { $0.kind == .mode }
      for p in problems {
        report.problems.append(AuditProblem(
          severity: .error, kind: p.kind.rawValue, path: where_.appending(bytes: p.path), detail: p.detail, key: key,
          generations: usedBy[key] ?? [], hint: "mcp-gen audit --repair"))
      }
    }

    // Generation links. One whose release `audit --repair` already reported gone (and kept,
    // marked `!`) is a warning: the operator knows, and adding the release again restores it.
    // The journal read a part at a time (it may be a gigabyte), keeping only what is reported.
    var marks = UnrestorableMarks()
    var lastSource: [StoreKey: [UInt8]] = [:]
    var damage: [Journal.Damage] = []
    try forEachJournalPart { part in
      damage += part.damage
      for r in part.records {
        marks.add(r)
        if let key = r.key, let source = r.source { lastSource[key] = source }
      }
    }
    let acknowledged = marks.acknowledged(generations)
    var missing = Set<StoreKey>()
    for g in generations {
      let where_ = path.appending(bytes: Store.generationsName + [0x2F] + Array(String(g.number).utf8))
      guard let key = g.key else {
        report.problems.append(AuditProblem(severity: .error, kind: "damaged-generation", path: where_,
          detail: "points at \(displayName(g.target)), not into the store", generations: [g.number], hint: "mcp-gen audit --repair"))
        continue
      }
      if intact[key] == nil || missing.contains(key) {
        // Removed by a gc or repair since the listing? Then it is no problem.
        if try generation(g.number) == nil { continue }
        missing.insert(key)
        intact[key] = false
        if acknowledged.contains(g.number) {
          let source = lastSource[key].map { displayName($0) } ?? "PATH"
          report.problems.append(AuditProblem(severity: .warning, kind: "dangling-generation", path: where_,
            detail: "its store entry \(key.short) is gone (audit --repair kept the generation, not restorable until the release is added again)",
            key: key, generations: [g.number], hint: "mcp-gen add \(source)"))
          continue
        }
        report.problems.append(AuditProblem(severity: .error, kind: "dangling-generation", path: where_,
          detail: "its store entry \(key.short) is missing", key: key, generations: [g.number], hint: "mcp-gen audit --repair"))
      }
    }

    // current.
    let currentPath = path.appending(bytes: CurrentState.name)
    let fix = newestIntact(generations, intact).map { "mcp-gen rollback \($0)" } ?? "mcp-gen switch PATH"
    switch currentState {
    case .none:
      break
    case .damaged(let target):
      report.problems.append(AuditProblem(severity: .critical, kind: "current", path: currentPath,
        detail: "current points at \(displayName(target)), not at a generation", hint: fix))
    case .generation(let n):
      if let g = generations.first(where: { $0.number == n }) {
        if let key = g.key, intact[key] == true { break }
        report.problems.append(AuditProblem(severity: .critical, kind: "current", path: currentPath,
          detail: "current generation \(n) is corrupted or missing its release", key: g.key, generations: [n], hint: fix))
      } else {
        report.problems.append(AuditProblem(severity: .critical, kind: "current", path: currentPath,
          detail: "current points at generation \(n), which does not exist", generations: [n], hint: fix))
      }
    }

    // Stray temporary links, garbage, and the journal.
    for name in (try? root.list()) ?? [] where name.starts(with: Store.tempPrefix) {
      report.problems.append(AuditProblem(severity: .warning, kind: "leftover", path: path.appending(bytes: name),
        detail: "temporary link left by a crashed switch", hint: "mcp-gen gc"))
    }
    if let garbage = try? root.openDirectory(Store.garbageName), let left = try? garbage.list(), !left.isEmpty {
      report.problems.append(AuditProblem(severity: .warning, kind: "leftover", path: garbage.path,
        detail: "\(left.count) entries half-deleted by a crashed gc", hint: "mcp-gen gc"))
    }
    for d in damage {
      report.problems.append(AuditProblem(
        severity: d.torn ? .warning : .error, kind: "journal", path: path.appending(bytes: Journal.name),
        detail: d.torn ? "line \(d.line) is torn (a crash during a write)"
          : d.overlong ? "line \(d.line) is longer than \(Journal.maximumLineLength) bytes, the most a journal line may be; it was not read"
          : "line \(d.line) is not a journal record (or holds a number that is no generation number)",
        hint: "mcp-gen audit --repair"))
    }
    report.problems.sort { $0.severity < $1.severity }
    return report
  }

  /// Starts the progress phase with the totals of every entry's manifest (read once more below,
  /// but a manifest is small next to what it describes).
  private func beginAuditProgress(_ names: [[UInt8]]) -> Bool {
    guard let progress = options.progress else { return false }
    var files = 0
    var bytes: UInt64 = 0
    for name in names {
      guard let key = StoreKey(bytes: name), let m = try? readManifest(key) else { continue }
      files += m.fileCount
      bytes += m.byteCount
    }
    return progress.begin("auditing", files: files, bytes: bytes)
  }

  func newestIntact(_ generations: [Generation], _ intact: [StoreKey: Bool]) -> Int64? {
    generations.reversed().first { g in g.key.map { intact[$0] == true } ?? false }?.number
  }

  /// `mcp-gen verify [N]`: re-hashes only the release of generation `n` (default: current).
  public func verifyGeneration(_ n: Int64?) throws(MCPGenError) -> (generation: Int64, key: StoreKey, problems: [EntryProblem]) {
    let number: Int64
    if let n { number = n } else {
      guard let c = try current().number else {
        throw MCPGenError(.notFound, "nothing is current, so there is nothing to verify", hint: "mcp-gen switch PATH")
      }
      number = c
    }
    guard let g = try generation(number) else {
      throw MCPGenError(.notFound, "there is no generation \(number)", hint: "mcp-gen list")
    }
    guard let key = g.key else {
      throw MCPGenError(.integrity, "generation \(number) does not point into the store", hint: "mcp-gen audit --repair")
    }
    return (number, key, try verify(key))
  }
}
