import MCPGenSystem
import Synchronization

/// `<root>/checkpoint.json`: the `History` that the journal's first `offset` bytes replay to, so
/// that a command replays only the journal's tail after them (store-layout.md, "The checkpoint").
///
/// Only a cache: the journal stays the one record. A checkpoint is used only when its own
/// checksum holds and it still describes the journal (same file, its covered bytes unchanged
/// where they are checked); anything else is ignored and the history replayed from the whole
/// journal, and the next change writes a new one.
struct HistoryCheckpoint {
  static let name = Array("checkpoint.json".utf8)
  static let version: Int64 = 2
  /// How many bytes at each end of the covered prefix are hashed to tell that it is unchanged.
  static let window: Int64 = 64 << 10
  /// A change writes a new checkpoint once it replayed more than this many lines or bytes.
  static let tailLines: Int = {
    #if DEBUG
    // Tests (the kill-point harness) get checkpoints on short journals.
    if let n = environmentValue("MCP_GEN_DEBUG_CHECKPOINT_LINES").flatMap({ Int($0) }) { return n }
    #endif
    return 1000
  }()
  static let tailBytes: Int = {
    #if DEBUG
    // With the line count given, it alone decides (a benchmark's "no checkpoint" case).
    if environmentValue("MCP_GEN_DEBUG_CHECKPOINT_LINES") != nil { return Int.max }
    #endif
    return 1 << 20
  }()
  /// A larger file is not a checkpoint this code wrote (10,000 generations take about 2 MB).
  static let maximumSize = 256 << 20

  /// The journal bytes it covers: a line boundary (just after a newline).
  var offset: Int64
  /// The journal file it was taken from: `audit --repair` replaces the journal with a new file.
  var device: UInt64
  var inode: UInt64
  /// CRC-32C (`CheckpointSum`) of the first and of the last `min(window, offset)` covered bytes.
  var head: CheckpointSum
  var tail: CheckpointSum
  var history: History

  /// The checkpoint of `history` for the journal `file` (`st`) whose first `offset` bytes it
  /// replays.
  init(_ history: History, offset: Int64, of file: FileFD, _ st: FileInfo) throws(SystemCallError) {
    self.history = history
    self.offset = offset
    device = UInt64(st.device)
    inode = UInt64(st.inode)
    let n = Int(min(HistoryCheckpoint.window, offset))
    head = CheckpointSum(try file.read(at: 0, count: n))
    tail = CheckpointSum(try file.read(at: offset - Int64(n), count: n))
  }

  /// Whether it still describes the journal `file` (`st`): the same file, at least `offset`
  /// bytes long, a line ending at `offset`, and the hashed bytes unchanged.
  func matches(_ file: FileFD, _ st: FileInfo) -> Bool {
    guard offset > 0, Int64(st.size) >= offset, UInt64(st.device) == device, UInt64(st.inode) == inode else { return false }
    let n = Int(min(HistoryCheckpoint.window, offset))
    guard let last = try? file.read(at: offset - Int64(n), count: n), last.count == n, last.last == 0x0A,
      CheckpointSum(last) == tail, let first = try? file.read(at: 0, count: n), CheckpointSum(first) == head
    else { return false }
    return true
  }

  // MARK: The file

  /// How many of the undo stack's newest entries the checked line holds: all a rollback or
  /// `status` looks at unless it passes over that many removed or failed generations.
  static let undoTop = 32

