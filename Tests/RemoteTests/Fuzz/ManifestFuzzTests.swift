@testable import MCPGenRemote
import MCPGenKit
import MCPGenSystem
import Testing

/// Downloaded manifests made hostile, through the checks `pull` applies to one
/// (`Manifest(parsing:)`, then `ManifestLimits`): each is refused cleanly, or is a manifest
/// whose every entry stays inside the tree it describes.
@Suite("Hostile manifests are refused or stay inside their tree")
struct ManifestFuzzTests {
  /// One record as text fields, any bytes in each.
  struct Record {
    var kind: [UInt8]
    var size: [UInt8]
    var digest: [UInt8]
    var path: [UInt8]
    var target: [UInt8]

    init(_ e: ManifestEntry) {
      kind = [e.kind.rawValue]
      size = Array(String(e.size).utf8)
      digest = e.digest.map { Array($0.hexBytes) } ?? [0x2D]
      path = e.path
      target = e.target
    }
  }

  static func text(_ records: [Record]) -> [UInt8] {
    var out = Manifest.header
    for r in records { out += r.kind + [0x20] + r.size + [0x20] + r.digest + [0x20] + r.path + [0] + r.target + [0] }
    return out
  }

  /// A valid release: directories, files, an executable, symlinks (one pointing out of the
  /// tree, which is the symlink's business: nothing is ever written through it).
  static let base: Manifest = {
    func file(_ p: String, _ content: String, _ kind: ManifestEntry.Kind = .file) -> ManifestEntry {
      ManifestEntry(path: Array(p.utf8), kind: kind, size: UInt64(content.utf8.count), digest: SHA256.hash(Array(content.utf8)))
    }
    func dir(_ p: String) -> ManifestEntry { ManifestEntry(path: Array(p.utf8), kind: .directory, size: 0) }
    func link(_ p: String, _ t: String) -> ManifestEntry {
      ManifestEntry(path: Array(p.utf8), kind: .symlink, size: UInt64(t.utf8.count), target: Array(t.utf8))
    }
    return Manifest(entries: [
      dir("."), dir("a"), dir("a/b"), file("a/b/f", "hello\n"), file("a/b/g h", "x"), link("a/l", "b/f"),
      file("bin", "#!/bin/sh\n", .executable), dir("caf\u{E9}"), file("caf\u{E9}/menu", ""), link("up", "../../etc/passwd"),
    ])
  }()

  static func release(for bytes: [UInt8], size: Int64?) -> RemoteRelease {
    let key = StoreKey(SHA256.hash(bytes))
    var custom: [(String, JSON)] = [("sequence", .int(1))]
    if let size { custom.append(("size", .int(size))) }
    let target = TrustedTarget(name: "releases/\(key.hex)", length: bytes.count, hashes: ["sha256": key.hex], custom: .object(custom))
    return RemoteRelease(target)!
  }

