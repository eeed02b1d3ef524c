import MCPGenKit
import MCPGenRemote

/// One step into a JSON value: an object member by key, an array element by index.
enum JSONStep: Hashable, CustomStringConvertible {
  case key(String)
  case index(Int)

  var description: String {
    switch self {
    case .key(let k): return ".\(k)"
    case .index(let i): return "[\(i)]"
    }
  }
}

extension JSON {
  /// Every path in the value, itself (the empty path) first, in document order.
  func allPaths(_ prefix: [JSONStep] = []) -> [[JSONStep]] {
    var out = [prefix]
    switch self {
    case .object(let members): for (k, v) in members { out += v.allPaths(prefix + [.key(k)]) }
    case .array(let items): for (i, v) in items.enumerated() { out += v.allPaths(prefix + [.index(i)]) }
    default: break
    }
    return out
  }

  /// The value with the one at `path` passed through `change`; a nil from `change` removes
  /// that member or element (the root cannot be removed: it stays as it was).
  func replacing(_ path: ArraySlice<JSONStep>, _ change: (JSON) -> JSON?) -> JSON {
    guard let first = path.first else { return change(self) ?? self }
    switch (self, first) {
    case (.object(let members), .key(let key)):
      var out: [(String, JSON)] = []
      for (k, v) in members {
        guard k == key else {
          out.append((k, v))
          continue
        }
        if path.count == 1 {
          if let new = change(v) { out.append((k, new)) }
        } else {
          out.append((k, v.replacing(path.dropFirst(), change)))
        }
      }
      return .object(out)
    case (.array(var items), .index(let i)) where items.indices.contains(i):
      if path.count == 1 {
        if let new = change(items[i]) { items[i] = new } else { items.remove(at: i) }
      } else {
        items[i] = items[i].replacing(path.dropFirst(), change)
      }
      return .array(items)
    default:
      return self
    }
  }
}

/// A served metadata file made hostile.
struct MetadataMutation {
  /// What was done, for the failure message and the counts (`flip`, `truncate@123`, ...).
  var name: String
  var bytes: [UInt8]
  /// Re-signed by the role's real key after a change inside `signed`: such a file may pass
  /// (the change kept it valid); any other mutation may pass only if `signed` is unchanged.
  var resigned: Bool
}

/// The hostile versions of one valid metadata file: byte flips, truncations at every structural
/// position, inserted and deleted bytes, hostile raw values at every path (wrong JSON types,
/// huge and negative integers, floats and exponents, invalid UTF-8, NUL, overlong encodings,
/// lone surrogates, long strings and arrays, nesting past the parser's depth limit), duplicated
/// keys, broken signatures, and changes inside `signed` re-signed by the real key so that they
/// reach the checks behind the signature.
struct MetadataMutator {
  let original: [UInt8]
  let document: JSON
  let signer: TUFSigner
  var random: FuzzRandom

  init(_ original: [UInt8], signer: TUFSigner, seed: UInt64) throws {
    self.original = original
    document = try JSON(parsing: original)
    self.signer = signer
    random = FuzzRandom(seed: seed)
  }

