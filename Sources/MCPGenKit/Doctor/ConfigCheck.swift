import MCPGenSystem
import SystemPackage

/// `config.json` and who may change it: the two reasons `check`, `switch` and `rollback` would
/// refuse to run the configured commands, found before they are needed.
enum ConfigCheck {
  /// `trust`: the root, every directory above it and `config.json` are owned by root or the
  /// running user and writable by no one else (`ConfigTrust`); each problem with its fix.
  static func trust(_ root: DirectoryFD) -> DoctorFinding {
    let problems: [TrustProblem]
    do {
      problems = try ConfigTrust.problems(root)
    } catch {
      return DoctorFinding("trust", .problem, error.message, hint: error.hint ?? "run as a user who may read the root and its parents")
    }
    if problems.isEmpty {
      return DoctorFinding("trust", .ok, "the root, the directories above it and config.json can be changed only by \(TrustedOwners.current.names)")
    }
    var fixes: [String] = []
    for p in problems where !fixes.contains(p.fix) { fixes.append(p.fix) }
    return DoctorFinding(
      "trust", .problem,
      problems.map(\.description).joined(separator: "; ") + "; the restart command and checks will not run until this is fixed",
      hint: fixes.joined(separator: "; "))
  }

  /// `config`: `config.json` parses (or is absent: defaults apply).
  static func parse(_ root: DirectoryFD) -> DoctorFinding {
    let path = root.path.appending(bytes: Config.fileName)
    let bytes: [UInt8]
    do {
      // O_NONBLOCK: a FIFO put there must not hang the doctor.
      let file = try root.openFile(Config.fileName, flags: [.readOnly, .nonBlocking])
      guard try file.stat().type == .regular else {
        return DoctorFinding("config", .problem, "\(path.displayString) is not a regular file",
                             hint: "mv \(Doctor.shellWord(path)) \(Doctor.shellWord(path)).broken; mcp-gen config --init")
      }
      bytes = try file.readAll()
    } catch let e where e.errno == .noSuchFileOrDirectory {
      return DoctorFinding("config", .ok, "no config.json: no health checks, no restart command (mcp-gen config --init writes an example)")
    } catch let e where e.errno == .tooManySymbolicLinkLevels {
      return DoctorFinding("config", .problem, "\(path.displayString) is a symlink, which mcp-gen does not follow",
                           hint: "replace it with the file it points to")
    } catch {
      return DoctorFinding("config", .problem, "cannot read \(path.displayString): \(error.errno.description)",
                           hint: "run as a user who may read the root")
    }
    do {
      let config = try Config.parse(bytes, path: path)
      let checks = config.checks.count + config.advisoryChecks.count
      return DoctorFinding("config", .ok, "\(path.displayString): \(checks) check\(checks == 1 ? "" : "s"), \(config.restart == nil ? "no" : "a") restart command")
    } catch {
      let moved = Doctor.shellWord(FilePath(bytes: path.bytes + Array(".broken".utf8)))
      return DoctorFinding(
        "config", .problem, error.message,
        hint: "edit \(Doctor.shellWord(path)) where the message says, or start again: mv \(Doctor.shellWord(path)) \(moved); mcp-gen config --root \(Doctor.shellWord(root.path)) --init")
    }
  }
}
