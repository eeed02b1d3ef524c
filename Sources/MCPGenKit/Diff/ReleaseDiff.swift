import MCPGenSystem

/// One path that differs between two releases.
public struct PathChange: Sendable, Equatable {
  public enum Action: Sendable, Equatable {
    case added
    case removed
    case changed
  }

  /// What differs about a path present in both releases; several can hold at once.
  public struct Aspects: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// A regular file's content hash (and with it, perhaps its size).
    public static let content = Aspects(rawValue: 1)
    /// A regular file's owner execute bit, the only mode bit the manifest records.
    public static let execBit = Aspects(rawValue: 2)
    /// Directory, regular file or symlink became another of these.
    public static let type = Aspects(rawValue: 4)
    public static let symlinkTarget = Aspects(rawValue: 8)

    /// Words for `diff` lines, in this order: `type`, `content`, `exec bit`, `symlink target`.
    public var names: [String] { Aspects.all.filter { contains($0.0) }.map(\.1) }

    /// The same as stable tokens for `--json`: `type`, `content`, `exec-bit`, `symlink-target`.
    public var tokens: [String] { Aspects.all.filter { contains($0.0) }.map(\.2) }

    private static let all: [(Aspects, String, String)] = [
      (.type, "type", "type"), (.content, "content", "content"), (.execBit, "exec bit", "exec-bit"),
      (.symlinkTarget, "symlink target", "symlink-target"),
    ]
  }

  /// Raw path bytes relative to the release root; `.` for the root itself.
  public var path: [UInt8]
  public var action: Action
  /// The entry in the older release (nil when added).
  public var old: ManifestEntry?
  /// The entry in the newer release (nil when removed).
  public var new: ManifestEntry?
  /// Empty unless `action` is `.changed`.
  public var aspects: Aspects
}

/// How one release differs from another, from their manifests alone: no content is read or
/// hashed, because a manifest already records every path's kind, size, content hash, execute bit
/// and symlink target, and it was checked against its key when it was read.
///
/// Changes are ordered as the manifest orders its records: the release root (`.`) first, then
/// every other path by its raw bytes (unsigned, `LC_ALL=C sort`), never decoded or normalized.
/// A tree's root directory is never a change of its own (it has nothing to differ in); a
/// single-file release's root is its file, so it is compared like any file, and a release that
/// changes from a single file to a tree (or back) changes the root's type.
public struct ReleaseDiff: Sendable, Equatable {
  public private(set) var changes: [PathChange] = []
  /// Content bytes of the regular files of each side (`Manifest.byteCount`).
  public private(set) var oldBytes: UInt64 = 0
  public private(set) var newBytes: UInt64 = 0

  /// `old` nil compares with nothing at all (the first switch): every path of `new` is added.
  public init(from old: Manifest?, to new: Manifest) {
    oldBytes = old?.byteCount ?? 0
    newBytes = new.byteCount
    let a = old?.entries ?? []
    let b = new.entries
    // Roots first: index 0 of each manifest.
    compareRoots(a.first, b[0])
    let aRest = a.dropFirst()
    let bRest = b.dropFirst()
    var i = aRest.startIndex
    var j = bRest.startIndex
    while i < aRest.endIndex || j < bRest.endIndex {
      if j == bRest.endIndex || (i < aRest.endIndex && aRest[i].path.lexicographicallyPrecedes(bRest[j].path)) {
        changes.append(PathChange(path: aRest[i].path, action: .removed, old: aRest[i], new: nil, aspects: []))
        i += 1
      } else if i == aRest.endIndex || bRest[j].path.lexicographicallyPrecedes(aRest[i].path) {
        changes.append(PathChange(path: bRest[j].path, action: .added, old: nil, new: bRest[j], aspects: []))
        j += 1
      } else {
        record(aRest[i], bRest[j])
        i += 1
        j += 1
      }
    }
  }

  private mutating func compareRoots(_ old: ManifestEntry?, _ new: ManifestEntry) {
    guard let old else {
      if new.kind != .directory { changes.append(PathChange(path: new.path, action: .added, old: nil, new: new, aspects: [])) }
      return
    }
    record(old, new)
  }

  private mutating func record(_ old: ManifestEntry, _ new: ManifestEntry) {
    let aspects = ReleaseDiff.aspects(old, new)
    if !aspects.isEmpty {
      changes.append(PathChange(path: new.path, action: .changed, old: old, new: new, aspects: aspects))
    }
  }

  /// What differs between two entries at the same path.
  static func aspects(_ old: ManifestEntry, _ new: ManifestEntry) -> PathChange.Aspects {
    if old.kind.isRegularFile && new.kind.isRegularFile {
      var out: PathChange.Aspects = []
      if old.kind != new.kind { out.insert(.execBit) }
      if old.digest != new.digest || old.size != new.size { out.insert(.content) }
      return out
    }
    if old.kind != new.kind { return .type }
    if old.kind == .symlink && old.target != new.target { return .symlinkTarget }
    return []
  }

  public var added: Int { changes.reduce(0) { $0 + ($1.action == .added ? 1 : 0) } }
  public var removed: Int { changes.reduce(0) { $0 + ($1.action == .removed ? 1 : 0) } }
  public var changed: Int { changes.reduce(0) { $0 + ($1.action == .changed ? 1 : 0) } }
  /// Equal manifests (equal keys) give no changes, and no changes means equal sizes.
  public var isEmpty: Bool { changes.isEmpty }

  /// Content bytes gained (positive) or lost (negative); saturates at the Int64 limits, which no
  /// real release reaches.
  public var bytesDelta: Int64 {
    if newBytes >= oldBytes {
      let d = newBytes - oldBytes
      return d > UInt64(Int64.max) ? Int64.max : Int64(d)
    }
    let d = oldBytes - newBytes
    return d > UInt64(Int64.max) ? Int64.min : -Int64(d)
  }

  /// `+3 -1 ~12 files, +40.0 KB`: paths added, removed and changed (every kind of path counts:
  /// files, directories and symlinks), then the change in content bytes (`ByteCount`, decimal
  /// units, always signed).
  public var summary: String {
    "+\(added) -\(removed) ~\(changed) files, \(ByteCount.signedText(bytesDelta))"
  }
}

extension PathChange {
  /// One line for people: `+ path`, `- path`, `~ path (content, exec bit)`,
  /// `~ path (type: file -> symlink)`. The path is shown with `displayName`, so no name can break
  /// the line.
  public var line: String {
    let shown = displayName(path)
    switch action {
    case .added: return "+ \(shown)"
    case .removed: return "- \(shown)"
    case .changed:
      var what = aspects.names
      if aspects.contains(.type), let old, let new {
        what[0] = "type: \(old.kind.shortName) -> \(new.kind.shortName)"
      }
      return "~ \(shown) (\(what.joined(separator: ", ")))"
    }
  }
}

extension ManifestEntry.Kind {
  /// `directory`, `file`, `executable`, `symlink`: one word, for diff lines and `--json`.
  public var shortName: String {
    switch self {
    case .directory: return "directory"
    case .file: return "file"
    case .executable: return "executable"
    case .symlink: return "symlink"
    }
  }
}
