import MCPGenSystem

/// A release's version as people name it ("1.3.11"), shown next to its key.
///
/// A label belongs to a store key, not to a generation: the `add` or `switch` line that gave it
/// records it in the journal (`label`, `labelFrom`), and the newest such line wins. The journal
/// is the only place it is kept, so replaying the journal is what rebuilds the label map.
public struct ReleaseLabel: Sendable, Equatable, CustomStringConvertible {
  /// Where a label came from, as the journal's `labelFrom` and `show` name it.
  public enum Origin: String, Sendable {
    /// `--label TEXT`.
    case label = "label"
    /// The tag that `add --git` / `switch --git` was given.
    case gitTag = "git tag"
    /// `[project] version` of the release's top-level `pyproject.toml`.
    case pyproject = "pyproject.toml"
    /// The first line of the release's top-level `VERSION` file.
    case versionFile = "VERSION"
  }

  public let text: String
  public let origin: Origin

  /// Long enough for any version string, short enough to fit a column of `list`.
  public static let maximumBytes = 128

  /// An operator's `--label TEXT`: refused with one error line unless it is a usable label.
  public init(given text: String) throws(MCPGenError) {
    // Not echoed: the text is what the operator typed, and may be what must not reach a terminal.
    if let problem = ReleaseLabel.problem(text) {
      throw MCPGenError(
        .invalidInput, "the label is not usable: \(problem); give at most \(ReleaseLabel.maximumBytes) bytes of printable text")
    }
    self.text = text
    self.origin = .label
  }

  /// A label found in a release, a git tag or a journal line; nil when `text` is not a usable
  /// label (those are skipped, never shown).
  init?(_ text: String, origin: Origin) {
    guard ReleaseLabel.problem(text) == nil else { return nil }
    self.text = text
    self.origin = origin
  }

  public var description: String { text }

  /// Columns the label takes in a terminal, near enough to line up `list`: a scalar each, but
  /// none for a combining mark.
  public var width: Int {
    if text.utf8.allSatisfy({ $0 < 0x80 }) { return text.utf8.count }  // `list` asks for every row
    return text.unicodeScalars.reduce(0) { n, s in
      switch s.properties.generalCategory {
      case .nonspacingMark, .enclosingMark: return n
      default: return n + 1
      }
    }
  }

  /// Labels compare as bytes: `String` equality would merge canonically equivalent text, and
  /// `switch --release` must name exactly what was recorded.
  public static func == (a: ReleaseLabel, b: ReleaseLabel) -> Bool {
    a.origin == b.origin && a.names(b.text)
  }

  /// Whether `text` is this label, byte for byte.
  public func names(_ text: String) -> Bool { self.text.utf8.elementsEqual(text.utf8) }

  /// Why `text` cannot be a label, or nil when it can.
  ///
  /// A label is printed by `list`, `status` and `show` and typed by operators: no control or
  /// format characters (U+202E and other bidirectional overrides, zero-width characters), no
  /// line separators, private-use, unassigned or replacement characters (the last is what an
  /// argument that is not UTF-8 decodes to), no leading or trailing white space.
  static func problem(_ text: String) -> String? {
    let count = text.utf8.count
    if count == 0 { return "it is empty" }
    if count > maximumBytes { return "it is \(count) bytes long, more than \(maximumBytes)" }
    let scalars = text.unicodeScalars
    if let first = scalars.first, let last = scalars.last, first.properties.isWhitespace || last.properties.isWhitespace {
      return "it starts or ends with white space"
    }
    // Printable ASCII, nearly every version string: no character properties to look up (the
    // journal's replay checks every label line on every `list`).
    if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return nil }
    for s in scalars {
      switch s.properties.generalCategory {
      case .control, .format, .lineSeparator, .paragraphSeparator, .privateUse, .surrogate, .unassigned:
        return "it contains the control or invisible character U+\(hex4(s.value))"
      default:
        if s.value == 0xFFFD { return "it is not valid UTF-8 (or contains U+FFFD)" }
      }
    }
    return nil
  }

  private static func hex4(_ v: UInt32) -> String {
    let digits = String(v, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
  }

  /// The journal fields that record this label on an `add` or `switch` line.
  var journalFields: [(String, JSON)] {
    [("label", .string(text)), ("labelFrom", .string(origin.rawValue))]
  }

  /// The label an `add` or `switch` line gave its key; nil when it gives none, or one that is not
  /// usable (the journal is a file that can be edited: its text is checked like any other).
  init?(journaled r: JournalRecord) {
    guard !r.extra.isEmpty, r.operation == .add || r.operation == .switch else { return nil }
    var text: String? = nil
    var origin: Origin? = nil
    for (name, value) in r.extra {
      if name == "label", text == nil { text = value.stringValue ?? "" }
      if name == "labelFrom", origin == nil { origin = value.stringValue.flatMap(Origin.init(rawValue:)) }
    }
    guard let text, let origin else { return nil }
    self.init(text, origin: origin)
  }
}
