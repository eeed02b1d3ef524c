import MCPGenSystem

/// Reads `version = "..."` of the `[project]` table of a `pyproject.toml`, and nothing else.
///
/// Not a TOML parser: an exact reader for the one form PEP 621 files use, line by line. It
/// finds the `[project]` header, then a `version` key in that table whose value is a one-line
/// basic string without escapes or a literal string, followed by nothing but a comment. Any other
/// form (escapes, a multi-line string, a dotted `project.version` key, `dynamic = ["version"]`)
/// gives nil: the release then has no label from this file, never a wrong one.
enum PyprojectVersion {
  static func find(in bytes: [UInt8]) -> String? {
    var inProject = false
    var openString: [UInt8]? = nil  // the delimiter of a multi-line string being skipped
    for rawLine in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
      let line = trimmed(rawLine)
      if let delimiter = openString {
        if occurrences(of: delimiter, in: line) % 2 == 1 { openString = nil }
        continue
      }
      if line.first == UInt8(ascii: "[") {
        // `[table]` switches tables; `[[array]]` is another table too; anything else starting
        // with `[` is a line inside a multi-line array.
        if let name = tableName(line) {
          inProject = name.elementsEqual("project".utf8)
        } else if line.starts(with: "[[".utf8) {
          inProject = false
        }
        continue
      }
      if inProject, let value = versionValue(line) { return value }
      for delimiter in [Array(#"""""#.utf8), Array("'''".utf8)] where occurrences(of: delimiter, in: line) % 2 == 1 {
        openString = delimiter
        break
      }
    }
    return nil
  }

  /// The name of a `[ name ]` header (bare key characters and dots) followed by nothing but a
  /// comment; nil for anything else.
  private static func tableName(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
    guard line.first == UInt8(ascii: "["), !line.starts(with: "[[".utf8),
      let close = line.firstIndex(of: UInt8(ascii: "]"))
    else { return nil }
    let name = trimmed(line[(line.startIndex + 1)..<close])
    guard !name.isEmpty, name.allSatisfy({ isBareKey($0) || $0 == UInt8(ascii: ".") }),
      isEndOfLine(line[(close + 1)...])
    else { return nil }
    return name
  }

  /// The value of `version = "..."` or `version = '...'`; nil when the line is not that.
  private static func versionValue(_ line: ArraySlice<UInt8>) -> String? {
    guard line.starts(with: "version".utf8) else { return nil }
    var rest = trimmed(line.dropFirst(7))
    guard rest.first == UInt8(ascii: "=") else { return nil }  // `version_x = ...` is another key
    rest = trimmed(rest.dropFirst())
    guard let quote = rest.first, quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else { return nil }
    let body = rest.dropFirst()
    guard let close = body.firstIndex(of: quote) else { return nil }
    let value = body[..<close]
    guard close > body.startIndex || !body.dropFirst().starts(with: [quote]) else { return nil }  // `"""`
    if quote == UInt8(ascii: "\""), value.contains(UInt8(ascii: "\\")) { return nil }
    guard isEndOfLine(body[(close + 1)...]) else { return nil }
    return String(validating: value, as: UTF8.self)
  }

  private static func isEndOfLine(_ rest: ArraySlice<UInt8>) -> Bool {
    let r = trimmed(rest)
    return r.isEmpty || r.first == UInt8(ascii: "#")
  }

  private static func isBareKey(_ b: UInt8) -> Bool {
    (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D
  }

  /// Without leading and trailing spaces, tabs and the `\r` of a CRLF line end.
  static func trimmed(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    func space(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }
    guard let first = s.firstIndex(where: { !space($0) }), let last = s.lastIndex(where: { !space($0) }) else { return [] }
    return s[first...last]
  }

  private static func occurrences(of needle: [UInt8], in line: ArraySlice<UInt8>) -> Int {
    var count = 0
    var i = line.startIndex
    while line.endIndex - i >= needle.count {
      if line[i..<(i + needle.count)].elementsEqual(needle) {
        count += 1
        i += needle.count
      } else {
        i += 1
      }
    }
    return count
  }
}
