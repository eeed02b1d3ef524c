import MCPGenSystem

/// One entry of a release, as the manifest records it.
public struct ManifestEntry: Equatable, Sendable {
  public enum Kind: UInt8, Sendable {
    case directory = 0x64   // "d"
    case file = 0x66        // "f"
    case executable = 0x78  // "x"
    case symlink = 0x6C     // "l"

    public var isRegularFile: Bool { self == .file || self == .executable }

    /// The mode the store gives it; symlinks have none of their own.
    public var storedMode: UInt32 {
      switch self {
      case .file: return 0o444
      case .executable, .directory: return 0o555
      case .symlink: return 0o777
      }
    }

    public var name: String {
      switch self {
      case .directory: return "directory"
      case .file: return "file"
      case .executable: return "executable file"
      case .symlink: return "symlink"
      }
    }
  }

  /// Relative path bytes; `.` for the release root.
  public var path: [UInt8]
  public var kind: Kind
  /// Content bytes of a file, target bytes of a symlink, 0 for a directory.
  public var size: UInt64
  /// SHA-256 of a file's content; nil for directories and symlinks.
  public var digest: Digest?
  /// Target bytes of a symlink; empty otherwise.
  public var target: [UInt8]

  public init(path: [UInt8], kind: Kind, size: UInt64, digest: Digest? = nil, target: [UInt8] = []) {
    self.path = path
    self.kind = kind
    self.size = size
    self.digest = digest
    self.target = target
  }

  static let rootPath: [UInt8] = [0x2E]
}

/// The canonical description of a release; its SHA-256 is the release's store key.
///
/// The byte format is the contract in store-layout.md:
///
///     manifest = "mcp-gen manifest 1" LF record*
///     record   = kind SP size SP digest SP path NUL target NUL
///
/// The root record (path `.`) comes first; every other record follows in ascending order of its
/// path's raw bytes. Nothing else (owner, times, other mode bits, hard-link identity) is recorded,
/// so equal trees get equal keys wherever and whenever they were made.
public struct Manifest: Equatable, Sendable {
  public static let header: [UInt8] = Array("mcp-gen manifest 1\n".utf8)

  /// Root first, then sorted by path bytes.
  public private(set) var entries: [ManifestEntry]

  /// Builds a manifest from entries in any order; the root (path `.`) must be among them.
  public init(entries: [ManifestEntry]) {
    var rest = entries.filter { $0.path != ManifestEntry.rootPath }
    rest.sort { $0.path.lexicographicallyPrecedes($1.path) }
    guard let root = entries.first(where: { $0.path == ManifestEntry.rootPath }) else {
      preconditionFailure("a manifest needs a root entry (path \".\")")
    }
    self.entries = [root] + rest
  }

  private init(validated entries: [ManifestEntry]) { self.entries = entries }

  /// Entries already in manifest order (root first, then by path bytes), as a scan gives them.
  init(sorted entries: [ManifestEntry]) { self.entries = entries }

  public var isSingleFile: Bool { entries.count == 1 && entries[0].kind.isRegularFile }
  public var fileCount: Int { entries.reduce(0) { $0 + ($1.kind.isRegularFile ? 1 : 0) } }
  public var byteCount: UInt64 { entries.reduce(0) { $0 + ($1.kind.isRegularFile ? $1.size : 0) } }

  public func serialized() -> [UInt8] {
    var out = Manifest.header
    out.reserveCapacity(entries.count * 120)
    for e in entries {
      out.append(e.kind.rawValue)
      out.append(0x20)
      out.append(contentsOf: String(e.size).utf8)
      out.append(0x20)
      if let d = e.digest { out.append(contentsOf: d.hexBytes) } else { out.append(0x2D) }
      out.append(0x20)
      out.append(contentsOf: e.path)
      out.append(0)
      out.append(contentsOf: e.target)
      out.append(0)
    }
    return out
  }

  public var key: StoreKey { StoreKey(SHA256.hash(serialized())) }

