#if canImport(Glibc)
import Glibc
#endif
@testable import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// What the journal refuses to trust or to hold: lines over 1 MiB, generation numbers outside
/// 1...2^53-1, and anything but a regular file in its place.
@Suite("Journal limits")
struct JournalLimitsTests {
  static func line(time: Int = 0, from: String = "null", to: String = "1", extra: String = "") -> String {
    #"{"time":"2026-11-25T12:00:0\#(time)Z","pid":1,"user":"root","command":"mcp-gen switch","op":"switch","from":\#(from),"to":\#(to),"key":null,"outcome":"ok"\#(extra)}"#
  }

  /// A record line padded to exactly `length` bytes with a `note` string.
  static func line(length: Int, to: Int) -> [UInt8] {
    let head = Array(line(to: String(to), extra: ",\"note\":\"").utf8.dropLast())
    let padding = length - head.count - 2  // the closing quote and brace
    return head + [UInt8](repeating: 0x61, count: padding) + Array("\"}".utf8)
  }

  // MARK: Line length

  @Test("a journal line of 1 MiB + 1 bytes is damage that is never read whole; 1 MiB exactly is a record")
  func overlongLine() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let exact = Self.line(length: Journal.maximumLineLength, to: 2)
    let over = Self.line(length: Journal.maximumLineLength + 1, to: 99)
    #expect(exact.count == 1 << 20 && over.count == (1 << 20) + 1)
    try dir.writeFile("journal.jsonl", Array((Self.line() + "\n").utf8) + exact + [0x0A] + over + [0x0A] + Array((Self.line(from: "2", to: "3") + "\n").utf8))
    let journal = try Journal.read(in: try DirectoryFD.open(dir.path))
    #expect(journal.records.map(\.to) == [1, 2, 3])
    #expect(journal.damage == [Journal.Damage(line: 3, torn: false, overlong: true)])
    // Never trusted: the 99 it claims is no generation number ever used.
    #expect(History(journal).highestNumber == 3)
    // The same bytes handed to parse directly: the same verdict.
    let direct = Journal.parse(Array((Self.line() + "\n").utf8) + exact + [0x0A] + over + [0x0A])
    #expect(direct.damage == [Journal.Damage(line: 3, torn: false, overlong: true)])
  }

  @Test("an over-long unterminated last line is damage, not a torn write")
  func overlongLastLine() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try dir.writeFile("journal.jsonl", Array((Self.line() + "\n").utf8) + [UInt8](repeating: 0x7B, count: (1 << 20) + 5))
    let journal = try Journal.read(in: try DirectoryFD.open(dir.path))
    #expect(journal.records.count == 1)
    #expect(journal.damage == [Journal.Damage(line: 2, torn: false, overlong: true)])
  }

  /// The reference: split at newlines, over-long lines emptied.
  static func expectedLines(_ bytes: [UInt8], limit: Int) -> BoundedLines {
    var out = BoundedLines()
    var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
    let terminated = bytes.last == 0x0A || bytes.isEmpty
    if terminated { lines.removeLast() }
    for (k, line) in lines.enumerated() {
      if line.count > limit {
        out.overlong.append(k)
        out.bytes.append(0x0A)
      } else {
        out.bytes += line
        if k < lines.count - 1 || terminated { out.bytes.append(0x0A) }
      }
    }
    return out
  }

  @Test("the bounded reader gives what splitting the whole file gives, at every chunk size", arguments: [1, 2, 3, 5, 8, 13, 64])
  func boundedReaderMatchesSplitting(chunk: Int) throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    var generator = SystemRandomNumberGenerator()
    for trial in 0..<40 {
      let count = Int.random(in: 0...120, using: &generator)
      let bytes = (0..<count).map { _ in UInt8.random(in: 0..<4, using: &generator) == 0 ? UInt8(0x0A) : UInt8(0x61) }
      let name = "f\(trial)"
      try dir.writeFile(name, bytes)
      let file = try DirectoryFD.open(dir.path).openFile(Array(name.utf8), flags: .readOnly)
      let read = try file.readLines(limit: 6, chunk: chunk)
      let expected = Self.expectedLines(bytes, limit: 6)
      #expect(read.bytes == expected.bytes, "\(bytes)")
      #expect(read.overlong == expected.overlong, "\(bytes)")
    }
  }

  // MARK: Generation numbers

  static let badNumbers = ["9223372036854775807", "-5", "0", "1.5", "9007199254740992", #""5""#, "true", "{}", "[1]", "1e3"]

  @Test("a generation number outside 1...2^53-1, or not an integer, makes the line damage", arguments: badNumbers)
  func badGenerationNumber(_ value: String) {
    let lines = [
      Self.line(to: value),
      Self.line(from: value, to: "2"),
      Self.line(extra: #","current":\#(value)"#),
      Self.line(extra: #","generations":[1,\#(value)]"#),
      Self.line(extra: #","skipped":[\#(value)]"#),
      Self.line(extra: #","checks":[{"role":"required","generation":\#(value)}]"#),
    ]
    for line in lines {
      let bytes = Array(line.utf8)
      #expect(JournalRecord(line: bytes, 0..<bytes.count) == nil, "\(line)")
      let journal = Journal.parse(Array((Self.line() + "\n" + line + "\n").utf8))
      #expect(journal.records.count == 1 && journal.damage == [Journal.Damage(line: 2, torn: false)], "\(line)")
      #expect(History(journal).highestNumber == 1, "\(line)")
    }
  }

  @Test("1, 2^53-1 and null are generation numbers", arguments: ["1", "9007199254740991", "null"])
  func goodGenerationNumber(_ value: String) {
    for line in [Self.line(to: value), Self.line(from: value), Self.line(extra: #","current":\#(value)"#)] {
      let bytes = Array(line.utf8)
      #expect(JournalRecord(line: bytes, 0..<bytes.count) != nil, "\(line)")
    }
    #expect(Generation.number(Array("9007199254740991".utf8)) == Generation.maximum)
    #expect(Generation.number(Array("9007199254740992".utf8)) == nil)
  }

  // MARK: Writing

  @Test("a record with long check output and a long command line is fitted to a line of at most 1 MiB")
  func fittedLine() throws {
    let noisy = JSON.string([UInt8](repeating: 0x01, count: 4096))  // written as \u0001: 6 bytes each
    let checks = JSON.array((0..<100).map { _ in .object([("role", .string("required")), ("output", noisy)]) })
    var record = JournalRecord(
      pid: 1, user: "root", command: [UInt8](repeating: 0x61, count: 3 << 20), operation: .switch, from: 1, to: 2,
      outcome: "rolled-back", extra: [("checks", checks), ("current", .int(1))])
    let line = try #require(record.fittedLine())
    #expect(line.count <= Journal.maximumLineLength)
    let back = try #require(JournalRecord(line: line, 0..<line.count))
    #expect(back.command.count < 70 << 10)
    #expect(String(decoding: back.command.suffix(40), as: UTF8.self).hasSuffix("more bytes not recorded]"))
    let outputs = back.extra.first { $0.0 == "checks" }?.1.arrayValue?.compactMap { $0["output"]?.stringBytes } ?? []
    #expect(outputs.count == 100 && outputs.allSatisfy { $0.count == 1024 })
    // Nothing to shorten: refused.
    record.extra = [("entries", .array((0..<20_000).map { _ in .string(String(repeating: "a", count: 64)) }))]
    #expect(record.fittedLine() == nil)
  }

  @Test("gc lists that do not fit in one line are split over several, every line within the limit")
  func gcSplits() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let store = try Store.open(dir.path, create: true)
    let generations = Array(Int64(1)...3000)
    let keys = (0..<200).map { StoreKey(SHA256.hash(Array("k\($0)".utf8))) }
    try store.journalCollection(generations: generations, entries: keys, bytesFreed: 12345, limit: 4096)
    let journal = try store.readJournal()
    #expect(journal.damage.isEmpty)
    #expect(journal.records.count > 4)
    #expect(journal.records.allSatisfy { $0.json.serialized().count <= 4096 })
    let lines = journal.records.map { r in (r.extra.first { $0.0 == "generations" }?.1.arrayValue ?? [], r.extra.first { $0.0 == "entries" }?.1.arrayValue ?? []) }
    #expect(lines.flatMap(\.0).compactMap(\.intValue) == generations)
    #expect(lines.flatMap(\.1).compactMap(\.stringValue) == keys.map(\.hex))
    #expect(journal.records.compactMap { $0.extra.first { $0.0 == "bytesFreed" }?.1.intValue }.reduce(0, +) == 12345)
    #expect(History(journal).highestNumber == 3000)
    // The ordinary gc: one line.
    #expect(Store.gcLineParts([1, 2], keys, room: 1 << 20).count == 1)
  }
}

/// Files in the root's place that are not regular files.
@Suite("Root files that must be regular files")
struct RegularRootFileTests {
  @Test("a FIFO journal or config is refused at once, naming it; a symlinked one is refused as a link",
        arguments: ["journal.jsonl", "config.json"])
  func notRegular(_ name: String) throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let store = try Store.open(dir.path, create: true)
    func load() throws(MCPGenError) { if name == "config.json" { _ = try store.loadConfig() } else { _ = try store.readJournal() } }

    #expect(mkfifo(dir.at(name).string, 0o644) == 0)
    var error = #expect(throws: MCPGenError.self) { try load() }
    #expect(error?.code == .unsupportedFileType)
    #expect(error?.message.hasPrefix("\(dir.at(name).string) is a FIFO (named pipe), not a regular file") == true, "\(error?.message ?? "")")
    #expect(error?.hint == "mv \(dir.at(name).string) \(dir.at(name).string).broken")

    unlink(dir.at(name).string)
    try dir.writeFile("elsewhere", Array("{}".utf8))
    #expect(symlink("elsewhere", dir.at(name).string) == 0)
    error = #expect(throws: MCPGenError.self) { try load() }
    #expect(error?.message.contains("is a symbolic link, and mcp-gen does not follow links there") == true, "\(error?.message ?? "")")
    #expect(error?.message.contains("check the device") == false)

    unlink(dir.at(name).string)
    #expect(mkdir(dir.at(name).string, 0o755) == 0)
    error = #expect(throws: MCPGenError.self) { try load() }
    #expect(error?.message.contains("is a directory, not a regular file") == true, "\(error?.message ?? "")")
  }

  @Test("the journal is appended to only as a regular file")
  func appendRefusesFIFO() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    #expect(mkfifo(dir.at("journal.jsonl").string, 0o644) == 0)
    let record = JournalRecord(pid: 1, user: "u", command: Array("c".utf8), operation: .pin, to: 1)
    let error = #expect(throws: MCPGenError.self) { try Journal.append(record, in: try DirectoryFD.open(dir.path)) }
    #expect(error?.code == .unsupportedFileType)
  }
}
