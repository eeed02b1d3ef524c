import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// One way to damage a root built by `GAAuditFixture` (generations 1, 2, 3 = releases a, b, c;
/// current = 3). Entry corruptions hit c's entry, the current one.
enum GACorruption: String, CaseIterable, Sendable, CustomStringConvertible {
  case byteChanged = "one byte changed in a file"
  case truncated = "a file truncated"
  case deleted = "a file deleted"
  case added = "a file added"
  case replacedBySymlink = "a file replaced by a symlink"
  case symlinkRetargeted = "a symlink target changed"
  case execBitCleared = "exec bit flipped"
  case directoryWritable = "a directory made writable"
  case renamedToOtherKey = "an entry renamed to a wrong key"
  case renamedToNonKey = "an entry renamed to a name that is not a key"
  case manifestAltered = "a manifest altered"
  case danglingGeneration = "a dangling generation link"
  case currentNowhere = "current pointing nowhere"
  case currentMissingGeneration = "current pointing at a generation that does not exist"
  case tornJournal = "a torn journal line"
  case sealedTornJournal = "a torn journal line sealed off by later changes"

  var description: String { rawValue }

  static let otherKey = String(repeating: "0123456789abcdef", count: 4)
  static let missingKey = String(repeating: "0", count: 64)

  /// Whether c's entry (current) is damaged beyond its modes.
  var damagesCurrentEntry: Bool {
    switch self {
    case .directoryWritable, .danglingGeneration, .currentNowhere, .currentMissingGeneration, .tornJournal, .sealedTornJournal:
      return false
    default: return true
    }
  }

  func apply(_ f: GAAuditFixture) throws {
    let e = f.r.entry(f.kc)
    switch self {
    case .byteChanged:
      try GARoot.unfreeze(e + "/share/data.txt")
      try GARoot.sh("printf X | dd of=\"$1\" bs=1 seek=0 count=1 conv=notrunc 2>/dev/null && chmod 444 \"$1\"", e + "/share/data.txt")
    case .truncated:
      try GARoot.unfreeze(e + "/share/data.txt")
      try GARoot.sh(": > \"$1\" && chmod 444 \"$1\"", e + "/share/data.txt")
    case .deleted:
      try GARoot.unfreeze(e + "/share")
      try GARoot.unfreeze(e + "/share/data.txt")
      try GARoot.sh("rm -f \"$1/data.txt\" && chmod 555 \"$1\"", e + "/share")
    case .added:
      try GARoot.unfreeze(e + "/share")
      try GARoot.sh("echo new > \"$1/new.txt\" && chmod 444 \"$1/new.txt\" && chmod 555 \"$1\"", e + "/share")
    case .replacedBySymlink:
      try GARoot.unfreeze(e + "/share")
      try GARoot.unfreeze(e + "/share/data.txt")
      try GARoot.sh("rm -f \"$1/data.txt\" && ln -s link \"$1/data.txt\" && chmod 555 \"$1\"", e + "/share")
    case .symlinkRetargeted:
      try GARoot.unfreeze(e + "/share")
      try GARoot.sh("rm -f \"$1/link\" && ln -s /etc/passwd \"$1/link\" && chmod 555 \"$1\"", e + "/share")
    case .execBitCleared:
      try GARoot.unfreeze(e + "/bin/mcp")
      try GARoot.sh("chmod 444 \"$1\"", e + "/bin/mcp")
    case .directoryWritable:
      try GARoot.unfreeze(e + "/share")
      try GARoot.sh("chmod 755 \"$1\"", e + "/share")
    case .renamedToOtherKey:
      if geteuid() == 0 { try GARoot.sh("chattr -i \"$1\" 2>/dev/null || true", e) }
      try GARoot.sh("mv \"$1\" \"$2\"", e, f.r.entry(Self.otherKey))
    case .renamedToNonKey:
      if geteuid() == 0 { try GARoot.sh("chattr -i \"$1\" 2>/dev/null || true", e) }
      try GARoot.sh("mv \"$1\" \"$1.old\"", e)
    case .manifestAltered:
      let m = f.r.root + "/manifests/" + f.kc
      try GARoot.unfreeze(m)
      try GARoot.sh("printf x >> \"$1\" && chmod 444 \"$1\"", m)
    case .danglingGeneration:
      try GARoot.sh("ln -s \"../store/$2\" \"$1/generations/9\"", f.r.root, Self.missingKey)
    case .currentNowhere:
      try GARoot.sh("ln -sfn nowhere \"$1/current\"", f.r.root)
    case .currentMissingGeneration:
      try GARoot.sh("ln -sfn generations/99 \"$1/current\"", f.r.root)
    case .tornJournal:
      try GARoot.sh("printf '{\"time\":\"2026-01-0' >> \"$1/journal.jsonl\"", f.r.root)
    case .sealedTornJournal:
      try GARoot.sh("printf '{\"time\":\"2026-01-0' >> \"$1/journal.jsonl\"", f.r.root)
      try GARoot.sh("\"$1\" pin --root \"$2\" 1 >/dev/null && \"$1\" unpin --root \"$2\" 1 >/dev/null", CLI.binary, f.r.root)
    }
  }

