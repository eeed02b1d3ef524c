import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// docs/json.md documents every `--json` shape with an example; these tests run each command
/// with `--json` and require its keys to be exactly the example's, so the page cannot go stale.
@Suite("JSON shapes: --json output matches docs/json.md")
struct JSONShapeTests {
  @Test("every command's --json output has exactly the keys of its example in docs/json.md")
  func everyCommandMatchesItsExample() throws {
    let documented = try JSONDoc.examples()
    let r = try GARoot()
    defer { r.remove() }
    let r1 = try r.release("r1", "1.0", bad: true)
    let r2 = try r.release("r2", "2.0", padding: 10)
    let r3 = try r.release("r3", "3.0")
    let r4 = try r.release("r4", "4.0")
    let check = ["--check", "bin/mcp"]
    var printed: [String: Any] = [:]

    /// Runs `mcp-gen ARGS --json --root ROOT` and keeps its document under `section`.
    func record(_ section: String, _ arguments: [String], status: Int32 = 0, lines: Bool = false) throws {
      let out = try r.run(arguments + ["--json"])
      #expect(out.status == status, "\(section): exit \(out.status): \(out.stderrText)")
      var text = out.stdout
      if lines { text = Array(text.prefix { $0 != 0x0A }) }  // JSON Lines: the first record
      printed[section] = try JSONSerialization.jsonObject(with: Data(text), options: [.fragmentsAllowed])
    }

    try record("add", ["add", r1])
    try record("hash", ["hash", r1])
    try record("hash --manifest", ["hash", "--manifest", r1])
    try r.ok(["switch"] + check + [r1])
    try r.ok(["switch"] + check + [r2])
    try record("switch", ["switch"] + check + [r3])
    try r.ok(["switch"] + check + [r4])
    try record("rollback", ["rollback"] + check)  // back to 3
    try record("list", ["list"])
    try record("status", ["status"])
    try record("log", ["log"], lines: true)  // the first line is the add's
    try record("config", ["config"])
    try record("pin", ["pin", "1"])
    try record("unpin", ["unpin", "1"])
    let key1 = try r.ok(["hash", r1]).stdoutText.trimmingCharacters(in: .newlines)
    try record("block", ["block", key1])
    try record("unblock", ["unblock", key1])
    try record("root", ["root"])
    try record("diff", ["diff", "1", "2"])
    try record("show", ["show", "3"])
    try FileManager.default.createDirectory(atPath: r.scratch.at("bin"), withIntermediateDirectories: true)
    try record("expose", ["expose", r.scratch.at("bin")])
    try record("check", ["check"] + check)
    // Signing keys and a remote (store-layout.md section 14), publishing generation 3.
    let keys = r.scratch.at("keys")
    try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true)
    try record("key generate", ["key", "generate", keys + "/root"])
    for name in ["root2", "targets", "online"] { try r.ok(["key", "generate", keys + "/" + name]) }
    let remote = r.scratch.at("remote")
    let signing = ["--targets-key", keys + "/targets", "--online-key", keys + "/online"]
    try record("publish init", ["publish", "init", remote, "--root-key", keys + "/root"] + signing)
    try record("publish", ["publish", remote, "3"] + signing)
    try record("publish --refresh", ["publish", remote, "--refresh", "--online-key", keys + "/online"])
    try record("publish --rotate-root", ["publish", remote, "--rotate-root", "--root-key", keys + "/root", "--new-root-key", keys + "/root2"])
    // A second root pulls generation 3's release from that remote (file://), following the
    // rotated root from the first one it trusts.
    let client = r.scratch.at("client")
    let added = try CLI.run(["remote", "add", "origin", "file://" + remote, "--trust", remote + "/metadata/1.root.json", "--root", client])
    #expect(added.status == 0, "remote add: \(added.stderrText)")
    let pulled = try CLI.run(["pull", "origin", "--json", "--root", client])
    #expect(pulled.status == 0, "pull: exit \(pulled.status): \(pulled.stderrText)")
    printed["pull"] = try JSONSerialization.jsonObject(with: Data(pulled.stdout))
    try r.ok(["pin", "2"])
    // An entry awaiting its switch (kept by --grace) and a leftover of a crashed add (a pid
    // above the kernel's pid_max, so never running).
    try r.ok(["add", try r.release("r5", "5.0")])
    try FileManager.default.createDirectory(atPath: r.root + "/store/.tmp-99999999-0123456789abcdef", withIntermediateDirectories: false)
    try record("gc", ["gc", "--keep", "1"])  // removes 1; keeps 2 (pinned), 3, 4

    // A damaged current release, so that verify and audit have problems to show.
    let key3 = try r.ok(["hash", r3]).stdoutText.trimmingCharacters(in: .newlines)
    let data = r.root + "/store/" + key3 + "/share/data.txt"
    try GARoot.unfreeze(data)
    try GARoot.sh("echo X >> \"$1\" && chmod 444 \"$1\"", data)
    try record("verify", ["verify"], status: 2)
    try record("audit", ["audit"], status: 2)
    try record("config --init", ["config", "--init"])
    try record("doctor", ["doctor"])  // warnings (no recorded audit) exit 0
    try record("errors", ["show", "99"], status: 1)

    let trust = r.scratch.at("1.root.json")
    try Data(RemoteCommandTests.rootJSON.utf8).write(to: URL(fileURLWithPath: trust))
    try record("remote add", ["remote", "add", "origin", "https://example.org/mcp", "--trust", trust])
    try record("remote list", ["remote", "list"])
    try record("remote remove", ["remote", "remove", "origin"])

