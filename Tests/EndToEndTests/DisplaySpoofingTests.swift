import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Invisible characters that reorder or hide text (bidirectional overrides, zero-width and other
/// format characters, C1 controls, line separators) in names: `list`, `show`, `diff` and `log`
/// print them escaped, each UTF-8 byte as `\xNN` (store-layout.md section 12); their `--json`
/// stays valid JSON that decodes to the exact name.
@Suite("names that spoof the display")
struct DisplaySpoofingTests {
  static let hostile: [(String, Unicode.Scalar)] = [
    ("right-to-left override", "\u{202E}"), ("left-to-right embedding", "\u{202A}"),
    ("left-to-right isolate", "\u{2066}"), ("pop directional isolate", "\u{2069}"),
    ("zero width space", "\u{200B}"), ("right-to-left mark", "\u{200F}"), ("arabic letter mark", "\u{061C}"),
    ("line separator", "\u{2028}"), ("paragraph separator", "\u{2029}"), ("byte order mark", "\u{FEFF}"),
    ("word joiner", "\u{2060}"), ("soft hyphen", "\u{00AD}"), ("C1 NEL", "\u{0085}"), ("C1 CSI", "\u{009B}"),
    ("tag latin capital A", "\u{E0041}"),
  ]

  static func escaped(_ scalar: Unicode.Scalar) -> String {
    String(scalar).utf8.map { "\\x" + String($0, radix: 16).leftPaddedZero(2) }.joined()
  }

  /// Every string in a parsed JSON value.
  static func strings(in value: Any) -> [String] {
    switch value {
    case let s as String: return [s]
    case let a as [Any]: return a.flatMap { strings(in: $0) }
    case let d as [String: Any]: return d.values.flatMap { strings(in: $0) }
    default: return []
    }
  }

  @Test("list, show, diff and log escape the character; --json of each is valid and decodes to the name", arguments: hostile)
  func escaped(label: String, scalar: Unicode.Scalar) throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let raw = Array(String(scalar).utf8)
    let release = scratch.at("rel\(scalar)ease")
    try Gen.makeRelease(at: release, version: "2.0")
    try Gen.write(release + "/share/mcp/evil\(scalar)txt.exe", "x\n")
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    try Gen.ok(root, "switch", [release])
    let shown = Self.escaped(scalar)

    for arguments in [["list"], ["show", "2"], ["diff", "1", "2"], ["log"]] {
      let out = try Gen.ok(root, arguments[0], Array(arguments.dropFirst()))
      #expect(!out.stdout.contains(raw), "\(label): \(arguments.joined(separator: " ")) printed U+\(String(scalar.value, radix: 16)) raw: \(out.stdoutText.debugDescription)")
      let expected = arguments[0] == "diff" ? "evil\(shown)txt.exe" : "rel\(shown)ease"
      #expect(out.stdoutText.contains(expected), "\(label): \(arguments.joined(separator: " ")) does not show \(expected): \(out.stdoutText)")

      let json = try Gen.ok(root, arguments[0], ["--json"] + Array(arguments.dropFirst()))
      #expect(!json.stdout.contains(raw), "\(label): \(arguments.joined(separator: " ")) --json printed the character raw")
      let documents = arguments[0] == "log" ? json.stdout.split(separator: 0x0A).map(Array.init) : [json.stdout]
      var decoded: [String] = []
      for document in documents {
        decoded += Self.strings(in: try JSONSerialization.jsonObject(with: Data(document), options: [.fragmentsAllowed]))
      }
      let name = arguments[0] == "diff" ? "evil\(scalar)txt.exe" : "rel\(scalar)ease"
      #expect(decoded.contains { Array($0.utf8).contains(Array(name.utf8)) }, "\(label): \(arguments.joined(separator: " ")) --json does not decode to the name")
    }
  }
}

extension Array where Element == UInt8 {
  fileprivate func contains(_ part: [UInt8]) -> Bool {
    guard !part.isEmpty, count >= part.count else { return false }
    return (0...(count - part.count)).contains { self[$0..<($0 + part.count)].elementsEqual(part) }
  }
}

extension String {
  fileprivate func leftPaddedZero(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
