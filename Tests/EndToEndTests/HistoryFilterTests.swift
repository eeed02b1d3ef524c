import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// What Nix users reach for: `log -n`, `log --since`, `gc --older-than`, and a gc that says what
/// it kept and why.
@Suite("history filters and what gc keeps")
struct HistoryFilterTests {
  /// A root with four generations, the first two made on 2020-01-01 (their journal lines are
  /// dated back: the journal is where `list` and gc read creation times from).
  static func aged(_ r: GARoot) throws -> [String] {
    var keys: [String] = []
    for i in 1...4 {
      let dir = try r.release("rel\(i)", "\(i).0")
      keys.append(try r.key(dir))
      try r.ok(["switch", dir])
    }
    try GARoot.sh("""
      sed -i -e '1,2s/"time":"[^"]*"/"time":"2020-01-01T00:00:00Z"/' "$1/journal.jsonl"
      """, r.root)
    try JournalSeal.reseal(r.root + "/journal.jsonl")
    return keys
  }

  @Test("log -n N shows the last N records (text and --json); -n 0 none; --lines is the same")
  func logLast() throws {
    let r = try GARoot()
    defer { r.remove() }
    _ = try Self.aged(r)
    let all = try r.ok(["log"]).stdoutText.split(separator: "\n")
    #expect(all.count == 4)
    #expect(try r.ok(["log", "-n", "2"]).stdoutText.split(separator: "\n") == Array(all.suffix(2)))
    #expect(try r.ok(["log", "--lines", "3"]).stdoutText.split(separator: "\n") == Array(all.suffix(3)))
    #expect(try r.ok(["log", "-n", "9"]).stdoutText.split(separator: "\n") == all)
    #expect(try r.ok(["log", "-n", "0"]).stdout.isEmpty)
    let json = try r.ok(["log", "-n", "1", "--json"]).stdoutText.split(separator: "\n")
    #expect(json.count == 1 && json[0].contains("\"to\":4"), "\(json)")
    #expect(try r.run(["log", "-n", "-1"]).status == 64)
  }

  @Test("log --since: a journal time, a day, or an age such as 30d or 12h; combined with -n")
  func logSince() throws {
    let r = try GARoot()
    defer { r.remove() }
    _ = try Self.aged(r)
    func count(_ arguments: [String]) throws -> Int {
      try r.ok(["log"] + arguments).stdoutText.split(separator: "\n").count
    }
    #expect(try count(["--since", "30d"]) == 2)
    #expect(try count(["--since", "12h"]) == 2)
    #expect(try count(["--since", "2019-12-31"]) == 4)
    #expect(try count(["--since", "2020-01-01T00:00:00Z"]) == 4)
    #expect(try count(["--since", "2020-01-01T00:00:01Z"]) == 2)
    #expect(try count(["--since", "2999-01-01"]) == 0)
    #expect(try count(["--since", "30d", "-n", "1"]) == 1)
    let json = try r.ok(["log", "--since", "30d", "--json"]).stdoutText.split(separator: "\n")
    #expect(json.count == 2 && json[0].contains("\"to\":3"), "\(json)")
    let bad = try r.run(["log", "--since", "yesterday"])
    #expect(bad.status == 64)
    #expect(bad.stderrText.contains("--since must be"), "\(bad.stderrText)")
  }

  @Test("gc --older-than: a generation goes only when --keep and the age both allow it; current, pinned and the newest good one stay")
  func olderThan() throws {
    let r = try GARoot()
    defer { r.remove() }
    let keys = try Self.aged(r)
    // --keep 5 keeps all four, whatever their age.
    let keepAll = try GARoot.object(try r.ok(["gc", "--dry-run", "--json", "--keep", "5", "--older-than", "30d"]))
    #expect(keepAll["removedGenerations"] as? [Int] == [])
    // --keep 0: only the age rule is left; 3 is too young, 4 is current.
    let dry = try r.ok(["gc", "--dry-run", "--keep", "0", "--older-than", "30d"])
    #expect(dry.stdoutText.hasPrefix("would remove 2 generations (1, 2)\n"), "\(dry.stdoutText)")
    #expect(dry.stdoutText.contains("would keep generations 3: made less than 30 d ago (--older-than)\n"), "\(dry.stdoutText)")
    // Too young for every rule: nothing goes.
    let young = try GARoot.object(try r.ok(["gc", "--dry-run", "--json", "--keep", "0", "--older-than", "3000w"]))
    #expect(young["removedGenerations"] as? [Int] == [])
    #expect(young["keptByAge"] as? [Int] == [1, 2, 3])
    // Pinned: kept even when old.
    try r.ok(["pin", "1"])
    let json = try GARoot.object(try r.ok(["gc", "--json", "--keep", "0", "--older-than", "30d"]))
    #expect(json["removedGenerations"] as? [Int] == [2])
    #expect(json["keptByAge"] as? [Int] == [3])
    #expect(try r.generations() == [1, 3, 4])
    #expect(try r.storeNames() == [keys[0], keys[2], keys[3]].sorted())
    let bad = try r.run(["gc", "--older-than", "30"])
    #expect(bad.status == 64)
    #expect(bad.stderrText.contains("--older-than must be"), "\(bad.stderrText)")
  }

