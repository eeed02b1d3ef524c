import MCPGenKit
import MCPGenSystem

/// Reads a file to its end in 1 MiB chunks, hashing what it reads and writing it to `into`
/// when given; stops, reporting `overflow`, after `limit` bytes, so a file that grew (or a
/// stored file that is not what its manifest says) is never read without bound.
enum StreamCopy {
  static let chunk = 1 << 20

  struct Outcome {
    var digest: Digest
    var size: UInt64
    var overflow: Bool
  }

  static func run(
    from source: FileFD, into destination: FileFD?, limit: UInt64, progress: ProgressCounters?
  ) throws(SystemCallError) -> Outcome {
    let hasher = SHA256()
    // No larger than the file allows (one byte over shows an overflow): most files are small,
    // and a buffer below malloc's mmap threshold comes from the heap, where a 1 MiB one is
    // mapped and unmapped for each file (page faults, and a TLB shootdown on every core).
    let capacity = Int(min(UInt64(chunk), max(limit, 4_095) + 1))
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
    defer { buffer.deallocate() }
    var size: UInt64 = 0
    while true {
      let n = try source.read(into: buffer.baseAddress!, count: capacity)
      if n == 0 { break }
      let part = UnsafeRawBufferPointer(rebasing: buffer[..<n])
      if size + UInt64(n) > limit { return Outcome(digest: hasher.finish(), size: size + UInt64(n), overflow: true) }
      hasher.update(part)
      try destination?.writeAll(part)
      size += UInt64(n)
      progress?.add(bytes: UInt64(n))
    }
    return Outcome(digest: hasher.finish(), size: size, overflow: false)
  }
}