    #expect(Set(printed.keys) == Set(documented.keys), "sections of docs/json.md and commands tested differ")
    for (section, actual) in printed.sorted(by: { $0.key < $1.key }) {
      guard let example = documented[section] else { continue }
      let differences = JSONShape.differences(documented: example, printed: actual, at: section)
      #expect(differences.isEmpty, "\(section): \(differences.joined(separator: "; "))")
      for (key, kind) in JSONShape.requiredKinds[section] ?? [:] {
        #expect(JSONShape.kind((actual as? [String: Any])?[key] as Any) == kind, "\(section).\(key) is not a non-empty \(kind), so its items went unchecked")
      }
    }
  }

  @Test("the comparison finds a key missing on either side, also inside array items")
  func comparisonFindsDifferences() throws {
    let doc = try JSONSerialization.jsonObject(with: Data(#"{"a": 1, "b": [{"c": "x", "d": null}]}"#.utf8))
    let same = try JSONSerialization.jsonObject(with: Data(#"{"a": 2, "b": [{"c": "y", "d": 3}]}"#.utf8))
    let extra = try JSONSerialization.jsonObject(with: Data(#"{"a": 2, "b": [{"c": "y", "d": 3, "e": 1}], "f": 0}"#.utf8))
    let missing = try JSONSerialization.jsonObject(with: Data(#"{"b": [{"d": 3}]}"#.utf8))
    let retyped = try JSONSerialization.jsonObject(with: Data(#"{"a": "1", "b": [{"c": "y", "d": 3}]}"#.utf8))
    #expect(JSONShape.differences(documented: doc, printed: same, at: "t").isEmpty)
    #expect(JSONShape.differences(documented: doc, printed: extra, at: "t") == ["t: printed but not documented: f", "t.b[0]: printed but not documented: e"])
    #expect(JSONShape.differences(documented: doc, printed: missing, at: "t") == ["t: documented but not printed: a", "t.b[0]: documented but not printed: c"])
    #expect(JSONShape.differences(documented: doc, printed: retyped, at: "t") == ["t.a: documented as number, printed as string"])
  }
}

/// The examples of docs/json.md: for each `## SECTION` heading, the first ```json block under it.
enum JSONDoc {
  static func examples() throws -> [String: Any] {
    let text = try String(contentsOfFile: CLI.packageRoot + "/docs/json.md", encoding: .utf8)
    var examples: [String: Any] = [:]
    var section: String?
    var block: [Substring]?
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if var lines = block {
        if line == "```" {
          guard let name = section else { throw E2EFailure("docs/json.md: a json block before any section") }
          let json = lines.joined(separator: "\n")
          do {
            examples[name] = try JSONSerialization.jsonObject(with: Data(json.utf8))
          } catch {
            throw E2EFailure("docs/json.md, section \(name): the example is not valid JSON: \(error)")
          }
          block = nil
          section = nil  // only the first block of a section is its example
        } else {
          lines.append(line)
          block = lines
        }
      } else if line.hasPrefix("## ") {
        section = String(line.dropFirst(3))
      } else if line == "```json", section != nil {
        block = []
      }
    }
    return examples
  }
}

/// Compares a printed document with its documented example: the same keys in every object, the
/// same kind of value (object, array, string, number, boolean), recursively; an array is
/// compared through its first item. `null` on either side matches anything (many keys are
/// "X or null").
enum JSONShape {
  /// Array keys whose items must be checked: the test's scenario makes them non-empty.
  static let requiredKinds: [String: [String: String]] = [
    "hash --manifest": ["manifest": "array"], "switch": ["checks": "array", "changes": "object"],
    "rollback": ["checks": "array", "changes": "object"], "check": ["checks": "array"],
    "show": ["checks": "array", "generations": "array"], "expose": ["links": "array"],
    "diff": ["added": "array", "removed": "array", "changed": "array"],
    "gc": ["removedGenerations": "array", "removedEntries": "array", "keptPinned": "array", "keptByGrace": "array", "leftovers": "array"],
    "verify": ["problems": "array"], "audit": ["problems": "array"],
  ]

  static func kind(_ value: Any) -> String {
    switch value {
    case is NSNull: return "null"
    case is [String: Any]: return "object"
    case let array as [Any]: return array.isEmpty ? "empty array" : "array"
    case is String: return "string"
    case is Bool, is NSNumber, is Int, is Double: return "number"
    default: return "unknown"
    }
  }

  static func differences(documented: Any, printed: Any, at path: String) -> [String] {
    if documented is NSNull || printed is NSNull { return [] }
    if let doc = documented as? [String: Any] {
      guard let out = printed as? [String: Any] else { return ["\(path): documented as object, printed as \(kind(printed))"] }
      var found: [String] = []
      let undocumented = Set(out.keys).subtracting(doc.keys).sorted()
      let unprinted = Set(doc.keys).subtracting(out.keys).sorted()
      if !undocumented.isEmpty { found.append("\(path): printed but not documented: \(undocumented.joined(separator: ", "))") }
      if !unprinted.isEmpty { found.append("\(path): documented but not printed: \(unprinted.joined(separator: ", "))") }
      for key in Set(doc.keys).intersection(out.keys).sorted() {
        found += differences(documented: doc[key]!, printed: out[key]!, at: "\(path).\(key)")
      }
      return found
    }
    if let doc = documented as? [Any] {
      guard let out = printed as? [Any] else { return ["\(path): documented as array, printed as \(kind(printed))"] }
      guard let first = doc.first, let printedFirst = out.first else { return [] }
      return differences(documented: first, printed: printedFirst, at: "\(path)[0]")
    }
    let (d, p) = (kind(documented), kind(printed))
    return d == p ? [] : ["\(path): documented as \(d), printed as \(p)"]
  }
}
