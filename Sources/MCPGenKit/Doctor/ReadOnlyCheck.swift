import MCPGenSystem

/// Whether the root's file system takes writes at all.
///
/// A root on a read-only mount (a remount after errors, a read-only bind mount, a systemd unit
/// with `ProtectSystem=strict`) passes every other check, yet each `switch`, `rollback`, `add` and
/// `gc` fails on its first write: that is a problem, with the ways out.
enum ReadOnlyCheck {
  static func run(_ root: DirectoryFD) -> DoctorFinding {
    let shown = root.path.displayString
    guard let st = try? root.fileSystemStats() else {
      return DoctorFinding("writable", .warning, "cannot tell whether \(shown)'s file system is read-only",
                           hint: "findmnt -T \(Doctor.shellWord(root.path))")
    }
    guard st.isReadOnly else {
      return DoctorFinding("writable", .ok, "\(shown) is on a writable file system")
    }
    return DoctorFinding("writable", .problem,
      "\(shown) is on a read-only file system: switch, rollback, add and gc cannot change anything",
      hint: "remount it read-write (mount -o remount,rw \"$(findmnt -no TARGET -T \(Doctor.shellWord(root.path)))\"; "
        + "under systemd's ProtectSystem= add the root to ReadWritePaths=), or choose another --root")
  }
}