  /// Parses and validates serialized bytes; rejects anything `serialized()` would not produce.
  public init(parsing bytes: [UInt8]) throws(ManifestError) {
    guard bytes.starts(with: Manifest.header) else { throw .badHeader }
    var i = Manifest.header.count
    var entries: [ManifestEntry] = []
    entries.reserveCapacity(bytes.count / 96)
    var directories: Set<PathBytes> = []

    func field(until terminator: UInt8) throws(ManifestError) -> ArraySlice<UInt8> {
      guard let end = bytes[i...].firstIndex(of: terminator) else { throw .truncated(record: entries.count) }
      let value = bytes[i..<end]
      i = end + 1
      return value
    }

    while i < bytes.count {
      let n = entries.count
      let kindField = try field(until: 0x20)
      guard kindField.count == 1, let kind = ManifestEntry.Kind(rawValue: kindField.first!) else {
        throw .badRecord(record: n, reason: "unknown kind")
      }
      let sizeField = try field(until: 0x20)
      guard let size = Manifest.canonicalDecimal(sizeField) else { throw .badRecord(record: n, reason: "bad size") }
      let digestField = try field(until: 0x20)
      let path = Array(try field(until: 0))
      let target = Array(try field(until: 0))

      var digest: Digest? = nil
      if kind.isRegularFile {
        guard let d = Digest(hex: digestField) else { throw .badRecord(record: n, reason: "bad digest") }
        digest = d
      } else if !digestField.elementsEqual([0x2D]) {
        throw .badRecord(record: n, reason: "digest on a non-file")
      }
      switch kind {
      case .symlink:
        guard !target.isEmpty, UInt64(target.count) == size else { throw .badRecord(record: n, reason: "bad symlink") }
      case .directory:
        guard size == 0, target.isEmpty else { throw .badRecord(record: n, reason: "bad directory") }
      case .file, .executable:
        guard target.isEmpty else { throw .badRecord(record: n, reason: "target on a file") }
      }

      if n == 0 {
        guard path == ManifestEntry.rootPath, kind != .symlink else { throw .badRecord(record: 0, reason: "first record is not the root") }
      } else {
        guard entries[0].kind == .directory else { throw .badRecord(record: n, reason: "a single-file release has one record") }
        guard Manifest.isValidRelativePath(path) else { throw .badRecord(record: n, reason: "bad path") }
        if n > 1 {
          guard entries[n - 1].path.lexicographicallyPrecedes(path) else { throw .badRecord(record: n, reason: "not sorted") }
        }
        if let slash = path.lastIndex(of: 0x2F) {
          guard directories.contains(PathBytes(path[..<slash])) else { throw .badRecord(record: n, reason: "parent is not a directory") }
        }
      }
      if kind == .directory { directories.insert(PathBytes(path[...])) }
      entries.append(ManifestEntry(path: path, kind: kind, size: size, digest: digest, target: target))
    }
    guard !entries.isEmpty else { throw .truncated(record: 0) }
    self.init(validated: entries)
  }

  /// Non-empty components separated by single slashes, none `.` or `..`, no leading slash.
  static func isValidRelativePath(_ path: [UInt8]) -> Bool {
    guard !path.isEmpty else { return false }
    var start = 0
    for end in 0...path.count where end == path.count || path[end] == 0x2F {
      switch end - start {
      case 0: return false
      case 1 where path[start] == 0x2E: return false
      case 2 where path[start] == 0x2E && path[start + 1] == 0x2E: return false
      default: start = end + 1
      }
    }
    return true
  }

  /// The decimal digits `serialized()` writes for a size: no sign, no leading zero, no overflow.
  static func canonicalDecimal(_ digits: ArraySlice<UInt8>) -> UInt64? {
    guard let first = digits.first, first != 0x30 || digits.count == 1 else { return nil }
    var value: UInt64 = 0
    for c in digits {
      guard c >= 0x30 && c <= 0x39 else { return nil }
      let (times10, o1) = value.multipliedReportingOverflow(by: 10)
      let (sum, o2) = times10.addingReportingOverflow(UInt64(c - 0x30))
      guard !o1 && !o2 else { return nil }
      value = sum
    }
    return value
  }
}

/// A path as a set member, hashed as one run of bytes (an array of bytes is hashed one
/// `Hasher` call per byte).
struct PathBytes: Hashable {
  let bytes: ArraySlice<UInt8>

  init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

  static func == (a: PathBytes, b: PathBytes) -> Bool { a.bytes == b.bytes }

  func hash(into hasher: inout Hasher) {
    bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
  }
}

public enum ManifestError: Error, Equatable, Sendable, CustomStringConvertible {
  case badHeader
  case truncated(record: Int)
  case badRecord(record: Int, reason: String)

  public var description: String {
    switch self {
    case .badHeader: return "manifest does not start with \"mcp-gen manifest 1\""
    case .truncated(let r): return "manifest is truncated at record \(r)"
    case .badRecord(let r, let reason): return "manifest record \(r) is invalid: \(reason)"
    }
  }
}
