import MCPGenSystem
import SystemPackage

/// One link in the directory `expose` writes to, and what this run did with it.
public struct ExposedLink: Sendable, Equatable {
  public enum Change: String, Sendable {
    /// There was nothing of that name.
    case created
    /// A file or link mcp-gen did not create was replaced (`--force`), or an older link of ours
    /// pointed at another path of the release.
    case replaced
    /// The link was already exactly this.
    case unchanged
    /// A link of ours taken away: by `--remove`, or because the release no longer declares it.
    case removed
  }

  /// The link's name in the directory (the last component of its path in the release).
  public var name: [UInt8]
  public var path: FilePath
  /// `<root>/current/<path in the release>`, absolute.
  public var target: [UInt8]
  public var change: Change
}

/// What `expose` or `expose --remove` did in one directory.
public struct ExposeResult: Sendable {
  public var directory: FilePath
  /// The generation whose declared executables were linked; nil for `--remove`.
  public var generation: Int64?
  public var links: [ExposedLink]
  /// Declared paths not linked because they lead out of the release (a link of ours of that
  /// name is removed, as no longer declared).
  public var skipped: [SkippedCommand]
}

/// `mcp-gen expose DIR`: symlinks in DIR to the current release's executables, each through
/// `<root>/current/...`, so a switch or rollback changes what they run without relinking.
///
/// Which links are mcp-gen's is read from the links themselves, nothing is recorded: a symlink
/// `DIR/NAME` belongs to a root when its target is exactly `<root>/current/PATH` (root absolute)
/// and PATH, a plain relative path, ends in NAME. Anything else in DIR is someone else's and is
/// never replaced without `force`, never removed.
extension Store {
  /// Leftover temporary links in DIR (a crash between `symlinkat` and `rename`) start with this;
  /// they are ours only if they also point into this root's `current/`.
  static let exposeTempPrefix = Array(".mcp-gen-tmp-".utf8)

  /// `<absolute root>/current/`: the start of every target `expose` writes.
  /// `.` components are dropped, so `--root ./r` and `--root r` write and recognise the same
  /// links; `..` and symlinks are kept as given (resolving them could name another directory).
  public var exposedTargetPrefix: [UInt8] {
    let parts = absolutePath(path).bytes.split(separator: 0x2F).filter { !$0.elementsEqual([0x2E]) }
    var out: [UInt8] = []
    for part in parts { out += [0x2F] + part }
    return out + [0x2F] + CurrentState.name + [0x2F]
  }

  /// Whether `DIR/name -> target` is a link this root's `expose` made.
  func isExposedLink(_ name: [UInt8], _ target: [UInt8]) -> Bool {
    let prefix = exposedTargetPrefix
    guard target.count > prefix.count, target.starts(with: prefix) else { return false }
    let inRelease = Array(target.dropFirst(prefix.count))
    return Config.exposeProblem(inRelease) == nil && splitLast(inRelease).name == name
  }

