#if canImport(Glibc)
import Glibc
#endif
import CMCPGenShims
import SystemPackage

/// A file written in full before it gets its name, in the way of libglnx's `GLnxTmpfile`.
///
/// It is created unnamed in its final directory (`O_TMPFILE`), so a crash before it is linked
/// leaves nothing behind; `link(as:replacing:)` then gives it its name with `linkat(2)`. Where
/// the file system has no `O_TMPFILE` (or the kernel predates it), it is a named file created
/// exclusively under a temporary name the caller chooses, renamed at the end. Replacing an
/// existing name cannot be done by `linkat`, which refuses an existing target: the file is then
/// linked under a fresh temporary name first and that is renamed over the final one, so readers
/// see the old file or the new one, never neither. Either way, the only leftover a crash can
/// make is a file under the caller's temporary name.
public final class TemporaryFile {
  public let file: FileFD
  private let directory: DirectoryFD
  private let temporaryName: () -> [UInt8]
  /// Its name while it is a named temporary (no `O_TMPFILE`), nil once linked or when unnamed.
  private var named: [UInt8]?
  private var linked = false

  /// Whether the file has no name yet (`O_TMPFILE`).
  public var isUnnamed: Bool { named == nil && !linked }

  /// Creates the file in `directory` with `mode` (exactly: `fchmod`, whatever the umask).
  /// `temporaryName` makes a fresh name for the fallback and for replacing.
  public convenience init(in directory: DirectoryFD, mode: mode_t, temporaryName: @escaping () -> [UInt8]) throws(SystemCallError) {
    try self.init(in: directory, mode: mode, temporaryName: temporaryName, unnamed: true)
  }

  /// `unnamed: false` takes the fallback at once (tests of the path a file system without
  /// `O_TMPFILE` takes).
  init(in directory: DirectoryFD, mode: mode_t, temporaryName: @escaping () -> [UInt8], unnamed tryUnnamed: Bool) throws(SystemCallError) {
    self.directory = directory
    self.temporaryName = temporaryName
    let unnamed = tryUnnamed
      ? withCString([0x2E]) { Syscall.openat(directory.fd, $0, [.writeOnly, OpenFlags(rawValue: mcpgen_o_tmpfile), .closeOnExec, .noFollow], mode) }
      : .failure(.notSupported)
    switch unnamed {
    case .success(let fd):
      file = FileFD(fd: fd, path: directory.path)
    // No O_TMPFILE here: EOPNOTSUPP from the file system, EISDIR or EINVAL from a kernel that
    // does not know the flag.
    case .failure(let e) where e == .notSupported || e == .isDirectory || e == .invalidArgument:
      let name = temporaryName()
      file = try directory.openFile(name, flags: [.writeOnly, .create, .exclusive], mode: mode)
      named = name
    case .failure(let e):
      throw SystemCallError("openat", path: directory.path, errno: e)
    }
    do {
      try file.changeMode(mode)
    } catch {
      discard()
      throw error
    }
  }

  deinit { discard() }

  /// Gives the file its final `name` in its directory: fails with `EEXIST` when the name exists,
  /// unless `replacing`, which replaces it atomically. The caller has made the data durable
  /// (`file.sync()`) before, and makes the name durable (`directory.sync()`) after.
  public func link(as name: [UInt8], replacing: Bool) throws(SystemCallError) {
    precondition(!linked, "a temporary file is linked once")
    if let temp = named {
      if replacing {
        try directory.rename(temp, to: directory, as: name)
      } else {
        try directory.renameNoReplace(temp, to: directory, as: name)
      }
      named = nil
      linked = true
      return
    }
    if !replacing {
      try linkUnnamed(as: name)
      linked = true
      return
    }
    var temp = temporaryName()
    while true {
      do {
        try linkUnnamed(as: temp)
        break
      } catch where error.errno == .fileExists {
        temp = temporaryName()
      }
    }
    do {
      try directory.rename(temp, to: directory, as: name)
    } catch {
      try? directory.unlink(temp)
      throw error
    }
    linked = true
  }

  private func linkUnnamed(as name: [UInt8]) throws(SystemCallError) {
    try withCString(name) { (p) throws(SystemCallError) in
      try Syscall.linkOpenFile(file.fd, directory.fd, p).get("linkat", directory.path.appending(bytes: name))
    }
  }

  /// Removes the named temporary if it was never linked (an unnamed one goes with its
  /// descriptor).
  public func discard() {
    if let temp = named, !linked {
      try? directory.unlink(temp)
      named = nil
    }
  }

  /// Writes `bytes` as the whole file `name` in `directory`, atomically and durably: unnamed
  /// file (or named temporary), `fchmod`, write, `fsync`, link or rename, `fsync` of the
  /// directory. On failure nothing is left but what a crash would leave.
  public static func write(
    _ bytes: [UInt8], mode: mode_t, in directory: DirectoryFD, as name: [UInt8], replacing: Bool,
    temporaryName: @escaping () -> [UInt8]
  ) throws(SystemCallError) {
    let temp = try TemporaryFile(in: directory, mode: mode, temporaryName: temporaryName)
    try temp.file.writeAll(bytes)
    try temp.file.sync()
    try temp.link(as: name, replacing: replacing)
    try directory.sync()
  }
}
