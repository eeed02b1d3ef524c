import MCPGenSystem
import SystemPackage

extension DirectoryFD {
  /// Opens one of the root's own files (the journal, the configuration), which must be a regular
  /// file; nil when there is none. Anything else in its place (a FIFO that would hang every
  /// command, a symbolic link that could point it at another file, a directory, a device) is an
  /// error that names the path, says what is there, and says to move it away.
  func openRegular(
    _ name: [UInt8], flags: OpenFlags, mode: UInt32 = 0, what: String, doing action: String, fix: String
  ) throws(MCPGenError) -> FileFD? {
    let opened: RegularFileOpening
    do {
      opened = try openRegularFile(name, flags: flags, mode: mode)
    } catch where error.errno == .noSuchFileOrDirectory && !flags.contains(.create) {
      return nil
    } catch {
      throw MCPGenError(error, doing: action)
    }
    switch opened {
    case .regular(let file): return file
    case .other(let type): throw MCPGenError.notRegularFile(path.appending(bytes: name), type, what: what, fix: fix)
    }
  }
}

extension MCPGenError {
  /// `path` should be `what`, a regular file, but is a file of type `type`.
  static func notRegularFile(_ path: FilePath, _ type: FileKind, what: String, fix: String) -> MCPGenError {
    let shown = path.displayString
    let aside = "mv \(Doctor.shellWord(path)) \(Doctor.shellWord(FilePath(bytes: path.bytes + Array(".broken".utf8))))"
    if type == .symlink {
      return MCPGenError(
        .unsupportedFileType,
        "\(shown) is a symbolic link, and mcp-gen does not follow links there (\(what) must be a regular file in the root); put the file itself in its place, or move the link away, \(fix)",
        hint: aside, path: path)
    }
    let kind: String
    switch type {
    case .fifo: kind = "a FIFO (named pipe)"
    case .directory: kind = "a directory"
    case .socket: kind = "a socket"
    case .characterDevice: kind = "a character device"
    case .blockDevice: kind = "a block device"
    default: kind = "a file of an unknown type"
    }
    return MCPGenError(
      .unsupportedFileType,
      "\(shown) is \(kind), not a regular file, so mcp-gen will not read it as \(what); move it away \(fix)",
      hint: aside, path: path)
  }
}