  /// Links the executables the current release declares into `directory` (config `expose`, else
  /// every executable file in `bin/`), each only when it resolves inside the release.
  ///
  /// Under the lock. Everything is checked before anything changes: a file or link in the way
  /// that mcp-gen did not create refuses the whole run unless `force`; a directory in the way
  /// always does. Each link is then made atomically: `symlinkat` a temporary name in DIR,
  /// `renameat` it over the final name (`RENAME_NOREPLACE` where nothing was there, so a file
  /// that appears meanwhile is never overwritten), fsync DIR. A crash leaves each link old or
  /// new, and at most one `.mcp-gen-tmp-*` link that the next run removes. Links of ours that
  /// the release no longer declares are removed.
  public func expose(in directory: FilePath, force: Bool = false) throws(MCPGenError) -> ExposeResult {
    try withLock { () throws(MCPGenError) -> ExposeResult in
      let (generation, paths, skipped) = try declaredExecutables()
      let dir = try openExposeDirectory(directory)
      let shown = dir.path.displayString
      let prefix = exposedTargetPrefix

      enum Existing { case nothing, same, ours, foreign(String), directory }
      var plan: [(name: [UInt8], target: [UInt8], existing: Existing)] = []
      for p in paths {
        let name = splitLast(p).name
        let target = prefix + p
        let existing: Existing = try attempt("read \(shown)") { () throws(SystemCallError) -> Existing in
          guard let st = try dir.statIfPresent(name) else { return .nothing }
          switch st.type {
          case .symlink:
            let now = try dir.readSymlink(name)
            if now == target { return .same }
            return isExposedLink(name, now) ? .ours : .foreign("a symlink to \(displayName(now))")
          case .directory:
            return .directory
          case .regular:
            return .foreign("a file")
          default:
            return .foreign("a special file")
          }
        }
        plan.append((name, target, existing))
      }
      if let blocked = plan.first(where: { if case .directory = $0.existing { true } else { false } }) {
        throw MCPGenError(
          .conflict,
          "\(dir.path.appending(bytes: blocked.name).displayString) is a directory; nothing was changed, move it away (expose never replaces a directory)")
      }
      let foreign = plan.compactMap { item -> String? in
        if case .foreign(let what) = item.existing { return "\(dir.path.appending(bytes: item.name).displayString) is \(what)" }
        return nil
      }
      if !force, let first = foreign.first {
        let more = foreign.count > 1 ? " (and \(foreign.count - 1) more)" : ""
        throw MCPGenError(
          .conflict,
          "\(first) that mcp-gen did not create\(more); nothing was changed, move it away or pass --force to replace it",
          hint: "mcp-gen expose --force \(shown)")
      }

      var links: [ExposedLink] = []
      for item in plan {
        let change: ExposedLink.Change
        switch item.existing {
        case .same: change = .unchanged
        case .nothing: change = .created
        case .ours, .foreign, .directory: change = .replaced
        }
        if change != .unchanged {
          do throws(MCPGenError) {
            try attempt("link \(dir.path.appending(bytes: item.name).displayString)") { () throws(SystemCallError) in
              try installLink(item.name, item.target, in: dir, replacing: change == .replaced)
            }
          } catch {
            throw partly(error, links)
          }
        }
        links.append(ExposedLink(name: item.name, path: dir.path.appending(bytes: item.name), target: item.target, change: change))
      }
      let declared = Set(plan.map(\.name))
      do throws(MCPGenError) {
        links += try removeOurLinks(in: dir) { !declared.contains($0) }
      } catch {
        throw partly(error, links)
      }
      return ExposeResult(directory: dir.path, generation: generation, links: links, skipped: skipped)
    }
  }

  /// Removes from `directory` the links this root's `expose` made (and its leftover temporary
  /// links), nothing else; fsyncs DIR. Under the lock.
  public func removeExposed(from directory: FilePath) throws(MCPGenError) -> ExposeResult {
    try withLock { () throws(MCPGenError) -> ExposeResult in
      let dir = try openExposeDirectory(directory)
      return ExposeResult(directory: dir.path, generation: nil, links: try removeOurLinks(in: dir) { _ in true }, skipped: [])
    }
  }

  /// The generation current now, the paths in its release to link (config `expose`, each
  /// checked, else every executable file or symlink to one directly in `bin/`), and the declared
  /// paths skipped because they lead out of the release.
  private func declaredExecutables() throws(MCPGenError) -> (Int64, [[UInt8]], [SkippedCommand]) {
    let config = try loadConfig()
    let (number, currentKey) = try currentGeneration()
    guard let number, let key = currentKey else {
      throw MCPGenError(
        .notFound, "nothing is current, so there is nothing to expose; switch to a release first",
        hint: "mcp-gen switch PATH")
    }
    let manifest = try readManifest(key)
    if manifest.isSingleFile {
      throw MCPGenError(
        .invalidInput,
        "the current release (generation \(number)) is a single file, not a tree with bin/; link to \(absolutePath(path).appending(bytes: CurrentState.name).displayString) itself instead")
    }
    let commands = try commands(of: key, manifest, config)
    if let (p, problem) = commands.unusable.first {
      throw MCPGenError(
        .invalidInput,
        "\(displayName(p)) (listed under expose in config.json) \(problem) the current release (generation \(number), \(key.short)); fix the list or switch to a release that has it",
        hint: "mcp-gen config")
    }
    guard config.expose != nil || !commands.exposable.isEmpty else {
      let skipped = commands.escaping.isEmpty ? "" : " that stay inside it (\(commands.escaping.map(\.text).joined(separator: "; ")))"
      throw MCPGenError(
        .invalidInput,
        "the current release (generation \(number), \(key.short)) has no executable files in bin/\(skipped); list what to expose under \"expose\" in config.json",
        hint: "mcp-gen config --init")
    }
    return (number, commands.exposable, commands.escaping)
  }

