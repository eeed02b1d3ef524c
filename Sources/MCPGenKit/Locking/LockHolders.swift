import MCPGenSystem
import SystemPackage

/// Who holds a `flock(2)` lock, from the kernel rather than from what the holder wrote: any
/// process that can open the lock file can hold it without writing a word (`flock FILE sleep 9`).
///
/// `/proc/locks` lists every lock as `N: FLOCK  ADVISORY  WRITE PID MAJ:MIN:INODE 0 EOF`
/// (device numbers in hex); a line with `->` after the number is a waiter, not a holder.
enum LockHolders {
  struct Holder: Equatable {
    var pid: Int32
    /// `/proc/PID/cmdline`, arguments separated by spaces; nil when it cannot be read (the
    /// process ended, or belongs to another user and /proc is mounted with `hidepid`).
    var command: [UInt8]?
  }

  /// The processes holding a flock on the file with status `st`, lowest pid first; empty when
  /// /proc cannot be read.
  static func holders(of st: FileInfo) -> [Holder] {
    guard let proc = try? DirectoryFD.open(FilePath("/proc")),
      let table = try? proc.openFile(Array("locks".utf8), flags: OpenFlags.readOnly).readAll()
    else { return [] }
    return pids(in: table, device: st.device, inode: st.inode).map { Holder(pid: $0, command: command(of: $0, in: proc)) }
  }

  /// The holders' pids in a `/proc/locks` text.
  static func pids(in table: [UInt8], device: UInt64, inode: UInt64) -> [Int32] {
    let major = UInt64((device >> 8) & 0xfff) | UInt64((device >> 32) & ~0xfff)
    let minor = UInt64(device & 0xff) | UInt64((device >> 12) & ~0xff)
    var found: [Int32] = []
    for line in table.split(separator: 0x0A) {
      let fields = line.split(separator: 0x20, omittingEmptySubsequences: true).map { String(decoding: $0, as: UTF8.self) }
      guard fields.count >= 6, fields[1] == "FLOCK", let pid = Int32(fields[4]), pid > 0 else { continue }
      let id = fields[5].split(separator: ":")
      guard id.count == 3, UInt64(id[0], radix: 16) == major, UInt64(id[1], radix: 16) == minor,
        UInt64(id[2]) == UInt64(inode)
      else { continue }
      if !found.contains(pid) { found.append(pid) }
    }
    return found.sorted()
  }

  private static func command(of pid: Int32, in proc: DirectoryFD) -> [UInt8]? {
    guard let bytes = try? proc.openFile(Array("\(pid)/cmdline".utf8), flags: OpenFlags.readOnly).readAll(), !bytes.isEmpty else {
      return nil
    }
    var words = bytes.split(separator: 0, omittingEmptySubsequences: false).map(Array.init)
    if words.last?.isEmpty == true { words.removeLast() }
    return Array(words.joined(separator: [0x20]))
  }
}
