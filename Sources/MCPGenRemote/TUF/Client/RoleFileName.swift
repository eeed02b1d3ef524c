/// How a role name becomes a file name, locally and in URLs: percent-encoded with nothing kept
/// but unreserved characters (python-tuf's `quote(name, "")`), so a delegated role named
/// `../x` or `a/b` is one file in the metadata directory and one path segment on the server.
enum RoleFileName {
  static func encode(_ name: String) -> String {
    let hex = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    for b in name.utf8 {
      switch b {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
        UInt8(ascii: "~"):
        out.append(b)
      default:
        out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0xF)]]
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// `<encoded role>.json`: the trusted copy's name in the metadata directory.
  static func local(_ role: String) -> String { "\(encode(role)).json" }

  /// The name on the server: `<version>.<role>.json` with consistent snapshots.
  static func remote(_ role: String, version: Int64?) -> String {
    if let version { return "\(version).\(encode(role)).json" }
    return local(role)
  }
}
