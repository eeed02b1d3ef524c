/// The specification's target path patterns, matched as python-tuf does: the pattern and the
/// path split on "/" must have the same number of parts, and each part matches as a shell glob
/// (`fnmatch`: `*`, `?`, `[abc]`, `[!abc]`, `[a-z]`), so `*` never crosses a "/".
enum PathPattern {
  static func matches(target: String, pattern: String) -> Bool {
    let targetParts = target.split(separator: "/", omittingEmptySubsequences: false)
    let patternParts = pattern.split(separator: "/", omittingEmptySubsequences: false)
    guard targetParts.count == patternParts.count else { return false }
    for (t, p) in zip(targetParts, patternParts) where !glob(Array(t.unicodeScalars), Array(p.unicodeScalars)) {
      return false
    }
    return true
  }

  /// `fnmatch` of one part, case-sensitive, with backtracking over the last `*` only (enough:
  /// each later `*` can absorb what an earlier one would have).
  static func glob(_ s: [Unicode.Scalar], _ p: [Unicode.Scalar]) -> Bool {
    var si = 0, pi = 0
    var star: Int? = nil, starS = 0
    while si < s.count {
      if pi < p.count {
        switch p[pi] {
        case "*":
          star = pi
          starS = si
          pi += 1
          continue
        case "?":
          si += 1
          pi += 1
          continue
        case "[":
          if let (matched, next) = bracket(p, pi, s[si]) {
            if matched {
              si += 1
              pi = next
              continue
            }
          } else if s[si] == "[" {
            // An unclosed "[" is a literal, as in fnmatch.
            si += 1
            pi += 1
            continue
          }
        default:
          if p[pi] == s[si] {
            si += 1
            pi += 1
            continue
          }
        }
      }
      guard let st = star else { return false }
      pi = st + 1
      starS += 1
      si = starS
    }
    while pi < p.count, p[pi] == "*" { pi += 1 }
    return pi == p.count
  }

  /// A bracket expression at `p[start]`: whether `c` matches and the index after the `]`; nil
  /// when the bracket is not closed.
  static func bracket(_ p: [Unicode.Scalar], _ start: Int, _ c: Unicode.Scalar) -> (Bool, Int)? {
    var i = start + 1
    var negate = false
    if i < p.count, p[i] == "!" {
      negate = true
      i += 1
    }
    var matched = false
    var first = true
    while i < p.count {
      if p[i] == "]", !first { return (matched != negate, i + 1) }
      first = false
      if i + 2 < p.count, p[i + 1] == "-", p[i + 2] != "]" {
        if p[i].value <= c.value, c.value <= p[i + 2].value { matched = true }
        i += 3
      } else {
        if p[i] == c { matched = true }
        i += 1
      }
    }
    return nil
  }
}
