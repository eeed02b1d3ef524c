import MCPGenSystem
import Synchronization
import SystemPackage

extension Store {
  /// Re-reads and re-hashes `store/<key>` and compares it with `manifests/<key>`.
  ///
  /// Returns every difference (empty when intact). Files whose kind or size already differ are
  /// not hashed. An unreadable file is a problem, not a failure, so the caller sees all of them.
  ///
  /// `quick` compares kinds, sizes, targets and modes only, without re-hashing. Permission
  /// problems (writable, setuid/setgid, not read-only) are reported with kind `mode`.
  public func verify(_ key: StoreKey, quick: Bool = false) throws(MCPGenError) -> [EntryProblem] {
    try verifyAgainstManifest(key, quick: quick).problems
  }

  /// `verify`, also returning the manifest it compared with (nil when it could not be read) and
  /// the entry as it was scanned (nil when it could not be). `name` is where in `store/` the
  /// entry is (default: the key; a healed copy is verified under its temporary name).
  func verifyAgainstManifest(
    _ key: StoreKey, quick: Bool = false, at name: [UInt8]? = nil
  ) throws(MCPGenError) -> (problems: [EntryProblem], manifest: Manifest?, release: ScannedRelease?) {
    let name = name ?? key.bytes
    // The manifest is read and parsed while the entry is scanned and hashed: on a large entry
    // that would otherwise be time with one core idle.
    let manifest = Background { () throws(MCPGenError) -> Result<Manifest, MCPGenError> in
      do throws(MCPGenError) {
        return .success(try self.readManifest(key))
      } catch where error.code == .integrity {
        return .failure(error)  // a damaged manifest is a problem to report, not a failure
      }
    }
    func invalid(_ error: MCPGenError) -> [EntryProblem] {
      [EntryProblem(.manifestInvalid, ManifestEntry.rootPath, error.message)]
    }
    let present = try attempt("read the store") { () throws(SystemCallError) in try entries.statIfPresent(name) != nil }
    guard present else {
      if case .failure(let error) = try manifest.value() { return (invalid(error), nil, nil) }
      return ([EntryProblem(.entryMissing, ManifestEntry.rootPath, "store entry is missing")], nil, nil)
    }
    var release: ScannedRelease
    var unreadable: [EntryProblem] = []
    do throws(MCPGenError) {
      if quick {
        release = try TreeScanner.scan(name, in: entries)
      } else {
        // Every file is hashed while the scan goes on, even one whose size already differs:
        // that costs only on a damaged entry, and saves the intact ones a second pass.
        // Within an audit, its own phase counts this entry.
        let began = options.progress?.begin("verifying") ?? false
        defer { if began { options.progress?.end() } }
        let hashed = try StreamingHash.run(stopOnError: false, progress: options.progress) { (sink) throws(MCPGenError) in
          try TreeScanner.scan(name, in: entries, onFile: sink)
        }
        release = hashed.release
        var digests = hashed.digests
        if case .file = release.source {
          let file = try release.open(0)
          let worker = FileWorker(progress: options.progress)
          do throws(MCPGenError) {
            digests[0] = try attempt("read") { () throws(SystemCallError) in try worker.digest(file).0 }
          } catch {
            unreadable.append(EntryProblem(.unreadable, release.entries[0].path, error.message))
          }
        }
        for (i, digest) in digests { release.entries[i].digest = digest }
        for (i, error) in hashed.failures.sorted(by: { $0.key < $1.key }) {
          unreadable.append(EntryProblem(.unreadable, release.entries[i].path, error.message))
        }
      }
    } catch where error.code == .unsupportedFileType {
      return ([EntryProblem(.typeChanged, ManifestEntry.rootPath, error.message)], try? manifest.value().get(), nil)
    }
    let expected: Manifest
    switch try manifest.value() {
    case .success(let m): expected = m
    case .failure(let error): return (invalid(error), nil, release)
    }
    let actual = Manifest(sorted: release.entries)  // a scan lists entries in manifest order
    let failedReads = Set(unreadable.map(\.path))
    let problems = unreadable + ManifestComparison.problems(expected: expected, actual: actual).filter {
      !($0.kind == .modified && failedReads.contains($0.path))
    } + Store.modeProblems(release)
    return (problems, expected, release)
  }

  /// Stored files are 0444 or 0555, directories 0555; nothing writable, setuid or setgid.
  static func modeProblems(_ release: ScannedRelease) -> [EntryProblem] {
    var out: [EntryProblem] = []
    for (i, e) in release.entries.enumerated() where e.kind != .symlink {
      guard i < release.modes.count else { continue }
      let mode = release.modes[i]
      let wanted = e.kind.storedMode
      if mode != wanted {
        out.append(EntryProblem(.mode, e.path, "mode \(String(mode, radix: 8).leftPadded(to: 4)), expected \(String(wanted, radix: 8).leftPadded(to: 4))"))
      }
    }
    return out
  }

  /// Throws `integrity` unless `store/<key>` matches its manifest exactly; returns what each of
  /// its files was when hashed, for `confirmCurrent` to check after a swap.
  @discardableResult
  func requireIntact(_ key: StoreKey, what: String) throws(MCPGenError) -> VerifiedEntry {
    try examine(key).get(what, path: entryPath(key))
  }

  /// Re-hashes `store/<key>` against its manifest: the verified entry, or what is wrong with it.
  func examine(_ key: StoreKey) throws(MCPGenError) -> Examined {
    let began = Clock.now()
    let (problems, _, release) = try verifyAgainstManifest(key)
    guard problems.isEmpty, let release else { return Examined(key: key, problems: problems, verified: nil) }
    return Examined(key: key, problems: [], verified: VerifiedEntry(key: key, release: release, began: began))
  }
}

/// A store entry as `examine` found it.
struct Examined {
  var key: StoreKey
  /// Empty when intact (or, with `verified` nil, when its structure could not be read at all).
  var problems: [EntryProblem]
  var verified: VerifiedEntry?

  /// The first problem, and how many more.
  var summary: String {
    guard let first = problems.first else { return "it could not be read" }
    return "\(first)" + (problems.count > 1 ? " (and \(problems.count - 1) more)" : "")
  }

  /// The verified entry, or the `integrity` error `requireIntact` throws.
  func get(_ what: String, path: FilePath? = nil) throws(MCPGenError) -> VerifiedEntry {
    if let verified { return verified }
    throw error(what, path: path)
  }

  /// Why the entry is not usable, naming it as `what`.
  func error(_ what: String, path: FilePath?) -> MCPGenError {
    guard !problems.isEmpty else {
      return MCPGenError(.integrity, "\(what) \(key.short) could not be read; nothing was changed", path: path)
    }
    return MCPGenError(
      .integrity, "\(what) \(key.short) is corrupted: \(summary); nothing was changed", hint: "mcp-gen audit --repair", path: path)
  }
}

/// A store entry just re-hashed against its manifest, and what each of its files was then.
struct VerifiedEntry {
  var key: StoreKey
  var release: ScannedRelease
  /// When the verification began (seconds since the epoch).
  var began: Int64
}
