import Foundation
import Testing

/// The layering of ARCHITECTURE.md, checked on every source file: a file that imports a module its
/// target may not import fails the build's tests, and so does a stale entry on the list of engine
/// files that still import Glibc. The allowed imports are read from ARCHITECTURE.md itself, so the
/// document and the check cannot disagree.
@Suite("import walls")
struct ImportWallTests {
  static let root = URL(fileURLWithPath: TestEnvironment.packageRoot)

  /// The standard library's own modules, which every file may import.
  static let implicit: Set<String> = ["Swift", "_Concurrency", "_StringProcessing"]

  static let libcModules: Set<String> = ["Glibc", "Musl"]

  // MARK: Reading ARCHITECTURE.md

  /// The lines of the fenced block whose info string is `name`.
  static func fencedBlock(_ name: String, in text: String) -> [String]? {
    var lines: [String] = []
    var inside = false
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if !inside, trimmed == "```" + name {
        inside = true
      } else if inside, trimmed == "```" {
        return lines
      } else if inside, !trimmed.isEmpty, !trimmed.hasPrefix("#") {
        lines.append(trimmed)
      }
    }
    return nil
  }

  static func architecture() throws -> String {
    try String(contentsOf: root.appendingPathComponent("ARCHITECTURE.md"), encoding: .utf8)
  }

  /// Target name to the modules its files may import.
  static func walls() throws -> [String: Set<String>] {
    let rows = try #require(fencedBlock("import-walls", in: try architecture()), "ARCHITECTURE.md has no ```import-walls block")
    var walls: [String: Set<String>] = [:]
    for row in rows {
      let words = row.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
      walls[words[0]] = Set(words.dropFirst())
    }
    return walls
  }

  static func glibcDebt() throws -> Set<String> {
    Set(try #require(fencedBlock("glibc-debt", in: try architecture()), "ARCHITECTURE.md has no ```glibc-debt block"))
  }

  // MARK: Reading sources

  /// The modules a Swift source imports: `import X` (any attributes or access level before it,
  /// `import struct X.Y` counts as X) and the `X` of every `#if canImport(X)`.
  static func imports(of source: String) -> Set<String> {
    var modules: Set<String> = []
    let importLine = try! NSRegularExpression(
      pattern: #"^\s*(?:@[A-Za-z_]+(?:\([^)]*\))?\s+)*(?:(?:public|package|internal|fileprivate|private)\s+)?import\s+(?:(?:typealias|struct|class|enum|protocol|let|var|func)\s+)?([A-Za-z_][A-Za-z0-9_]*)"#)
    let canImport = try! NSRegularExpression(pattern: #"canImport\(\s*([A-Za-z_][A-Za-z0-9_]*)"#)
    for line in source.split(separator: "\n") {
      let text = String(line)
      let range = NSRange(text.startIndex..., in: text)
      if let m = importLine.firstMatch(in: text, range: range), let r = Range(m.range(at: 1), in: text) {
        modules.insert(String(text[r]))
      }
      if text.trimmingCharacters(in: .whitespaces).hasPrefix("#") {
        for m in canImport.matches(in: text, range: range) {
          if let r = Range(m.range(at: 1), in: text) { modules.insert(String(text[r])) }
        }
      }
    }
    return modules
  }

  /// Targets whose sources are not in `Sources/<target>/` (a `path:` in Package.swift).
  static let elsewhere = ["MCPGenTestSupport": "Tests/MCPGenTestSupport"]

  /// Every Swift file under `Sources/<target>/` and of the targets `elsewhere`, as (target, path
  /// relative to the root, imports).
  static func sourceFiles() throws -> [(target: String, path: String, imports: Set<String>)] {
    var folders: [(target: String, folder: String)] = []
    for target in try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Sources").path) {
      folders.append((target, "Sources/\(target)"))
    }
    folders += elsewhere.map { ($0.key, $0.value) }
    var files: [(String, String, Set<String>)] = []
    for (target, folder) in folders.sorted(by: { $0.folder < $1.folder }) {
      let dir = root.appendingPathComponent(folder)
      guard let walker = FileManager.default.enumerator(atPath: dir.path) else { continue }
      for case let relative as String in walker where relative.hasSuffix(".swift") {
        let text = try String(contentsOf: dir.appendingPathComponent(relative), encoding: .utf8)
        files.append((target, "\(folder)/\(relative)", imports(of: text)))
      }
    }
    return files
  }

  // MARK: The checks

  @Test("the import parser sees every form of import", arguments: [
    ("import Glibc", ["Glibc"]),
    ("@preconcurrency import Dispatch", ["Dispatch"]),
    ("@_implementationOnly import CMCPGenShims", ["CMCPGenShims"]),
    ("@_exported import MCPGenTerminal", ["MCPGenTerminal"]),
    ("@testable import MCPGenKit", ["MCPGenKit"]),
    ("public import SystemPackage", ["SystemPackage"]),
    ("import struct SystemPackage.FilePath", ["SystemPackage"]),
    ("#if canImport(Glibc)\nimport Glibc\n#elseif canImport(Musl)\nimport Musl\n#endif", ["Glibc", "Musl"]),
    ("#if canImport(Darwin)\n#endif", ["Darwin"]),
    ("/// import Foo in a comment\nlet important = 1", []),
  ])
  func parser(source: String, expected: [String]) {
    #expect(Self.imports(of: source) == Set(expected))
  }

  @Test("every Swift target has a row in ARCHITECTURE.md, and every file imports only what its row allows")
  func walls() throws {
    let walls = try Self.walls()
    let files = try Self.sourceFiles()
    #expect(!files.isEmpty)
    var crossings: [String] = []
    for target in Set(files.map(\.target)) where walls[target] == nil {
      crossings.append("\(Self.elsewhere[target] ?? "Sources/\(target)") has no row in the import-walls table of ARCHITECTURE.md")
    }
    #expect(Self.elsewhere.keys.allSatisfy { target in files.contains { $0.target == target } }, "a target of `elsewhere` has no Swift files where it says")
    for file in files {
      guard let allowed = walls[file.target] else { continue }
      for module in file.imports.subtracting(Self.implicit).subtracting(allowed).sorted() {
        // Engine files on the glibc-debt list may still import libc (checked below).
        if file.target == "MCPGenKit" && Self.libcModules.contains(module) { continue }
        crossings.append("\(file.path) imports \(module), which \(file.target) may not")
      }
    }
    #expect(crossings.isEmpty, "\(crossings.joined(separator: "\n"))")
  }

  @Test("only the engine files on the glibc-debt list import Glibc, and each of them still does")
  func glibcDebtIsExact() throws {
    let debt = try Self.glibcDebt()
    let engine = try Self.sourceFiles().filter { $0.target == "MCPGenKit" }
    let importing = Set(engine.filter { !$0.imports.isDisjoint(with: Self.libcModules) }.map(\.path))
    let unlisted = importing.subtracting(debt).sorted()
    let stale = debt.subtracting(importing).sorted()
    #expect(unlisted.isEmpty, "engine files import Glibc but are not on the glibc-debt list: \(unlisted)")
    #expect(stale.isEmpty, "on the glibc-debt list but no longer import Glibc (remove them from the list): \(stale)")
  }

  @Test("@testable import appears only in tests")
  func noTestableInSources() throws {
    var offenders: [String] = []
    for file in try Self.sourceFiles() {
      let text = try String(contentsOf: Self.root.appendingPathComponent(file.path), encoding: .utf8)
      if text.contains("@testable") { offenders.append(file.path) }
    }
    #expect(offenders.isEmpty, "\(offenders)")
  }
}
