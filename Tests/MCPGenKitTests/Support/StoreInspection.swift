#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit
import MCPGenSystem
import SystemPackage

/// Reading a root's layout directly from disk, independently of `Store`.
struct RootLayout {
  var root: FilePath

  var storeDirectory: FilePath { root.appending("store") }
  var manifestsDirectory: FilePath { root.appending("manifests") }

  /// Every name in `store/`, keys and anything else (temporaries, strays).
  func storeNames() throws -> [String] {
    try TestDirectory.list(storeDirectory).map { String(decoding: $0, as: UTF8.self) }
  }

  func manifestNames() throws -> [String] {
    try TestDirectory.list(manifestsDirectory).map { String(decoding: $0, as: UTF8.self) }
  }

  /// `lstat` of `store/<key>/<relative>` (`relative` "." is the entry itself).
  func stat(_ key: StoreKey, _ relative: [UInt8]) throws -> stat {
    try TestDirectory.lstat(storeDirectory.appending(key.hex).appending(bytes: relative))
  }
}

extension Store {
  /// `Store.open(create: true)` at `<dir>/root`.
  static func makeTest(
    in dir: TestDirectory, _ name: String = "root", options: StoreOptions = StoreOptions()
  ) throws -> (Store, RootLayout) {
    let store = try Store.open(dir.at(name), create: true, options: options)
    return (store, RootLayout(root: dir.at(name)))
  }
}