  /// (severity, kind, path below the root, generations) of every problem the audit must report.
  func expected(_ f: GAAuditFixture) -> Set<GAProblem> {
    let c = "store/" + f.kc
    var out: Set<GAProblem>
    switch self {
    case .byteChanged, .truncated: out = [GAProblem("error", "modified", c + "/share/data.txt", [3])]
    case .deleted: out = [GAProblem("error", "missing", c + "/share/data.txt", [3])]
    case .added: out = [GAProblem("error", "extra", c + "/share/new.txt", [3])]
    case .replacedBySymlink: out = [GAProblem("error", "type-changed", c + "/share/data.txt", [3])]
    case .symlinkRetargeted: out = [GAProblem("error", "target-changed", c + "/share/link", [3])]
    case .execBitCleared: out = [GAProblem("error", "exec-bit-changed", c + "/bin/mcp", [3])]
    case .directoryWritable: out = [GAProblem("error", "mode", c + "/share", [3])]
    case .renamedToOtherKey:
      out = [GAProblem("error", "manifest-invalid", "store/" + Self.otherKey, []),
             GAProblem("error", "dangling-generation", "generations/3", [3])]
    case .renamedToNonKey:
      out = [GAProblem("error", "stray", c + ".old", []), GAProblem("error", "dangling-generation", "generations/3", [3])]
    case .manifestAltered: out = [GAProblem("error", "manifest-invalid", c, [3])]
    case .danglingGeneration: out = [GAProblem("error", "dangling-generation", "generations/9", [9])]
    case .currentNowhere: out = [GAProblem("critical", "current", "current", [])]
    case .currentMissingGeneration: out = [GAProblem("critical", "current", "current", [99])]
    case .tornJournal, .sealedTornJournal: out = [GAProblem("warning", "journal", "journal.jsonl", [])]
    }
    if damagesCurrentEntry { out.insert(GAProblem("critical", "current", "current", [3])) }
    return out
  }

  /// The `fix:` line under the critical problem, if any.
  var fix: String? {
    if damagesCurrentEntry { return "  fix: mcp-gen rollback 2" }
    if self == .currentNowhere || self == .currentMissingGeneration { return "  fix: mcp-gen rollback 3" }
    return nil
  }

  /// Regular expressions for the names `quarantine/` holds after `--repair`.
  func quarantined(_ f: GAAuditFixture) -> [String] {
    switch self {
    case .renamedToOtherKey: return ["^\(Self.otherKey)-[0-9]+$"]
    case .renamedToNonKey: return ["^\(f.kc)\\.old-[0-9]+$"]
    case .tornJournal, .sealedTornJournal: return ["^journal-[0-9]+\\.jsonl$"]
    default:
      return damagesCurrentEntry ? ["^\(f.kc)-[0-9]+$", "^\(f.kc)-[0-9]+\\.manifest$"] : []
    }
  }
}

