#if canImport(Glibc)
import Glibc
#endif

/// The index of the first `byte` in `bytes[range]`, or nil: `memchr(3)`, which scans a word at a
/// time (journals run to megabytes, and every command reads the tail of one).
public func firstIndex(of byte: UInt8, in bytes: [UInt8], _ range: Range<Int>) -> Int? {
  bytes.withUnsafeBufferPointer { buffer in
    guard !range.isEmpty, range.upperBound <= buffer.count, let base = buffer.baseAddress,
      let hit = memchr(base + range.lowerBound, Int32(byte), range.count)
    else { return nil }
    return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
  }
}
