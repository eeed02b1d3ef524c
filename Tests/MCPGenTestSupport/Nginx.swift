import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// nginx (Debian's package) serving one directory on 127.0.0.1, with its own configuration, pid
/// file, logs and temporary directories in a scratch directory; `stop()` ends it.
///
/// It runs in the foreground (`daemon off`) as a child of the test (`TestProcess`), so a test
/// that dies takes it down with the process group instead of leaving a daemon behind.
public final class Nginx: @unchecked Sendable {
  public static let path = TestEnvironment.tool(["/usr/sbin/nginx", "/usr/bin/nginx"])
  public static var isInstalled: Bool { path != nil }

  /// A certificate and its private key (PEM files): nginx then serves HTTPS.
  public struct TLS: Sendable {
    public var certificate: String
    public var key: String
    public init(certificate: String, key: String) { (self.certificate, self.key) = (certificate, key) }
  }

  public let port: Int
  public let root: String
  public let tls: TLS?
  public let scratch: Scratch
  private let process: TestProcess

  public var url: String { (tls == nil ? "http" : "https") + "://127.0.0.1:\(port)" }

  /// Serves `root` (an absolute directory). Tries a few free ports (another process may take
  /// the one found before nginx binds it).
  public init(serving root: String, tls: TLS? = nil) throws {
    guard let nginx = Nginx.path else { throw TestFailure("nginx is not installed") }
    self.root = root
    self.tls = tls
    scratch = try Scratch()
    var lastError = "no attempt"
    for _ in 0..<5 {
      let port = try freePort()
      let config = scratch.at("nginx.conf")
      try Nginx.configuration(port: port, root: root, scratch: scratch.path, tls: tls)
        .write(toFile: config, atomically: true, encoding: .utf8)
      let process = try TestProcess(
        nginx, ["-p", scratch.path, "-c", config, "-e", scratch.at("error.log")], environment: CLI.environment())
      // nginx writes its pid file once it has bound the port; it exits at once when it cannot.
      let deadline = TestClock.now() + 10
      while TestClock.now() < deadline && !process.poll() && !FileManager.default.fileExists(atPath: scratch.at("nginx.pid")) {
        TestClock.sleep(0.01)
      }
      if !process.poll() && FileManager.default.fileExists(atPath: scratch.at("nginx.pid")) {
        self.port = port
        self.process = process
        return
      }
      process.kill()
      process.wait()
      lastError = (try? String(contentsOfFile: scratch.at("error.log"), encoding: .utf8)) ?? "nginx exited"
    }
    scratch.remove()
    throw TestFailure("nginx did not start: \(lastError)")
  }

  /// Stops nginx (SIGQUIT: graceful, workers included) and removes its scratch directory.
  public func stop() {
    if !process.poll() {
      process.kill(SIGQUIT)
      let deadline = TestClock.now() + 5
      while !process.poll() && TestClock.now() < deadline { TestClock.sleep(0.01) }
      if !process.poll() { process.kill() }
    }
    process.wait()
    scratch.remove()
  }

  /// Requests nginx answered, one access-log line each (`$request $status $body_bytes_sent`,
  /// so `GET /metadata/timestamp.json HTTP/1.1 200 1234`).
  public func accessLog() -> [String] {
    ((try? String(contentsOfFile: scratch.at("access.log"), encoding: .utf8)) ?? "")
      .split(separator: "\n").map(String.init)
  }

  public static func configuration(port: Int, root: String, scratch: String, tls: TLS? = nil) -> String {
    let listen = tls.map { "\(port) ssl;\n      ssl_certificate \($0.certificate);\n      ssl_certificate_key \($0.key);" } ?? "\(port);"
    // As root, workers would switch to `nobody`, who may not enter the test's directories.
    let user = geteuid() == 0 ? "user root;\n" : ""
    return """
      \(user)daemon off;
      master_process on;
      worker_processes 1;
      pid \(scratch)/nginx.pid;
      error_log \(scratch)/error.log warn;
      events { worker_connections 256; }
      http {
        log_format tiny '$request $status $body_bytes_sent';
        access_log \(scratch)/access.log tiny;
        client_body_temp_path \(scratch)/client_body;
        proxy_temp_path \(scratch)/proxy;
        fastcgi_temp_path \(scratch)/fastcgi;
        uwsgi_temp_path \(scratch)/uwsgi;
        scgi_temp_path \(scratch)/scgi;
        types { application/json json; }
        default_type application/octet-stream;
        sendfile on;
        keepalive_requests 100000;
        server {
          listen 127.0.0.1:\(listen)
          root \(root);
          location / { }
        }
      }

      """
  }
}

/// A TCP port nobody listens on at the moment (the kernel's pick, released at once).
public func freePort() throws -> Int {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  guard fd >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
  defer { close(fd) }
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_port = 0
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  let bound = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
  }
  guard bound == 0 else { throw TestFailure("bind: \(String(cString: strerror(errno)))") }
  let named = withUnsafeMutablePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
  }
  guard named == 0 else { throw TestFailure("getsockname: \(String(cString: strerror(errno)))") }
  return Int(UInt16(bigEndian: address.sin_port))
}
