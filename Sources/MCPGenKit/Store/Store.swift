import MCPGenSystem
import Synchronization
import SystemPackage

/// A root directory holding the content-addressed store (layout in store-layout.md).
///
/// Opened once, with its options; everything below is reached through the root's descriptor.
/// Nothing in it changes after opening, so threads may share it.
public final class Store: Sendable {
  public let path: FilePath
  let root: DirectoryFD
  let entries: DirectoryFD
  let manifests: DirectoryFD
  public let options: StoreOptions
  /// The thread holding the root's lock through this value, and how deeply (`withLock` nests).
  private let holder = Mutex<(thread: UInt, depth: Int)>((0, 0))

  static let storeName = Array("store".utf8)
  static let manifestsName = Array("manifests".utf8)
  static let generationsName = Array("generations".utf8)
  public static let tempPrefix = Array(".tmp-".utf8)

  private init(path: FilePath, root: DirectoryFD, entries: DirectoryFD, manifests: DirectoryFD, options: StoreOptions) {
    self.path = path
    self.root = root
    self.entries = entries
    self.manifests = manifests
    self.options = options
  }

  /// Opens the root at `path`. With `create`, makes it and its layout first (like `mkdir -p`);
  /// without, a missing root is a `notFound` error that says how to make one.
  public static func open(_ path: FilePath, create: Bool, options: StoreOptions = StoreOptions()) throws(MCPGenError) -> Store {
    if create { try makeDirectories(path) }
    let root: DirectoryFD
    do {
      root = try DirectoryFD.open(path)
    } catch let e where e.errno == .notDirectory {
      throw MCPGenError(.invalidInput, "root \(path.displayString) is not a directory; pass --root with a directory", path: path, cause: e)
    } catch let e where e.errno == .noSuchFileOrDirectory {
      throw MCPGenError(.notFound, "no store at \(path.displayString) yet; add a release first", hint: "mcp-gen add PATH", path: path, cause: e)
    } catch {
      throw MCPGenError(error, doing: "open root")
    }
    if create {
      try attempt("create the store layout") { () throws(SystemCallError) in
        for name in [storeName, manifestsName, generationsName] { try root.ensureDirectory(name, mode: 0o755) }
      }
    }
    let (entries, manifests) = try attempt("open the store") { () throws(SystemCallError) in
      (try root.openDirectory(storeName), try root.openDirectory(manifestsName))
    }
    return Store(path: path, root: root, entries: entries, manifests: manifests, options: options)
  }

  /// `mkdir -p` of `path`, each new directory 0755 whatever the umask and made durable by an
  /// fsync of its parent: the root, and a remote directory `publish init` creates.
  public static func makeDirectories(_ path: FilePath, doing: String = "create root") throws(MCPGenError) {
    let bytes = path.bytes
    var prefixes: [[UInt8]] = []
    for (i, b) in bytes.enumerated() where b == 0x2F && i > 0 { prefixes.append(Array(bytes[..<i])) }
    prefixes.append(bytes)
    for prefix in prefixes {
      let result = withCString(prefix) { Syscall.mkdirat(Syscall.currentDirectoryFD, $0, 0o755) }
      switch result {
      case .success:
        // 0755 whatever the umask: the service that runs `current/bin/...` must reach the root,
        // and the web server a remote.
        // A new directory is durable only once its parent is synced.
        let (up, name) = splitLast(prefix)
        let parent = FilePath(bytes: !up.isEmpty ? up : prefix.first == 0x2F ? [0x2F] : [0x2E])
        try attempt(doing) { () throws(SystemCallError) in
          let dir = try DirectoryFD.open(parent)
          try dir.openDirectory(name).changeMode(0o755)
          try dir.sync()
        }
      case .failure(let e) where e == .fileExists:
        continue
      case .failure(let e):
        throw MCPGenError(SystemCallError("mkdir", path: FilePath(bytes: prefix), errno: e), doing: doing)
      }
    }
  }

  /// `<root>/store/<key>`.
  public func entryPath(_ key: StoreKey) -> FilePath {
    path.appending(bytes: Store.storeName + [0x2F] + key.bytes)
  }

  public func contains(_ key: StoreKey) throws(MCPGenError) -> Bool {
    try attempt("read the store") { () throws(SystemCallError) in try entries.statIfPresent(key.bytes) != nil }
  }

  /// Every key in `store/`; names that are not keys (temporaries, strays) are skipped.
  public func keys() throws(MCPGenError) -> [StoreKey] {
    try attempt("list the store") { () throws(SystemCallError) in try entries.list() }
      .compactMap { StoreKey(bytes: $0) }
      .sorted()
  }

  /// Resolves a full key or a unique prefix of at least 8 lowercase hex digits.
  public func resolve(_ text: String) throws(MCPGenError) -> StoreKey {
    guard StoreKey.isPrefix(text) else {
      throw MCPGenError(
        .invalidInput,
        "'\(displayName(Array(text.utf8)))' is not a store key: give the full key or at least 8 of its lowercase hex digits",
        hint: "mcp-gen list")
    }
    if let full = StoreKey(text) {
      guard try contains(full) else {
        throw MCPGenError(.notFound, "no store entry \(full); add the release first", hint: "mcp-gen add PATH")
      }
      return full
    }
    let matches = try keys().filter { $0.hex.hasPrefix(text) }
    switch matches.count {
    case 1: return matches[0]
    case 0: throw MCPGenError(.notFound, "no store entry starts with \(text); add the release first", hint: "mcp-gen add PATH")
    default:
      throw MCPGenError(
        .ambiguous,
        "\(text) matches \(matches.count) store entries (\(matches.prefix(3).map(\.short).joined(separator: ", "))…); give more digits",
        hint: "mcp-gen list")
    }
  }

  /// Takes the root's lock for the duration of `body`, waiting up to `options.lockTimeout`; the
  /// lock file names this process and `options.commandLine` meanwhile.
  ///
  /// Nested calls on the thread that holds it run `body` at once: a command that holds the lock
  /// for a longer change (`pull`, which adds and switches inside it) uses the engine's own
  /// `add` and `switch`, which take the lock themselves. A second `flock` on another open file
  /// of the lock would wait for this process's own first one.
  public func withLock<R>(_ body: () throws(MCPGenError) -> R) throws(MCPGenError) -> R {
    let me = Syscall.currentThread()
    let nested = holder.withLock { (h) -> Bool in
      guard h.depth > 0, h.thread == me else { return false }
      h.depth += 1
      return true
    }
    if nested {
      defer { holder.withLock { $0.depth -= 1 } }
      return try body()
    }
    let lock = try StoreLock.acquire(in: root, timeout: options.lockTimeout, commandLine: options.commandLine)
    holder.withLock { $0 = (me, 1) }
    defer {
      holder.withLock { $0 = (0, 0) }
      lock.release()
    }
    return try body()
  }

  /// Whether the calling thread holds the root's lock through `withLock`.
  public var holdsLock: Bool {
    let me = Syscall.currentThread()
    return holder.withLock { $0.depth > 0 && $0.thread == me }
  }

  /// A fresh temporary name: `<prefix><pid>-<random>` (`.tmp-` unless told otherwise); creation
  /// with O_EXCL/mkdir makes it ours.
  public static func temporaryName(prefix: [UInt8] = tempPrefix) -> [UInt8] {
    var rng = SystemRandomNumberGenerator()
    let random = String(rng.next() as UInt64, radix: 16).leftPadded(to: 16)
    return prefix + Array("\(Syscall.processID())-\(random)".utf8)
  }
}