  /// Four lines (store-layout.md 6a): `{"crc32c":"<hex>"}` of the second line; the second, the
  /// journal it describes, everything but the deeper undo stack and the generations' sources and
  /// times, and the length and CRC-32C of each of the two lines after it; the undo stack below its
  /// top (`{"undoStack":[...]}`); the generations' creation times and sources. `status`, `switch`
  /// and `rollback` read and hash the first two lines only (a few hundred bytes with 10,000
  /// generations, against half a megabyte for the whole file).
  func serialized() -> [UInt8] {
    let undo = history.fullUndoStack
    let split = max(undo.count - HistoryCheckpoint.undoTop, 0)
    let undoLine = JSON.object([("undoStack", .array(undo[..<split].map { $0.map(JSON.int) ?? .null }))]).serialized()
    let generations = history.checkpointGenerations
    let generationsLine = JSON.object(generations).serialized()
    // The sources of the generations on the undo stack's top: what a plain rollback records,
    // without the fourth line.
    let top = Set(undo[split...].compactMap { $0 })
    var topSources: [JSON] = []
    if let all = generations.first(where: { $0.0 == "sources" })?.1.arrayValue {
      for i in stride(from: 0, to: all.count - 1, by: 2) where all[i].intValue.map(top.contains) == true {
        topSources += [all[i], all[i + 1]]
      }
    }
    let lines = [undoLine, generationsLine].map { line in
      JSON.object([("bytes", .int(Int64(line.count))), ("crc32c", .string(CheckpointSum(line).description))])
    }
    let head = JSON.object([
      ("version", .int(HistoryCheckpoint.version)),
      ("journal", .object([
        ("offset", .int(offset)), ("device", .int(Int64(bitPattern: device))), ("inode", .int(Int64(bitPattern: inode))),
        ("head", .string(head.description)), ("tail", .string(tail.description)),
      ])),
      ("history", .object(history.checkpointState + [
        ("undoTop", .array(undo[split...].map { $0.map(JSON.int) ?? .null })), ("undoDepth", .int(Int64(undo.count))),
        ("undoSources", .array(topSources)),
      ])),
      ("lines", .array(lines)),
    ]).serialized()
    let sum = JSON.object([("crc32c", .string(CheckpointSum(head).description))]).serialized()
    return sum + [0x0A] + head + [0x0A] + undoLine + [0x0A] + generationsLine + [0x0A]
  }

  /// Parses a whole checkpoint file held in memory; nil for anything but an intact one of this
  /// version (its last two lines are checked when first needed, as `load` leaves them).
  init?(parsing bytes: [UInt8]) {
    self.init(size: bytes.count, prefix: bytes) { at, count in
      at >= 0 && count >= 0 && Int(at) + count <= bytes.count ? Array(bytes[Int(at)..<(Int(at) + count)]) : nil
    }
  }

  /// Parses the first two lines of a checkpoint of `size` bytes from `prefix` (the file's first
  /// bytes, the two lines at least); `read` gives the bytes of the other two lines when they are
  /// first asked for. Nil unless the first line's CRC-32C is the second's, the second parses and
  /// has every field with its type, and the two lines it describes make up the rest of the file.
  private init?(size: Int, prefix bytes: [UInt8], read: @escaping @Sendable (Int64, Int) -> [UInt8]?) {
    guard let nl = firstIndex(of: 0x0A, in: bytes, 0..<bytes.count),
      let nl2 = firstIndex(of: 0x0A, in: bytes, (nl + 1)..<bytes.count),
      let sum = try? JSON(parsing: bytes, range: 0..<nl),
      let hex = sum["crc32c"]?.stringBytes, let expected = CheckpointSum(hex: hex),
      HistoryCheckpoint.hash(bytes, (nl + 1)..<nl2) == expected,
      let body = try? JSON(parsing: bytes, range: (nl + 1)..<nl2),
      body["version"]?.intValue == HistoryCheckpoint.version,
      let journal = body["journal"], let offset = journal["offset"]?.intValue,
      let device = journal["device"]?.intValue, let inode = journal["inode"]?.intValue,
      let head = journal["head"]?.stringBytes.flatMap({ CheckpointSum(hex: $0) }),
      let tail = journal["tail"]?.stringBytes.flatMap({ CheckpointSum(hex: $0) }),
      let lines = body["lines"]?.arrayValue, lines.count == 2,
      var history = body["history"].flatMap(History.init(checkpoint:))
    else { return nil }
    var parts: [CheckpointLines.Line] = []
    var at = Int64(nl2 + 1)
    for line in lines {
      guard let count = line["bytes"]?.intValue, count >= 0, count < HistoryCheckpoint.maximumSize,
        let digest = line["crc32c"]?.stringBytes.flatMap({ CheckpointSum(hex: $0) })
      else { return nil }
      parts.append(CheckpointLines.Line(at: at, count: Int(count), digest: digest))
      at += count + 1
    }
    // A file cut short or grown is not what was written; its last lines are checked when read.
    guard at == Int64(size) else { return nil }
    history.checkpointed = CheckpointLines(undo: parts[0], generations: parts[1], undoBelow: history.undoBelowCount, read: read)
    self.offset = offset
    self.device = UInt64(bitPattern: device)
    self.inode = UInt64(bitPattern: inode)
    self.head = head
    self.tail = tail
    self.history = history
  }

