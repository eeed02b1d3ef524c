/// File names that break naive code: control characters, shell metacharacters, invalid UTF-8,
/// the longest name ext4 allows. Each is a single path component (no "/" or NUL).
struct HostileName: Sendable, CustomStringConvertible {
  var label: String
  var bytes: [UInt8]

  var description: String { label }

  static let all: [HostileName] = [
    HostileName(label: "newline", bytes: Array("a\nb".utf8)),
    HostileName(label: "trailing newline", bytes: Array("name\n".utf8)),
    HostileName(label: "tab", bytes: Array("a\tb".utf8)),
    HostileName(label: "backslash", bytes: Array("a\\b".utf8)),
    HostileName(label: "spaces", bytes: Array(" a  b ".utf8)),
    HostileName(label: "invalid UTF-8", bytes: [0x61, 0xFF, 0x62]),
    HostileName(label: "lone continuation byte", bytes: [0x80]),
    HostileName(label: "leading dash", bytes: Array("-rf".utf8)),
    HostileName(label: "255 bytes", bytes: [UInt8](repeating: UInt8(ascii: "n"), count: 255)),
    HostileName(label: "quote and backslash", bytes: Array("q\"uo'te\\".utf8)),
    HostileName(label: "percent and escape", bytes: Array("%s%n\u{1B}[31m".utf8)),
    HostileName(label: "NFD accent", bytes: Array("e\u{0301}".utf8)),
  ]
}