  /// Whether a parsed manifest keeps every entry inside its tree and is what was signed.
  static func judge(_ m: Manifest, _ bytes: [UInt8], _ what: String) {
    #expect(m.serialized() == bytes, "\(what): parsed, but it does not serialize to the bytes that were signed")
    guard let root = m.entries.first else {
      Issue.record("\(what): a manifest without entries")
      return
    }
    #expect(root.path == [0x2E] && root.kind != .symlink, "\(what): the first entry is not the root")
    var directories: Set<[UInt8]> = root.kind == .directory ? [[]] : []
    var previous: [UInt8]? = nil
    for e in m.entries.dropFirst() {
      let components = e.path.split(separator: 0x2F, omittingEmptySubsequences: false)
      let inside = !e.path.isEmpty && e.path.first != 0x2F && !e.path.contains(0)
        && components.allSatisfy { !$0.isEmpty && !$0.elementsEqual([0x2E]) && !$0.elementsEqual([0x2E, 0x2E]) && $0.count <= 255 }
        && e.path.count <= 4096
      #expect(inside, "\(what): the path \(displayName(e.path)) is not inside the tree")
      // Written only below a directory of the manifest itself, never through a symlink.
      let parent = Array(components.dropLast().joined(separator: [0x2F]))
      #expect(directories.contains(parent), "\(what): \(displayName(e.path)) is not below a directory of the manifest")
      if let previous { #expect(previous.lexicographicallyPrecedes(e.path), "\(what): \(displayName(e.path)) is out of order") }
      previous = e.path
      if e.kind == .directory { directories.insert(e.path) }
      if e.kind == .symlink { #expect(!e.target.contains(0) && !e.target.isEmpty && UInt64(e.target.count) == e.size, "\(what): a bad symlink passed") }
      if e.kind.isRegularFile { #expect(e.size <= ManifestLimits.maximumFileSize, "\(what): a file over the cap passed") }
    }
    #expect(m.byteCount <= ManifestLimits.maximumTotalSize, "\(what): more bytes than the cap passed")
  }

  /// Runs the checks of a pull on `bytes`; returns whether they accepted it.
  @discardableResult
  static func pullChecks(_ bytes: [UInt8], _ what: String, signedSize: Int64?) -> Bool {
    guard let manifest = try? Manifest(parsing: bytes) else { return false }
    do {
      try ManifestLimits.check(manifest, release(for: bytes, size: signedSize))
    } catch {
      #expect(error.code == .untrusted, "\(what): \(error.message)")
      return false
    }
    judge(manifest, bytes, what)
    return true
  }

  @Test("byte and record mutations of a manifest are refused, or stay inside the tree and are what was signed")
  func mutations() {
    var random = FuzzRandom(seed: 0x3A41_F357)
    let original = ManifestFuzzTests.base.serialized()
    let records = ManifestFuzzTests.base.entries.map(Record.init)
    let size = Int64(ManifestFuzzTests.base.byteCount)
    var cases = 0
    var accepted = 0
    func run(_ bytes: [UInt8], _ what: String) {
      cases += 1
      // With the signed size and without it, so that the size check does not hide the others.
      let a = ManifestFuzzTests.pullChecks(bytes, what, signedSize: size)
      let b = ManifestFuzzTests.pullChecks(bytes, what, signedSize: nil)
      if a || b { accepted += 1 }
    }
    #expect(ManifestFuzzTests.pullChecks(original, "original", signedSize: size))

    // Bytes: flips, truncation at every byte, insertions, deletions, copied spans.
    for cut in 0..<original.count { run(Array(original[..<cut]), "truncate@\(cut)") }
    let insertions: [[UInt8]] = [[0], [0x2F], [0x20], [0x0A], [0xFF], Array("..".utf8), Array("/..".utf8), Array("../".utf8), [0x2E], Array("9".utf8)]
    for _ in 0..<600 {
      var b = original
      switch random.below(4) {
      case 0: b[random.below(b.count)] ^= max(1, random.byte())
      case 1: b.insert(contentsOf: random.pick(insertions), at: random.below(b.count + 1))
      case 2:
        let at = random.below(b.count)
        b.removeSubrange(at..<min(b.count, at + 1 + random.below(8)))
      default:
        let from = random.below(b.count)
        b.insert(contentsOf: Array(b[from..<min(b.count, from + 1 + random.below(80))]), at: random.below(b.count + 1))
      }
      run(b, "bytes")
    }

    // Records: hostile values in each field of each record.
    let longName = Array(repeating: UInt8(ascii: "n"), count: 256)
    let hostilePaths: [[UInt8]] = [
      [], [0x2E], [0x2E, 0x2E], Array("../x".utf8), Array("a/../../x".utf8), Array("/etc/passwd".utf8), Array("a//b".utf8),
      Array("a/".utf8), Array("./a".utf8), Array("a/.".utf8), Array("a/b/..".utf8), Array("a\0b".utf8), Array("a\nb".utf8),
      Array("a/l/evil".utf8), Array("up/evil".utf8), Array("bin/x".utf8), Array("zz/x".utf8), longName, Array("a/".utf8) + longName,
      Array(repeating: UInt8(ascii: "d"), count: 4097), Array("a/b/f".utf8), Array("a".utf8), Array("\u{FF}".utf8), [0xFF, 0xFE],
    ]
    let hostileSizes: [[UInt8]] = [
      [], Array("-1".utf8), Array("+1".utf8), Array("01".utf8), Array(" 1".utf8), Array("1e3".utf8), Array("0x1".utf8),
      Array("18446744073709551615".utf8), Array("18446744073709551616".utf8), Array(String((1 << 40) + 1).utf8),
      Array(String(1 << 40).utf8), Array("4".utf8), Array("0".utf8),
    ]
    let digest = Array(SHA256.hash([]).hexBytes)
    let hostileDigests: [[UInt8]] = [
      [0x2D], [], Array(digest.dropLast()), digest + [0x30], Array(String(decoding: digest, as: UTF8.self).uppercased().utf8),
      Array(repeating: UInt8(ascii: "z"), count: 64), Array(repeating: UInt8(ascii: "0"), count: 64), digest,
    ]
    let hostileKinds: [[UInt8]] = [Array("q".utf8), Array("F".utf8), Array("ff".utf8), [], [0], Array("d".utf8), Array("f".utf8), Array("x".utf8), Array("l".utf8)]
    let hostileTargets: [[UInt8]] = [[], Array("a\0b".utf8), Array("/etc".utf8), Array("../../..".utf8), Array(repeating: 0x61, count: 4097), Array("\n".utf8)]
    for i in records.indices {
      for p in hostilePaths {
        var r = records
        r[i].path = p
        run(ManifestFuzzTests.text(r), "record \(i) path \(displayName(p).prefix(40))")
      }
      for s in hostileSizes {
        var r = records
        r[i].size = s
        run(ManifestFuzzTests.text(r), "record \(i) size \(String(decoding: s, as: UTF8.self))")
      }
      for d in hostileDigests {
        var r = records
        r[i].digest = d
        run(ManifestFuzzTests.text(r), "record \(i) digest \(String(decoding: d, as: UTF8.self))")
      }
      for k in hostileKinds {
        var r = records
        r[i].kind = k
        run(ManifestFuzzTests.text(r), "record \(i) kind \(displayName(k))")
      }
      for t in hostileTargets {
        var r = records
        r[i].target = t
        r[i].size = Array(String(t.count).utf8)
        run(ManifestFuzzTests.text(r), "record \(i) target \(displayName(t).prefix(40))")
      }
      // Order: a record repeated, removed, swapped with the next.
      var r = records
      r.insert(records[i], at: i)
      run(ManifestFuzzTests.text(r), "record \(i) twice")
      r = records
      r.remove(at: i)
      run(ManifestFuzzTests.text(r), "record \(i) removed")
      if i + 1 < records.count {
        r = records
        r.swapAt(i, i + 1)
        run(ManifestFuzzTests.text(r), "records \(i) and \(i + 1) swapped")
      }
    }
    // Sizes adding up past the 16 TiB cap, each file within the 1 TiB one.
    var big = Array(records.prefix(1))
    for n in 0..<17 {
      big.append(Record(ManifestEntry(path: Array("f\(n < 10 ? "0" : "")\(n)".utf8), kind: .file, size: 1 << 40, digest: SHA256.hash([]))))
    }
    run(ManifestFuzzTests.text(big), "17 files of 1 TiB")
    // Random records from the hostile values.
    for _ in 0..<1_500 {
      var r = records
      for _ in 0..<(1 + random.below(3)) {
        let i = random.below(r.count)
        switch random.below(5) {
        case 0: r[i].path = random.pick(hostilePaths)
        case 1: r[i].size = random.pick(hostileSizes)
        case 2: r[i].digest = random.pick(hostileDigests)
        case 3: r[i].kind = random.pick(hostileKinds)
        default: r[i].target = random.pick(hostileTargets)
        }
      }
      run(ManifestFuzzTests.text(r), "random records")
    }
    print("manifest fuzz: \(cases) cases, \(accepted) accepted")
    #expect(accepted < cases / 10)
  }
}
