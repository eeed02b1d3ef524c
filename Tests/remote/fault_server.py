#!/usr/bin/env python3
"""A small HTTP server (and forward proxy) that misbehaves on request, for the transport tests.

Python standard library only. Usage:

    fault_server.py --log FILE [--upstream URL] [--rules FILE]

It listens on 127.0.0.1 on a free port and prints that port on the first line of stdout. Each
request line (method, target as sent, so a proxied request shows its absolute URL) is appended to
the log file as it arrives, before the answer.

Built-in paths (the last path segments after any proxy host):
    /ok/N            N bytes (the pattern below), Content-Length N
    /wrong/N         N bytes of b"X": the right length, the wrong content
    /cut/N           announces N bytes, sends N/2, closes the connection
    /cut-chunked/N   chunked encoding, N/2 bytes, then closes without the last chunk
    /slow/N          announces N bytes, sends one byte per second
    /stall/N         announces N bytes, sends nothing, keeps the connection open
    /endless         200 without a length, bytes for ever (closed by the client)
    /status/CODE     an empty answer with that status
    /flaky/K/N       503 for the first K requests of that exact path, then /ok/N
Any other path is forwarded to --upstream (the same path appended to it) when given, else 404.

--rules FILE, read again at every request: one rule a line, "SUBSTRING FAULT", where FAULT is
cut, slow, stall, wrong, endless, delay (the right answer after 3 seconds) or a status code: a
forwarded request whose path contains SUBSTRING gets that fault applied to the upstream answer.
Tests edit the file while it runs.
"""

import argparse
import http.server
import socketserver
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

PATTERN = bytes(range(256))


def pattern(n):
    whole, rest = divmod(n, len(PATTERN))
    return PATTERN * whole + PATTERN[:rest]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    flaky_counts = {}
    flaky_lock = threading.Lock()

    def log_message(self, *args):
        pass

    def do_GET(self):
        with open(self.server.log_path, "a") as log:
            log.write("%s %s\n" % (self.command, self.path))
        path = urllib.parse.urlsplit(self.path).path if self.path.startswith("http") else self.path
        parts = [p for p in path.split("/") if p]
        try:
            self.route(path, parts)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def route(self, path, parts):
        kind = parts[0] if parts else ""
        arg = parts[1] if len(parts) > 1 else ""
        if kind == "ok" and arg.isdigit():
            return self.send_body(pattern(int(arg)))
        if kind == "wrong" and arg.isdigit():
            return self.send_body(b"X" * int(arg))
        if kind == "cut" and arg.isdigit():
            return self.cut(pattern(int(arg)))
        if kind == "cut-chunked" and arg.isdigit():
            return self.cut_chunked(pattern(int(arg)))
        if kind == "slow" and arg.isdigit():
            return self.slow(pattern(int(arg)))
        if kind == "stall" and arg.isdigit():
            return self.stall(int(arg))
        if kind == "endless":
            return self.endless()
        if kind == "status" and arg.isdigit():
            return self.send_status(int(arg))
        if kind == "flaky" and arg.isdigit() and len(parts) > 2 and parts[2].isdigit():
            with Handler.flaky_lock:
                seen = Handler.flaky_counts.get(path, 0)
                Handler.flaky_counts[path] = seen + 1
            if seen < int(arg):
                return self.send_status(503)
            return self.send_body(pattern(int(parts[2])))
        if self.server.upstream:
            return self.forward(path)
        return self.send_status(404)

    def headers_for(self, status, length=None, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        if length is not None:
            self.send_header("Content-Length", str(length))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()

    def send_body(self, body):
        self.headers_for(200, len(body))
        self.wfile.write(body)

    def send_status(self, code):
        self.headers_for(code, 0)

    def cut(self, body):
        self.headers_for(200, len(body))
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(2)

    def cut_chunked(self, body):
        self.headers_for(200, None, [("Transfer-Encoding", "chunked")])
        half = body[: len(body) // 2]
        self.wfile.write(b"%x\r\n%s\r\n" % (len(half), half))
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(2)

    def slow(self, body):
        self.headers_for(200, len(body))
        for i in range(len(body)):
            self.wfile.write(body[i : i + 1])
            self.wfile.flush()
            time.sleep(1)

    def stall(self, n):
        self.headers_for(200, n)
        self.wfile.flush()
        time.sleep(3600)

    def endless(self):
        self.headers_for(200, None, [("Connection", "close")])
        self.close_connection = True
        block = pattern(65536)
        while True:
            self.wfile.write(block)

    def rule_for(self, path):
        if not self.server.rules_path:
            return None
        try:
            with open(self.server.rules_path) as rules:
                for line in rules:
                    words = line.split()
                    if len(words) == 2 and words[0] in path:
                        return words[1]
        except FileNotFoundError:
            pass
        return None

    def forward(self, path):
        fault = self.rule_for(path)
        if fault and fault.isdigit():
            return self.send_status(int(fault))
        if fault == "endless":
            return self.endless()
        if fault == "stall":
            return self.stall(1)
        if fault == "delay":
            time.sleep(3)
        # Under a loaded machine the upstream may refuse or reset a connection for a moment: try
        # again rather than drop the client's connection (curl would see an empty reply, which is
        # a fault nobody asked for).
        for attempt in range(10):
            try:
                with urllib.request.urlopen(self.server.upstream + path, timeout=30) as answer:
                    body = answer.read()
                break
            except urllib.error.HTTPError as e:
                return self.send_status(e.code)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if attempt == 9:
                    return self.send_status(502)
                time.sleep(0.2)
        if fault == "cut":
            return self.cut(body)
        if fault == "slow":
            return self.slow(body)
        if fault == "wrong":
            return self.send_body(bytes(b ^ 0xFF for b in body))
        return self.send_body(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog is 5: curl's parallel transfers on a loaded machine overflow
    # it, and the kernel then resets connections the tests never meant to fault.
    request_queue_size = 128


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--upstream")
    parser.add_argument("--rules")
    args = parser.parse_args()
    server = Server(("127.0.0.1", 0), Handler)
    server.log_path = args.log
    server.upstream = args.upstream.rstrip("/") if args.upstream else None
    server.rules_path = args.rules
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
