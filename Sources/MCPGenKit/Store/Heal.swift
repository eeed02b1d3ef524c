import MCPGenSystem
import SystemPackage

/// A corrupted store entry that `switch PATH` replaced with a verified copy of its source.
public struct HealedEntry: Sendable {
  public var key: StoreKey
  /// What was wrong with the stored copy: its first problem, and how many more.
  public var problem: String
  /// Where the corrupted copy went (`quarantine/<key>-<time>`); nil in a dry run, which heals
  /// nothing.
  public var quarantined: FilePath?
}

extension Store {
  /// Replaces the corrupted `store/<key>` with a fresh copy of `source` (whose key the caller
  /// found to be `key`), under the lock, so that `current` never dangles even when it resolves
  /// to that entry. Steps, and what a crash at each leaves:
  /// 1. copy the source into `store/.tmp-<pid>-<random>` as `add` does (flocked, hashed as
  ///    written, read-only, immutable below its root); its manifest must hash to `key`: a crash
  ///    leaves a temporary that gc removes;
  /// 2. a manifest that does not hash to `key` is copied into quarantine and written again
  ///    (temporary, fsync, rename): the entry is still the corrupted one either way;
  /// 3. re-hash the copy from disk against the manifest; one that does not verify is removed and
  ///    nothing else has changed;
  /// 4. clear the immutable flag of the corrupted entry's root (an immutable inode cannot be
  ///    renamed) and swap the two names with `renameat2(RENAME_EXCHANGE)`: `store/<key>` is the
  ///    corrupted copy before and the healed one after, never absent; fsync `store/`, seal the
  ///    healed root. A crash after the swap leaves the corrupted copy under the temporary name,
  ///    a leftover that gc removes;
  /// 5. move the corrupted copy into `quarantine/<key>-<time>` (never deleting evidence), fsync
  ///    both directories, and journal a `heal` line.
  func heal(_ key: StoreKey, from source: FilePath, recordedSource: [UInt8]?, problem: String) throws(MCPGenError) -> HealedEntry {
    let release = try TreeScanner.scan(source)
    let temp = Store.temporaryName()
    let immutability = Immutability()
    let stamp = String(Clock.now())
    var exchanged = false
    do throws(MCPGenError) {
      let (guardFD, manifest) = try options.progress.tracking("copying", files: release.fileIndices.count, bytes: release.byteCount) {
        () throws(MCPGenError) in try copy(release, nil, to: temp, immutability)
      }
      defer { withExtendedLifetime(guardFD) {} }
      guard manifest.key == key else {
        throw MCPGenError(
          .sourceChanged,
          "\(source.displayString) changed while it was being read (its copy is not \(key.short) any more); nothing was changed, run the command again once the release is no longer changing",
          path: source)
      }
      var quarantinedManifest = false
      if (try? readManifest(key)) != manifest {
        try quarantineManifest(key, as: key.bytes + Array("-\(stamp).manifest".utf8))
        quarantinedManifest = true
        try storeManifest(manifest, key)
      }
      let copied = try verifyAgainstManifest(key, at: temp).problems
      if let first = copied.first {
        throw MCPGenError(
          .integrity,
          "the fresh copy of \(source.displayString) in \(path.displayString)/store does not verify (\(first)); nothing was changed, check the device",
          hint: "mcp-gen audit", path: entries.path.appending(bytes: temp))
      }
      try attempt("heal store entry \(key.short)") { () throws(SystemCallError) in
        try unfreezeRoot(key.bytes, in: entries)
        try entries.exchange(temp, with: entries, key.bytes)
        exchanged = true
        try entries.sync()
        if try sealRoot(of: key, manifest, immutability) { try entries.syncFileSystem() }
      }
      let target = try quarantineEntry(temp, as: key.bytes + Array("-\(stamp)".utf8))
      var extra: [(String, JSON)] = [("problem", .string(problem)), ("quarantined", .string(target))]
      if quarantinedManifest { extra.append(("manifest", .string(target + Array(".manifest".utf8)))) }
      try journal(.heal, from: nil, to: nil, key: key, source: recordedSource ?? absolute(source).bytes, extra: extra)
      return HealedEntry(key: key, problem: problem, quarantined: path.appending(bytes: Store.quarantineName + [0x2F] + target))
    } catch {
      if !exchanged { try? TreeRemover.remove(temp, in: entries) }
      throw error
    }
  }

  /// Moves `store/<name>` into `quarantine/` as `target` (or, when a heal of the same second got
  /// there first, a name with a random suffix); returns the name used.
  private func quarantineEntry(_ name: [UInt8], as target: [UInt8]) throws(MCPGenError) -> [UInt8] {
    try attempt("quarantine") { () throws(SystemCallError) in
      try root.ensureDirectory(Store.quarantineName, mode: 0o700)
      let q = try root.openDirectory(Store.quarantineName)
      try unfreezeRoot(name, in: entries)
      var used = target
      do throws(SystemCallError) {
        try entries.renameNoReplace(name, to: q, as: used)
      } catch where error.errno == .fileExists || error.errno == .directoryNotEmpty {
        used = Store.temporaryName(prefix: target + [0x2D])
        try entries.renameNoReplace(name, to: q, as: used)
      }
      try entries.sync()
      try q.sync()
      return used
    }
  }

  /// Copies `manifests/<key>` (if any) into `quarantine/` as `target`, durably, before a correct
  /// one replaces it.
  private func quarantineManifest(_ key: StoreKey, as target: [UInt8]) throws(MCPGenError) {
    try attempt("quarantine manifest") { () throws(SystemCallError) in
      guard try manifests.statIfPresent(key.bytes) != nil else { return }
      let bytes = try manifests.openFile(key.bytes, flags: [.readOnly, .nonBlocking]).readAll()
      try root.ensureDirectory(Store.quarantineName, mode: 0o700)
      let q = try root.openDirectory(Store.quarantineName)
      let file = try q.openFile(target, flags: [.writeOnly, .create, .truncate], mode: 0o444)
      try file.writeAll(bytes)
      try file.sync()
      try q.sync()
    }
  }
}