  /// The sum of `bytes[range]` (the second line: a few hundred bytes, copied).
  static func hash(_ bytes: [UInt8], _ range: Range<Int>) -> CheckpointSum { CheckpointSum(Array(bytes[range])) }

  /// How much of the file `load` reads first: the first two lines of any checkpoint whose keys'
  /// sources and labels are not long; a longer second line is read whole.
  static let prefixSize = 16 << 10

  /// The checkpoint in `root`; nil when there is none or it is not an intact one (never an
  /// error: the journal can always be replayed instead). Reads the first two lines only.
  static func load(in root: DirectoryFD) -> HistoryCheckpoint? {
    guard let file = try? root.openFile(name, flags: [.readOnly, .nonBlocking, .noFollow, .closeOnExec]),
      let st = try? file.stat(), st.type == .regular, Int(st.size) <= maximumSize,
      var prefix = try? file.read(at: 0, count: min(Int(st.size), prefixSize))

    else { return nil }
    let size = Int(st.size)
    if prefix.count < size, (firstIndex(of: 0x0A, in: prefix, 0..<prefix.count)).map({ firstIndex(of: 0x0A, in: prefix, ($0 + 1)..<prefix.count) == nil }) ?? true {
      guard let whole = try? file.read(at: 0, count: size) else { return nil }
      prefix = whole
    }
    // The file stays open: the lines read later are this file's, whatever replaces it meanwhile.
    return HistoryCheckpoint(size: size, prefix: prefix) { at, count in
      guard let bytes = try? file.read(at: at, count: count), bytes.count == count else { return nil }
      return bytes
    }
  }

  /// Replaces the checkpoint in `root` atomically and durably (`TemporaryFile`): an unnamed
  /// file, fsync, linked as a `.tmp-` name and renamed over it, fsync of the root. A crash leaves
  /// the old checkpoint or the new one, and perhaps a leftover temporary file that
  /// `audit --repair` removes.
  func write(in root: DirectoryFD) throws(SystemCallError) {
    try TemporaryFile.write(serialized(), mode: 0o644, in: root, as: HistoryCheckpoint.name, replacing: true) {
      Store.temporaryName()
    }
  }
}

extension History {
  /// Every field, in a fixed order (maps sorted), so that equal histories serialize equally.
  var checkpointJSON: JSON {
    .object(checkpointState + [("undoStack", .array(fullUndoStack.map { $0.map(JSON.int) ?? .null }))] + checkpointGenerations)
  }

  /// The sources and creation times of the checkpoint's generations and of the lines after it.
  var checkpointGenerations: [(String, JSON)] {
    var tables = checkpointed?.tables ?? CheckpointLines.Tables()
    for (n, t) in created.entries where tables.created[n] == nil { tables.created[n] = t }
    for (n, s) in sources.entries { tables.sources[n] = s }
    // Flat arrays of pairs: a third of the values to parse of nested ones.
    return [
      ("created", .array(tables.created.entries.flatMap { [.int($0.0), .int($0.1)] })),
      ("sources", .array(tables.sources.entries.flatMap { [.int($0.0), .string($0.1)] })),
    ]
  }

  /// Everything but the undo stack and the generations' sources and creation times.
  var checkpointState: [(String, JSON)] {
    func keyed<V>(_ d: [StoreKey: V]) -> [(StoreKey, V)] {
      d.map { ($0.key, $0.value) }.sorted { $0.0.bytes.lexicographicallyPrecedes($1.0.bytes) }
    }
    return [
      ("highestNumber", .int(highestNumber)),
      ("recordedCurrent", recordedCurrent.map(JSON.int) ?? .null),
      ("unconfirmed", unconfirmed.map(JSON.int) ?? .null),
      ("currentChecked", currentChecked.map(JSON.bool) ?? .null),
      ("failed", .array(failed.sorted().map(JSON.int))),
      ("keySources", .array(keyed(keySources).flatMap { [.string($0.0.bytes), .string($0.1)] })),
      ("labels", .array(keyed(labels).flatMap {
        [.string($0.0.bytes), .string($0.1.text), .string($0.1.origin.rawValue)]
      })),
    ]
  }