  private func openExposeDirectory(_ directory: FilePath) throws(MCPGenError) -> DirectoryFD {
    let shown = directory.displayString
    do {
      return try DirectoryFD.open(directory)
    } catch let e where e.errno == .noSuchFileOrDirectory {
      throw MCPGenError(.notFound, "\(shown) does not exist; create it and run the command again",
                        hint: "mkdir -p \(shown)", path: directory, cause: e)
    } catch let e where e.errno == .notDirectory {
      throw MCPGenError(.invalidInput, "\(shown) is not a directory; give the directory the links go in (e.g. /usr/local/bin)", path: directory, cause: e)
    } catch {
      throw MCPGenError(error, doing: "open \(shown)")
    }
  }

  /// `symlinkat` a temporary name, `renameat` it over `name`, fsync the directory.
  private func installLink(_ name: [UInt8], _ target: [UInt8], in dir: DirectoryFD, replacing: Bool) throws(SystemCallError) {
    let temp = Store.temporaryName(prefix: Store.exposeTempPrefix)
    try dir.makeSymlink(temp, target: target)
    do throws(SystemCallError) {
      if replacing {
        try dir.rename(temp, to: dir, as: name)
      } else {
        do throws(SystemCallError) {
          try dir.renameNoReplace(temp, to: dir, as: name)
        } catch where error.errno == .invalidArgument {
          try dir.rename(temp, to: dir, as: name)  // A file system without RENAME_NOREPLACE.
        }
      }
    } catch {
      try? dir.unlink(temp)
      throw error
    }
    try dir.sync()
  }

  /// Unlinks every link of ours in `dir` whose name `select` accepts, and every leftover
  /// temporary link of ours; fsyncs `dir` when anything went. Returns the links (temporaries
  /// are not reported).
  private func removeOurLinks(in dir: DirectoryFD, _ select: ([UInt8]) -> Bool) throws(MCPGenError) -> [ExposedLink] {
    let prefix = exposedTargetPrefix
    return try attempt("remove links from \(dir.path.displayString)") { () throws(SystemCallError) -> [ExposedLink] in
      var removed: [ExposedLink] = []
      var changed = false
      for name in try dir.list().sorted(by: { $0.lexicographicallyPrecedes($1) }) {
        guard let st = try dir.statIfPresent(name), st.type == .symlink else { continue }
        let target = try dir.readSymlink(name)
        if name.starts(with: Store.exposeTempPrefix) && target.starts(with: prefix) {
          try dir.unlink(name)
          changed = true
        } else if isExposedLink(name, target) && select(name) {
          try dir.unlink(name)
          changed = true
          removed.append(ExposedLink(name: name, path: dir.path.appending(bytes: name), target: target, change: .removed))
        }
      }
      if changed { try dir.sync() }
      return removed
    }
  }

  /// An error after some links were already made: say which, and that running again finishes.
  private func partly(_ error: MCPGenError, _ done: [ExposedLink]) -> MCPGenError {
    let made = done.filter { $0.change != .unchanged }
    guard !made.isEmpty else { return error }
    var e = error
    e.message = "\(error.message); already linked before this: \(made.map { $0.path.displayString }.joined(separator: ", ")); run the command again to finish"
    return e
  }
}