struct GAProblem: Hashable, CustomStringConvertible {
  var severity: String
  var kind: String
  var path: String
  var generations: [Int]
  init(_ severity: String, _ kind: String, _ path: String, _ generations: [Int]) {
    (self.severity, self.kind, self.path, self.generations) = (severity, kind, path, generations)
  }
  var description: String { "\(severity) \(kind) \(path) \(generations)" }
}

/// A root with generations 1, 2, 3 of releases a, b, c (each with bin/mcp, share/data.txt and
/// the symlink share/link -> data.txt); current = 3.
struct GAAuditFixture {
  let r: GARoot
  let ka: String
  let kb: String
  let kc: String

  init() throws {
    let root = try GARoot()
    let dirs = try ["1.0", "2.0", "3.0"].enumerated().map { try root.release("rel\($0.offset)", $0.element) }
    for d in dirs { try root.ok(["switch", d]) }
    r = root
    ka = try root.key(dirs[0])
    kb = try root.key(dirs[1])
    kc = try root.key(dirs[2])
  }

  /// `audit --json` problems as (severity, kind, path below root, generations); checks every
  /// item's keys.
  func problems(_ extra: [String] = []) throws -> (status: Int32, problems: Set<GAProblem>) {
    let out = try r.run(["audit", "--json"] + extra)
    let object = try GARoot.object(out)
    #expect(Set(object.keys) == ["problems", "entries", "filesHashed", "bytesHashed", "repairs"])
    let items = try #require(object["problems"] as? [[String: Any]])
    var set = Set<GAProblem>()
    for item in items {
      #expect(Set(item.keys) == ["severity", "kind", "path", "detail", "key", "generations", "hint"])
      let path = try #require(item["path"] as? String)
      #expect(path.hasPrefix(r.root + "/"))
      set.insert(GAProblem(item["severity"] as? String ?? "?", item["kind"] as? String ?? "?",
                           String(path.dropFirst(r.root.count + 1)), item["generations"] as? [Int] ?? [-1]))
    }
    return (out.status, set)
  }
}

@Suite("mcp-gen audit, verify")
struct AuditCommandTests {
  @Test("audit names each corruption exactly, exits 2 (a torn journal line alone: warning, 0); --repair leaves a clean store with the evidence quarantined",
        arguments: GACorruption.allCases)
  func corruption(_ corruption: GACorruption) throws {
    let f = try GAAuditFixture()
    defer { f.r.remove() }
    #expect(try f.r.run(["audit"]).stdoutText == "audit: 3 entries, 6 files, 84 B re-hashed; no problems\n")
    try corruption.apply(f)

    let expected = corruption.expected(f)
    let (jsonStatus, found) = try f.problems()
    #expect(found == expected)
    let errorsExpected = expected.contains { $0.severity != "warning" }
    #expect(jsonStatus == (errorsExpected ? 2 : 0))

    // Text: one line per problem, "severity: kind PATH: detail", the fix under a critical one.
    let text = try f.r.run(["audit"])
    #expect(text.status == (errorsExpected ? 2 : 0))
    let lines = text.stdoutText.split(separator: "\n").map(String.init)
    let problemLines = lines.filter { $0.hasPrefix("critical: ") || $0.hasPrefix("error: ") || $0.hasPrefix("warning: ") }
    #expect(problemLines.count == expected.count, "\(text.stdoutText)")
    for p in expected {
      #expect(problemLines.contains { $0.hasPrefix("\(p.severity): \(p.kind) \(f.r.root)/\(p.path): ") },
              "no line for \(p) in:\n\(text.stdoutText)")
    }
    if let fix = corruption.fix {
      #expect(lines.contains(fix), "\(text.stdoutText)")
      #expect(lines.firstIndex(of: fix) == 1)
    } else {
      #expect(!lines.contains { $0.hasPrefix("  fix:") })
    }
    if corruption == .tornJournal || corruption == .sealedTornJournal {
      #expect(problemLines.first?.hasPrefix("warning: journal ") == true)
      #expect(problemLines.first?.contains(": line 4 is torn (a crash during a write)") == true, "\(problemLines)")
    }
    if corruption == .truncated {
      #expect(problemLines.contains { $0.hasSuffix("/share/data.txt: size 0 bytes, expected 9 (generation 3)") })
    }

