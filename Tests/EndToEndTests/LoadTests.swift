import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// 16 writers switching and adding, 4 readers reading `current/bin/mcp`, 2 auditors, against one
/// root: no reader ever fails, every audit is clean, the journal has exactly one line per
/// successful change, every process ends. `MCP_GEN_LOAD_SECONDS` sets the duration (default 20
/// here; `scripts/reliability-full.sh` runs 60).
@Suite("Load")
struct LoadTests {
  static let seconds: Double = Double(ProcessInfo.processInfo.environment["MCP_GEN_LOAD_SECONDS"] ?? "") ?? 20

  @Test("16 writers, 4 readers, 2 auditors")
  func load() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    // Two shared releases whose bin/mcp and VERSION carry the same version, so a reader can tell
    // a mixed view; every writer also adds releases of its own.
    @Sendable func release(_ dir: String, _ version: String) throws {
      try FileManager.default.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
      try FileManager.default.createDirectory(atPath: dir + "/share/mcp", withIntermediateDirectories: true)
      try Data("#!/bin/sh\necho \(version)\n".utf8).write(to: URL(fileURLWithPath: dir + "/bin/mcp"))
      chmod(dir + "/bin/mcp", 0o755)
      try Data("\(version)\n".utf8).write(to: URL(fileURLWithPath: dir + "/share/mcp/VERSION"))
    }
    try release(scratch.at("a"), "A")
    try release(scratch.at("b"), "B")
    #expect(try CLI.run(["switch", "--root", root, scratch.at("a")]).status == 0)
    let keyA = try CLI.oracleKey(scratch.at("a"))
    let keyB = try CLI.oracleKey(scratch.at("b"))
    #expect(try CLI.run(["add", "--root", root, scratch.at("b")]).status == 0)
    let journalBefore = try Self.journalLines(root)

    let deadline = Date().addingTimeInterval(Self.seconds)
    let readerScript = """
      import os, sys, time
      root, deadline = sys.argv[1], float(sys.argv[2])
      reads = failures = mixed = 0
      while time.time() < deadline:
          try:
              with open(os.path.join(root, "current/bin/mcp"), "rb") as f:
                  f.read()
              d = os.open(os.path.join(root, "current"), os.O_RDONLY | os.O_DIRECTORY)
              try:
                  a = open(os.open("bin/mcp", os.O_RDONLY, dir_fd=d), "rb").read()
                  b = open(os.open("share/mcp/VERSION", os.O_RDONLY, dir_fd=d), "rb").read()
              finally:
                  os.close(d)
              if b.strip() not in a:
                  mixed += 1
              reads += 1
          except OSError as e:
              failures += 1
              print("read failed:", e, file=sys.stderr)
      print(reads, failures, mixed)
      """
    // Real threads: every worker blocks on a child process, and the concurrency pool has only
    // as many threads as cores.
    let results = Results()
    let group = DispatchGroup()
    func spawn(_ body: @escaping @Sendable () throws -> (String, [Int])) {
      group.enter()
      Thread {
        do { results.add(try body()) } catch { results.add(("error: \(error)", [])) }
        group.leave()
      }.start()
    }
    for w in 0..<16 {
      spawn {
        var changes = 0, failures = 0, n = 0
        while Date() < deadline {
          n += 1
          let args: [String]
          if n % 3 == 0 {
            let dir = scratch.at("w\(w)-\(n)")
            try release(dir, "W\(w)N\(n)")
            args = ["switch", "--root", root, dir, "--lock-timeout", "120"]
          } else {
            args = ["switch", "--root", root, n % 2 == 0 ? keyA : keyB, "--lock-timeout", "120"]
          }
          let out = try CLI.run(args)
          if out.status == 0 && out.stdoutText.hasPrefix("switched to") { changes += 1 }
          if out.status != 0 { failures += 1; print("writer \(w): \(out.stderrText)") }
        }
        return ("writer", [changes, failures])
      }
    }
    for _ in 0..<4 {
      spawn {
        let out = try CLI.runProcess("/usr/bin/python3", ["-c", readerScript, root, String(deadline.timeIntervalSince1970)], environment: nil)
        let numbers = out.stdoutText.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        if out.status != 0 || numbers.count != 3 { print("reader: \(out.stderrText)") }
        return ("reader", numbers.count == 3 ? numbers : [0, -1, -1])
      }
    }
    for _ in 0..<2 {
      spawn {
        var audits = 0, unclean = 0
        while Date() < deadline {
          let out = try CLI.run(["audit", "--root", root])
          audits += 1
          if out.status != 0 { unclean += 1; print("audit: \(out.stdoutText)") }
        }
        return ("auditor", [audits, unclean])
      }
    }
    let ended = group.wait(timeout: .now() + Self.seconds + 300) == .success
    #expect(ended, "every process ends")
    let all = results.items
    #expect(!all.contains { $0.0.hasPrefix("error") }, "\(all.filter { $0.0.hasPrefix("error") })")
    let results_ = all
    let writers = results_.filter { $0.0 == "writer" }.map(\.1)
    let readers = results_.filter { $0.0 == "reader" }.map(\.1)
    let auditors = results_.filter { $0.0 == "auditor" }.map(\.1)
    let changes = writers.map { $0[0] }.reduce(0, +)
    let reads = readers.map { $0[0] }.reduce(0, +)
    let audits = auditors.map { $0[0] }.reduce(0, +)
    print("load: \(Int(Self.seconds)) s, \(changes) changes (\(String(format: "%.1f", Double(changes) / Self.seconds))/s), \(reads) reads, \(audits) audits")
    #expect(writers.count == 16 && readers.count == 4 && auditors.count == 2, "every process ends")
    #expect(writers.allSatisfy { $0[1] == 0 }, "a writer failed")
    #expect(readers.allSatisfy { $0[1] == 0 && $0[2] == 0 }, "a reader failed or saw a mixed release: \(readers)")
    #expect(auditors.allSatisfy { $0[1] == 0 }, "an audit was not clean")
    #expect(reads > 0 && changes > 0 && audits > 0)
    #expect(try Self.journalLines(root) - journalBefore == changes, "one journal line per change")
    #expect(try CLI.run(["audit", "--root", root]).status == 0)
  }

  static func journalLines(_ root: String) throws -> Int {
    let text = try String(contentsOfFile: root + "/journal.jsonl", encoding: .utf8)
    return text.split(separator: "\n").count
  }
}

final class Results: @unchecked Sendable {
  private let lock = NSLock()
  private var storage: [(String, [Int])] = []
  func add(_ r: (String, [Int])) { lock.lock(); storage.append(r); lock.unlock() }
  var items: [(String, [Int])] { lock.lock(); defer { lock.unlock() }; return storage }
}
