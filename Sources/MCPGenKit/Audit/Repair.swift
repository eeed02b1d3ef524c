import MCPGenSystem
import SystemPackage

extension Store {
  static let quarantineName = Array("quarantine".utf8)

  /// `mcp-gen audit --repair`, under the lock: audits, then
  /// 1. if `current` is broken, rolls back to the newest intact generation (verified, journaled);
  /// 2. moves each corrupted entry or stray (and its manifest) into `quarantine/<name>-<time>`,
  ///    never deleting evidence;
  /// 3. restores read-only modes on entries whose content is intact;
  /// 4. keeps generations whose release is gone or quarantined (and their pins), journaled as
  ///    unrestorable: `list` marks them `!` until the release is added again;
  /// 5. moves a damaged journal aside into quarantine and keeps only its good lines;
  /// 6. removes leftovers of crashed runs;
  /// 7. rebuilds the history checkpoint from the journal.
  /// Returns the audit as found, with `repairs` listing every action.
  public func repair() throws(MCPGenError) -> AuditReport {
    try withLock { () throws(MCPGenError) in
      _ = try reconcile()
      var report = try audit()
      let stamp = String(Clock.now())
      var quarantined: [[UInt8]] = []
      var modeOnly: Set<StoreKey> = []
      var bad: Set<[UInt8]> = []
      for p in report.problems {
        guard p.path.bytes.starts(with: path.appending(bytes: Store.storeName).bytes) else { continue }
        if let key = p.key {
          if p.kind == "mode" { modeOnly.insert(key) } else { bad.insert(key.bytes) }
        } else if p.kind == "stray" {
          bad.insert(splitLast(p.path.bytes).name)
        }
      }
      modeOnly = modeOnly.filter { !bad.contains($0.bytes) }

      // 1. current first, so it never points at something about to move.
      let generations = try generations()
      var intact: [StoreKey: Bool] = [:]
      for g in generations {
        guard let k = g.key else { continue }
        let present = try contains(k)
        intact[k] = present && !bad.contains(k.bytes)
      }
      let currentNumber = try current().number
      let currentKey = generations.first { $0.number == currentNumber }?.key
      let currentBroken = currentNumber != nil && !(currentKey.map { intact[$0] ?? false } ?? false)
      if report.problems.contains(where: { $0.kind == "current" }) || currentBroken {
        if let target = newestIntact(generations, intact), let key = generations.first(where: { $0.number == target })?.key {
          let verified = try requireIntact(key, what: "generation \(target)")
          let from = try currentGeneration().0
          try pointCurrent(at: target)
          try confirmCurrent(target, key, verified: verified)
          try journal(.rollback, from: from, to: target, key: key, source: nil,
                      extra: [("note", .string("audit --repair: current was corrupted"))])
          report.repairs.append("rolled current back to generation \(target) (\(key.short)), the newest intact one")
          report.repaired += 1
        } else {
          report.repairs.append("could not repair current: no intact generation is left; switch to a release with mcp-gen switch PATH")
        }
      }

      // 2. quarantine.
      if !bad.isEmpty {
        try attempt("quarantine") { () throws(SystemCallError) in
          try root.ensureDirectory(Store.quarantineName, mode: 0o700)
          let q = try root.openDirectory(Store.quarantineName)
          for name in bad.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            guard try entries.statIfPresent(name) != nil else { continue }
            let target = name + Array("-\(stamp)".utf8)
            try unfreezeRoot(name, in: entries)
            try entries.rename(name, to: q, as: target)
            if try manifests.statIfPresent(name) != nil {
              try manifests.rename(name, to: q, as: target + Array(".manifest".utf8))
            }
            quarantined.append(name)
            report.repairs.append("quarantined store/\(displayName(name)) as quarantine/\(displayName(target))")
            report.repaired += 1
          }
          try entries.sync()
          try manifests.sync()
          try q.sync()
        }
      }

      // 3. modes.
      for key in modeOnly.sorted() {
        try restoreModes(key)
        report.repairs.append("restored read-only modes of \(key.short)")
        report.repaired += 1
      }

      // 4. generations whose release is gone stay, with their pins: `list` marks them `!` until
      //    the release is added again, which makes them restorable again. The journal line
      //    names them, so later audits know the operator was told (a warning, not an error).
      let nowCurrent = try current().number
      let known = try acknowledgedUnrestorable(generations, readJournal())
      var unrestorable: [Int64] = []
      for g in generations where g.number != nowCurrent && !known.contains(g.number) {
        if let k = g.key, !bad.contains(k.bytes), try contains(k) { continue }
        unrestorable.append(g.number)
      }
      if !unrestorable.isEmpty || !quarantined.isEmpty {
        try journal(.repair, from: nil, to: nil, key: nil, source: nil, extra: [
          ("unrestorable", .array(unrestorable.map(JSON.int))),
          ("quarantined", .array(quarantined.map(JSON.string))),
        ])
      }
      if !unrestorable.isEmpty {
        let list = unrestorable.map(String.init).joined(separator: ", ")
        report.repairs.append("kept generation\(unrestorable.count == 1 ? "" : "s") \(list), not restorable (!) until the release is added again (mcp-gen add PATH)")
        report.repaired += 1
      }

      // 5. journal.
      if report.problems.contains(where: { $0.kind == "journal" }) {
        try setJournalAside(stamp)
        report.repairs.append("kept the journal's good lines; the damaged original is quarantine/journal-\(stamp).jsonl")
        report.repaired += 1
      }

      // 6. leftovers.
      let removed = try removeLeftovers()
      if removed > 0 {
        report.repairs.append("removed \(removed) leftovers of crashed runs")
        report.repaired += 1
      }
      // 7. The checkpoint, rebuilt from the journal as it is now (a repaired journal is a new
      // file: the old checkpoint would be ignored anyway). Not a repair: it is only a cache.
      try rebuildCheckpoint()
      return report
    }
  }

  /// Puts the stored modes back (0444/0555, 0555 for directories) on an entry whose content
  /// verified; clears and re-sets the immutable flag around each change.
  private func restoreModes(_ key: StoreKey) throws(MCPGenError) {
    let manifest = try readManifest(key)
    let immutability = Immutability()
    try attempt("restore modes of \(key.short)") { () throws(SystemCallError) in
      for e in manifest.entries.reversed() where e.kind != .symlink {
        let fd: CInt
        let holder: AnyObject
        let relative = e.path == ManifestEntry.rootPath ? key.bytes : key.bytes + [0x2F] + e.path
        if e.kind == .directory {
          let d = try entries.openDirectory(relative)
          (fd, holder) = (d.fd, d)
        } else {
          let f = try entries.openFile(relative, flags: [.readOnly, .nonBlocking])
          (fd, holder) = (f.fd, f)
        }
        Immutability.clear(fd)
        try Syscall.fchmod(fd, UInt32(e.kind.storedMode)).get("fchmod", entries.path.appending(bytes: relative))
        try immutability.mark(fd, entries.path.appending(bytes: relative))
        withExtendedLifetime(holder) {}
      }
      try entries.syncFileSystem()
    }
  }

  /// Copies the damaged journal into quarantine, then replaces it with its good lines
  /// (temporary file, fsync, rename, fsync). Both read in bounded chunks: a journal line of a
  /// gigabyte costs no gigabyte here either.
  private func setJournalAside(_ stamp: String) throws(MCPGenError) {
    guard let original = try Journal.open(in: root, flags: OpenFlags.readOnly) else { return }
    var good: [UInt8] = []
    // Byte for byte: a line rewritten could lose its seal.
    for line in try readJournal().rawLines { good += line + [0x0A] }
    try attempt("repair the journal") { () throws(SystemCallError) in
      try root.ensureDirectory(Store.quarantineName, mode: 0o700)
      let q = try root.openDirectory(Store.quarantineName)
      let saved = Array("journal-\(stamp).jsonl".utf8)
      let copy = try q.openFile(saved, flags: [.writeOnly, .create, .truncate], mode: 0o600)
      var offset: Int64 = 0
      while true {
        let part = try original.read(at: offset, count: 1 << 20)
        if part.isEmpty { break }
        try copy.writeAll(part)
        offset += Int64(part.count)
      }
      try copy.sync()
      try q.sync()
      try TemporaryFile.write(good, mode: 0o644, in: root, as: Journal.name, replacing: true) { Store.temporaryName() }
    }
  }
}
