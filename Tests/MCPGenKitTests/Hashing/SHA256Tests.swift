#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

@Suite("SHA-256")
struct SHA256Tests {
  @Test(
    "known answers",
    arguments: [
      ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
      ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
      (
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
      ),
    ])
  func knownAnswer(input: String, expected: String) {
    #expect(SHA256.hash(Array(input.utf8)).description == expected)
  }

  @Test("one million 'a' fed in uneven chunks")
  func millionA() {
    let hasher = SHA256()
    let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 999)
    var fed = 0
    while fed < 1_000_000 {
      let n = min(chunk.count, 1_000_000 - fed)
      hasher.update(Array(chunk[0..<n]))
      fed += n
    }
    #expect(hasher.finish().description == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  @Test("finish resets the hasher for the next input")
  func finishResets() {
    let hasher = SHA256()
    hasher.update(Array("garbage".utf8))
    _ = hasher.finish()
    hasher.update(Array("abc".utf8))
    #expect(hasher.finish().description == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  }

  @Test("a sparse file over 4 GiB is hashed by streaming, not read into memory")
  func overFourGiB() throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    let size: off_t = 4_294_967_297  // 2^32 + 1: a 32-bit length would wrap to 1.
    try dir.writeFile("big", [])
    let p = dir.at("big")
    let fd = try withCPath(p) { try check(open($0, O_WRONLY | O_CLOEXEC), "open", p) }
    try check(ftruncate(fd, size), "ftruncate", p)
    close(fd)

    let before = maxResidentBytes()
    let manifest = try Store.hash(p)
    let grown = maxResidentBytes() - before

    #expect(manifest.isSingleFile)
    let root = try #require(manifest.entries.first)
    #expect(root.kind == .file)
    #expect(root.size == UInt64(size))
    #expect(root.digest?.description == "fbb82f7b353676bb562eb82157fcf0ea42c36492ca13ee56dbf82c08b6802c5c")
    // Reading the file whole would add 4 GiB to the peak resident size.
    #expect(grown < 512 << 20, "peak RSS grew by \(grown) bytes while hashing")
  }

  private func maxResidentBytes() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return usage.ru_maxrss * 1024
  }
}

@Suite("Digest hex parsing")
struct DigestHexTests {
  static let valid = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

  @Test("64 lowercase hex digits round-trip")
  func roundTrip() throws {
    let d = try #require(Digest(hex: Array(Self.valid.utf8)))
    #expect(d.description == Self.valid)
    #expect(d == SHA256.hash(Array("abc".utf8)))
    #expect(d.bytes.count == 32)
    #expect(d.bytes.first == 0xba)
    #expect(StoreKey(Self.valid)?.hex == Self.valid)
    #expect(StoreKey(Self.valid)?.short == String(Self.valid.prefix(12)))
    // A collection without contiguous storage parses the same.
    #expect(Digest(hex: Self.valid.utf8.lazy.map { $0 }) == d)
  }

  @Test("every byte next to a hex range is rejected at every position")
  func neighbours() {
    for bad in Array("/:`gG@".utf8) {
      for position in [0, 15, 16, 63] {
        var text = Array(Self.valid.utf8)
        text[position] = bad
        #expect(Digest(hex: text) == nil, "byte \(bad) at \(position)")
      }
    }
  }

  @Test(
    "rejects uppercase, wrong length and non-hex",
    arguments: [
      valid.uppercased(),
      "B" + valid.dropFirst(),
      String(valid.dropLast()),  // 63 digits
      valid + "0",  // 65 digits
      "",
      "g" + valid.dropFirst(),
      " " + valid.dropFirst(),
      String(valid.dropLast()) + "g",
      String(valid.dropLast()) + "\n",
      String(repeating: "0", count: 32),  // 32 bytes' worth of characters, not of digits
    ])
  func rejects(text: String) {
    #expect(Digest(hex: Array(text.utf8)) == nil)
    #expect(StoreKey(text) == nil)
  }
}
