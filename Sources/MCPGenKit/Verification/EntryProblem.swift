import MCPGenSystem

/// One way a store entry differs from the manifest it was stored under.
public struct EntryProblem: Sendable, Equatable, CustomStringConvertible {
  public enum Kind: String, Sendable {
    case missing
    case extra
    case typeChanged = "type-changed"
    case execBitChanged = "exec-bit-changed"
    case modified
    case targetChanged = "target-changed"
    case unreadable
    case manifestInvalid = "manifest-invalid"
    case entryMissing = "entry-missing"
    /// Writable, setuid/setgid, or otherwise not the stored mode; content may still be intact.
    case mode
  }

  public var kind: Kind
  /// Path inside the entry (`.` for the entry itself).
  public var path: [UInt8]
  public var detail: String

  public init(_ kind: Kind, _ path: [UInt8], _ detail: String) {
    self.kind = kind
    self.path = path
    self.detail = detail
  }

  public var description: String { "\(kind.rawValue) \(displayName(path)): \(detail)" }
}

/// Compares what an entry holds now with the manifest it was stored under.
enum ManifestComparison {
  /// `actual` needs digests only for files whose kind and size match.
  static func problems(expected: Manifest, actual: Manifest) -> [EntryProblem] {
    var out: [EntryProblem] = []
    let e = expected.entries
    let a = actual.entries
    var i = 0
    var j = 0
    while i < e.count || j < a.count {
      // Roots compare first (both are index 0); the rest are in byte order.
      let order: Int
      if i == 0 && j == 0 { order = 0 } else if i >= e.count { order = 1 } else if j >= a.count { order = -1 } else {
        order = e[i].path == a[j].path ? 0 : (e[i].path.lexicographicallyPrecedes(a[j].path) ? -1 : 1)
      }
      if order < 0 {
        out.append(EntryProblem(.missing, e[i].path, "\(e[i].kind.name) is missing"))
        i += 1
      } else if order > 0 {
        out.append(EntryProblem(.extra, a[j].path, "unexpected \(a[j].kind.name)"))
        j += 1
      } else {
        out += compare(e[i], a[j])
        i += 1
        j += 1
      }
    }
    return out
  }

  static func compare(_ e: ManifestEntry, _ a: ManifestEntry) -> [EntryProblem] {
    if e.kind.isRegularFile && a.kind.isRegularFile {
      var out: [EntryProblem] = []
      if e.kind != a.kind {
        out.append(EntryProblem(.execBitChanged, e.path, e.kind == .executable ? "execute bit cleared" : "execute bit set"))
      }
      if e.size != a.size {
        out.append(EntryProblem(.modified, e.path, "size \(a.size) bytes, expected \(e.size)"))
      } else if let d = a.digest, d != e.digest {
        out.append(EntryProblem(.modified, e.path, "content differs (sha256 \(d.description.prefix(12))…)"))
      }
      return out
    }
    if e.kind != a.kind {
      return [EntryProblem(.typeChanged, e.path, "is a \(a.kind.name), expected a \(e.kind.name)")]
    }
    if e.kind == .symlink && e.target != a.target {
      return [EntryProblem(.targetChanged, e.path, "points at \(displayName(a.target)), expected \(displayName(e.target))")]
    }
    return []
  }
}
