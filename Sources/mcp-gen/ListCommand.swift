import ArgumentParser
import MCPGenKit

struct ListCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list",
    _superCommandName: superCommand,
    abstract: "List generations: number, key, creation time, source; * marks current, ! one that can no longer be restored.",
    aliases: ["generations"]
  )

  @OptionGroup var global: GlobalOptions

  func run() throws {
    let store = try global.openStore(create: false)
    let rows = try store.generationTable()
    if global.json {
      // One row at a time into the output: the same text as one array value, without a tree
      // of 10,000 rows to build and free.
      var out: [UInt8] = [UInt8(ascii: "[")]
      out.reserveCapacity(rows.count * 220)
      for (n, row) in rows.enumerated() {
        if n > 0 { out.append(UInt8(ascii: ",")) }
        JSON.object([
          ("generation", .int(row.generation.number)),
          ("key", row.generation.key.map { .string($0.hex) } ?? .null),
          ("created", row.created.map { .string(Clock.format($0)) } ?? .null),
          ("source", row.source.map(JSON.string) ?? .null),
          ("current", .bool(row.isCurrent)),
          ("restorable", .bool(row.isRestorable)),
          ("failed", .bool(row.isFailed)),
        ]).write(to: &out)
      }
      out += "]\n".utf8
      Output.raw(out)
      return
    }
    if rows.isEmpty {
      Output.line("no generations yet; create one with: mcp-gen switch PATH")
      return
    }
    Output.line("   GEN  KEY           CREATED               SOURCE")
    // Assembled as bytes: 10,000 rows through string interpolation cost more than reading them.
    // A long list is formatted in parts on every core, written in order.
    let marks = [" ", Output.paint("*", .green)].map { current in
      [Output.paint("!", .red), " ", Output.paint("F", .red)].map { Array((current + $0).utf8) }
    }
    let ranges = ParallelWork.ranges(rows.count, parts: rows.count < 2048 ? 1 : ParallelWork.cores * 2)
    for part in ParallelWork.map(ranges, { range in Self.format(rows[range], marks: marks) }) { Output.raw(part) }
    if rows.contains(where: { !$0.isRestorable }) {
      Output.note("! marks generations whose store entry is gone: they cannot be restored")
    }
  }

  /// One line per row: marks, number, short key, creation time, source.
  private static func format(_ rows: ArraySlice<GenerationRow>, marks: [[[UInt8]]]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(rows.count * 100)
    for row in rows {
      out += marks[row.isCurrent ? 1 : 0][row.isRestorable ? (row.isFailed ? 2 : 1) : 0]
      out.append(0x20)
      let number = String(row.generation.number).utf8
      if number.count < 4 { out += repeatElement(0x20, count: 4 - number.count) }
      out += number
      out.append(0x20); out.append(0x20)
      if let key = row.generation.key { key.digest.appendHex(12, to: &out) } else { out += "(damaged)   ".utf8 }
      out.append(0x20); out.append(0x20)
      if let created = row.created { Clock.appendFormatted(created, to: &out) } else { out += "-                   ".utf8 }
      out.append(0x20); out.append(0x20)
      if let source = row.source { out += displayNameBytes(source) } else { out.append(UInt8(ascii: "-")) }
      out.append(0x0A)
    }
    return out
  }
}
