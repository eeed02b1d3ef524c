import ArgumentParser
import MCPGenKit
import MCPGenRemote
import MCPGenTerminal
import SystemPackage

/// `mcp-gen publish`: writes a TUF remote (store-layout.md section 14) that any static web server
/// can serve: `publish init DIR`, `publish DIR RELEASE`, `publish DIR --refresh`,
/// `publish DIR --rotate-root`.
struct PublishCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "publish",
    _superCommandName: superCommand,
    abstract: "Publish stored releases to a signed remote directory (TUF) for mcp-gen pull.",
    usage: """
      mcp-gen publish init <dir> --root-key <file> [--root-key <file> ... --threshold <n>] --targets-key <file> --online-key <file>
      mcp-gen publish <dir> <release> [--channel <name> ...] --targets-key <file> --online-key <file>
      mcp-gen publish <dir> --refresh --online-key <file>
      mcp-gen publish <dir> --rotate-root --root-key <file> ... [--new-root-key <file> ... [--new-threshold <n>]] [--new-targets-key <file>] [--new-online-key <file>] [--online-key <file>]
      """,
    discussion: """
      <release> is a stored release of the root: a generation number, a store key or prefix, or \
      a label. Each publish gives its target a custom.sequence one higher than any before; a \
      channel (default stable) means its highest-sequence release. Objects are copied only when \
      the remote lacks them; the timestamp is written last, so a client sees the old release \
      or the new one. --refresh re-signs snapshot and timestamp (run it from a timer: \
      contrib/systemd/mcp-gen-publish-refresh.timer). --rotate-root writes the next root with new \
      root, targets or online keys, signed by the old and new root keys; a new targets or online \
      key also re-signs targets, snapshot and timestamp with it (a new targets key alone needs \
      the current --online-key). Every publish holds DIR/.publish.lock. A remote \
      directory literally named init is given as ./init.
      """
  )

  @OptionGroup var global: GlobalOptions

  @Argument(help: ArgumentHelp("init DIR, or DIR [RELEASE]: the remote directory and the release (N, key or label) to publish.", valueName: "dir"))
  var words: [String] = []

  @Option(help: ArgumentHelp("A root key file: with init, the first root's keys (repeat for several); with --rotate-root, the current root keys that sign the new root.", valueName: "file"))
  var rootKey: [String] = []

  @Option(help: ArgumentHelp("With init: how many root keys must sign a new root (default 1).", valueName: "n"))
  var threshold: Int = 1

  @Option(help: ArgumentHelp("The targets key file (signs the list of releases).", valueName: "file"))
  var targetsKey: String?

  @Option(help: ArgumentHelp("The online key file (signs snapshot and timestamp).", valueName: "file"))
  var onlineKey: String?

  @Option(help: ArgumentHelp("A channel the release is published on (repeat for several; default stable).", valueName: "name"))
  var channel: [String] = []

  @Flag(help: "Re-sign snapshot and timestamp with fresh expiry dates (needs only --online-key).")
  var refresh = false

  @Flag(help: "Write the next root version with new root, targets or online keys, signed by the old and the new root keys.")
  var rotateRoot = false

  @Option(help: ArgumentHelp("With --rotate-root: a key file of the new root role (repeat for several).", valueName: "file"))
  var newRootKey: [String] = []

  @Option(help: ArgumentHelp("With --rotate-root: how many new root keys must sign (default: the old threshold, at most the number of new keys).", valueName: "n"))
  var newThreshold: Int?

  @Option(help: ArgumentHelp("The new targets key file of a --rotate-root (targets are signed again with it).", valueName: "file"))
  var newTargetsKey: String?

  @Option(help: ArgumentHelp("The new online key file of a --rotate-root (snapshot and timestamp are signed again with it).", valueName: "file"))
  var newOnlineKey: String?

  @Option(help: ArgumentHelp("How long a new root stays valid (default 365d).", valueName: "duration"))
  var rootExpires: String?

  @Option(help: ArgumentHelp("How long new targets metadata stays valid (default 365d).", valueName: "duration"))
  var targetsExpires: String?

  @Option(help: ArgumentHelp("How long a new snapshot stays valid (default 7d).", valueName: "duration"))
  var snapshotExpires: String?

  @Option(help: ArgumentHelp("How long a new timestamp stays valid (default 1d; e.g. 12h).", valueName: "duration"))
  var timestampExpires: String?

  enum Mode { case initialize, publish, refresh, rotateRoot }

  var mode: Mode {
    if words.first == "init" && words.count == 2 && !refresh && !rotateRoot { return .initialize }
    if refresh { return .refresh }
    if rotateRoot { return .rotateRoot }
    return .publish
  }

  func validate() throws {
    if refresh && rotateRoot { throw ValidationError("--refresh and --rotate-root do one thing each; run them one after the other") }
    switch mode {
    case .initialize:
      if rootKey.isEmpty || targetsKey == nil || onlineKey == nil {
        throw ValidationError("publish init DIR needs --root-key, --targets-key and --online-key")
      }
      if threshold < 1 || threshold > rootKey.count {
        throw ValidationError("--threshold must be between 1 and the number of --root-key files (\(rootKey.count))")
      }
    case .publish:
      guard words.count == 2 else { throw ValidationError("publish takes the remote directory and one release: mcp-gen publish DIR RELEASE") }
      if targetsKey == nil || onlineKey == nil { throw ValidationError("publish DIR RELEASE needs --targets-key and --online-key") }
    case .refresh:
      guard words.count == 1 else { throw ValidationError("publish DIR --refresh takes only the remote directory") }
      if onlineKey == nil { throw ValidationError("--refresh needs --online-key") }
    case .rotateRoot:
      guard words.count == 1 else { throw ValidationError("publish DIR --rotate-root takes only the remote directory") }
      if rootKey.isEmpty || (newRootKey.isEmpty && newTargetsKey == nil && newOnlineKey == nil) {
        throw ValidationError("--rotate-root needs --root-key (the current root keys) and a new key: --new-root-key, --new-targets-key or --new-online-key")
      }
      if newThreshold != nil && newRootKey.isEmpty { throw ValidationError("--new-threshold applies to --new-root-key keys; give them") }
      if newTargetsKey != nil && newOnlineKey == nil && onlineKey == nil {
        throw ValidationError("a new targets key needs snapshot and timestamp signed again: give --online-key (the current one) or --new-online-key")
      }
    }
    if mode != .rotateRoot && (newTargetsKey != nil || newOnlineKey != nil || !newRootKey.isEmpty) {
      throw ValidationError("--new-root-key, --new-targets-key and --new-online-key apply only to --rotate-root")
    }
    if mode != .publish && !channel.isEmpty { throw ValidationError("--channel applies only to publishing a release") }
    for name in channel where name.isEmpty || name.utf8.count > 64 || name.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }) {
      throw ValidationError("--channel takes a name of 1 to 64 bytes without spaces or control characters, not '\(name)'")
    }
    for (name, value) in [("--root-expires", rootExpires), ("--targets-expires", targetsExpires), ("--snapshot-expires", snapshotExpires), ("--timestamp-expires", timestampExpires)] {
      if let value, (TimeSpec.duration(value) ?? 0) <= 0 {
        throw ValidationError("\(name) takes a duration such as 7d, 12h or 90m, not '\(value)'")
      }
    }
  }

  var expiry: Expiry {
    var e = Expiry()
    if let d = rootExpires.flatMap(TimeSpec.duration) { e.root = d }
    if let d = targetsExpires.flatMap(TimeSpec.duration) { e.targets = d }
    if let d = snapshotExpires.flatMap(TimeSpec.duration) { e.snapshot = d }
    if let d = timestampExpires.flatMap(TimeSpec.duration) { e.timestamp = d }
    return e
  }

  func key(_ file: String) throws -> TUFSigner { try KeyFile.load(RawArguments.path(file)) }

  func run() throws {
    let now = Clock.now()
    switch mode {
    case .initialize:
      let path = RawArguments.path(words[1])
      let roots = try rootKey.map(key)
      let targets = try key(targetsKey!), online = try key(onlineKey!)
      let v = try Publisher.initialize(path, rootKeys: roots, threshold: threshold, targetsKey: targets, onlineKey: online, expiry: expiry, now: now)
      if global.json {
        Output.json(.object([
          ("remote", .string(path.bytes)), ("root", .int(v.root)), ("targets", .int(v.targets)), ("snapshot", .int(v.snapshot)),
          ("timestamp", .int(v.timestamp)), ("rootKeys", .array(roots.map { .string($0.keyID) })), ("threshold", .int(Int64(threshold))),
          ("targetsKey", .string(targets.keyID)), ("onlineKey", .string(online.keyID)),
        ]))
      } else {
        Output.line("created remote \(path.displayString): root version 1 (\(roots.count) root keys, threshold \(threshold)), no releases yet")
      }
    case .publish:
      let path = RawArguments.path(words[0])
      let remote = try RemoteDirectory.open(path)
      let targets = try key(targetsKey!), online = try key(onlineKey!)
      let store = try global.openStore(create: false)
      let releaseKey = try Self.resolve(words[1], in: store)
      let p = try Publisher(remote: remote, expiry: expiry, lockTimeout: global.lockTimeout, now: now)
        .publish(releaseKey, from: store, channels: channel, targetsKey: targets, onlineKey: online)
      if global.json {
        Output.json(.object([
          ("remote", .string(path.bytes)), ("key", .string(p.key.hex)), ("target", .string(p.target)),
          ("label", p.label.map(JSON.string) ?? .null), ("channels", .array(p.channels.map(JSON.string))),
          ("sequence", .int(p.sequence)), ("size", .int(Int64(clamping: p.size))), ("objects", .int(Int64(p.objects))),
          ("newObjects", .int(Int64(p.addedObjects))), ("newBytes", .int(Int64(clamping: p.addedBytes))),
          ("targets", .int(p.targetsVersion)), ("snapshot", .int(p.snapshotVersion)), ("timestamp", .int(p.timestampVersion)),
        ]))
      } else {
        let label = p.label.map { " (\($0))" } ?? ""
        Output.line("published \(p.key.short)\(label) on \(p.channels.joined(separator: ", ")) as sequence \(p.sequence): \(p.addedObjects) of \(p.objects) objects new (\(Output.bytes(p.addedBytes))); targets \(p.targetsVersion), snapshot \(p.snapshotVersion), timestamp \(p.timestampVersion)")
      }
    case .refresh:
      let path = RawArguments.path(words[0])
      let online = try key(onlineKey!)
      let e = expiry
      let v = try Publisher(remote: try RemoteDirectory.open(path), expiry: e, lockTimeout: global.lockTimeout, now: now).refresh(onlineKey: online)
      if global.json {
        Output.json(.object([
          ("remote", .string(path.bytes)), ("snapshot", .int(v.snapshot)), ("timestamp", .int(v.timestamp)),
          ("snapshotExpires", .string(Clock.format(now + e.snapshot))), ("timestampExpires", .string(Clock.format(now + e.timestamp))),
        ]))
      } else {
        Output.line("refreshed \(path.displayString): snapshot \(v.snapshot) until \(Clock.format(now + e.snapshot)), timestamp \(v.timestamp) until \(Clock.format(now + e.timestamp))")
      }
    case .rotateRoot:
      let path = RawArguments.path(words[0])
      let old = try rootKey.map(key)
      let new = Publisher.NewKeys(
        root: newRootKey.isEmpty ? nil : try newRootKey.map(key), rootThreshold: newThreshold, targets: try newTargetsKey.map(key),
        online: try newOnlineKey.map(key))
      // The current online key signs only when a new targets key needs a new snapshot and
      // timestamp and no new online key does it: a private key that signs nothing is not read.
      let online = newTargetsKey != nil && newOnlineKey == nil ? try onlineKey.map(key) : nil
      let v = try Publisher(remote: try RemoteDirectory.open(path), expiry: expiry, lockTimeout: global.lockTimeout, now: now)
        .rotateRoot(oldRootKeys: old, new: new, onlineKey: online)
      let rootKeys = new.root ?? old
      if global.json {
        Output.json(.object([
          ("remote", .string(path.bytes)), ("root", .int(v.root)), ("rootKeys", .array(rootKeys.map { .string($0.keyID) })),
          ("threshold", .int(Int64(v.rootThreshold))), ("targetsKey", new.targets.map { .string($0.keyID) } ?? .null),
          ("onlineKey", new.online.map { .string($0.keyID) } ?? .null), ("targets", .int(v.targets)), ("snapshot", .int(v.snapshot)),
          ("timestamp", .int(v.timestamp)),
        ]))
      } else {
        var rotated = new.root == nil ? [] : ["\(rootKeys.count) root keys, threshold \(v.rootThreshold)"]
        if new.targets != nil { rotated.append("a new targets key, targets \(v.targets)") }
        if new.online != nil { rotated.append("a new online key") }
        if new.targets != nil || new.online != nil { rotated.append("snapshot \(v.snapshot), timestamp \(v.timestamp)") }
        Output.line("wrote root version \(v.root) of \(path.displayString) (\(rotated.joined(separator: "; ")))")
      }
    }
  }

  /// A stored release named as `show` names one (generation number, key or prefix), else by
  /// its label.
  static func resolve(_ text: String, in store: Store) throws(MCPGenError) -> StoreKey {
    let byName: Result<ReleaseReference, MCPGenError> = Result { () throws(MCPGenError) in try store.release(named: text) }
    switch byName {
    case .success(let reference): return reference.key
    case .failure(let error) where error.code != .invalidInput && error.code != .notFound: throw error
    case .failure: break
    }
    let byLabel: Result<StoreKey, MCPGenError> = Result { () throws(MCPGenError) in try store.key(labelled: text) }
    switch byLabel {
    case .success(let key): return key
    case .failure(let error) where error.code != .notFound: throw error
    case .failure:
      throw MCPGenError(.notFound, "no stored release is generation, key or label '\(displayName(Array(text.utf8)))'; see mcp-gen list", hint: "mcp-gen list")
    }
  }
}
