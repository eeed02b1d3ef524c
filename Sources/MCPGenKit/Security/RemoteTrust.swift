import MCPGenSystem
import SystemPackage

/// Who may change what a pull trusts (store-layout.md section 4a, "Remotes").
///
/// `remotes/NAME/root.json` holds the keys that decide which releases root stores, and with
/// `pull --switch` makes current and runs; `remote.json`, the other trusted metadata and
/// `partial/` steer the same pull. Whoever may write the root, `remotes/`, `remotes/NAME/` or one
/// of those files can swap in their own keys, so a pull reads none of them until each is owned
/// by root or the running user and writable by no one else. Unlike the directories above the
/// root, none of these gets the sticky-bit exception: others who may create files in them could
/// create the very names a pull reads.
public enum RemoteTrust {
  /// Every problem of the root (the walk ending at the directory `root` holds open) and the
  /// directories above it, of `remotes/`, and, for each name of `names` (every entry of
  /// `remotes/` but the `.`-hidden temporaries when nil), of `remotes/NAME/` and each entry
  /// directly in it. A name that does not exist has nothing to judge.
  public static func problems(_ root: DirectoryFD, remotes names: [[UInt8]]?) throws(MCPGenError) -> [TrustProblem] {
    let doing = "check who may change the remotes of \(root.path.displayString)"
    var problems = try ConfigTrust.problems(ofRoot: root, doing: doing)
    let remotesPath = root.path.appending(bytes: Store.remotesName)
    do throws(SystemCallError) {
      // Judged through the descriptors the pull reads by (no symlink is followed below the
      // root): nobody else can rename what a trusted directory holds, so they stay what was judged.
      guard let st = try root.statIfPresent(Store.remotesName) else { return problems }
      problems += TrustedPath.problems(of: st, at: remotesPath, last: true)
      guard st.type == .directory else { return problems }
      let remotes = try root.openDirectory(Store.remotesName)
      var chosen = names ?? []
      if names == nil {
        chosen = try remotes.list().filter { $0.first != 0x2E }.sorted { $0.lexicographicallyPrecedes($1) }
      }
      for name in chosen {
        guard let st = try remotes.statIfPresent(name) else { continue }
        let path = remotesPath.appending(bytes: name)
        problems += TrustedPath.problems(of: st, at: path, last: true)
        guard st.type == .directory else { continue }
        let dir = try remotes.openDirectory(name)
        for entry in try dir.list().sorted(by: { $0.lexicographicallyPrecedes($1) }) {
          // A temporary renamed away meanwhile has nothing left to judge.
          guard let st = try dir.statIfPresent(entry) else { continue }
          problems += TrustedPath.problems(of: st, at: path.appending(bytes: entry), last: true)
        }
      }
    } catch {
      throw MCPGenError(error, doing: doing)
    }
    return problems
  }
}

extension Store {
  /// Refuses, before the trusted state of a remote is read or written, when `RemoteTrust` finds
  /// that another user may change it: one line naming the first path at fault with its owner and
  /// mode, and the fix. `action` says what was refused ("pull from remote origin"), `outcome`
  /// what therefore did not happen ("nothing was stored").
  public func requireTrustedRemotes(_ names: [[UInt8]]?, action: String, outcome: String) throws(MCPGenError) {
    guard let problem = try RemoteTrust.problems(root, remotes: names).first else { return }
    throw RemoteTrust.refusal(problem, action: action, outcome: outcome)
  }
}

extension RemoteTrust {
  /// "refusing to ACTION: PROBLEM; another user could make root trust their keys ...; OUTCOME (FIX)".
  public static func refusal(_ problem: TrustProblem, action: String, outcome: String) -> MCPGenError {
    problem.refusal("to \(action)", risk: { "make \($0) trust their keys and install their releases" }, outcome: outcome)
  }
}
