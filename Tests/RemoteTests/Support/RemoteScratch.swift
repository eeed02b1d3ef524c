import Foundation

/// A fresh directory under `<package>/.build-test-scratch/`, removed by `remove()`.
final class RemoteScratch: Sendable {
  let path: String

  init(_ prefix: String = "remote") throws {
    let base = RemoteScratch.packageRoot + "/.build-test-scratch"
    try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    var template = Array((base + "/\(prefix)-XXXXXX").utf8CString)
    guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
      throw HarnessFailure("mkdtemp: \(String(cString: strerror(errno)))")
    }
    path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  func at(_ relative: String) -> String { path + "/" + relative }

  func write(_ relative: String, _ bytes: [UInt8]) throws {
    let file = at(relative)
    try FileManager.default.createDirectory(
      atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    guard FileManager.default.createFile(atPath: file, contents: Data(bytes)) else { throw HarnessFailure("cannot write \(file)") }
  }

  func read(_ relative: String) -> [UInt8]? {
    FileManager.default.contents(atPath: at(relative)).map { Array($0) }
  }

  func remove() { try? FileManager.default.removeItem(atPath: path) }

  /// The package checkout: three levels above this file (Tests/RemoteTests/Support/).
  static let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { url.deleteLastPathComponent() }
    return url.path
  }()
}

struct HarnessFailure: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// Where a program of the test machine is, if installed.
func installedProgram(_ candidates: String...) -> String? {
  candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// `count` bytes of the pattern the fault server sends (0, 1, ..., 255, 0, ...).
func patternBytes(_ count: Int) -> [UInt8] {
  (0..<count).map { UInt8(truncatingIfNeeded: $0) }
}