  /// Raw JSON texts put in place of a value: each either a valid JSON value of some type, or
  /// text the parser must refuse.
  static let rawValues: [[UInt8]] = {
    var v: [[UInt8]] = [
      "null", "true", "0", "-1", "\"\"", "\"x\"", "[]", "{}", "false", "1", "-0", "01", "[1]", "{\"a\":1}", "[null]",
      "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
      "18446744073709551616", "99999999999999999999999999999", "2147483648", "4294967296", "-2147483649",
      "1.5", "1e3", "1E+2", "2e-1", "-0.0", "1.0", "0.1e-5", "NaN", "Infinity", "-Infinity", "+1", "0x10", ".5",
      "\"\\ud800\"", "\"\\udc00\"", "\"\\udbff\\udfff\"", "\"\\ud800\\u0041\"", "\"\\ud800\\\"", "\"\\udc80\"", "\"\\udcff\"",
      "\"\\u001b[2J\\u001b]0;x\\u0007\"", "\"a\\nb\"", "\"\\u202e\"", "\"\\u0085\"", "\"\\u2028\"", "\"a\\u0000b\"", "\"\\u0000\"", "\"\\u00\"", "\"\\x41\"", "\"\\U0041\"", "\"\\'\"", "\"\\\"",
      "\"2030-03-18T17:46:40Z\"", "\"2030-02-30T00:00:00Z\"", "\"9999-12-31T23:59:59Z\"", "\"0000-01-01T00:00:00Z\"",
      "\"2030-03-18T17:46:40+00:00\"", "\"2030-03-18T17:46:40.5Z\"", "\"2030-03-18 17:46:40Z\"", "\"2030-13-01T00:00:00Z\"",
      "\"1.0.31\"", "\"2.0.0\"", "\"1\"", "\"1..0\"", "\"1.0.31.4\"", "\"\u{FF11}.0\"",
      "\"ed25519\"", "\"rsa\"", "\"ecdsa\"", "\"ecdsa-sha2-nistp256\"", "\"rsassa-pss-sha256\"", "\"dsa\"", "\"sha1\"",
      "\"../x\"", "\"/etc/passwd\"", "\"a/../../b\"", "\"*\"", "\"**\"", "\"[\"",
      "nul", "tru", "[", "{", "\"", "]", "}", ",", ":", "[1,]", "{\"a\"}", "{\"a\":}", "{,}", "[,]", "1 2",
    ].map { Array($0.utf8) }
    // Bytes no valid UTF-8 text has, raw inside a string: an invalid lead byte, an overlong
    // "/" (C0 AF, E0 80 AF), a UTF-8 encoded surrogate (ED A0 80, CESU-8), a cut sequence, a
    // raw NUL, a raw newline, a raw DEL, a code point past U+10FFFF.
    for raw: [UInt8] in [[0xFF], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0x61, 0x00, 0x62], [0x0A], [0x7F], [0xF4, 0x90, 0x80, 0x80], [0xFE, 0xFF]] {
      v.append([0x22] + raw + [0x22])
    }
    v.append([0x22] + Array(repeating: UInt8(ascii: "a"), count: 20_000) + [0x22])
    v.append([0x22] + Array(repeating: UInt8(ascii: "\\"), count: 2) + Array(repeating: UInt8(ascii: "0"), count: 4_000) + [0x22])
    v.append(Array(("[" + Array(repeating: "0", count: 5_000).joined(separator: ",") + "]").utf8))
    // Nesting at and past the parser's limit of 64 levels, counted from this value's depth.
    for depth in [62, 63, 64, 65, 100, 10_000] {
      v.append(Array(repeating: UInt8(ascii: "["), count: depth) + Array(repeating: UInt8(ascii: "]"), count: depth))
      v.append(Array(String(repeating: "{\"a\":", count: depth).utf8) + [0x31] + Array(repeating: UInt8(ascii: "}"), count: depth))
    }
    return v
  }()

  /// Values put inside `signed` and re-signed: every JSON type, integers at and past every
  /// bound the parsers check, long strings and arrays, names of key types and schemes.
  static let signedValues: [JSON] = [
    .null, .bool(true), .bool(false), .int(0), .int(1), .int(-1), .int(2), .int(3), .int(Int64.max), .int(Int64.min),
    .int(Int64(Int32.max)), .int(Int64(Int32.max) + 1), .int(1 << 32), .int(Int64.max / 2), .int(Int64.max - 1),
    .string(""), .string("x"), .string("\u{0}"), .array([]), .object([]), .array([.int(1)]), .array([.string("x")]),
    .object([("a", .int(1))]), .string(String(repeating: "a", count: 5_000)),
    .array(Array(repeating: .string("a"), count: 2_000)),
    .string("2030-03-18T17:46:40Z"), .string("1970-01-01T00:00:00Z"), .string("9999-12-31T23:59:59Z"),
    .string("1.0.31"), .string("2.0.0"), .string("root"), .string("timestamp"), .string("snapshot"), .string("targets"),
    .string("ed25519"), .string("rsa"), .string("ecdsa"), .string("rsassa-pss-sha256"), .string("unknown"),
    .string(String(repeating: "0", count: 64)), .string("zz"),
    .string("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
    .string("../../etc/passwd"), .string("/abs"), .string("*"), .string("delegated/*"), .string("sha256"),
  ]

  static let integers: [JSON] = [
    .int(-1), .int(0), .int(1), .int(Int64.max), .int(Int64.min), .int(Int64.max - 1), .int(Int64(Int32.max) + 1), .int(1 << 32),
  ]

  static let keyNames: [JSON] = [
    "ed25519", "ecdsa", "ecdsa-sha2-nistp256", "rsa", "rsassa-pss-sha256", "rsassa-pss-sha512", "ED25519", "", "unknown", "ed25519 ",
  ].map { JSON.string($0) }

  /// Members added to every object inside `signed` (re-signed), with a hostile value each: the
  /// optional fields the parsers read only when present.
  static let addedMembers = [
    "hashes", "length", "version", "delegations", "paths", "path_hash_prefixes", "succinct_roles", "terminating",
    "custom", "consistent_snapshot", "roles", "keys", "threshold", "keyids", "bit_length", "name_prefix", "unknown",
  ]

  /// Every mutation, in a fixed order.
  mutating func all() -> [MetadataMutation] {
    var out: [MetadataMutation] = []
    out += byteMutations()
    out += rawValueMutations()
    out += signatureMutations()
    out += signedMutations()
    return out
  }

  // MARK: Bytes

  mutating func byteMutations() -> [MetadataMutation] {
    var out: [MetadataMutation] = []
    let n = original.count
    for _ in 0..<80 {
      var b = original
      let at = random.below(n)
      b[at] ^= max(1, random.byte())
      out.append(MetadataMutation(name: "flip@\(at)", bytes: b, resigned: false))
    }
    for _ in 0..<50 {
      var b = original
      let at = random.below(n)
      b[at] ^= UInt8(1) << UInt8(random.below(8))
      out.append(MetadataMutation(name: "bitflip@\(at)", bytes: b, resigned: false))
    }
    // Truncated before and after every structural byte, and at the two ends.
    let structural = Set("{}[]:,\"".utf8)
    var cuts = Set([0, 1, n - 1])
    for (i, b) in original.enumerated() where structural.contains(b) {
      cuts.insert(i)
      cuts.insert(i + 1)
    }
    for cut in cuts.sorted() where cut < n {
      out.append(MetadataMutation(name: "truncate@\(cut)", bytes: Array(original[..<cut]), resigned: false))
    }
    let insertions: [[UInt8]] = [
      [0x00], [0xFF], [0xC0, 0x80], [0x22], [0x5C], [0x2C], [0x7B], [0x7D], [0x5B], [0x5D], [0x3A], [0x20], [0x0A],
      Array("\\u0000".utf8), Array("\\ud800".utf8), Array("1.5".utf8), Array("e5".utf8), Array("null".utf8),
    ]
    for _ in 0..<80 {
      var b = original
      let at = random.below(n + 1)
      let what = random.pick(insertions)
      b.insert(contentsOf: what, at: at)
      out.append(MetadataMutation(name: "insert@\(at)", bytes: b, resigned: false))
    }
    for _ in 0..<40 {
      var b = original
      let at = random.below(n)
      let count = 1 + random.below(min(16, n - at))
      b.removeSubrange(at..<(at + count))
      out.append(MetadataMutation(name: "delete@\(at)+\(count)", bytes: b, resigned: false))
    }
    for _ in 0..<40 {
      // A span copied elsewhere: duplicated members and elements, misplaced brackets.
      var b = original
      let from = random.below(n)
      let span = Array(b[from..<min(n, from + 1 + random.below(64))])
      let at = random.below(n + 1)
      b.insert(contentsOf: span, at: at)
      out.append(MetadataMutation(name: "copy@\(from)->\(at)", bytes: b, resigned: false))
    }
    // The whole file past the depth limit, empty, or trailing garbage after a valid document.
    out.append(MetadataMutation(name: "deep-array", bytes: Array(repeating: 0x5B, count: 100_000), resigned: false))
    out.append(MetadataMutation(name: "empty", bytes: [], resigned: false))
    out.append(MetadataMutation(name: "trailing", bytes: original + Array(" x".utf8), resigned: false))
    out.append(MetadataMutation(name: "twice", bytes: original + original, resigned: false))
    return out
  }

  // MARK: Raw values

  static let markerValue: JSON = .string("\u{1}fuzz-marker\u{1}")
  static let markerText = markerValue.serialized()

  /// The document with the value at `path` written as `raw` (any bytes).
  func render(_ doc: JSON, at path: [JSONStep], raw: [UInt8]) -> [UInt8] {
    var text = doc.replacing(path[...]) { _ in MetadataMutator.markerValue }.serialized()
    guard let range = text.firstRange(of: MetadataMutator.markerText) else { return text }
    text.replaceSubrange(range, with: raw)
    return text
  }

  /// Every path but the whole document: a value of each JSON type, and a sample of the other
  /// hostile values, at each; plus a duplicate of every object member.
  mutating func rawValueMutations() -> [MetadataMutation] {
    var out: [MetadataMutation] = []
    // One value of each JSON type everywhere (the first eight), four of the rest at random.
    let always = Array(MetadataMutator.rawValues.prefix(8))
    let others = Array(MetadataMutator.rawValues.dropFirst(8))
    for path in document.allPaths().dropFirst() {
      var values = always
      for _ in 0..<4 { values.append(random.pick(others)) }
      for raw in values {
        out.append(MetadataMutation(name: "raw\(path.map(\.description).joined())=\(String(decoding: raw.prefix(24), as: UTF8.self))", bytes: render(document, at: path, raw: raw), resigned: false))
      }
    }
    // Duplicated keys: each member of each object written twice, once with another value.
    for path in document.allPaths() {
      guard case .object(let members)? = value(at: path), !members.isEmpty else { continue }
      for (key, value) in members {
        let twice = document.replacing(path[...]) { _ in .object(members + [(key, value)]) }
        out.append(MetadataMutation(name: "duplicate\(path.map(\.description).joined()).\(key)", bytes: twice.serialized(), resigned: false))
        let other = document.replacing(path[...]) { _ in .object([(key, .int(1))] + members) }
        out.append(MetadataMutation(name: "duplicate-first\(path.map(\.description).joined()).\(key)", bytes: other.serialized(), resigned: false))
      }
    }
    return out
  }

  func value(at path: [JSONStep]) -> JSON? {
    var v: JSON? = document
    for step in path {
      switch (v, step) {
      case (.object(let m)?, .key(let k)): v = m.first { $0.0 == k }?.1
      case (.array(let a)?, .index(let i)) where a.indices.contains(i): v = a[i]
      default: return nil
      }
    }
    return v
  }

  // MARK: Signatures

  /// The `signatures` array broken: not hex, wrong lengths, unknown or repeated key ids, wrong
  /// types. None changes `signed`, so a file that still carries a valid signature by the
  /// role's key may pass.
  mutating func signatureMutations() -> [MetadataMutation] {
    guard case .array(let signatures)? = document["signatures"], let first = signatures.first,
      let sig = first["sig"]?.stringValue, let keyid = first["keyid"]?.stringValue
    else { return [] }
    func with(_ name: String, _ list: JSON) -> MetadataMutation {
      MetadataMutation(name: "signatures:\(name)", bytes: document.replacing([.key("signatures")]) { _ in list }.serialized(), resigned: false)
    }
    func entry(_ keyid: String, _ sig: String) -> JSON { .object([("keyid", .string(keyid)), ("sig", .string(sig))]) }
    var flipped = Array(sig.utf8)
    flipped[flipped.count / 2] = flipped[flipped.count / 2] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
    let badSigs: [(String, String)] = [
      ("empty", ""), ("not-hex", "zz" + sig.dropFirst(2)), ("odd-length", String(sig.dropLast())), ("short", String(sig.prefix(126))),
      ("long", sig + "00"), ("uppercase", sig.uppercased()), ("flipped", String(decoding: flipped, as: UTF8.self)),
      ("zeros", String(repeating: "0", count: 128)), ("huge", String(repeating: "ab", count: 40_000)),
      ("space", " " + sig), ("nul", sig + "\u{0}"),
    ]
    var out: [MetadataMutation] = []
    for (name, bad) in badSigs { out.append(with(name, .array([entry(keyid, bad)]))) }
    out.append(with("unknown-keyid", .array([entry(String(repeating: "a", count: 64), sig)])))
    out.append(with("empty-keyid", .array([entry("", sig)])))
    out.append(with("none", .array([])))
    out.append(with("same-twice", .array([first, first])))
    out.append(with("bad-then-good", .array([entry(keyid, "00"), first])))
    out.append(with("extra-unknown", .array([first, entry(String(repeating: "b", count: 64), sig)])))
    out.append(with("object", .object([("keyid", .string(keyid))])))
    out.append(with("null", .null))
    out.append(with("keyid-int", .array([.object([("keyid", .int(1)), ("sig", .string(sig))])])))
    out.append(with("sig-int", .array([.object([("keyid", .string(keyid)), ("sig", .int(1))])])))
    out.append(with("no-sig", .array([.object([("keyid", .string(keyid))])])))
    out.append(with("no-keyid", .array([.object([("sig", .string(sig))])])))
    out.append(with("extra-field", .array([.object([("keyid", .string(keyid)), ("sig", .string(sig)), ("x", .null)])])))
    out.append(with("many", .array(Array(repeating: entry(String(repeating: "c", count: 64), sig), count: 1) + (0..<500).map { entry(String($0), sig) } + [first])))
    return out
  }

  // MARK: Inside signed, re-signed

  /// The document with `signed` replaced and signed again by the real key; nil when the new
  /// `signed` has no canonical form (then nothing could sign it).
  func resign(_ signed: JSON) -> [UInt8]? {
    guard let message = try? CanonicalJSON.encode(signed), let signature = try? signer.sign(message) else { return nil }
    return JSON.object([("signatures", .array([signature])), ("signed", signed)]).serialized()
  }

  /// Every path inside `signed`: a sample of typed values, and the removal of the member; every
  /// object inside `signed`: a hostile value under each optional field name.
  mutating func signedMutations() -> [MetadataMutation] {
    guard let signed = document["signed"] else { return [] }
    var out: [MetadataMutation] = []
    func add(_ name: String, _ new: JSON) {
      if let bytes = resign(new) { out.append(MetadataMutation(name: "signed:\(name)", bytes: bytes, resigned: true)) }
    }
    add("unchanged", signed)
    for path in signed.allPaths().dropFirst() {
      let label = path.map(\.description).joined()
      add("\(label) removed", signed.replacing(path[...]) { _ in nil })
      var values: [JSON] = []
      for _ in 0..<3 { values.append(random.pick(MetadataMutator.signedValues)) }
      // Every integer (versions, lengths, thresholds) gets every bound; every key type and
      // scheme every name, known or not.
      if case .int? = value(at: [.key("signed")] + path) { values += MetadataMutator.integers }
      if case .key(let last)? = path.last, last == "keytype" || last == "scheme" { values += MetadataMutator.keyNames }
      for value in values {
        add("\(label)=\(value.text.prefix(24))", signed.replacing(path[...]) { _ in value })
      }
    }
    // Succinct hash-bin delegation (TAP 15) in place of the roles, at every bit length bound.
    if case .object(let delegations)? = signed["delegations"], let keyids = delegations.first(where: { $0.0 == "roles" })?.1.arrayValue?.first?["keyids"] {
      for bits in MetadataMutator.integers + [.int(4), .int(32), .int(33), .int(64)] {
        let succinct: JSON = .object([("bit_length", bits), ("keyids", keyids), ("name_prefix", .string("bin")), ("threshold", .int(1))])
        let new = signed.replacing([.key("delegations")]) { _ in
          .object(delegations.filter { $0.0 != "roles" } + [("succinct_roles", succinct)])
        }
        add("succinct bit_length=\(bits.text)", new)
      }
    }
    for path in signed.allPaths() {
      guard case .object(let members)? = value(at: [.key("signed")] + path) else { continue }
      for _ in 0..<3 {
        let key = random.pick(MetadataMutator.addedMembers)
        let value = random.pick(MetadataMutator.signedValues)
        let new = signed.replacing(path[...]) { _ in .object(members.filter { $0.0 != key } + [(key, value)]) }
        add("\(path.map(\.description).joined()).\(key)+=\(value.text.prefix(24))", new)
      }
    }
    return out
  }
}
