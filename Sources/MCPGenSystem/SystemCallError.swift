import SystemPackage

/// A failed system call: which call, on which path, and the errno it returned.
public struct SystemCallError: Error, Sendable, Equatable, CustomStringConvertible {
  public var call: String
  public var path: FilePath?
  public var errno: Errno

  public init(_ call: String, path: FilePath?, errno: Errno) {
    self.call = call
    self.path = path
    self.errno = errno
  }

  public var description: String {
    if let path { return "\(call) \(path.displayString): \(errno.description)" }
    return "\(call): \(errno.description)"
  }
}

extension Result where Failure == Errno {
  /// Turns an errno into a `SystemCallError` once, where the path is known.
  public func get(_ call: String, _ path: @autoclosure () -> FilePath?) throws(SystemCallError) -> Success {
    switch self {
    case .success(let value): return value
    case .failure(let errno): throw SystemCallError(call, path: path(), errno: errno)
    }
  }
}
