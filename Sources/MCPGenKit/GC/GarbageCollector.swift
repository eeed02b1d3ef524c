import MCPGenSystem
import Synchronization
import SystemPackage

/// What `gc` removed (or, with `dryRun`, would remove).
public struct GCReport: Sendable {
  public var removedGenerations: [Int64] = []
  public var removedEntries: [StoreKey] = []
  /// Content bytes of the removed entries, from their manifests.
  public var bytesFreed: UInt64 = 0
  /// Pinned generations kept beyond the keep count.
  public var keptPinned: [Int64] = []
  /// Generations beyond the keep count kept because they are younger than `olderThan`.
  public var keptByAge: [Int64] = []
  /// Entries no generation refers to, kept because they were stored less than `grace` seconds
  /// ago (an `add` awaiting its `switch`), with their age in seconds.
  public var keptByGrace: [(key: StoreKey, age: Int64)] = []
  /// Leftovers of crashed runs removed, or with `dryRun` to be removed (temporary copies,
  /// garbage, stray temporary links), as paths relative to the root.
  public var leftovers: [[UInt8]] = []
  public var leftoversRemoved: Int { leftovers.count }
  public var dryRun = false
}

extension Store {
  static let garbageName = Array("garbage".utf8)

  /// Keeps the newest `keep` generations that did not fail their checks, `current`, every pinned
  /// one and the newest good one, and with `olderThan` also every generation made less than that
  /// many seconds ago (a generation goes only when both rules let it); removes the other
  /// generation links, then every store entry no kept generation points at, then leftovers of
  /// crashed runs.
  ///
  /// `grace` protects only entries that no generation refers to and that were stored less than
  /// `grace` seconds ago: an `add` whose `switch` in another process is still to come is never
  /// raced. The entries of the generations removed here go at once, however young.
  ///
  /// All of it under the lock, reachability included. The journal line naming what goes is
  /// written first, so generation numbers are never reused even if gc dies half-way. An entry
  /// leaves the store by one `rename` into `garbage/` before it is deleted: a crash leaves
  /// garbage for the next gc, never a half-deleted `store/<key>`.
  public func collectGarbage(
    keep: Int, grace: Double = 3600, olderThan: Int64? = nil, dryRun: Bool = false
  ) throws(MCPGenError) -> GCReport {
    let body = { () throws(MCPGenError) -> GCReport in
      var report = GCReport(dryRun: dryRun)
      let history = try self.reconciledHistory(dryRun: dryRun).history
      let generations = try self.generations()
      let current = try self.current().number
      let pins = try self.pinned()

      var kept = Set<Int64>()
      if let current { kept.insert(current) }
      let good = generations.reversed().filter { !history.failed.contains($0.number) }
      for g in good.prefix(keep) { kept.insert(g.number) }
      if let newestGood = good.first(where: { $0.key != nil && ((try? self.contains($0.key!)) ?? false) }) {
        kept.insert(newestGood.number)
      }
      for g in generations where pins.contains(g.number) {
        if !kept.contains(g.number) { report.keptPinned.append(g.number) }
        kept.insert(g.number)
      }
      let now = Clock.now()
      if let olderThan {
        // The creation time `list` shows: the journal's, else the link's own.
        let links = try self.generationsDirectory()
        for g in generations where !kept.contains(g.number) {
          let created = history.creation(of: g.number)
            ?? links.flatMap { try? $0.stat(Array(String(g.number).utf8)) }.map { Int64($0.modified.seconds) }
          guard let created, now - created < olderThan else { continue }
          report.keptByAge.append(g.number)
          kept.insert(g.number)
        }
      }
      report.removedGenerations = generations.map(\.number).filter { !kept.contains($0) }

      let reachable = Set(generations.filter { kept.contains($0.number) }.compactMap(\.key))
      // Entries of generations removed now: no add awaits a switch to them, so no grace.
      let referenced = Set(generations.compactMap(\.key))
      var filesFreed = 0
      for key in try self.keys() where !reachable.contains(key) {
        guard let st = try attempt("read the store", { () throws(SystemCallError) in try self.entries.statIfPresent(key.bytes) })
        else { continue }
        let age = now - Int64(max(st.modified.seconds, st.changed.seconds))
        if Double(age) < grace && !referenced.contains(key) {
          report.keptByGrace.append((key, age))
          continue
        }
        report.removedEntries.append(key)
        let manifest = try? self.readManifest(key)
        report.bytesFreed += manifest?.byteCount ?? 0
        filesFreed += manifest?.fileCount ?? 0
      }
      if dryRun {
        report.leftovers = try self.leftovers(remove: false)
        return report
      }

      if !report.removedGenerations.isEmpty || !report.removedEntries.isEmpty {
        try self.journalCollection(
          generations: report.removedGenerations, entries: report.removedEntries, bytesFreed: report.bytesFreed)
      }
      // The fsync orders the links' removal before their entries': without entries to remove, a
      // link that comes back after a power cut is harmless (the journal already names it).
      try self.removeGenerationLinks(report.removedGenerations, durably: !report.removedEntries.isEmpty)
      try self.options.progress.tracking("removing", files: filesFreed, bytes: report.bytesFreed) { () throws(MCPGenError) in
        for key in report.removedEntries { try self.discard(key) }
      }
      report.leftovers = try self.leftovers(remove: true)
      return report
    }
    return dryRun ? try body() : try withLock(body)
  }

