"""Versioned site backends for the asset-pinning tests (asset-pinning.md, "Scenarios").

One SiteTask = one Marathon task of one build (version N = 1, 2, 3): a threaded HTTP/1.1 server
on 127.0.0.1:0 serving

  /  and /index.html       HTML naming vN, referencing /style.css and /assets/app.<hash_N>.js
                           (Cache-Control: max-age=60)
  /assets/app.<hash_N>.js  only in its own version (Cache-Control: max-age=31536000, immutable)
  /style.css               body "vN" (Cache-Control: max-age=300)
  anything else            404 with its own headers (Cache-Control: max-age=120, X-Origin-404: vN)

with a strong ETag per file and version (If-None-Match -> 304 carrying ETag and Cache-Control,
as nginx does), a single Range -> 206 (unsatisfiable -> 416), HEAD, POST -> 404 for unknown
paths and 405 for known ones. Every answer says who made it: X-Version: vN, X-Task: <name>.
Per-path hit counters (GET/HEAD/POST alike, path without query) are readable from the test.
`task.fail_status = 503` makes the task answer every GET/HEAD with that status (0: normal again).

Stdlib only; runs on the pytest thread plus one thread per connection.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCAL = "127.0.0.1"
HASHES = {1: "aaaa1111", 2: "bbbb2222", 3: "cccc3333"}
HTML_CC = "max-age=60"
JS_CC = "max-age=31536000, immutable"
CSS_CC = "max-age=300"
NOT_FOUND_CC = "max-age=120"
# The build's asset manifest (CRA/webpack style), listed in no page: baton reads it when the app
# has BATON_PIN_MANIFEST (asset pinning rule 5).
MANIFEST_PATH = "/asset-manifest.json"


def vname(n: int) -> str:
    return f"v{n}"


def js_path(n: int) -> str:
    return f"/assets/app.{HASHES[n]}.js"


def html_body(n: int) -> bytes:
    return (
        "<!doctype html>\n<html><head>"
        f'<meta name="version" content="v{n}">'
        '<link rel="stylesheet" href="/style.css">'
        f"</head><body><h1>site v{n}</h1>"
        f'<script src="{js_path(n)}"></script>'
        "</body></html>\n"
    ).encode()


def js_body(n: int) -> bytes:
    """Version-stamped, with 4 KiB of filler that differs per version (so ranges are checkable)."""
    head = f'/* app v{n} */\nwindow.SITE_VERSION = "v{n}";\n'.encode()
    filler = b"".join(hashlib.sha256(f"v{n}-{i}".encode()).hexdigest().encode() + b"\n" for i in range(64))
    return head + b"/*" + filler + b"*/\n"


def css_body(n: int) -> bytes:
    return f"v{n}".encode()


def site_files(n: int) -> dict[str, tuple[bytes, str, str]]:
    """path -> (body, content type, Cache-Control) for version n."""
    html = (html_body(n), "text/html; charset=utf-8", HTML_CC)
    return {
        "/": html,
        "/index.html": html,
        js_path(n): (js_body(n), "application/javascript", JS_CC),
        "/style.css": (css_body(n), "text/css", CSS_CC),
    }


def etag_of(n: int, path: str) -> str:
    body = site_files(n)[path][0]
    return f'"v{n}-{hashlib.sha256(body).hexdigest()[:16]}"'


# ---- reading bodies back (used by cdn_sim and the tests) ----

_HTML_VERSION = re.compile(rb'<meta name="version" content="(v\d+)">')
_JS_VERSION = re.compile(rb'window\.SITE_VERSION = "(v\d+)"')
_REFS = re.compile(rb'(?:src|href)="([^"]+)"')


def version_of(path: str, body: bytes) -> str | None:
    """The version a body names ("v2"), or None when it names none."""
    for rx in (_HTML_VERSION, _JS_VERSION):
        m = rx.search(body)
        if m:
            return m.group(1).decode()
    s = body.strip()
    if re.fullmatch(rb"v\d+", s):
        return s.decode()
    return None


def references(html: bytes) -> list[str]:
    """The URLs an HTML body references (src= and href=), in order."""
    return [m.decode() for m in _REFS.findall(html)]


def _parse_range(value: str, size: int) -> tuple[int, int] | None | str:
    """(first, last) of a single `bytes=` range; None = not a single byte range (ignore it);
    "unsatisfiable" when it starts past the end."""
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", value)
    if not m or (not m.group(1) and not m.group(2)):
        return None
    if m.group(1):
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) else size - 1
        if first >= size:
            return "unsatisfiable"
        return first, min(last, size - 1)
    suffix = int(m.group(2))
    if suffix == 0:
        return "unsatisfiable"
    return max(0, size - suffix), size - 1


class SiteTask:
    """One task of version n: `SiteTask(2, "green0")`; .port, .address, .hits, .close()."""

    def __init__(self, n: int, name: str | None = None):
        self.n = n
        self.version = vname(n)
        self.name = name or f"v{n}"
        self.files = site_files(n)
        self.etags = {p: etag_of(n, p) for p in self.files}
        self.hits: Counter = Counter()  # path (no query) -> requests of any method
        self.log: list[tuple[str, str, dict]] = []  # (method, target, headers lower-cased)
        self.cond = threading.Condition()
        # Nonzero: every GET/HEAD is answered with this status (a task going bad: e.g. 503, which
        # baton's passive outlier ejection counts).
        self.fail_status = 0
        outer = self

        class Handler(_Handler):
            task = outer

        self._server = ThreadingHTTPServer((LOCAL, 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.address = f"{LOCAL}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    # ---- inspection ----
    def hit_count(self, path: str) -> int:
        with self.cond:
            return self.hits[path]

    def total(self) -> int:
        with self.cond:
            return sum(self.hits.values())

    def wait_hits(self, path: str, n: int, timeout: float = 5.0) -> int:
        with self.cond:
            if not self.cond.wait_for(lambda: self.hits[path] >= n, timeout):
                raise AssertionError(f"{self.name}: {self.hits[path]} hits on {path}, wanted {n}")
            return self.hits[path]

    def reset(self) -> None:
        with self.cond:
            self.hits.clear()
            self.log.clear()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _record(self, method: str, target: str, headers: dict) -> None:
        with self.cond:
            self.hits[target.split("?", 1)[0]] += 1
            self.log.append((method, target, headers))
            self.cond.notify_all()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    task: SiteTask

    def log_message(self, *args):  # quiet
        pass

    def _headers(self) -> dict:
        return {k.lower(): v for k, v in self.headers.items()}

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]], head_only: bool = False) -> None:
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("X-Version", self.task.version)
        self.send_header("X-Task", self.task.name)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head_only and status not in (204, 304):
            self.wfile.write(body)

    def _not_found(self, head_only: bool) -> None:
        v = self.task.version
        self._send(404, f"not found ({v})\n".encode(),
                   [("Content-Type", "text/plain"), ("Cache-Control", NOT_FOUND_CC), ("X-Origin-404", v)],
                   head_only)

    def _serve(self, head_only: bool) -> None:
        path = self.path.split("?", 1)[0]
        self.task._record(self.command, self.path, self._headers())
        if self.task.fail_status:
            return self._send(self.task.fail_status, b"failing\n", [("Content-Type", "text/plain")], head_only)
        if path == MANIFEST_PATH:
            n = self.task.n
            doc = {"files": {"main.js": js_path(n), "main.css": "/style.css", "index.html": "/index.html"},
                   "entrypoints": [js_path(n).lstrip("/")]}
            return self._send(200, json.dumps(doc).encode(), [("Content-Type", "application/json")], head_only)
        f = self.task.files.get(path)
        if f is None:
            return self._not_found(head_only)
        body, ctype, cc = f
        etag = self.task.etags[path]
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            if "*" in tags or etag in tags or ("W/" + etag) in tags:
                return self._send(304, b"", [("ETag", etag), ("Cache-Control", cc)], head_only)
        common = [("Content-Type", ctype), ("Cache-Control", cc), ("ETag", etag), ("Accept-Ranges", "bytes")]
        rng = self.headers.get("Range")
        if rng is not None:
            r = _parse_range(rng, len(body))
            if r == "unsatisfiable":
                return self._send(416, b"", [("Content-Range", f"bytes */{len(body)}"), ("ETag", etag)], head_only)
            if r is not None:
                first, last = r
                return self._send(206, body[first : last + 1],
                                  common + [("Content-Range", f"bytes {first}-{last}/{len(body)}")], head_only)
        self._send(200, body, common, head_only)

    def do_GET(self):
        self._serve(False)

    def do_HEAD(self):
        self._serve(True)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        path = self.path.split("?", 1)[0]
        self.task._record("POST", self.path, self._headers())
        if path not in self.task.files:
            return self._not_found(False)
        self._send(405, b"method not allowed\n", [("Content-Type", "text/plain"), ("Allow", "GET, HEAD")])
