import ArgumentParser
import MCPGenKit
import MCPGenTerminal

struct ListCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list",
    _superCommandName: superCommand,
    abstract: "List generations: number, key, label, creation time, source; * marks current, ! one that can no longer be restored.",
    aliases: ["generations"]
  )

  @OptionGroup var global: GlobalOptions

  func run() throws {
    let store = try global.openStore(create: false)
    let rows = try store.generationTable()
    if global.json {
      // Written field by field: the bytes of one array value of objects, without a tree of
      // 10,000 rows to build and free.
      var out: [UInt8] = [UInt8(ascii: "[")]
      for part in RowRendering.inParts(rows, { Self.formatJSON($0) }) { out += part }
      out += "]\n".utf8
      Output.raw(out)
      return
    }
    if rows.isEmpty {
      Output.line("no generations yet; create one with: mcp-gen switch PATH")
      return
    }
    // The label column only when some release has a label, as wide as the widest (up to a
    // point: a longer label pushes its own row on, never cut).
    let labelWidth = rows.contains { $0.label != nil } ? min(max(rows.reduce(0) { max($0, $1.label?.width ?? 0) }, 5), 24) : 0
    let labelHeader = labelWidth > 0 ? "LABEL" + String(repeating: " ", count: labelWidth - 5) + "  " : ""
    // Rows are two marks, a space and the number right-aligned in four columns.
    Output.line("    GEN  KEY           \(labelHeader)CREATED               SOURCE")
    // Assembled as bytes: 10,000 rows through string interpolation cost more than reading them.
    let marks = [" ", Output.paint("*", .green)].map { current in
      [Output.paint("!", .red), " ", Output.paint("F", .red)].map { Array((current + $0).utf8) }
    }
    for part in RowRendering.inParts(rows, { Self.format($0, marks: marks, labelWidth: labelWidth) }) { Output.raw(part) }
    if rows.contains(where: { !$0.isRestorable }) {
      Output.note("! marks generations whose store entry is gone: they cannot be restored until their release is added again")
    }
  }

  /// One line per row: marks, number, short key, label (when `labelWidth` is not 0), creation
  /// time, source.
  private static func format(_ rows: ArraySlice<GenerationRow>, marks: [[[UInt8]]], labelWidth: Int) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(rows.count * 100)
    for row in rows {
      out += marks[row.isCurrent ? 1 : 0][row.isRestorable ? (row.isFailed ? 2 : 1) : 0]
      out.append(0x20)
      let number = row.generation.number  // at least 1: right-aligned in four columns
      if number < 1000 { out += repeatElement(0x20, count: number < 10 ? 3 : number < 100 ? 2 : 1) }
      out.append(decimal: number)
      out.append(0x20); out.append(0x20)
      if let key = row.generation.key { key.digest.appendHex(12, to: &out) } else { out += "(damaged)   ".utf8 }
      out.append(0x20); out.append(0x20)
      if labelWidth > 0 {
        // Checked printable when the journal was replayed: nothing to escape.
        let label = row.label
        if let label { out += label.text.utf8 } else { out.append(UInt8(ascii: "-")) }
        out += repeatElement(0x20, count: max(labelWidth - (label?.width ?? 1), 0) + 2)
      }
      if let created = row.created { Clock.appendFormatted(created, to: &out) } else { out += "-                   ".utf8 }
      out.append(0x20); out.append(0x20)
      if let source = row.source { out += displayNameBytes(source) } else { out.append(UInt8(ascii: "-")) }
      out.append(0x0A)
    }
    return out
  }

  /// One object per row, comma-separated (also before the first, unless it is row 0):
  /// `{"generation", "key", "created", "source", "label", "current", "restorable", "failed"}`.
  private static func formatJSON(_ rows: ArraySlice<GenerationRow>) -> [UInt8] {
    func literal(_ value: Bool, to out: inout [UInt8]) { out.append(text: value ? "true" : "false") }
    var out: [UInt8] = []
    out.reserveCapacity(rows.count * 230)
    for n in rows.indices {
      let row = rows[n]
      if n > 0 { out.append(UInt8(ascii: ",")) }
      out.append(text: #"{"generation":"#)
      out.append(decimal: row.generation.number)
      out.append(text: #","key":"#)
      if let key = row.generation.key {
        out.append(UInt8(ascii: "\""))
        key.digest.appendHex(64, to: &out)
        out.append(UInt8(ascii: "\""))
      } else {
        out.append(text: "null")
      }
      out.append(text: #","created":"#)
      if let created = row.created {
        out.append(UInt8(ascii: "\""))
        Clock.appendFormatted(created, to: &out)  // digits and -T:Z only: nothing to escape
        out.append(UInt8(ascii: "\""))
      } else {
        out.append(text: "null")
      }
      out.append(text: #","source":"#)
      if let source = row.source { JSON.writeString(source, to: &out) } else { out.append(text: "null") }
      out.append(text: #","label":"#)
      if let label = row.label { JSON.writeString(Array(label.text.utf8), to: &out) } else { out.append(text: "null") }
      out.append(text: #","current":"#)
      literal(row.isCurrent, to: &out)
      out.append(text: #","restorable":"#)
      literal(row.isRestorable, to: &out)
      out.append(text: #","failed":"#)
      literal(row.isFailed, to: &out)
      out.append(UInt8(ascii: "}"))
    }
    return out
  }
}
