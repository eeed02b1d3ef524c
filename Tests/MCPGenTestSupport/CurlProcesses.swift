import Foundation

/// The running curl processes whose command line or configuration contains `needle`: a batch's
/// URLs are in its configuration, read from its stdin, so that is looked at too. Tests use it to
/// show that no curl of theirs outlives a kill, a stop or a cancel.
public func curlProcesses(containing needle: String) -> [Int32] {
  let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
  return entries.compactMap { Int32($0) }.filter { pid in
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
    let words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    guard let first = words.first, first.hasSuffix("curl") else { return false }
    if words.contains(where: { $0.contains(needle) }) { return true }
    return (try? String(contentsOfFile: "/proc/\(pid)/fd/0", encoding: .utf8))?.contains(needle) ?? false
  }
}
