import MCPGenSystem
import SystemPackage

/// A command a release declares that is never exposed, and why.
public struct SkippedCommand: Sendable, Equatable {
  /// The path inside the release (`bin/tool`).
  public var path: [UInt8]
  /// The stored target when `path` itself is a symlink; nil when a directory on the way is one.
  public var target: [UInt8]?

  /// `bin/tool is a symlink to /tmp/x/tool, which leads out of the release`: one clause for
  /// messages, every name escaped.
  public var text: String {
    let how = target.map { "is a symlink to \(displayName($0)), which" } ?? "goes through a symlink that"
    return "\(displayName(path)) \(how) leads out of the release"
  }
}

/// The commands a release declares (config `expose`, else the executables directly in `bin/`),
/// each resolved beneath the release's own directory.
///
/// A link such as `bin/tool -> /tmp/x/tool` is recorded faithfully (the store never follows
/// links) and verifies intact, but what it runs is whatever `/tmp/x/tool` holds at the time, which
/// the store neither holds nor checks. Exposed through `current`, it would hand anyone who can
/// write `/tmp/x` a command root runs, so such a path is never exposed, and `switch`/`rollback`
/// refuse to make such a release current without `--force`.
struct ReleaseCommands: Sendable {
  /// Paths that resolve inside the release to an executable file: what `expose` links.
  var exposable: [[UInt8]] = []
  /// Declared paths whose resolution leaves the release.
  var escaping: [SkippedCommand] = []
  /// Paths the config's `expose` lists that the release does not satisfy, each with why
  /// (`is not in`, `is a directory in`, `is not an executable file in`).
  var unusable: [(path: [UInt8], problem: String)] = []
}

/// Where a path inside a release leads.
enum CommandResolution: Equatable {
  case executable
  /// Inside the release, but not an executable file (or nothing: a dangling link, a loop).
  case notExecutable
  /// Absolute, or up through `..` past the release's root, on the way or at the end.
  case outside
}

