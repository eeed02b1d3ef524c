import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A publisher and a client root on one machine with nginx (and, when asked, the fault server in
/// front of it) serving the publisher's remote directory: the README's "publish here, pull there".
/// Names start with `Srv` so they cannot collide with other test files' helpers.
final class SrvSite {
  static var toolsInstalled: Bool {
    Nginx.isInstalled && FaultServer.isAvailable && FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")
  }

  let publisher: PubRemote
  let nginx: Nginx
  let fault: FaultServer?
  var scratch: Scratch { publisher.scratch }
  /// The client's root (the publisher's is `publisher.root`).
  var client: String { scratch.at("client") }
  var remoteDirectory: String { publisher.remote }
  /// The URL the client pulls from: the fault server's when there is one, else nginx's.
  var url: String { fault?.url ?? nginx.url }
  var trusted: String { client + "/remotes/origin" }

  init(faults: Bool = false) throws {
    publisher = try PubRemote()
    do {
      nginx = try Nginx(serving: publisher.remote)
    } catch {
      publisher.remove()
      throw error
    }
    do {
      fault = faults ? try FaultServer(upstream: nginx.url) : nil
    } catch {
      nginx.stop()
      publisher.remove()
      throw error
    }
  }

  func stop() {
    fault?.stop()
    nginx.stop()
    publisher.remove()
  }

  /// `add` of a release tree `name` (`files` files, labelled `version`) to the publisher's root,
  /// then `publish` of it; its store key.
  @discardableResult
  func publish(_ name: String, version: String, files: Int = 6, seed: String = "") throws -> String {
    let tree = try publisher.release(name, version: version, files: files, seed: seed)
    let added = try publisher.ok(["add", tree, "--label", version])
    guard let key = Rel.addedKey(added) else { throw E2EFailure("add printed no key: \(added.stdoutText)") }
    try publisher.ok(publisher.publishArguments(version))
    return key
  }

  /// Release 1.0 published, pulled and made current on the client, then 1.1 published: where
  /// an update starts. The two keys.
  func updatePending() throws -> (first: String, second: String) {
    let first = try publish("mcp-1.0", version: "1.0")
    try addRemote()
    try pull(["pull", "origin", "--switch"]).requireSuccess("first pull")
    return (first, try publish("mcp-1.1", version: "1.1", seed: "v2 "))
  }

  /// `remote add origin URL --trust DIR/metadata/1.root.json` on the client.
  func addRemote() throws {
    try pull(["remote", "add", "origin", url, "--trust", remoteDirectory + "/metadata/1.root.json"]).requireSuccess("remote add")
  }

  /// mcp-gen on the client root.
  func pull(_ arguments: [String], timeout: Double = 120) throws -> CLI.Output {
    try Rel.run(arguments + ["--root", client], outputIn: scratch.path, timeout: timeout)
  }

  /// `pull origin --json [extra]`: the run and its parsed object (nil when it printed none).
  func pullJSON(_ extra: [String] = []) throws -> (CLI.Output, [String: Any]?) {
    let run = try pull(["pull", "origin", "--json"] + extra)
    return (run, try? JSONSerialization.jsonObject(with: Data(run.stdout)) as? [String: Any])
  }

  /// The trusted metadata files in `remotes/origin/` (not `partial/`), name to bytes.
  func trustedFiles() -> [String: Data] {
    var files: [String: Data] = [:]
    for name in (try? FileManager.default.contentsOfDirectory(atPath: trusted)) ?? [] where name.hasSuffix(".json") {
      files[name] = FileManager.default.contents(atPath: trusted + "/" + name)
    }
    return files
  }

  /// The store key the client's `current` leads to (current -> generation -> store/KEY), or nil.
  func currentKey() -> String? {
    guard let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: client + "/current") else { return nil }
    let generation = resolved.hasPrefix("/") ? resolved : client + "/" + resolved
    guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: generation) else { return nil }
    return target.split(separator: "/").last.map(String.init)
  }

  /// The digests of the contents a pull verified so far in `remotes/origin/partial/`: the
  /// objects named by digest in `objects/`, and each regular file of `tree/` (a download goes
  /// there, to its first use, once it verified), hashed here.
  func verifiedPartialObjects() -> Set<String> {
    var verified = Set(((try? FileManager.default.contentsOfDirectory(atPath: trusted + "/partial/objects")) ?? []).filter(Rel.isKey))
    let tree = trusted + "/partial/tree"
    for path in FileManager.default.subpaths(atPath: tree) ?? [] {
      var st = stat()
      guard lstat(tree + "/" + path, &st) == 0, st.st_mode & S_IFMT == S_IFREG, let digest = try? SrvSite.sha256(tree + "/" + path) else { continue }
      verified.insert(digest)
    }
    return verified
  }

  /// The digests of every object in the remote directory (`objects/ab/cdef...` as `abcdef...`).
  func remoteObjects() -> [String] {
    var out: [String] = []
    for fan in (try? FileManager.default.contentsOfDirectory(atPath: remoteDirectory + "/objects")) ?? [] {
      for rest in (try? FileManager.default.contentsOfDirectory(atPath: remoteDirectory + "/objects/" + fan)) ?? [] {
        out.append(fan + rest)
      }
    }
    return out.sorted()
  }

  /// Object digests among request lines (`GET /objects/ab/cdef...`, or through the proxy).
  static func objectDigests(_ lines: [String]) -> [String] {
    lines.compactMap { line in
      guard let range = line.range(of: "/objects/") else { return nil }
      let path = line[range.upperBound...].split(separator: " ").first ?? ""
      let parts = path.split(separator: "/")
      return parts.count == 2 ? String(parts[0] + parts[1]) : nil
    }
  }

  /// The SHA-256 of a file, by coreutils.
  static func sha256(_ path: String) throws -> String {
    let out = try ProcessRunner.run("/usr/bin/sha256sum", [path]).requireSuccess("sha256sum \(path)")
    return String(out.stdoutText.prefix(64))
  }
}

/// Every process whose parent is `pid`, and theirs, from /proc.
func srvDescendants(of pid: pid_t) -> [pid_t] {
  var parents: [pid_t: [pid_t]] = [:]
  for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
    guard let child = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { continue }
    // "PID (comm) STATE PPID ...": the command may hold spaces and parentheses; the last ")" ends it.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    if fields.count > 1, let parent = pid_t(fields[1]) { parents[parent, default: []].append(child) }
  }
  var out: [pid_t] = []
  var queue = [pid]
  while let next = queue.popLast() {
    for child in parents[next] ?? [] {
      out.append(child)
      queue.append(child)
    }
  }
  return out
}

