import MCPGenSystem

/// One line of `<root>/journal.jsonl`: one change, who made it, and how it ended.
public struct JournalRecord: Sendable, Equatable {
  /// What kind of change.
  public struct Operation: RawRepresentable, Hashable, Sendable {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    /// A new release stored (not part of a switch).
    public static let add = Operation(rawValue: "add")
    /// A new generation made current.
    public static let `switch` = Operation(rawValue: "switch")
    /// A switch made its new generation current and is running its health checks; its `switch`
    /// line follows. Records the generation and its source meanwhile; changes no history.
    public static let start = Operation(rawValue: "start")
    /// `current` moved to an existing generation.
    public static let rollback = Operation(rawValue: "rollback")
    /// A change found half-recorded after a crash, recorded now.
    public static let recover = Operation(rawValue: "recover")
    /// `mcp-gen check` confirmed an unconfirmed `current`.
    public static let check = Operation(rawValue: "check")
    /// Cancels a `switch` or `rollback` line whose change was undone because it could not be
    /// made durable.
    public static let abort = Operation(rawValue: "abort")
    public static let pin = Operation(rawValue: "pin")
    public static let unpin = Operation(rawValue: "unpin")
    public static let block = Operation(rawValue: "block")
    public static let unblock = Operation(rawValue: "unblock")
    /// Generations and entries collected.
    public static let gc = Operation(rawValue: "gc")
    /// `audit --repair`: quarantined entries, and generations kept although their release is gone.
    public static let repair = Operation(rawValue: "repair")
    /// `switch PATH` replaced a corrupted store entry with a verified copy of its source; the
    /// corrupted one went to quarantine.
    public static let heal = Operation(rawValue: "heal")
    /// `audit --record`: an audit ran to its end (changes nothing; `doctor` reads its age).
    public static let audit = Operation(rawValue: "audit")
  }

  public var time: Int64
  public var pid: Int64
  public var user: String
  public var command: [UInt8]
  public var operation: Operation
  public var from: Int64?
  public var to: Int64?
  public var key: StoreKey?
  public var source: [UInt8]?
  /// `ok`, or how the change ended otherwise.
  public var outcome: String
  /// A plain `rollback` that undid the latest switch (as opposed to `rollback N`).
  public var undo: Bool
  /// Everything else the line carries, in order (health checks, messages).
  public var extra: [(String, JSON)]

  public init(
    time: Int64 = Clock.now(), pid: Int64, user: String, command: [UInt8], operation: Operation,
    from: Int64? = nil, to: Int64? = nil, key: StoreKey? = nil, source: [UInt8]? = nil,
    outcome: String = "ok", undo: Bool = false, extra: [(String, JSON)] = []
  ) {
    self.time = time
    self.pid = pid
    self.user = user
    self.command = command
    self.operation = operation
    self.from = from
    self.to = to
    self.key = key
    self.source = source
    self.outcome = outcome
    self.undo = undo
    self.extra = extra
  }

  public static func == (a: JournalRecord, b: JournalRecord) -> Bool { a.json == b.json }

  /// Required health checks ran for this change (in `field`: `checks`, or `restoredChecks` for
  /// the generation put back).
  func ranRequiredChecks(_ field: String = "checks") -> Bool {
    guard let items = extra.first(where: { $0.0 == field })?.1.arrayValue else { return false }
    return items.contains { $0["role"]?.stringValue == "required" }
  }

  /// The line's JSON object, its fields in the order of `JournalField.all` (the others in the
  /// order `extra` has them); `line()` adds the seal.
  public var json: JSON {
    var members: [(String, JSON)] = []
    members.reserveCapacity(12 + extra.count)
    for field in JournalField.all {
      guard let slot = field.slot else { continue }
      let value: JSON?
      switch slot {
      case .time: value = .string(Clock.format(time))
      case .pid: value = .int(pid)
      case .user: value = .string(user)
      case .command: value = .string(command)
      case .op: value = .string(operation.rawValue)
      case .from: value = from.map(JSON.int)
      case .to: value = to.map(JSON.int)
      case .key: value = key.map { .string($0.hex) }
      case .source: value = source.map(JSON.string)
      case .outcome: value = .string(outcome)
      case .undo: value = undo ? .bool(true) : nil
      }
      if let value {
        members.append((field.text, value))
      } else if field.presence != .optional {
        members.append((field.text, .null))
      }
    }
    members += extra
    return .object(members)
  }

  /// The line as written, sealed (`JournalLineSeal`), newline excluded.
  public func line() -> [UInt8] { JournalLineSeal.seal(json.serialized()) }

  /// Whether every generation number the record carries is one (1 through
  /// `Generation.maximum`): `from`, `to`, and each field whose kind in `JournalField.all` is a
  /// generation, a list of them, or check results with theirs. A line with anything else there
  /// is damage, trusted by no command: replaying `"to": 9223372036854775807` would use up every
  /// number for good.
  var hasValidGenerationNumbers: Bool {
    func valid(_ value: JSON) -> Bool { value.intValue.map(Generation.isNumber) ?? false }
    guard from.map(Generation.isNumber) ?? true, to.map(Generation.isNumber) ?? true else { return false }
    for (name, value) in extra {
      guard let k = JournalField.index(named: name) else { continue }
      switch JournalField.lookup.kinds[k] {
      case .generation:
        guard value == .null || valid(value) else { return false }
      case .generations:
        guard let items = value.arrayValue, items.allSatisfy(valid) else { return false }
      case .checks:
        for check in value.arrayValue ?? [] {
          if let n = check["generation"], !valid(n) { return false }
        }
      default:
        break
      }
    }
    return true
  }
}

extension Clock {
  /// Parses what `format` writes; nil for anything else.
  public static func parse(_ text: String) -> Int64? { parse(bytes: Array(text.utf8)[...]) }

  static func parse<Bytes: RandomAccessCollection<UInt8>>(bytes: Bytes) -> Int64? where Bytes.Index == Int {
    guard bytes.count == 20 else { return nil }
    let o = bytes.startIndex
    func b(_ k: Int) -> UInt8 { bytes[o + k] }
    guard b(4) == 0x2D, b(7) == 0x2D, b(10) == 0x54, b(13) == 0x3A, b(16) == 0x3A, b(19) == 0x5A
    else { return nil }
    func num(_ r: Range<Int>) -> Int64? {
      var n: Int64 = 0
      for k in r {
        guard (0x30...0x39).contains(b(k)) else { return nil }
        n = n * 10 + Int64(b(k) - 0x30)
      }
      return n
    }
    guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13),
      let mi = num(14..<16), let s = num(17..<19), (1...12).contains(mo), (1...31).contains(d)
    else { return nil }
    // Days from civil (Howard Hinnant's algorithm): no time zone database involved.
    let yy = mo <= 2 ? y - 1 : y
    let era = (yy >= 0 ? yy : yy - 399) / 400
    let yoe = yy - era * 400
    let mp = (mo + 9) % 12
    let doy = (153 * mp + 2) / 5 + d - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    let days = era * 146097 + doe - 719468
    return days * 86400 + h * 3600 + mi * 60 + s
  }
}