extension Store {
  /// The commands release `key` declares under `config`, resolved (see `ReleaseCommands`).
  /// A single-file release declares none.
  ///
  /// With `stored` false (a dry run of `switch PATH`, which stores nothing), the paths are
  /// resolved on the manifest alone.
  func commands(of key: StoreKey, _ manifest: Manifest, _ config: Config, stored: Bool = true) throws(MCPGenError) -> ReleaseCommands {
    var result = ReleaseCommands()
    guard !manifest.isSingleFile else { return result }
    let release = !stored ? nil : try attempt("open the release \(key.short)") { () throws(SystemCallError) in
      try entries.openDirectory(key.bytes)
    }
    let byPath = Dictionary(manifest.entries.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
    func note(_ p: [UInt8], _ resolution: CommandResolution, listed: Bool) {
      switch resolution {
      case .executable: result.exposable.append(p)
      case .outside: result.escaping.append(SkippedCommand(path: p, target: byPath[p]?.kind == .symlink ? byPath[p]?.target : nil))
      case .notExecutable: if listed { result.unusable.append((p, "is not an executable file in")) }
      }
    }
    if let listed = config.expose {
      for p in listed {
        switch byPath[p]?.kind {
        case nil: result.unusable.append((p, "is not in"))
        case .directory?: result.unusable.append((p, "is a directory in"))
        default: note(p, try resolve(p, in: release, byPath), listed: true)
        }
      }
      return result
    }
    let bin = Array("bin/".utf8)
    for e in manifest.entries where e.kind != .directory && e.path.count > bin.count && e.path.starts(with: bin)
      && !e.path.dropFirst(bin.count).contains(0x2F) {
      note(e.path, try resolve(e.path, in: release, byPath), listed: false)
    }
    return result
  }

  /// Resolves `path` beneath `release` as a program run through it would: every symlink
  /// followed, but none may leave the release (`openat2(RESOLVE_BENEATH)`, EXDEV otherwise).
  /// Where the kernel has no openat2, the same walk over the manifest, which the verified entry
  /// equals.
  private func resolve(
    _ path: [UInt8], in release: DirectoryFD?, _ byPath: [[UInt8]: ManifestEntry]
  ) throws(MCPGenError) -> CommandResolution {
    guard let release else { return Store.resolveInManifest(path, byPath) }
    // EAGAIN: a rename anywhere raced the ".." check; the kernel asks to try again.
    for _ in 0..<8 {
      switch release.statWithin(path) {
      case .success(let st):
        return st.type == .regular && st.mode & 0o111 != 0 ? .executable : .notExecutable
      case .failure(let e) where e == .improperLink:
        return .outside
      case .failure(let e) where e == .noSuchFileOrDirectory || e == .tooManySymbolicLinkLevels || e == .notDirectory:
        return .notExecutable
      case .failure(let e) where e == .resourceTemporarilyUnavailable:
        continue
      case .failure(let e) where e == .noFunction || e == .notPermitted || e == .invalidArgument:
        return Store.resolveInManifest(path, byPath)
      case .failure(let e):
        throw MCPGenError(SystemCallError("openat2", path: release.path.appending(bytes: path), errno: e), doing: "resolve")
      }
    }
    return Store.resolveInManifest(path, byPath)
  }

  /// `resolve` done on the manifest alone: component by component, a symlink's target spliced
  /// in its place, `..` popping a component; an absolute target or a `..` above the root is
  /// `.outside`, as `RESOLVE_BENEATH` has it. At most 40 links, as the kernel allows.
  static func resolveInManifest(_ path: [UInt8], _ byPath: [[UInt8]: ManifestEntry]) -> CommandResolution {
    func components(_ p: [UInt8]) -> [[UInt8]] { p.split(separator: 0x2F).map(Array.init).reversed() }
    var done: [[UInt8]] = []
    var pending = components(path)  // a stack: the next component is last
    var links = 0
    var last: ManifestEntry? = nil
    while let c = pending.popLast() {
      if c == [0x2E] { continue }
      if c == [0x2E, 0x2E] {
        if done.isEmpty { return .outside }
        done.removeLast()
        last = nil
        continue
      }
      done.append(c)
      guard let e = byPath[Array(done.joined(separator: [0x2F]))] else { return .notExecutable }
      switch e.kind {
      case .symlink:
        links += 1
        if links > 40 { return .notExecutable }
        if e.target.first == 0x2F { return .outside }
        done.removeLast()
        pending += components(e.target)
        last = nil
      case .directory:
        last = e
      case .file, .executable:
        if pending.isEmpty { last = e } else { return .notExecutable }  // ENOTDIR
      }
    }
    return last?.kind == .executable && !done.isEmpty ? .executable : .notExecutable
  }

  /// Before `current` moves from `fromKey` to `key` (switch, rollback): refuses, unless `force`,
  /// when a command `key` declares leads out of its release, since the exposed links reach
  /// whatever `current` holds; returns the commands `fromKey` declared that `key` does not have,
  /// whose exposed links would then dangle (a warning, not a refusal).
  /// `pending` is the manifest of a release not stored yet (a dry run of `switch PATH`).
  func reviewCommands(
    from fromKey: StoreKey?, to key: StoreKey, generation: Int64, config: Config, force: Bool, pending: Manifest? = nil
  ) throws(MCPGenError) -> [[UInt8]] {
    let new: ReleaseCommands
    if let pending {
      new = try commands(of: key, pending, config, stored: false)
    } else {
      new = try commands(of: key, try readManifest(key), config)
    }
    if !force, let first = new.escaping.first {
      let more = new.escaping.count > 1 ? "; and \(new.escaping.count - 1) more" : ""
      throw MCPGenError(
        .conflict,
        "\(first.text) (release \(key.short), generation \(generation)\(more)): exposed through current, it would run a file the store does not hold; nothing was changed, fix the release or pass --force to make it current anyway")
    }
    guard let fromKey, fromKey != key else { return [] }
    // The release that was current is only compared with: one that cannot be read costs the
    // warning, never the change.
    guard let old = try? commands(of: fromKey, try readManifest(fromKey), config) else { return [] }
    let still = Set(new.exposable + new.escaping.map(\.path))
    return old.exposable.filter { !still.contains($0) }
  }
}
