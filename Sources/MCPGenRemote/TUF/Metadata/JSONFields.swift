import MCPGenKit

/// Typed reads of one JSON object of TUF metadata, each failing as `Untrusted.malformed` with
/// the file and the field: every field the client acts on is checked for presence and type
/// before use, and fields it does not know are left alone (they stay in the signed bytes).
struct JSONFields: Sendable {
  let file: String
  let context: String
  let members: [(String, JSON)]

  init(_ value: JSON, file: String, context: String) throws(MCPGenError) {
    guard case .object(let members) = value else {
      throw Untrusted.malformed(file, "\(context) is not an object")
    }
    self.file = file
    self.context = context
    self.members = members
  }

  func value(_ key: String) -> JSON? { members.first { $0.0 == key }?.1 }

  func required(_ key: String) throws(MCPGenError) -> JSON {
    guard let v = value(key) else { throw fail("\(context) has no \"\(key)\"") }
    return v
  }

  func fail(_ what: String) -> MCPGenError { Untrusted.malformed(file, what) }

  func string(_ key: String) throws(MCPGenError) -> String {
    try JSONFields.text(try required(key), file: file, what: "\(context).\(key)")
  }

  func optionalString(_ key: String) throws(MCPGenError) -> String? {
    guard let v = value(key) else { return nil }
    return try JSONFields.text(v, file: file, what: "\(context).\(key)")
  }

  func int(_ key: String) throws(MCPGenError) -> Int64 {
    guard case .int(let i) = try required(key) else { throw fail("\(context).\(key) is not an integer") }
    return i
  }

  func optionalInt(_ key: String) throws(MCPGenError) -> Int64? {
    guard let v = value(key) else { return nil }
    guard case .int(let i) = v else { throw fail("\(context).\(key) is not an integer") }
    return i
  }

  func bool(_ key: String) throws(MCPGenError) -> Bool {
    guard case .bool(let b) = try required(key) else { throw fail("\(context).\(key) is not true or false") }
    return b
  }

  func optionalBool(_ key: String) throws(MCPGenError) -> Bool? {
    guard let v = value(key) else { return nil }
    guard case .bool(let b) = v else { throw fail("\(context).\(key) is not true or false") }
    return b
  }

  func object(_ key: String) throws(MCPGenError) -> JSONFields {
    try JSONFields(try required(key), file: file, context: "\(context).\(key)")
  }

  func array(_ key: String) throws(MCPGenError) -> [JSON] {
    guard case .array(let items) = try required(key) else { throw fail("\(context).\(key) is not an array") }
    return items
  }

  func optionalArray(_ key: String) throws(MCPGenError) -> [JSON]? {
    guard let v = value(key) else { return nil }
    guard case .array(let items) = v else { throw fail("\(context).\(key) is not an array") }
    return items
  }

  /// A list of strings (key ids, path patterns, hash prefixes).
  func strings(_ key: String) throws(MCPGenError) -> [String] {
    try JSONFields.texts(try array(key), file: file, what: "\(context).\(key)")
  }

  func optionalStrings(_ key: String) throws(MCPGenError) -> [String]? {
    guard let items = try optionalArray(key) else { return nil }
    return try JSONFields.texts(items, file: file, what: "\(context).\(key)")
  }

  static func text(_ v: JSON, file: String, what: String) throws(MCPGenError) -> String {
    // Only valid UTF-8: a name that decodes two ways could match a path it was not signed for.
    guard case .string(let bytes) = v, let s = String(validating: bytes, as: UTF8.self) else {
      throw Untrusted.malformed(file, "\(what) is not a UTF-8 string")
    }
    return s
  }

  static func texts(_ items: [JSON], file: String, what: String) throws(MCPGenError) -> [String] {
    var out: [String] = []
    out.reserveCapacity(items.count)
    for item in items { out.append(try text(item, file: file, what: "\(what)[]")) }
    return out
  }

  /// The first key that appears twice in one object anywhere in `value`: such a document means
  /// two different things to two parsers (first or last wins), so the client refuses it.
  static func duplicateKey(in value: JSON) -> String? {
    switch value {
    case .object(let members):
      var seen = Set<String>()
      for (key, member) in members {
        if !seen.insert(key).inserted { return key }
        if let d = duplicateKey(in: member) { return d }
      }
      return nil
    case .array(let items):
      for item in items { if let d = duplicateKey(in: item) { return d } }
      return nil
    default:
      return nil
    }
  }
}