  @Test("gc with the default --grace: entries of removed generations go at once; an entry awaiting its switch is kept, and gc says which and why")
  func graceSaysWhatItKept() throws {
    let r = try GARoot()
    defer { r.remove() }
    let dirs = try (1...3).map { try r.release("rel\($0)", "\($0).0") }
    let keys = try dirs.map { try r.key($0) }
    for d in dirs.prefix(2) { try r.ok(["switch", d]) }
    try r.ok(["add", dirs[2]])  // awaiting its switch
    let gc = try r.ok(["gc", "--keep", "1"])
    let lines = gc.stdoutText.split(separator: "\n").map(String.init)
    #expect(lines.first == "removed 1 generations (1)")
    #expect(lines.contains("removed store entry \(keys[0])"), "\(gc.stdoutText)")
    #expect(lines.contains { $0.hasPrefix("kept store entry \(keys[2]): added ") && $0.hasSuffix(" ago, within --grace 1 h; no generation refers to it yet (an add awaiting its switch)") },
            "\(gc.stdoutText)")
    #expect(lines.contains("kept 1 store entry for --grace; mcp-gen gc --grace 0 removes it now"), "\(gc.stdoutText)")
    #expect(try r.storeNames() == [keys[1], keys[2]].sorted())
    // The switch it awaited still finds it.
    try r.ok(["switch", keys[2]])
  }

  @Test("gc --help prints the --grace default once")
  func graceDefaultOnce() throws {
    let help = try CLI.run(["gc", "--help"])
    #expect(help.status == 0)
    // The option's description in OPTIONS (its lines joined), up to the next option.
    let options = try #require(help.stdoutText.range(of: "\nOPTIONS:"))
    let text = help.stdoutText[options.upperBound...].split(separator: "\n")
      .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    let grace = try #require(text.range(of: "--grace <seconds>"))
    let description = text[grace.upperBound...].components(separatedBy: " --")[0]
    #expect(description.components(separatedBy: "default").count - 1 == 1, "\(description)")
    #expect(description.contains("(default 3600)"), "\(description)")
  }
}

@Suite("doctor: quarantine")
struct DoctorQuarantineTests {
  @Test("files in quarantine/ are a warning naming them, with how to remove them; an empty or missing quarantine is ok")
  func quarantine() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try DoctorTests.populated(scratch)
    var f = try DoctorTests.findings(root)
    #expect(DoctorTests.status(f.byCheck, "quarantine") == "ok")
    #expect(DoctorTests.message(f.byCheck, "quarantine") == "nothing quarantined")
    try FileManager.default.createDirectory(atPath: root + "/quarantine", withIntermediateDirectories: false)
    f = try DoctorTests.findings(root)
    #expect(DoctorTests.status(f.byCheck, "quarantine") == "ok")

    let name = String(repeating: "ab", count: 32) + "-1700000000"
    try FileManager.default.createDirectory(atPath: root + "/quarantine/" + name + "/bin", withIntermediateDirectories: true)
    try Gen.write(root + "/quarantine/journal-1700000000.jsonl", "{}\n")
    f = try DoctorTests.findings(root)
    #expect(f.status == 0, "a warning alone exits 0")
    #expect(DoctorTests.status(f.byCheck, "quarantine") == "warning")
    let message = DoctorTests.message(f.byCheck, "quarantine")
    #expect(message.hasPrefix("\(root)/quarantine holds 2 items set aside as corrupted, the newest set aside "), "\(message)")
    #expect(message.hasSuffix(": \(name), journal-1700000000.jsonl"), "\(message)")
    let hint = DoctorTests.hint(f.byCheck, "quarantine") ?? ""
    #expect(hint.contains("ls -la \(root)/quarantine") && hint.contains("rm -rf \(root)/quarantine"), "\(hint)")
  }
}
