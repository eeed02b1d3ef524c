import Foundation
import Testing

/// The hand-kept man page and the generated shell completions cannot fall behind `--help`.
@Suite("man page and shell completions")
struct ManPageTests {
  /// Subcommand names (aliases too) from the SUBCOMMANDS section of `mcp-gen --help`.
  static func subcommands() throws -> [(name: String, aliases: [String])] {
    let help = try CLI.run(["--help"])
    #expect(help.status == 0)
    var out: [(String, [String])] = []
    var inSection = false
    for line in help.stdoutText.split(separator: "\n", omittingEmptySubsequences: false) {
      if line == "SUBCOMMANDS:" { inSection = true; continue }
      guard inSection else { continue }
      if line.hasPrefix("  See ") { break }
      // "  add        Store ...", "  list, generations  List ..."; continuations are indented deeper.
      guard line.hasPrefix("  "), let first = line.dropFirst(2).first, first.isLowercase else { continue }
      let head = String(line.dropFirst(2)).components(separatedBy: "  ")[0]
      let names = head.components(separatedBy: ", ").map { $0.trimmingCharacters(in: .whitespaces) }
      out.append((names[0], Array(names.dropFirst())))
    }
    return out
  }

  /// Long options (and `-h`) that `mcp-gen help SUBCOMMAND` lists.
  static func options(_ subcommand: String) throws -> [String] {
    let help = try CLI.run(["help", subcommand])
    #expect(help.status == 0, "help \(subcommand): \(help.stderrText)")
    var out: [String] = []
    for line in help.stdoutText.split(separator: "\n") where line.hasPrefix("  -") {
      // The option column only ("-h, --help", "--check <command>"), not the text beside it.
      let column = String(line.dropFirst(2)).components(separatedBy: "  ")[0]
      for word in column.split(separator: " ") where word.hasPrefix("--") {
        out.append(String(word.trimmingCharacters(in: CharacterSet(charactersIn: ","))))
      }
    }
    return out
  }

  /// The man page as plain text: font escapes dropped, `\-` as `-`.
  static let manText: [String] = {
    let raw = (try? String(contentsOfFile: CLI.packageRoot + "/docs/mcp-gen.1", encoding: .utf8)) ?? ""
    return raw.split(separator: "\n", omittingEmptySubsequences: false).map { line in
      var s = String(line).replacingOccurrences(of: "\\-", with: "-")
      for font in ["\\fB", "\\fI", "\\fR", "\\fP"] { s = s.replacingOccurrences(of: font, with: "") }
      return s
    }
  }()

  /// The lines of the first section or subsection whose heading satisfies `heading`.
  static func section(_ heading: (String) -> Bool) -> [String]? {
    guard let start = manText.firstIndex(where: { ($0.hasPrefix(".SS ") || $0.hasPrefix(".SH ")) && heading($0) }) else { return nil }
    let end = manText[(start + 1)...].firstIndex { $0.hasPrefix(".SS ") || $0.hasPrefix(".SH ") } ?? manText.count
    return Array(manText[start..<end])
  }

  /// `.SS "pin N, unpin N"` names pin and unpin.
  static func headingNames(_ line: String) -> [String] {
    line.dropFirst(4).replacingOccurrences(of: "\"", with: "")
      .split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
  }

  @Test("every subcommand in --help has its own section in docs/mcp-gen.1, and each of its options is described there or among the shared ones")
  func manPageCoversHelp() throws {
    #expect(!Self.manText.isEmpty, "docs/mcp-gen.1 is missing")
    let subcommands = try Self.subcommands()
    #expect(subcommands.count >= 18, "parsed \(subcommands.map(\.name)) from --help")
    #expect(subcommands.contains { $0.name == "doctor" })
    let shared = (Self.section { $0 == ".SH GLOBAL OPTIONS" } ?? []) + (Self.section { $0 == ".SH HEALTH CHECK OPTIONS" } ?? [])
    #expect(!shared.isEmpty, "no GLOBAL OPTIONS or HEALTH CHECK OPTIONS section")
    for (name, aliases) in subcommands {
      let own = Self.section { $0.hasPrefix(".SS ") && Self.headingNames($0).contains(name) }
      #expect(own != nil, "docs/mcp-gen.1 has no .SS section for \(name)")
      for alias in aliases {
        #expect(own.map { Self.headingNames($0[0]).contains(alias) } == true, "the alias \(alias) is not in \(name)'s heading")
      }
      for option in try Self.options(name) {
        let described = (own ?? []).contains { $0.contains(option) } || shared.contains { $0.contains(option) }
        #expect(described, "\(name) \(option) is not in docs/mcp-gen.1")
      }
    }
  }

  @Test("the man page names the version mcp-gen --version prints, and every exit status")
  func manPageVersionAndExitCodes() throws {
    let version = try CLI.run(["--version"]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(!version.isEmpty)
    let header = Self.manText.first { $0.hasPrefix(".TH ") } ?? ""
    #expect(header.contains("\"mcp-gen \(version)\""), "\(header)")
    let exits = Self.section { $0 == ".SH EXIT STATUS" } ?? []
    for code in ["0", "1", "2", "3", "4", "5", "64"] {
      #expect(exits.contains(".B \(code)"), "exit status \(code) is not in EXIT STATUS")
    }
  }

  /// Aliases (`generations`) are left out: argument-parser's bash script does not complete them.
  @Test("completion scripts for bash, zsh and fish are generated and name every subcommand", arguments: ["bash", "zsh", "fish"])
  func completions(_ shell: String) throws {
    let out = try CLI.run(["--generate-completion-script", shell])
    #expect(out.status == 0, "\(out.stderrText)")
    #expect(out.stdout.count > 1000, "\(shell) completion is \(out.stdout.count) bytes")
    for (name, _) in try Self.subcommands() {
      #expect(out.stdoutText.contains(name), "the \(shell) completion does not mention \(name)")
    }
  }
}
