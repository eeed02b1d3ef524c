import MCPGenSystem

/// Free space and inodes on the root's file system.
///
/// A warning below 1 GB or 5% of the file system, whichever is smaller (1 GB on most disks, 5%
/// on small ones, where 1 GB would be most of it); a problem below what `switch` insists
/// on before it starts (1 MiB, 16 inodes: `requireFreeSpace`).
enum DiskCheck {
  static let warnBytes: UInt64 = 1_000_000_000
  static let warnFraction = 0.05

  static func run(_ root: DirectoryFD) -> DoctorFinding {
    guard let st = try? root.fileSystemStats() else {
      return DoctorFinding("disk", .warning, "cannot read the free space of \(root.path.displayString)'s file system",
                           hint: "df -h \(Doctor.shellWord(root.path))")
    }
    let free = st.availableBytes
    let size = st.totalBytes
    let percent = size > 0 ? Double(free) / Double(size) * 100 : 100
    let inodes = st.totalInodes > 0 ? ", \(st.availableInodes) inodes free" : ""
    let summary = "\(bytes(free)) free of \(bytes(size)) (\(Int(percent))%)\(inodes)"
    let threshold = min(warnBytes, UInt64(Double(size) * warnFraction))
    let thresholdText = threshold == warnBytes ? "1 GB" : "5% of the file system"
    if free < 1 << 20 || (st.totalInodes > 0 && st.availableInodes < 16) {
      return DoctorFinding("disk", .problem, "\(summary): too little to change anything (switch refuses below 1 MiB or 16 inodes)",
                           hint: "mcp-gen gc, or free space on that file system")
    }
    if free < threshold {
      return DoctorFinding("disk", .warning, "\(summary): below the warning threshold of \(thresholdText)", hint: "mcp-gen gc")
    }
    if st.totalInodes > 0 && Double(st.availableInodes) < Double(st.totalInodes) * warnFraction {
      return DoctorFinding("disk", .warning, "\(summary): fewer than 5% of the inodes are free", hint: "mcp-gen gc")
    }
    return DoctorFinding("disk", .ok, summary)
  }

  /// Decimal units, one decimal place: `12.3 GB`.
  static func bytes(_ n: UInt64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB", "PB"]
    var value = Double(n)
    var unit = 0
    while value >= 1000, unit < units.count - 1 {
      value /= 1000
      unit += 1
    }
    if unit == 0 { return "\(n) B" }
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10) \(units[unit])"
  }
}
