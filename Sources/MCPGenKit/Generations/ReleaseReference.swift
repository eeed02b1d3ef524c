import MCPGenSystem

/// A release as named on the command line: a generation (and the key it points at), or a store
/// entry by its key.
public struct ReleaseReference: Sendable, Equatable, CustomStringConvertible {
  /// nil when the release was named by key.
  public var generation: Int64?
  public var key: StoreKey

  public init(generation: Int64?, key: StoreKey) {
    self.generation = generation
    self.key = key
  }

  /// `generation 3 (0b50683b1c2d)` or `release 0b50683b1c2d`.
  public var description: String {
    generation.map { "generation \($0) (\(key.short))" } ?? "release \(key.short)"
  }
}

extension Store {
  /// Resolves what `diff` and `show` accept: a generation number (as `rollback N` takes it), a
  /// full key or a unique prefix of at least 8 lowercase hex digits (as `switch KEY` takes it).
  ///
  /// A string of 8 or more decimal digits can be both a generation number and a key prefix; it
  /// is whichever of the two exists, and ambiguous (an error that says how to tell them apart)
  /// when both do. The entry of a generation need not exist: `storedManifest` reports where it
  /// went, and `show` describes the generation anyway.
  public func release(named text: String) throws(MCPGenError) -> ReleaseReference {
    let number = Generation.number(Array(text.utf8))
    let couldBeKey = StoreKey.isPrefix(text)
    if let number, !couldBeKey {
      return try generationReference(number)
    }
    guard couldBeKey else {
      throw MCPGenError(
        .invalidInput,
        "'\(displayName(Array(text.utf8)))' is neither a generation number nor a store key: give N, a full key, or at least 8 of its lowercase hex digits",
        hint: "mcp-gen list")
    }
    if let number, try generation(number) != nil {
      let keyMatches = try keys().contains { $0.hex.hasPrefix(text) }
      if keyMatches {
        throw MCPGenError(
          .ambiguous,
          "'\(text)' is both generation \(number) and the start of a store key; for the key give more of its digits, for the generation give its key",
          hint: "mcp-gen list")
      }
      return try generationReference(number)
    }
    if let full = StoreKey(text), try !contains(full) {
      let (reason, hint) = try whereabouts(of: full)
      throw MCPGenError(.notFound, "no store entry \(full.short): \(reason)", hint: hint)
    }
    do {
      return ReleaseReference(generation: nil, key: try resolve(text))
    } catch where error.code == .notFound && number != nil {
      throw MCPGenError(.notFound, "there is no generation \(text) and no store entry starts with \(text)", hint: "mcp-gen list")
    }
  }

  func generationReference(_ number: Int64) throws(MCPGenError) -> ReleaseReference {
    guard let g = try generation(number) else {
      throw MCPGenError(.notFound, "there is no generation \(number)", hint: "mcp-gen list")
    }
    guard let key = g.key else {
      throw MCPGenError(
        .integrity, "generation \(number) does not point into the store (it is \(displayName(g.target))); run mcp-gen audit",
        hint: "mcp-gen audit")
    }
    return ReleaseReference(generation: number, key: key)
  }

  /// The current generation; an error when nothing is current.
  public func currentRelease() throws(MCPGenError) -> ReleaseReference {
    guard let n = try current().number, try generation(n) != nil else {
      throw MCPGenError(.notFound, "nothing is current, so there is nothing to compare with; name two releases", hint: "mcp-gen list")
    }
    return try generationReference(n)
  }
}