  func removeGenerationLinks(_ numbers: [Int64], durably: Bool = true) throws(MCPGenError) {
    guard !numbers.isEmpty, let dir = try generationsDirectory() else { return }
    // Each link's target fills a block of its own; freeing it can mean a synchronous discard
    // (ext4 mounted with `discard` and no journal waits for the device on every unlink). The
    // waits overlap when several threads unlink: the directory is locked only for the name.
    let threads = numbers.count < 64 ? 1 : ParallelWork.waitingThreads
    let failure = Mutex<SystemCallError?>(nil)
    let ranges = ParallelWork.ranges(numbers.count, parts: threads)
    ParallelWork.onThreads(threads) { k in
      for n in numbers[ranges[k]] {
        do throws(SystemCallError) {
          try dir.unlink(Array(String(n).utf8))
        } catch where error.errno == .noSuchFileOrDirectory {
        } catch {
          failure.withLock { if $0 == nil { $0 = error } }
          return
        }
      }
    }
    try attempt("remove generations") { () throws(SystemCallError) in
      if let error = failure.withLock({ $0 }) { throw error }
      if durably { try dir.sync() }
    }
  }

  /// Takes `store/<key>` out of the store with one rename into `garbage/`, then deletes it and
  /// its manifest.
  func discard(_ key: StoreKey) throws(MCPGenError) {
    try attempt("remove store entry \(key.short)") { () throws(SystemCallError) in
      try root.ensureDirectory(Store.garbageName, mode: 0o700)
      let garbage = try root.openDirectory(Store.garbageName)
      let name = key.bytes + Array("-\(Clock.now())".utf8) + Store.temporaryName()
      try unfreezeRoot(key.bytes, in: entries)
      try entries.rename(key.bytes, to: garbage, as: name)
      try entries.sync()
      try garbage.sync()
      // No fsync: a manifest that comes back after a power cut only lacks its entry, and the
      // next gc removes it (the power-loss checker shows no state that needs one).
      do throws(SystemCallError) { try manifests.unlink(key.bytes) } catch where error.errno == .noSuchFileOrDirectory {}
      try TreeRemover.remove(name, in: garbage, progress: options.progress, storeInodes: true)
    }
  }

  /// An immutable inode cannot be renamed: clear the flag on the entry's own inode first.
  func unfreezeRoot(_ name: [UInt8], in dir: DirectoryFD) throws(SystemCallError) {
    guard Syscall.effectiveUserID() == 0, let st = try dir.statIfPresent(name) else { return }
    switch st.type {
    case .directory:
      let d = try dir.openDirectory(name)
      Immutability.clear(d.fd)
    case .regular:
      let f = try dir.openFile(name, flags: [.readOnly, .nonBlocking])
      Immutability.clear(f.fd)
    default: break
    }
  }

