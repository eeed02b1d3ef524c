/// How long each role's metadata stays valid after it is signed (seconds). The defaults are the
/// contract's: root and targets a year, snapshot a week, timestamp a day, so a `--refresh` timer
/// (contrib/) must run more often than once a day.
public struct Expiry: Sendable, Equatable {
  public var root: Int64 = 365 * 86400
  public var targets: Int64 = 365 * 86400
  public var snapshot: Int64 = 7 * 86400
  public var timestamp: Int64 = 86400

  public init() {}
}
