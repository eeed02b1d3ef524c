/// The checksum that ends every journal line written since issue 19 (store-layout.md section 6):
/// the line's last member is `"crc":"xxxxxxxx"`, eight lowercase hex digits of the CRC-32C of
/// every byte of the line before its `,"crc"`.
///
/// A line is sealed when its last 18 bytes have the shape `,"???":"????????"}`, whatever the
/// eleven `?` bytes are. No line written before had that shape (no field name of three bytes
/// came last), and no single flipped bit can take it away without breaking the JSON: the shape's
/// fixed bytes are all JSON punctuation. So a flipped bit in the key (`"crd"`) or the digits
/// leaves a sealed line that fails its check, not an old, unchecked one; and once one sealed line
/// has been read, every later line must be sealed (`Journal.parse`).
///
/// CRC-32C rather than a truncated SHA-256: it is no defence against someone who can write the
/// journal (nothing here is), only against damage, which it catches for certain in the cases
/// that matter (every error of up to 3 bits, and every burst of up to 32 bits, in a line of any
/// length this journal allows); it costs a few instructions per byte, and a script checks it in a
/// dozen lines of Python.
enum JournalLineSeal {
  /// `,"crc":"` + 8 hex digits + `"}`.
  static let length = 18

  /// Whether the `count` bytes at `line` end in the shape of a seal (see the type). On a pointer,
  /// as the parser holds the line (`JSONParser.at`): no copy of a line to check it.
  static func isSealed(_ line: UnsafePointer<UInt8>, count: Int) -> Bool {
    guard count >= length + 1 else { return false }
    let s = line + (count - length)
    return s[0] == UInt8(ascii: ",") && s[1] == UInt8(ascii: "\"") && s[5] == UInt8(ascii: "\"")
      && s[6] == UInt8(ascii: ":") && s[7] == UInt8(ascii: "\"") && s[16] == UInt8(ascii: "\"")
      && s[17] == UInt8(ascii: "}")
  }

  /// Whether a sealed line's seal is right: the key is `crc` and the digits are the CRC-32C of
  /// the bytes before it, in lowercase hex.
  static func isIntact(_ line: UnsafePointer<UInt8>, count: Int) -> Bool {
    guard isSealed(line, count: count) else { return false }
    let s = line + (count - length)
    guard s[2] == UInt8(ascii: "c"), s[3] == UInt8(ascii: "r"), s[4] == UInt8(ascii: "c") else { return false }
    var written: UInt32 = 0
    for k in 8..<16 {
      let b = s[k]
      let digit: UInt8
      switch b {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
      default: return false
      }
      written = written << 4 | UInt32(digit)
    }
    return written == crc32c(UnsafeBufferPointer(start: line, count: count - length))
  }

  /// `object` (a serialized JSON object) with its seal as its last member.
  static func seal(_ object: [UInt8]) -> [UInt8] {
    precondition(object.count >= 2 && object.last == UInt8(ascii: "}"), "a journal line is a JSON object")
    var line = object
    line.removeLast()
    let crc = line.withUnsafeBufferPointer { crc32c($0) }
    line += Array(#","crc":""#.utf8)
    for shift in stride(from: 28, through: 0, by: -4) {
      let digit = UInt8((crc >> UInt32(shift)) & 0xF)
      line.append(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10)
    }
    line += Array(#""}"#.utf8)
    return line
  }

  /// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and final xor
  /// 0xFFFFFFFF: the CRC of iSCSI and ext4), eight bytes at a time (slicing-by-8: `list` checks
  /// every line of the journal, and a byte at a time cost it 7% of its instructions).
  /// Over a pointer: the line in place, loaded eight unaligned bytes at a time.
  static func crc32c(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
    tables.withUnsafeBufferPointer { t in
      var crc: UInt32 = 0xFFFF_FFFF
      var i = 0
      if let base = bytes.baseAddress {
        while bytes.count - i >= 8 {
          let v = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) ^ UInt64(crc)
          crc = t[7 << 8 | Int(v & 0xFF)] ^ t[6 << 8 | Int(v >> 8 & 0xFF)] ^ t[5 << 8 | Int(v >> 16 & 0xFF)]
            ^ t[4 << 8 | Int(v >> 24 & 0xFF)] ^ t[3 << 8 | Int(v >> 32 & 0xFF)] ^ t[2 << 8 | Int(v >> 40 & 0xFF)]
            ^ t[1 << 8 | Int(v >> 48 & 0xFF)] ^ t[Int(v >> 56)]
          i += 8
        }
      }
      while i < bytes.count {
        crc = t[Int(UInt8(truncatingIfNeeded: crc) ^ bytes[i])] ^ (crc >> 8)
        i += 1
      }
      return ~crc
    }
  }

  /// Eight tables of 256: the first is the byte-at-a-time table, table `k` advances a byte
  /// through `k` more zero bytes.
  private static let tables: [UInt32] = {
    var t = [UInt32](repeating: 0, count: 8 << 8)
    for n in 0..<256 {
      var c = UInt32(n)
      for _ in 0..<8 { c = c & 1 != 0 ? 0x82F6_3B78 ^ (c >> 1) : c >> 1 }
      t[n] = c
    }
    for k in 1..<8 {
      for n in 0..<256 { t[k << 8 | n] = (t[(k - 1) << 8 | n] >> 8) ^ t[Int(t[(k - 1) << 8 | n] & 0xFF)] }
    }
    return t
  }()
}
