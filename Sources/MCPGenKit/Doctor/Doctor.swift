import MCPGenSystem
import SystemPackage

/// `mcp-gen doctor`: looks a root over and says what needs attention.
///
/// Reads only. It takes no lock (the lock check tries a shared lock without waiting and drops it
/// at once), creates nothing, and never stops at the first finding: a check that cannot be made
/// is itself a finding.
public enum Doctor {
  /// Audits older than this are reported.
  public static let auditMaxAge: Int64 = 7 * 86400

  /// Every check, in a fixed order. `source` says which rule chose the root (for messages).
  public static func examine(_ path: FilePath, source: String, now: Int64 = Clock.now()) -> [DoctorFinding] {
    let root: DirectoryFD
    do {
      root = try DirectoryFD.open(path)
    } catch {
      return [RootCheck.unopenable(path, source: source, error)]
    }
    var findings = RootCheck.run(root, source: source)
    findings.append(ConfigCheck.trust(root))
    findings.append(ConfigCheck.parse(root))
    let lock = LockCheck.run(root, now: now)
    findings.append(lock.finding)
    // Without store/ or manifests/ (the layout finding says which) these two cannot be made.
    let store: Store?
    var why = ""
    do {
      store = try Store.open(path, create: false)
    } catch {
      store = nil
      why = "not checked: \(error.message)"
    }
    findings.append(store.map { CurrentCheck.run($0, changeInProgress: lock.held) }
      ?? DoctorFinding("current", .warning, why, hint: "fix the layout first"))
    findings.append(DiskCheck.run(root))
    findings.append(ReadOnlyCheck.run(root))
    findings.append(store.map(LeftoverCheck.run) ?? DoctorFinding("leftovers", .warning, why, hint: "fix the layout first"))
    findings.append(QuarantineCheck.run(root, now: now))
    findings.append(AuditAgeCheck.run(root, now: now))
    return findings
  }
}

extension Doctor {
  /// `3 min`, `5 h`, `2 days`: how long ago, to the unit that matters.
  static func age(_ seconds: Int64) -> String {
    let s = max(seconds, 0)
    if s < 120 { return "\(s) s" }
    if s < 7200 { return "\(s / 60) min" }
    if s < 2 * 86400 { return "\(s / 3600) h" }
    return "\(s / 86400) days"
  }

  /// `0755`.
  public static func octal(_ mode: UInt32) -> String {
    String(String(mode & 0o7777, radix: 8).leftPadded(to: 4))
  }

  /// A path as a shell word for a hint line.
  public static func shellWord(_ path: FilePath) -> String {
    let text = path.displayString
    let plain = text.utf8.allSatisfy { b in
      (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || "/._-+,:@%".utf8.contains(b)
    }
    if plain && !text.isEmpty { return text }
    return "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
  }
}
