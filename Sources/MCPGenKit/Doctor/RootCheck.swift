import MCPGenSystem
import SystemPackage

/// The root and its layout: present, owned by the running user or root, and no more open than
/// mcp-gen makes them (directories 0755, files 0644; anyone else able to write there could swap
/// a release or the health checks that run as the store's owner).
enum RootCheck {
  static let layout: [[UInt8]] = [Store.storeName, Store.manifestsName, Store.generationsName]
  /// Files in the root whose contents drive what mcp-gen does.
  static let files: [[UInt8]] = [Journal.name, Config.fileName, StoreLock.name]

  static func unopenable(_ path: FilePath, source: String, _ error: SystemCallError) -> DoctorFinding {
    let shown = "\(path.displayString) (\(source))"
    switch error.errno {
    case .noSuchFileOrDirectory:
      return DoctorFinding("root", .problem, "no mcp-gen root at \(shown) yet", hint: "mcp-gen switch PATH (creates it), or pass --root")
    case .notDirectory:
      return DoctorFinding("root", .problem, "\(shown) is not a directory", hint: "pass --root with the directory mcp-gen should use")
    default:
      return DoctorFinding("root", .problem, "cannot open \(shown): \(error.errno.description)",
                           hint: "run as a user who may read it, or pass --root")
    }
  }

  static func run(_ root: DirectoryFD, source: String) -> [DoctorFinding] {
    var fixes = Fixes()
    var rootIssues: [String] = []
    let shown = "\(root.path.displayString) (\(source))"
    guard let st = try? root.fstat() else {
      return [DoctorFinding("root", .problem, "cannot read \(shown)", hint: "run as a user who may read it")]
    }
    rootIssues += fixes.inspect(st, root.path, name: "the root", directory: true)
    for name in files {
      guard let fst = try? root.statIfPresent(name) else { continue }
      let path = root.path.appending(bytes: name)
      if fst.type != .regular {
        rootIssues.append("\(displayName(name)) is not a regular file")
        fixes.moveAside.append(path)
        continue
      }
      rootIssues += fixes.inspect(fst, path, name: displayName(name), directory: false)
    }
    var findings: [DoctorFinding] = []
    if rootIssues.isEmpty {
      findings.append(DoctorFinding("root", .ok, "\(shown): owned by \(Clock.userName(st.uid)), mode \(Doctor.octal(st.mode))"))
    } else {
      findings.append(DoctorFinding("root", .problem, "\(shown): \(rootIssues.joined(separator: "; "))", hint: fixes.command))
    }

    var layoutFixes = Fixes()
    var layoutIssues: [String] = []
    var missing: [String] = []
    for name in layout {
      let path = root.path.appending(bytes: name)
      guard let dst = try? root.statIfPresent(name) else {
        missing.append(displayName(name) + "/")
        continue
      }
      if dst.type != .directory {
        layoutIssues.append("\(displayName(name)) is not a directory")
        layoutFixes.moveAside.append(path)
        continue
      }
      layoutIssues += layoutFixes.inspect(dst, path, name: displayName(name) + "/", directory: true)
    }
    let names = layout.map { displayName($0) + "/" }.joined(separator: ", ")
    if !missing.isEmpty {
      layoutIssues.insert("\(missing.joined(separator: ", ")) missing", at: 0)
      layoutFixes.recreate = true
    }
    if layoutIssues.isEmpty {
      findings.append(DoctorFinding("layout", .ok, "\(names) present, mode 0755 or stricter"))
    } else {
      findings.append(DoctorFinding("layout", .problem, layoutIssues.joined(separator: "; "), hint: layoutFixes.command))
    }
    return findings
  }

  /// What to run to put things right, gathered while inspecting.
  struct Fixes {
    var chown: [FilePath] = []
    var groupOthersWrite: [FilePath] = []
    var ownerAccess: [FilePath] = []
    var moveAside: [FilePath] = []
    var recreate = false

    /// Owner and mode of one inode; returns what is wrong with it.
    mutating func inspect(_ st: FileInfo, _ path: FilePath, name: String, directory: Bool) -> [String] {
      var issues: [String] = []
      let me = Syscall.effectiveUserID()
      if st.uid != me && st.uid != 0 {
        issues.append("\(name) is owned by \(Clock.userName(st.uid)), not by \(Clock.userName(me)) or root")
        chown.append(path)
      }
      if st.mode & 0o022 != 0 {
        issues.append("\(name) is writable by \(st.mode & 0o020 != 0 && st.mode & 0o002 != 0 ? "group and others" : (st.mode & 0o020 != 0 ? "group" : "others")) (mode \(Doctor.octal(st.mode)))")
        groupOthersWrite.append(path)
      }
      let needed: UInt32 = directory ? 0o700 : 0o600
      if st.mode & needed != needed {
        issues.append("\(name) lacks owner \(directory ? "rwx" : "rw") (mode \(Doctor.octal(st.mode)))")
        ownerAccess.append(path)
      }
      return issues
    }

    var command: String {
      var parts: [String] = []
      if !moveAside.isEmpty { parts += moveAside.map { "mv \(Doctor.shellWord($0)) \(Doctor.shellWord($0)).broken" } }
      if !chown.isEmpty { parts.append("chown \(Clock.userName(Syscall.effectiveUserID())) \(chown.map(Doctor.shellWord).joined(separator: " "))") }
      if !groupOthersWrite.isEmpty { parts.append("chmod go-w \(groupOthersWrite.map(Doctor.shellWord).joined(separator: " "))") }
      if !ownerAccess.isEmpty { parts.append("chmod u+rwX \(ownerAccess.map(Doctor.shellWord).joined(separator: " "))") }
      if recreate { parts.append("mcp-gen add PATH (recreates missing directories), then mcp-gen audit") }
      return parts.joined(separator: "; ")
    }
  }
}
