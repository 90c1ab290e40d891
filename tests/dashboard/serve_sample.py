#!/usr/bin/python3
"""The dashboard's offline check: serves proxy/admin/dashboard.html and a live-looking /status
built from sample_status.json (counters grow on every read) plus the write API the buttons call,
so the page can be developed and driven by dashboard.spec.mjs without a baton.

Usage: serve_sample.py [PORT]   (0 = any; prints "http://127.0.0.1:PORT/" once listening)
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
PAGE = os.path.join(HERE, "..", "..", "proxy", "admin", "dashboard.html")
lock = threading.Lock()
# SAMPLE_STATUS=file serves another document (e.g. a sparse one: the page must not throw).
with open(os.environ.get("SAMPLE_STATUS") or os.path.join(HERE, "sample_status.json")) as f:
    status = json.load(f)
status["started_unix_ms"] = int(time.time() * 1000) - 3 * 86400 * 1000 - 4 * 3600 * 1000
reads = 0


def grow(item, n: int) -> None:
    traffic = item.get("traffic") if isinstance(item, dict) else None
    if not traffic:
        return
    traffic["requests"]["2xx"] += n
    traffic["requests"]["5xx"] += n // 50
    traffic["total"] += n + n // 50


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def send(self, code: int, body: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        global reads
        path = urllib.parse.urlsplit(self.path).path
        if path in ("/", "/dashboard"):
            with open(PAGE, "rb") as f:
                self.send(200, f.read(), "text/html; charset=utf-8")
        elif path == "/status":
            with lock:
                reads += 1
                status["now_unix_ms"] = int(time.time() * 1000)
                for part in ("listeners", "routes", "clusters"):
                    for i, item in enumerate(status.get(part, [])):
                        grow(item, 40 * (i + 1))
                for c in status.get("clusters", []):
                    for i, h in enumerate(c.get("hosts", []) if isinstance(c, dict) else []):
                        if isinstance(h, dict) and h.get("state", "ready") == "ready":
                            grow(h, 15 * (i + 1))
                body = json.dumps(status).encode()
            self.send(200, body, "application/json")
        else:
            self.send(404, b"not found\n", "text/plain")

    def do_POST(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        with lock:
            if url.path == "/api/host/state":
                for c in status.get("clusters", []):
                    for h in c.get("hosts", []) if isinstance(c, dict) else []:
                        if isinstance(h, dict) and c.get("name") == q.get("cluster") and q.get("host") in (h.get("name"), h.get("address")):
                            h["admin_state"] = h["state"] = q["state"]
                            return self.answer(200, True, f"host {c['name']}/{h['name']} set to {q['state']}")  # noqa: E501
                return self.answer(404, False, "no such host", "notfound")
            if url.path == "/api/log-level":
                status["log_level"] = q.get("level", "info")
                return self.answer(200, True, "log level " + status["log_level"])
        self.answer(200, True, "done")

    def answer(self, code: int, ok: bool, message: str, word: str = "") -> None:
        body = {"ok": ok, "message": message}
        if word:
            body["error"] = word
        self.send(code, json.dumps(body).encode(), "application/json")


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
    print(f"http://127.0.0.1:{server.server_address[1]}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