  /// The history a checkpoint's second line holds (the undo stack's top; `undoBelowCount` says
  /// how many entries its third line holds below it); nil if any field is missing or malformed.
  init?(checkpoint json: JSON) {
    self.init()
    func optionalInt(_ name: String) -> Int64?? {
      guard let v = json[name] else { return nil }
      if v == .null { return .some(nil) }
      guard let n = v.intValue else { return nil }
      return .some(n)
    }
    guard let highest = json["highestNumber"]?.intValue,
      let current = optionalInt("recordedCurrent"), let unconfirmed = optionalInt("unconfirmed"),
      let checked = json["currentChecked"], checked == .null || checked.boolValue != nil,
      let undo = json["undoTop"]?.arrayValue, let depth = json["undoDepth"]?.intValue, depth >= Int64(undo.count),
      let undoSources = json["undoSources"]?.arrayValue, undoSources.count % 2 == 0,
      let failed = json["failed"]?.arrayValue,
      let keySources = json["keySources"]?.arrayValue, let labels = json["labels"]?.arrayValue
    else { return nil }
    highestNumber = highest
    recordedCurrent = current
    self.unconfirmed = unconfirmed
    currentChecked = checked.boolValue
    undoStack.reserveCapacity(undo.count)
    for item in undo {
      if item == .null { undoStack.append(nil) } else if let n = item.intValue { undoStack.append(n) } else { return nil }
    }
    undoBelowCount = Int(depth) - undo.count
    // As the fourth line has them; lines after the checkpoint replace them as they are applied.
    for i in stride(from: 0, to: undoSources.count, by: 2) {
      guard let n = undoSources[i].intValue, let s = undoSources[i + 1].stringBytes else { return nil }
      sources[n] = s
    }
    for item in failed {
      guard let n = item.intValue else { return nil }
      self.failed.insert(n)
    }
    guard keySources.count % 2 == 0, labels.count % 3 == 0 else { return nil }
    for i in stride(from: 0, to: keySources.count, by: 2) {
      guard let k = keySources[i].stringBytes.flatMap({ StoreKey(bytes: $0) }), let s = keySources[i + 1].stringBytes else { return nil }
      self.keySources[k] = s
    }
    for i in stride(from: 0, to: labels.count, by: 3) {
      guard let k = labels[i].stringBytes.flatMap({ StoreKey(bytes: $0) }), let text = labels[i + 1].stringValue,
        let origin = labels[i + 2].stringValue.flatMap(ReleaseLabel.Origin.init(rawValue:)),
        let label = ReleaseLabel(text, origin: origin)
      else { return nil }
      self.labels[k] = label
    }
  }
}

/// A checkpoint's third and fourth lines: the undo stack below its top, and every generation's
/// creation time and source. Each is read, checked against the CRC-32C the second line gives
/// for it and parsed when first asked for, once, whichever thread asks (`list` builds its rows
/// on every core); `status`, `switch` and `rollback` on 10,000 generations mostly need neither.
///
/// A line that fails its check or does not parse (the file was damaged after the first two
/// lines were read, or cut where only these lines lie) is not used: what it should hold is
/// taken from a replay of the journal bytes the checkpoint covers (`replay`, given once the
/// checkpoint is known to describe the journal), which is by definition the same.
final class CheckpointLines: Sendable {
  struct Tables: Sendable {
    var created = GenerationMap<Int64>()
    var sources = GenerationMap<[UInt8]>()
  }

  /// Where a line is in the file, newline excluded, and its CRC-32C.
  struct Line: Sendable {
    var at: Int64
    var count: Int
    var digest: CheckpointSum
  }

  private struct State {
    var undoBelow: [Int64?]? = nil
    var tables: Tables? = nil
    var replay: (@Sendable () -> History?)? = nil
    var replayed: History?? = nil
  }

  private let undoLine: Line
  private let generationsLine: Line
  /// How many entries the undo line holds (the second line says).
  private let undoBelowCount: Int
  private let read: @Sendable (Int64, Int) -> [UInt8]?
  private let state = Mutex(State())

