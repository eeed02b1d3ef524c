import MCPGenSystem

/// Splits a configured command line into words, the way a POSIX shell would for a simple
/// command: blanks separate words; single quotes keep everything; double quotes keep everything
/// but `\"`, `\\`, `\$` and `` \` ``; a backslash outside quotes keeps the next character.
/// No expansion, no redirection, no pipes: for those, write `sh -c '…'`.
public enum CommandWords {
  public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
  }

  public static func split(_ line: String) throws(ParseError) -> [String] {
    var words: [String] = []
    var word = ""
    var inWord = false
    var iterator = line.unicodeScalars.makeIterator()
    while let c = iterator.next() {
      switch c {
      case " ", "\t", "\n":
        if inWord { words.append(word); word = ""; inWord = false }
      case "'":
        inWord = true
        while true {
          guard let d = iterator.next() else { throw ParseError(reason: "unterminated single quote") }
          if d == "'" { break }
          word.unicodeScalars.append(d)
        }
      case "\"":
        inWord = true
        while true {
          guard let d = iterator.next() else { throw ParseError(reason: "unterminated double quote") }
          if d == "\"" { break }
          if d == "\\" {
            guard let e = iterator.next() else { throw ParseError(reason: "unterminated double quote") }
            if !["\"", "\\", "$", "`"].contains(e) { word.unicodeScalars.append("\\") }
            word.unicodeScalars.append(e)
          } else {
            word.unicodeScalars.append(d)
          }
        }
      case "\\":
        inWord = true
        guard let d = iterator.next() else { throw ParseError(reason: "trailing backslash") }
        word.unicodeScalars.append(d)
      default:
        inWord = true
        word.unicodeScalars.append(c)
      }
    }
    if inWord { words.append(word) }
    guard !words.isEmpty else { throw ParseError(reason: "empty command") }
    return words
  }
}