  /// Removes what crashed runs left: unlocked `store/.tmp-*` copies, `manifests/.tmp-*`,
  /// `.tmp-*` links in the root, manifests without an entry, everything in `garbage/`, and the
  /// `remotes/NAME/partial/` of pulls no longer running (`remoteLeftovers`).
  /// Returns how many.
  func removeLeftovers() throws(MCPGenError) -> Int { try leftovers(remove: true).count }

  /// The leftovers `removeLeftovers` removes, as paths relative to the root; removed too when
  /// `remove` (`gc --dry-run` lists them).
  func leftovers(remove: Bool) throws(MCPGenError) -> [[UInt8]] {
    let dryRun = !remove
    return try attempt("remove leftovers") { () throws(SystemCallError) in
      var removed: [[UInt8]] = []
      for name in try entries.list() where name.starts(with: Store.tempPrefix) {
        guard try !isLive(name, in: entries) else { continue }
        if !dryRun { try TreeRemover.remove(name, in: entries, storeInodes: true) }
        removed.append(Store.storeName + [0x2F] + name)
      }
      let live = Set(try entries.list())
      for name in try manifests.list() {
        let isTemp = name.starts(with: Store.tempPrefix)
        guard isTemp || (StoreKey(bytes: name) != nil && !live.contains(name)) else { continue }
        if !isTemp, let st = try manifests.statIfPresent(name), Double(Clock.now() - Int64(st.modified.seconds)) < 3600 {
          continue  // A manifest written just before its entry: an add in flight.
        }
        if !dryRun { try manifests.unlink(name) }
        removed.append(Store.manifestsName + [0x2F] + name)
      }
      for name in try root.list() where name.starts(with: Store.tempPrefix) {
        if !dryRun { try TreeRemover.remove(name, in: root) }
        removed.append(name)
      }
      if let garbage = try? root.openDirectory(Store.garbageName) {
        for name in try garbage.list() {
          if !dryRun { try TreeRemover.remove(name, in: garbage, storeInodes: true) }
          removed.append(Store.garbageName + [0x2F] + name)
        }
      }
      removed += try remoteLeftovers(remove: !dryRun)
      return removed
    }
  }

  /// A temporary copy is live while its `add` holds its flock (on its own open file, so a
  /// fresh open here cannot take it).
  ///
  /// The flock is taken just after the copy is created, so a copy whose creator (the pid in its
  /// name) is still running also counts as live.
  func isLive(_ name: [UInt8], in dir: DirectoryFD) throws(SystemCallError) -> Bool {
    guard let st = try dir.statIfPresent(name) else { return false }
    if let pid = Store.creatorPID(name), pid != Syscall.processID(), Syscall.processExists(pid) { return true }
    let probe: CInt
    let holder: AnyObject
    if st.type == .directory {
      let d = try dir.openDirectory(name)
      (probe, holder) = (d.fd, d)
    } else {
      let f = try dir.openFile(name, flags: [.readOnly, .nonBlocking])
      (probe, holder) = (f.fd, f)
    }
    defer { withExtendedLifetime(holder) {} }
    switch Syscall.flock(probe, [.exclusive, .nonBlocking]) {
    case .success: return false
    case .failure(let e) where e == .wouldBlock: return true
    case .failure(let e): throw SystemCallError("flock", path: dir.path.appending(bytes: name), errno: e)
    }
  }

  /// The pid in `.tmp-<pid>-<hex>`.
  static func creatorPID(_ name: [UInt8]) -> Int32? {
    guard name.starts(with: tempPrefix) else { return nil }
    let rest = name.dropFirst(tempPrefix.count)
    guard let dash = rest.firstIndex(of: 0x2D) else { return nil }
    return Int32(String(decoding: rest[..<dash], as: UTF8.self))
  }
}
