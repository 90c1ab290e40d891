#!/usr/bin/env python3
"""A tiny demo backend: answers every request with its name and what it received.

Used by scripts/demo.sh only (the integration tests have their own byte-exact backends).
"""
import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "baton-demo"

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body_in = self.rfile.read(length) if length else b""
        lines = [
            f"hello from {self.server.name}",
            f"request line: {self.requestline!r}",
            f"X-Forwarded-For: {self.headers.get('X-Forwarded-For')}",
            f"X-Request-Id: {self.headers.get('X-Request-Id')}",
            f"body bytes: {len(body_in)}",
        ]
        body = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

    def log_message(self, fmt, *args):
        pass


def main():
    name, port = sys.argv[1], int(sys.argv[2])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.name = name
    server.serve_forever()


if __name__ == "__main__":
    main()