    // Repair.
    // Something was repaired: exit 6, so a timer's unit fails and the damage is seen.
    let repair = try f.r.run(["audit", "--repair"])
    #expect(repair.status == 6, "\(repair.stdoutText)\(repair.stderrText)")
    #expect(repair.stdoutText.contains("\nrepair: "), "\(repair.stdoutText)")
    let after = try f.r.run(["audit"])
    #expect(after.status == 0)
    let rolledBack = corruption.damagesCurrentEntry
    let currentBroken = corruption == .currentNowhere || corruption == .currentMissingGeneration
    // A generation whose release is gone stays (marked `!`, a warning once repair reported it).
    let kept: [Int] = rolledBack || corruption == .renamedToOtherKey || corruption == .renamedToNonKey
      ? [3] : (corruption == .danglingGeneration ? [9] : [])
    if kept.isEmpty {
      #expect(after.stdoutText.hasSuffix("; no problems\n"), "\(after.stdoutText)")
    } else {
      let (_, left) = try f.problems()
      #expect(left == Set(kept.map { GAProblem("warning", "dangling-generation", "generations/\($0)", [$0]) }), "\(left)")
      #expect(repair.stdoutText.contains("repair: kept generation \(kept[0]), not restorable (!) until the release is added again"), "\(repair.stdoutText)")
    }
    #expect(try f.r.currentGeneration() == (rolledBack ? 2 : 3))
    #expect(try f.r.generations() == [1, 2, 3] + (corruption == .danglingGeneration ? [9] : []))
    #expect(try f.r.storeNames() == (rolledBack ? [f.ka, f.kb].sorted() : [f.ka, f.kb, f.kc].sorted()))
    if rolledBack || currentBroken {
      let log = try f.r.ok(["log"]).stdoutText.split(separator: "\n")
      let to = rolledBack ? 2 : 3
      #expect(log.contains { $0.contains("  rollback ") && $0.contains(" -> \(to)  ") && $0.contains("audit --repair") },
              "\(log)")
      #expect(repair.stdoutText.contains("repair: rolled current back to generation \(to) ("))
    }

    // Evidence.
    let patterns = corruption.quarantined(f)
    let names = f.r.names("quarantine")
    #expect(names.count == patterns.count, "\(names)")
    for pattern in patterns {
      #expect(names.contains { $0.range(of: pattern, options: .regularExpression) != nil }, "\(pattern) not in \(names)")
    }
    if corruption == .byteChanged, let dir = names.first(where: { !$0.hasSuffix(".manifest") }) {
      let evidence = try String(contentsOfFile: f.r.root + "/quarantine/\(dir)/share/data.txt", encoding: .utf8)
      #expect(evidence == "Xata 3.0\n")
    }
    if corruption == .directoryWritable {
      var st = stat()
      #expect(lstat(f.r.entry(f.kc) + "/share", &st) == 0)
      #expect(st.st_mode & 0o7777 == 0o555)
    }
  }

  @Test("a corrupted current is critical, with `fix: mcp-gen rollback N` to the newest intact generation")
  func currentFixNamesNewestIntact() throws {
    let f = try GAAuditFixture()
    defer { f.r.remove() }
    // Corrupt b and c: the newest intact generation is 1.
    for key in [f.kb, f.kc] {
      try GARoot.unfreeze(f.r.entry(key) + "/share/data.txt")
      try GARoot.sh("printf Y | dd of=\"$1\" bs=1 seek=5 count=1 conv=notrunc 2>/dev/null && chmod 444 \"$1\"", f.r.entry(key) + "/share/data.txt")
    }
    let out = try f.r.run(["audit"])
    #expect(out.status == 2)
    let lines = out.stdoutText.split(separator: "\n").map(String.init)
    #expect(lines.first == "critical: current \(f.r.root)/current: current generation 3 is corrupted or missing its release (generation 3)")
    #expect(lines.dropFirst().first == "  fix: mcp-gen rollback 1")
    #expect(lines.last == "audit: 3 entries, 6 files, 84 B re-hashed; 3 problems (1 critical)")

    let repair = try f.r.run(["audit", "--repair"])
    #expect(repair.status == 6)
    #expect(try f.r.currentGeneration() == 1)
    #expect(try f.r.generations() == [1, 2, 3])  // 2 and 3 kept, not restorable
    #expect(try f.r.run(["audit"]).status == 0)
    let (_, left) = try f.problems()
    #expect(left == [GAProblem("warning", "dangling-generation", "generations/2", [2]),
                     GAProblem("warning", "dangling-generation", "generations/3", [3])])
  }

  /// Files from 1 MiB on (`FileWorker.mappedMinimum`) are hashed through a mapping instead of
  /// read: one changed byte in such a file must be reported like one in a small file.
  @Test("one byte changed in a 2 MiB file (hashed through a mapping): content differs, exit 2")
  func largeFileByteChanged() throws {
    let r = try GARoot()
    defer { r.remove() }
    let dir = try r.release("big", "1.0", padding: 2 << 20)
    try r.ok(["switch", dir])
    let key = try r.key(dir)
    let clean = try r.run(["audit"])
    #expect(clean.status == 0 && clean.stdoutText.hasSuffix("; no problems\n"), "\(clean.stdoutText)")
    let file = r.entry(key) + "/share/pad.bin"
    try GARoot.unfreeze(file)
    // Past the first page and the first mapped window's start, in the file's middle.
    try GARoot.sh("printf X | dd of=\"$1\" bs=1 seek=1500000 count=1 conv=notrunc 2>/dev/null && chmod 444 \"$1\"", file)

    let out = try r.run(["audit"])
    #expect(out.status == 2, "\(out.stdoutText)\(out.stderrText)")
    #expect(out.stdoutText.contains(" modified \(file): content differs (sha256 "), "\(out.stdoutText)")
    #expect(!out.stdoutText.hasSuffix("; no problems\n"), "\(out.stdoutText)")
    let json = try GARoot.object(try r.run(["audit", "--json"]))
    let problems = try #require(json["problems"] as? [[String: Any]])
    #expect(problems.contains { $0["kind"] as? String == "modified" && $0["path"] as? String == file }, "\(problems)")
  }

  @Test("the audit names every generation that uses a bad entry")
  func namesGenerations() throws {
    let r = try GARoot()
    defer { r.remove() }
    let a = try r.release("a", "1.0")
    let b = try r.release("b", "2.0")
    let kb = try r.key(b)
    for d in [b, a, b] { try r.ok(["switch", d]) }  // b is generations 1 and 3
    try GARoot.unfreeze(r.entry(kb) + "/share/data.txt")
    try GARoot.sh(": > \"$1\" && chmod 444 \"$1\"", r.entry(kb) + "/share/data.txt")

    let json = try GARoot.object(try r.run(["audit", "--json"]))
    let problems = try #require(json["problems"] as? [[String: Any]])
    let modified = problems.filter { $0["kind"] as? String == "modified" }
    #expect(modified.count == 1)
    #expect(modified.first?["generations"] as? [Int] == [1, 3])
    #expect(modified.first?["key"] as? String == kb)
    let text = try r.run(["audit"]).stdoutText
    #expect(text.contains("/share/data.txt: size 0 bytes, expected 9 (generations 1, 3)\n"))
    #expect(text.contains("  fix: mcp-gen rollback 2\n"))

    #expect(try r.run(["audit", "--repair"]).status == 6)
    #expect(try r.generations() == [1, 2, 3])  // 1 and 3 kept, not restorable until b is added again
    #expect(try r.currentGeneration() == 2)
  }

  @Test("a missing entry used by two generations: both links are reported dangling")
  func danglingSharedKey() throws {
    let r = try GARoot()
    defer { r.remove() }
    let a = try r.release("a", "1.0")
    let b = try r.release("b", "2.0")
    let kb = try r.key(b)
    for d in [b, a, b] { try r.ok(["switch", d]) }  // b is generations 1 and 3
    try r.ok(["rollback", "2"])
    if geteuid() == 0 { try GARoot.sh("chattr -i \"$1\" 2>/dev/null || true", r.entry(kb)) }
    try GARoot.sh("mv \"$1\" \"$1.old\"", r.entry(kb))

    let json = try GARoot.object(try r.run(["audit", "--json"]))
    let problems = try #require(json["problems"] as? [[String: Any]])
    let dangling = problems.filter { $0["kind"] as? String == "dangling-generation" }
    let named = dangling.flatMap { $0["generations"] as? [Int] ?? [] }.sorted()
    #expect(named == [1, 3])
  }

  @Test("repairing current -> generations/99 journals no recover to a generation that never existed")
  func repairCurrentMissingGenerationJournal() throws {
    let f = try GAAuditFixture()
    defer { f.r.remove() }
    try GACorruption.currentMissingGeneration.apply(f)
    #expect(try f.r.run(["audit", "--repair"]).status == 6)
    let ops = try f.r.ok(["log", "--json"]).stdoutText.split(separator: "\n").compactMap {
      (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["op"] as? String
    }
    #expect(!ops.contains("recover"))
    let next = try GARoot.object(try f.r.ok(["switch", "--json", try f.r.release("d", "4.0")]))
    #expect((next["to"] as? NSNumber)?.intValue == 4)
  }

  @Test("audit --quick finds size, type and mode problems, not a same-size content change",
        arguments: [
          (GACorruption.byteChanged, false), (.truncated, true), (.replacedBySymlink, true),
          (.directoryWritable, true), (.execBitCleared, true), (.deleted, true),
        ])
  func quick(_ corruption: GACorruption, _ found: Bool) throws {
    let f = try GAAuditFixture()
    defer { f.r.remove() }
    try corruption.apply(f)
    let quick = try f.r.run(["audit", "--quick"])
    let lines = quick.stdoutText.split(separator: "\n").map(String.init)
    if found {
      #expect(quick.status == 2)
      let (_, problems) = try f.problems(["--quick"])
      #expect(problems == corruption.expected(f))
    } else {
      #expect(quick.status == 0)
      #expect(lines == ["audit: 3 entries, not re-hashed (--quick); no problems"])
      #expect(try f.r.run(["audit"]).status == 2)
    }
    #expect(lines.last?.hasPrefix("audit: 3 entries, not re-hashed (--quick); ") == true)
  }

  @Test("verify and verify N: exit 0 when intact, exit 2 with one line per problem when not")
  func verify() throws {
    let f = try GAAuditFixture()
    defer { f.r.remove() }
    let intact = try f.r.run(["verify"])
    #expect(intact.status == 0)
    #expect(intact.stdoutText == "generation 3 (\(f.kc.prefix(12))) is intact\n")
    #expect(try f.r.run(["verify", "1"]).stdoutText == "generation 1 (\(f.ka.prefix(12))) is intact\n")

    try GACorruption.byteChanged.apply(f)
    try GACorruption.added.apply(f)
    let bad = try f.r.run(["verify"])
    #expect(bad.status == 2)
    let lines = bad.stdoutText.split(separator: "\n").map(String.init)
    #expect(lines.count == 3, "\(bad.stdoutText)")
    #expect(lines.filter { $0.hasPrefix("error: ") }.count == 2)
    #expect(lines.contains { $0.hasPrefix("error: modified share/data.txt: content differs (sha256 ") })
    #expect(lines.contains("error: extra share/new.txt: unexpected file"))
    #expect(lines.last == "generation 3 (\(f.kc.prefix(12))) is corrupted: 2 problems")
    #expect(try f.r.run(["verify", "3"]).stdoutText == bad.stdoutText)

    let json = try GARoot.object(try f.r.run(["verify", "--json"]))
    #expect((json["intact"] as? NSNumber)?.boolValue == false)
    #expect((json["problems"] as? [[String: Any]])?.compactMap { $0["kind"] as? String }.sorted() == ["extra", "modified"])

    let other = try f.r.run(["verify", "2"])
    #expect(other.status == 0)
    #expect(other.stdoutText == "generation 2 (\(f.kb.prefix(12))) is intact\n")
    let none = try f.r.run(["verify", "9"])
    #expect(none.status == 1)
    #expect(none.stderrLines.first == "error: there is no generation 9")
  }
}
