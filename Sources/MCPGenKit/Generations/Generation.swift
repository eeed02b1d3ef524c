import MCPGenSystem

/// A numbered generation: `generations/<number>`, a symlink to `../store/<key>`.
public struct Generation: Sendable, Equatable {
  public var number: Int64
  /// nil when the link does not have the form `../store/<key>` (damaged or foreign).
  public var key: StoreKey?
  /// The raw link target.
  public var target: [UInt8] { key.map(Generation.linkTarget) ?? otherTarget }
  /// The target of a link that is not `../store/<key>`; empty otherwise (10,000 links in a
  /// list need no array each).
  private var otherTarget: [UInt8]

  static let targetPrefix = Array("../store/".utf8)

  static func linkTarget(_ key: StoreKey) -> [UInt8] { targetPrefix + key.bytes }

  init(number: Int64, target: [UInt8]) {
    self = target.withUnsafeBufferPointer { Generation(number: number, target: $0) }
  }

  /// From readlink's buffer in place (`list` reads 10,000 links: no array per target).
  init(number: Int64, target: UnsafeBufferPointer<UInt8>) {
    self.number = number
    let prefix = Generation.targetPrefix.count
    if target.count == prefix + 64, target.starts(with: Generation.targetPrefix),
      let key = StoreKey(bytes: UnsafeBufferPointer(rebasing: target[prefix...]))
    {
      self.key = key
      otherTarget = []
    } else {
      key = nil
      otherTarget = Array(target)
    }
  }

  /// Calls `body` with the link name of generation `n` as a C string (on the stack).
  static func withName<R, E: Error>(_ n: Int64, _ body: (UnsafePointer<CChar>) throws(E) -> R) throws(E) -> R {
    try withDecimal(n) { (digits) throws(E) -> R in try body(digits.baseAddress!.assumingMemoryBound(to: CChar.self)) }
  }

  /// The highest generation number, 2^53-1: every number is exact where JSON numbers are read
  /// as doubles, and no history can come near it (a switch a millisecond for 285,000 years).
  public static let maximum: Int64 = 1 << 53 - 1

  /// Whether `n` is a generation number: 1 through `maximum`.
  public static func isNumber(_ n: Int64) -> Bool { n >= 1 && n <= maximum }

  /// Parses a generation number: decimal, no sign, no leading zero, 1 through `maximum`.
  /// Anything else (including a number that overflows) is not one.
  public static func number(_ text: some Collection<UInt8>) -> Int64? {
    guard let first = text.first, first != 0x30, text.count <= 16 else { return nil }
    var n: Int64 = 0
    for c in text {
      guard c &- 0x30 < 10 else { return nil }
      n = n * 10 + Int64(c &- 0x30)
    }
    return n <= maximum ? n : nil
  }
}

/// What `current` is.
public enum CurrentState: Sendable, Equatable {
  /// No `current` yet: nothing was ever switched to.
  case none
  /// `current` -> `generations/<n>`.
  case generation(Int64)
  /// `current` exists but is not a link of that form.
  case damaged([UInt8])

  public var number: Int64? {
    if case .generation(let n) = self { return n }
    return nil
  }

  static let prefix = Array("generations/".utf8)
  static let name = Array("current".utf8)

  static func linkTarget(_ n: Int64) -> [UInt8] { prefix + Array(String(n).utf8) }
}
