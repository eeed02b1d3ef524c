/// SplitMix64: the fuzz tests draw every position and value from a fixed seed, so each run on
/// every machine tries the same cases, and a failure names a case that can be run again.
struct FuzzRandom: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A number in 0..<bound (bound > 0). Not `Int.random(in:using:)`, whose algorithm the
  /// standard library may change: the cases must stay the same.
  mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

  mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

  mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
}