  init(undo: Line, generations: Line, undoBelow: Int, read: @escaping @Sendable (Int64, Int) -> [UInt8]?) {
    undoLine = undo
    generationsLine = generations
    undoBelowCount = undoBelow
    self.read = read
  }

  /// Where the lines' values come from when a line is not intact: the history of the journal
  /// bytes the checkpoint covers (`Store.history` gives it once the checkpoint matches them).
  func replay(with history: @escaping @Sendable () -> History?) { state.withLock { $0.replay = history } }

  /// The undo stack below the second line's top, oldest first.
  var undoBelow: [Int64?] {
    state.withLock { state in
      if let undo = state.undoBelow { return undo }
      let undo = bytes(undoLine).flatMap(CheckpointLines.parseUndo).flatMap { $0.count == undoBelowCount ? $0 : nil }
        ?? CheckpointLines.replayed(&state).map { Array($0.fullUndoStack.prefix(undoBelowCount)) } ?? []
      state.undoBelow = undo
      return undo
    }
  }

  var tables: Tables {
    state.withLock { state in
      if let tables = state.tables { return tables }
      let tables = bytes(generationsLine).flatMap(CheckpointLines.parseTables)
        ?? CheckpointLines.replayed(&state).map { Tables(created: $0.created, sources: $0.sources) } ?? Tables()
      state.tables = tables
      return tables
    }
  }

  /// The line's bytes if they hash to its digest.
  private func bytes(_ line: Line) -> [UInt8]? {
    guard let bytes = read(line.at, line.count), bytes.count == line.count, CheckpointSum(bytes) == line.digest else { return nil }
    return bytes
  }

  private static func replayed(_ state: inout State) -> History? {
    if let done = state.replayed { return done }
    let history = state.replay?()
    state.replayed = .some(history)
    return history
  }

  private static func parseUndo(_ bytes: [UInt8]) -> [Int64?]? {
    guard let json = try? JSON(parsing: bytes), let items = json["undoStack"]?.arrayValue else { return nil }
    var undo: [Int64?] = []
    undo.reserveCapacity(items.count)
    for item in items {
      if item == .null { undo.append(nil) } else if let n = item.intValue { undo.append(n) } else { return nil }
    }
    return undo
  }

  private static func parseTables(_ bytes: [UInt8]) -> Tables? {
    guard let json = try? JSON(parsing: bytes),
      let created = json["created"]?.arrayValue, let sources = json["sources"]?.arrayValue,
      created.count % 2 == 0, sources.count % 2 == 0
    else { return nil }
    var tables = Tables()
    tables.created.reserveCapacity(created.count / 2)
    for i in stride(from: 0, to: created.count, by: 2) {
      guard let n = created[i].intValue, let t = created[i + 1].intValue else { return nil }
      tables.created[n] = t
    }
    tables.sources.reserveCapacity(sources.count / 2)
    for i in stride(from: 0, to: sources.count, by: 2) {
      guard let n = sources[i].intValue, let s = sources[i + 1].stringBytes else { return nil }
      tables.sources[n] = s
    }
    return tables
  }
}

/// How a checkpoint tells that its lines and the journal bytes it covers are unchanged: CRC-32C
/// (the journal's line checksum), eight lowercase hex digits. Not SHA-256: `status` would then
/// wait for libcrypto's set-up, which costs it a third of its time and which it otherwise never
/// needs. Like the journal's checksum, it is a defence against damage and mistakes, not against
/// someone who can write the root (store-layout.md 6a).
struct CheckpointSum: Equatable, Sendable, CustomStringConvertible {
  let value: UInt32

  init(_ bytes: [UInt8]) { value = bytes.withUnsafeBufferPointer { JournalLineSeal.crc32c($0) } }

  /// Exactly eight lowercase hex digits.
  init?(hex: [UInt8]) {
    guard hex.count == 8 else { return nil }
    var v: UInt32 = 0
    for b in hex {
      switch b {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): v = v << 4 | UInt32(b - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): v = v << 4 | UInt32(b - UInt8(ascii: "a") + 10)
      default: return nil
      }
    }
    value = v
  }

  var description: String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 8 - digits.count) + digits
  }
}
