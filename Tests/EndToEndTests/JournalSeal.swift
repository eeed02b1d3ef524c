import Foundation

/// Journal lines written by hand in a test, sealed as mcp-gen seals its own (store-layout.md
/// section 6): once a journal has a sealed line, an unsealed one after it is damage. Written
/// apart from the engine's code, bit by bit, so it checks the rule rather than repeating it.
enum JournalSeal {
  /// CRC-32C, one bit at a time.
  static func crc32c(_ bytes: some Sequence<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
      crc ^= UInt32(b)
      for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
    }
    return ~crc
  }

  /// `line` (a JSON object, with or without its newline) with `"crc"` as its last member; a line
  /// that is no object is returned as it is.
  static func seal(_ line: [UInt8]) -> [UInt8] {
    var body = line
    let newline = body.last == 0x0A
    if newline { body.removeLast() }
    guard body.last == UInt8(ascii: "}") else { return line }
    body.removeLast()
    var out = body + Array(",\"crc\":\"\(String(format: "%08x", crc32c(body)))\"}".utf8)
    if newline { out.append(0x0A) }
    return out
  }

  static func seal(_ line: String) -> String { String(decoding: seal(Array(line.utf8)), as: UTF8.self) }

  /// Whether `line` (no newline) ends the way a sealed line does, right or wrong.
  static func hasSeal(_ line: ArraySlice<UInt8>) -> Bool {
    let s = Array(line.suffix(18))
    return line.count > 18 && s[0] == 0x2C && s[1] == 0x22 && s[5] == 0x22 && s[6] == 0x3A && s[7] == 0x22
      && s[16] == 0x22 && s[17] == 0x7D
  }

  /// Seals again every sealed line of the journal at `path`, after a test edited it.
  static func reseal(_ path: String) throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    var out: [UInt8] = []
    for line in Array(data).split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
      out += hasSeal(line) ? seal(Array(line.dropLast(18)) + [0x7D]) : Array(line)
      out.append(0x0A)
    }
    try Data(out).write(to: URL(fileURLWithPath: path))
  }
}
