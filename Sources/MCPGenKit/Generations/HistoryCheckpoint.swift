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
  static let version: Int64 = 1
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
  /// SHA-256 of the first and of the last `min(window, offset)` covered bytes.
  var head: Digest
  var tail: Digest
  var history: History

  /// The checkpoint of `history` for the journal `file` (`st`) whose first `offset` bytes it
  /// replays.
  init(_ history: History, offset: Int64, of file: FileFD, _ st: FileInfo) throws(SystemCallError) {
    self.history = history
    self.offset = offset
    device = UInt64(st.device)
    inode = UInt64(st.inode)
    let n = Int(min(HistoryCheckpoint.window, offset))
    head = SHA256.hash(try file.read(at: 0, count: n))
    tail = SHA256.hash(try file.read(at: offset - Int64(n), count: n))
  }

  /// Whether it still describes the journal `file` (`st`): the same file, at least `offset`
  /// bytes long, a line ending at `offset`, and the hashed bytes unchanged.
  func matches(_ file: FileFD, _ st: FileInfo) -> Bool {
    guard offset > 0, Int64(st.size) >= offset, UInt64(st.device) == device, UInt64(st.inode) == inode else { return false }
    let n = Int(min(HistoryCheckpoint.window, offset))
    guard let last = try? file.read(at: offset - Int64(n), count: n), last.count == n, last.last == 0x0A,
      SHA256.hash(last) == tail, let first = try? file.read(at: 0, count: n), SHA256.hash(first) == head
    else { return false }
    return true
  }

  // MARK: The file

  /// Three lines: the checkpoint without its generations' sources and times as one JSON object;
  /// those (`{"created":[...],"sources":[...]}`), parsed only when asked for; then
  /// `{"sha256":"<hex>"}`, the SHA-256 of the first two lines (the newline between them included,
  /// the last excluded). A torn or edited file fails the check.
  func serialized() -> [UInt8] {
    var body = JSON.object([
      ("version", .int(HistoryCheckpoint.version)),
      ("journal", .object([
        ("offset", .int(offset)), ("device", .int(Int64(bitPattern: device))), ("inode", .int(Int64(bitPattern: inode))),
        ("head", .string(head.description)), ("tail", .string(tail.description)),
      ])),
      ("history", .object(history.checkpointState)),
    ]).serialized()
    body.append(0x0A)
    JSON.object(history.checkpointGenerations).write(to: &body)
    return body + [0x0A] + JSON.object([("sha256", .string(SHA256.hash(body).description))]).serialized() + [0x0A]
  }

  /// Parses a checkpoint file; nil for anything but an intact one of this version. Its second
  /// line is checked, not parsed (`CheckpointGenerations`).
  init?(parsing bytes: [UInt8]) {
    guard let nl = bytes.firstIndex(of: 0x0A), bytes.last == 0x0A,
      let nl2 = bytes[(nl + 1)...].firstIndex(of: 0x0A), nl2 + 1 < bytes.count,
      let sum = try? JSON(parsing: bytes, range: (nl2 + 1)..<(bytes.count - 1)),
      let hex = sum["sha256"]?.stringBytes, let expected = Digest(hex: hex),
      HistoryCheckpoint.hash(bytes, count: nl2) == expected,
      let body = try? JSON(parsing: bytes, range: 0..<nl),
      body["version"]?.intValue == HistoryCheckpoint.version,
      let journal = body["journal"], let offset = journal["offset"]?.intValue,
      let device = journal["device"]?.intValue, let inode = journal["inode"]?.intValue,
      let head = journal["head"]?.stringBytes.flatMap({ Digest(hex: $0) }),
      let tail = journal["tail"]?.stringBytes.flatMap({ Digest(hex: $0) }),
      var history = body["history"].flatMap(History.init(checkpoint:))
    else { return nil }
    history.checkpointed = CheckpointGenerations(bytes, line: (nl + 1)..<nl2)
    self.offset = offset
    self.device = UInt64(bitPattern: device)
    self.inode = UInt64(bitPattern: inode)
    self.head = head
    self.tail = tail
    self.history = history
  }

  /// SHA-256 of the first `count` bytes, not copied (a checkpoint of 10,000 generations is
  /// half a megabyte).
  private static func hash(_ bytes: [UInt8], count: Int) -> Digest {
    let h = SHA256()
    bytes.withUnsafeBytes { h.update(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
    return h.finish()
  }

  /// The checkpoint in `root`; nil when there is none or it is not an intact one (never an
  /// error: the journal can always be replayed instead).
  static func load(in root: DirectoryFD) -> HistoryCheckpoint? {
    guard let file = try? root.openFile(name, flags: [.readOnly, .nonBlocking, .noFollow, .closeOnExec]),
      let st = try? file.stat(), st.type == .regular, Int(st.size) <= maximumSize,
      let bytes = try? file.readAll()
    else { return nil }
    return HistoryCheckpoint(parsing: bytes)
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
  var checkpointJSON: JSON { .object(checkpointState + checkpointGenerations) }

  /// The sources and creation times of the checkpoint's generations and of the lines after it.
  var checkpointGenerations: [(String, JSON)] {
    var tables = checkpointed?.tables ?? CheckpointGenerations.Tables()
    for (n, t) in created.entries where tables.created[n] == nil { tables.created[n] = t }
    for (n, s) in sources.entries { tables.sources[n] = s }
    // Flat arrays of pairs: a third of the values to parse of nested ones.
    return [
      ("created", .array(tables.created.entries.flatMap { [.int($0.0), .int($0.1)] })),
      ("sources", .array(tables.sources.entries.flatMap { [.int($0.0), .string($0.1)] })),
    ]
  }

  /// Everything but the generations' sources and creation times.
  var checkpointState: [(String, JSON)] {
    func keyed<V>(_ d: [StoreKey: V]) -> [(StoreKey, V)] {
      d.map { ($0.key, $0.value) }.sorted { $0.0.bytes.lexicographicallyPrecedes($1.0.bytes) }
    }
    return [
      ("highestNumber", .int(highestNumber)),
      ("recordedCurrent", recordedCurrent.map(JSON.int) ?? .null),
      ("unconfirmed", unconfirmed.map(JSON.int) ?? .null),
      ("currentChecked", currentChecked.map(JSON.bool) ?? .null),
      ("undoStack", .array(undoStack.map { $0.map(JSON.int) ?? .null })),
      ("failed", .array(failed.sorted().map(JSON.int))),
      ("keySources", .array(keyed(keySources).flatMap { [.string($0.0.bytes), .string($0.1)] })),
      ("labels", .array(keyed(labels).flatMap {
        [.string($0.0.bytes), .string($0.1.text), .string($0.1.origin.rawValue)]
      })),
    ]
  }

  /// The history a checkpoint holds; nil if any field is missing or malformed.
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
      let undo = json["undoStack"]?.arrayValue, let failed = json["failed"]?.arrayValue,
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

/// A checkpoint's sources and creation times of every generation, parsed from its second line
/// when first asked for, once, whichever thread asks (`list` builds its rows on every core).
///
/// The line's bytes passed the checkpoint's checksum, so they are what this code wrote; should
/// one still not parse (a file forged with a matching checksum), its tables are empty.
final class CheckpointGenerations: Sendable {
  struct Tables: Sendable {
    var created = GenerationMap<Int64>()
    var sources = GenerationMap<[UInt8]>()
  }

  /// The file's bytes (shared, not copied: half a megabyte for 10,000 generations) and where
  /// the line is in them; emptied once parsed.
  private let state: Mutex<(bytes: [UInt8], line: Range<Int>, tables: Tables?)>

  init(_ bytes: [UInt8], line: Range<Int>) { state = Mutex((bytes, line, nil)) }

  var tables: Tables {
    state.withLock { state in
      if let tables = state.tables { return tables }
      let tables = CheckpointGenerations.parse(state.bytes, state.line) ?? Tables()
      state = ([], 0..<0, tables)
      return tables
    }
  }

  private static func parse(_ bytes: [UInt8], _ line: Range<Int>) -> Tables? {
    guard let json = try? JSON(parsing: bytes, range: line),
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
