"""Integration-test harness for baton: an echo backend, the baton process, raw HTTP/1 clients.

Everything here is stdlib only (Debian's python3, no pip). Every socket operation has a timeout and
nothing sleeps where an event can be awaited: the backend signals recorded requests through a
condition variable, baton signals readiness and reloads through --ready-fd, and clients block on
recv() with a timeout.

Used by conftest.py (fixtures) and the test_*.py files; runs on the pytest thread plus one thread
per backend connection.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import signal
import socket
import subprocess
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Callable, Iterable

TIMEOUT = 5.0  # default for every socket operation and every wait on an event
LOCAL = "127.0.0.1"


class ProtocolError(Exception):
    """The peer sent bytes our minimal HTTP/1 parser cannot make sense of."""


class Closed(Exception):
    """The peer closed the connection (EOF or reset) before we got what we wanted."""


# --------------------------------------------------------------------------------------------
# Buffered reader over a socket: lines for heads, exact counts for bodies, streaming for big ones.
# --------------------------------------------------------------------------------------------
class SockReader:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = bytearray()
        self.pos = 0

    def _avail(self) -> int:
        return len(self.buf) - self.pos

    def _fill(self, hint: int = 262144) -> None:
        try:
            data = self.sock.recv(hint)
        except (ConnectionResetError, BrokenPipeError) as e:
            raise Closed(str(e)) from e
        if not data:
            raise Closed("EOF")
        if self.pos and self.pos > len(self.buf) // 2:
            del self.buf[: self.pos]
            self.pos = 0
        self.buf += data

    def readline(self, limit: int = 1 << 20) -> bytes:
        """One line including its LF (the caller decides whether a bare LF is acceptable)."""
        while True:
            i = self.buf.find(b"\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos : i + 1])
                self.pos = i + 1
                return line
            if self._avail() > limit:
                raise ProtocolError("line too long")
            self._fill()

    def read_exact(self, n: int) -> bytes:
        while self._avail() < n:
            self._fill(max(65536, min(n - self._avail(), 1 << 20)))
        out = bytes(self.buf[self.pos : self.pos + n])
        self.pos += n
        return out

    def read_some(self, n: int) -> bytes:
        """Up to n bytes: buffered ones first, else one recv (no copy through the buffer)."""
        if self._avail():
            k = min(n, self._avail())
            out = bytes(self.buf[self.pos : self.pos + k])
            self.pos += k
            return out
        try:
            data = self.sock.recv(min(n, 1 << 20))
        except (ConnectionResetError, BrokenPipeError) as e:
            raise Closed(str(e)) from e
        if not data:
            raise Closed("EOF")
        return data

    def pending(self) -> bytes:
        return bytes(self.buf[self.pos :])


class BodyDigest:
    """Length + sha256 (+ the first bytes, for small bodies) of a body seen in pieces."""

    KEEP = 1 << 16

    def __init__(self, fast: bool = False):
        self.length = 0
        self.fast = fast
        self._h = None if fast else hashlib.sha256()
        self._crc = 0
        self.head = bytearray()

    def update(self, data: bytes) -> None:
        self.length += len(data)
        if self.fast:
            self._crc = zlib.crc32(data, self._crc)
        else:
            self._h.update(data)
        if len(self.head) < self.KEEP:
            self.head += data[: self.KEEP - len(self.head)]

    @property
    def hexdigest(self) -> str:
        return f"crc32:{self._crc:08x}" if self.fast else self._h.hexdigest()


def read_head(r: SockReader, allow_bare_lf: bool = True) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """Start line + header list (names/values as bytes, values stripped of OWS)."""
    start = r.readline()
    if not start.endswith(b"\r\n") and not allow_bare_lf:
        raise ProtocolError(f"bare LF in start line {start!r}")
    start = start.rstrip(b"\r\n")
    headers: list[tuple[bytes, bytes]] = []
    while True:
        line = r.readline()
        if line in (b"\r\n", b"\n"):
            return start, headers
        line = line.rstrip(b"\r\n")
        if b":" not in line:
            raise ProtocolError(f"bad header line {line!r}")
        name, value = line.split(b":", 1)
        headers.append((name, value.strip(b" \t")))


def header_values(headers: Iterable[tuple[bytes, bytes]], name: str) -> list[bytes]:
    n = name.lower().encode()
    return [v for k, v in headers if k.lower() == n]


def read_chunked(
    r: SockReader, sink: Callable[[bytes], None], strict: bool = True, exts: list | None = None
) -> list:
    """Reads a chunked body into sink; returns the trailer fields. Chunk extensions seen are
    appended to `exts` when given."""
    while True:
        line = r.readline(limit=65536)
        if strict and not line.endswith(b"\r\n"):
            raise ProtocolError(f"bare LF in chunk line {line!r}")
        size_text, semi, ext = line.rstrip(b"\r\n").partition(b";")
        if semi and exts is not None:
            exts.append(ext)
        size_text = size_text.strip()
        try:
            size = int(size_text, 16)
        except ValueError as e:
            raise ProtocolError(f"bad chunk size {line!r}") from e
        if size == 0:
            trailers = []
            while True:
                t = r.readline()
                if t in (b"\r\n", b"\n"):
                    return trailers
                k, _, v = t.rstrip(b"\r\n").partition(b":")
                trailers.append((k, v.strip()))
        left = size
        while left:
            piece = r.read_some(min(left, 1 << 20))
            sink(piece)
            left -= len(piece)
        if r.read_exact(2) != b"\r\n":
            raise ProtocolError("chunk data not followed by CRLF")


# --------------------------------------------------------------------------------------------
# The echo backend.
# --------------------------------------------------------------------------------------------
@dataclass
class Recorded:
    """One request exactly as the backend received it."""

    backend: str
    conn_id: int
    seq: int  # index within its connection, from 0
    request_line: bytes
    headers: list[tuple[bytes, bytes]]
    body_len: int = 0
    body_sha256: str = ""
    body_head: bytes = b""  # the first 64 KiB of the body
    complete: bool = True  # False when the connection ended before the body did
    chunked: bool = False
    content_length: int | None = None
    trailers: list = field(default_factory=list)
    chunk_exts: list = field(default_factory=list)

    @property
    def method(self) -> bytes:
        return self.request_line.split(b" ", 1)[0]

    @property
    def target(self) -> bytes:
        parts = self.request_line.split(b" ")
        return parts[1] if len(parts) > 1 else b""

    @property
    def version(self) -> bytes:
        return self.request_line.rsplit(b" ", 1)[-1]

    def header(self, name: str) -> bytes | None:
        vals = header_values(self.headers, name)
        return vals[0] if vals else None

    def header_all(self, name: str) -> list[bytes]:
        return header_values(self.headers, name)

    def has(self, name: str) -> bool:
        return bool(header_values(self.headers, name))


@dataclass
class Behaviour:
    """What the backend answers for requests whose raw target starts with a given prefix.

    Defaults: 200 with a JSON body describing the request (see Backend._echo_body)."""

    status: int = 200
    headers: list = field(default_factory=list)  # extra (name, value) str pairs
    body: bytes | None = None  # fixed body; None = JSON echo
    body_size: int | None = None  # generated body of N bytes, streamed in 1 MiB pieces
    chunked: bool = False  # send the body chunked instead of with Content-Length
    chunk_size: int = 1 << 16
    first_byte_wait: float = 0.0  # wait this long on Backend.release before answering
    stall_after: int | None = None  # body bytes sent before stalling on release, then close
    close_without_response: bool = False
    raw: bytes | None = None  # exact bytes to send instead of a response (then close)
    send_100: bool = True  # answer `Expect: 100-continue` with an interim 100 ourselves
    read_body: bool = True


PATTERN = bytes(range(256)) * 4096  # 1 MiB of a known pattern for generated bodies


def pattern_bytes(offset: int, n: int) -> bytes:
    """The generated-body bytes [offset, offset+n) (bodies repeat PATTERN)."""
    out = bytearray()
    while n:
        o = offset % len(PATTERN)
        k = min(n, len(PATTERN) - o)
        out += PATTERN[o : o + k]
        offset += k
        n -= k
    return bytes(out)


class Backend:
    """A threaded raw-socket HTTP/1.1 origin on 127.0.0.1:0 that records what it receives."""

    def __init__(self, name: str = "b0"):
        self.name = name
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((LOCAL, 0))
        self.lsock.listen(256)
        self.port = self.lsock.getsockname()[1]
        self.address = f"{LOCAL}:{self.port}"
        self.requests: list[Recorded] = []
        self.heads: list[Recorded] = []  # recorded as soon as the head is parsed
        self.errors: list[str] = []
        self.connections = 0
        self.body_bytes_sent = 0  # generated/fixed response body bytes written so far (all conns)
        self.behaviours: dict[bytes, Behaviour] = {}
        self.default = Behaviour()
        self.release = threading.Event()  # ends first_byte_wait / stall_after waits
        self.cond = threading.Condition()
        self._closing = False
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    # ---- scripting -------------------------------------------------------------------------
    def on(self, prefix: str | bytes, **kw) -> Behaviour:
        """Scripts the answer for targets starting with prefix (longest prefix wins)."""
        if isinstance(prefix, str):
            prefix = prefix.encode()
        b = Behaviour(**kw)
        self.behaviours[prefix] = b
        return b

    def _behaviour_for(self, target: bytes) -> Behaviour:
        best, best_len = self.default, -1
        for p, b in self.behaviours.items():
            if target.startswith(p) and len(p) > best_len:
                best, best_len = b, len(p)
        return best

    # ---- inspection ------------------------------------------------------------------------
    def wait_requests(self, n: int, timeout: float = TIMEOUT) -> list[Recorded]:
        """Blocks until at least n requests were recorded; returns all of them."""
        with self.cond:
            ok = self.cond.wait_for(lambda: len(self.requests) >= n, timeout)
            if not ok:
                raise AssertionError(
                    f"backend {self.name}: expected {n} requests, got {len(self.requests)}: "
                    f"{[r.request_line for r in self.requests]}"
                )
            return list(self.requests)

    def wait_heads(self, n: int, timeout: float = TIMEOUT) -> list[Recorded]:
        with self.cond:
            ok = self.cond.wait_for(lambda: len(self.heads) >= n, timeout)
            if not ok:
                raise AssertionError(f"backend {self.name}: expected {n} heads, got {len(self.heads)}")
            return list(self.heads)

    def wait_connections(self, n: int, timeout: float = TIMEOUT) -> int:
        with self.cond:
            if not self.cond.wait_for(lambda: self.connections >= n, timeout):
                raise AssertionError(f"backend {self.name}: {self.connections} connections < {n}")
            return self.connections

    def clear(self) -> None:
        with self.cond:
            self.requests.clear()
            self.heads.clear()

    def close(self) -> None:
        self._closing = True
        self.release.set()
        try:
            self.lsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.lsock.close()
        with self.cond:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(TIMEOUT)

    # ---- serving ---------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._closing:
            try:
                conn, _ = self.lsock.accept()
            except OSError:
                return
            with self.cond:
                cid = self.connections
                self.connections += 1
                self._conns.append(conn)
                self.cond.notify_all()
            threading.Thread(target=self._serve, args=(conn, cid), daemon=True).start()

    def _serve(self, conn: socket.socket, cid: int) -> None:
        conn.settimeout(30)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        r = SockReader(conn)
        seq = 0
        try:
            while not self._closing:
                try:
                    line, headers = read_head(r)
                except Closed:
                    return
                rec = Recorded(self.name, cid, seq, line, headers)
                seq += 1
                with self.cond:
                    self.heads.append(rec)
                    self.cond.notify_all()
                beh = self._behaviour_for(rec.target)
                keep = self._read_body(conn, r, rec, beh)
                with self.cond:
                    self.requests.append(rec)
                    self.cond.notify_all()
                if not rec.complete:
                    return
                if not self._respond(conn, rec, beh) or not keep:
                    return
        except (OSError, ProtocolError, Closed) as e:
            self.errors.append(f"conn {cid}: {e!r}")
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _read_body(self, conn, r: SockReader, rec: Recorded, beh: Behaviour) -> bool:
        """Reads the request body (if any); returns whether the connection may be kept."""
        te = rec.header_all("transfer-encoding")
        cl = rec.header_all("content-length")
        expect = (rec.header("expect") or b"").lower()
        if expect == b"100-continue" and beh.send_100 and (te or cl):
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        digest = BodyDigest(fast=True)
        try:
            if te:
                rec.chunked = True
                rec.trailers = read_chunked(r, digest.update, exts=rec.chunk_exts)
            elif cl:
                n = int(cl[0])
                rec.content_length = n
                left = n
                while left:
                    piece = r.read_some(min(left, 1 << 20))
                    digest.update(piece)
                    left -= len(piece)
        except Closed:
            rec.complete = False
        rec.body_len = digest.length
        rec.body_sha256 = digest.hexdigest
        rec.body_head = bytes(digest.head)
        conn_hdr = b",".join(rec.header_all("connection")).lower()
        if rec.version == b"HTTP/1.0":
            return b"keep-alive" in conn_hdr
        return b"close" not in conn_hdr

    def _echo_body(self, rec: Recorded) -> bytes:
        return json.dumps(
            {
                "backend": self.name,
                "conn": rec.conn_id,
                "seq": rec.seq,
                "line": rec.request_line.decode("latin-1"),
                "target": rec.target.decode("latin-1"),
                "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in rec.headers],
                "body_len": rec.body_len,
                "body_sha256": rec.body_sha256,
            }
        ).encode()

    def _wait_release(self, seconds: float) -> None:
        self.release.wait(seconds)

    def _respond(self, conn: socket.socket, rec: Recorded, beh: Behaviour) -> bool:
        """Sends the scripted answer; returns False when the connection must end."""
        if beh.first_byte_wait:
            self._wait_release(beh.first_byte_wait)
        if beh.close_without_response:
            return False
        if beh.raw is not None:
            conn.sendall(beh.raw)
            return False
        head_only = rec.method == b"HEAD"
        if beh.body_size is not None:
            size = beh.body_size
            body = None
        else:
            body = beh.body if beh.body is not None else self._echo_body(rec)
            size = len(body)
        hdrs = [f"{k}: {v}" for k, v in beh.headers]
        if not any(h.lower().startswith("content-type:") for h in hdrs):
            hdrs.append("Content-Type: " + ("application/json" if beh.body is None and beh.body_size is None else "application/octet-stream"))
        hdrs.append(f"X-Backend: {self.name}")
        hdrs.append("Transfer-Encoding: chunked" if beh.chunked else f"Content-Length: {size}")
        head = f"HTTP/1.1 {beh.status} {'OK' if beh.status == 200 else 'Status'}\r\n" + "".join(
            h + "\r\n" for h in hdrs
        ) + "\r\n"
        conn.sendall(head.encode("latin-1"))
        if head_only:
            return True
        sent = 0
        piece = beh.chunk_size if beh.chunked else (1 << 20)
        while sent < size:
            n = min(piece, size - sent)
            if beh.stall_after is not None and sent + n > beh.stall_after:
                n = beh.stall_after - sent
            if n:
                data = body[sent : sent + n] if body is not None else pattern_bytes(sent, n)
                if beh.chunked:
                    conn.sendall(b"%x\r\n" % n + data + b"\r\n")
                else:
                    conn.sendall(data)
                sent += n
                self.body_bytes_sent += n
            if beh.stall_after is not None and sent >= beh.stall_after:
                self._wait_release(30)
                return False
        if beh.chunked:
            conn.sendall(b"0\r\n\r\n")
        return True


# --------------------------------------------------------------------------------------------
# Raw HTTP/1 client.
# --------------------------------------------------------------------------------------------
@dataclass
class Response:
    version: bytes
    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""
    body_len: int = 0
    complete: bool = True
    interim: list = field(default_factory=list)  # 1xx responses before this one

    def header(self, name: str) -> str | None:
        vals = header_values(self.headers, name)
        return vals[0].decode("latin-1") if vals else None

    def header_all(self, name: str) -> list[str]:
        return [v.decode("latin-1") for v in header_values(self.headers, name)]

    def json(self):
        return json.loads(self.body)

    @property
    def closes(self) -> bool:
        return "close" in ",".join(self.header_all("connection")).lower()


def build_request(
    method: str = "GET",
    target: str | bytes = "/",
    headers: list | None = None,
    body: bytes | None = None,
    host: str | None = "example.com",
    version: str = "HTTP/1.1",
) -> bytes:
    if isinstance(target, str):
        target = target.encode("utf-8")
    out = method.encode() + b" " + target + b" " + version.encode() + b"\r\n"
    hdrs = list(headers or [])
    if host is not None and not any(k.lower() == "host" for k, _ in hdrs):
        hdrs.insert(0, ("Host", host))
    if body is not None and not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in hdrs):
        hdrs.append(("Content-Length", str(len(body))))
    for k, v in hdrs:
        k = k.encode("latin-1") if isinstance(k, str) else k
        v = v.encode("utf-8") if isinstance(v, str) else v
        out += k + b": " + v + b"\r\n"
    out += b"\r\n"
    if body:
        out += body
    return out


class Client:
    """One downstream connection with byte-exact sends and a minimal response parser."""

    def __init__(self, port: int, host: str = LOCAL, timeout: float = TIMEOUT):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.r = SockReader(self.sock)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def request(self, method="GET", target="/", headers=None, body=None, **kw) -> Response:
        self.send(build_request(method, target, headers, body, **kw))
        return self.read_response(head_request=(method == "HEAD"))

    def read_response(
        self,
        head_request: bool = False,
        sink: Callable[[bytes], None] | None = None,
        allow_truncated: bool = False,
        keep_interim: bool = False,
    ) -> Response:
        """Reads one final response (1xx ones are collected in .interim unless keep_interim)."""
        interim = []
        while True:
            start, headers = read_head(self.r, allow_bare_lf=False)
            parts = start.split(b" ", 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
                raise ProtocolError(f"bad status line {start!r}")
            resp = Response(parts[0], int(parts[1]), parts[2] if len(parts) > 2 else b"", headers)
            if 100 <= resp.status < 200 and resp.status != 101:
                interim.append(resp)
                if keep_interim:
                    return resp
                continue
            break
        resp.interim = interim
        body = bytearray()

        def collect(data: bytes) -> None:
            resp.body_len += len(data)
            if sink:
                sink(data)
            else:
                body.extend(data)

        try:
            if head_request or resp.status in (204, 304) or resp.status == 101:
                pass
            elif header_values(headers, "transfer-encoding"):
                read_chunked(self.r, collect)
            elif header_values(headers, "content-length"):
                left = int(header_values(headers, "content-length")[0])
                while left:
                    piece = self.r.read_some(min(left, 1 << 20))
                    collect(piece)
                    left -= len(piece)
            else:
                try:
                    while True:
                        collect(self.r.read_some(1 << 20))
                except Closed:
                    pass
        except Closed:
            resp.complete = False
            if not allow_truncated:
                raise
        resp.body = bytes(body)
        return resp

    def read_responses(self, n: int, **kw) -> list[Response]:
        return [self.read_response(**kw) for _ in range(n)]

    def is_closed(self, timeout: float = TIMEOUT) -> bool:
        """True if the peer closes (EOF/reset) within timeout with no further bytes; raises
        AssertionError if it sends bytes instead, False on timeout (still open)."""
        if self.r.pending():
            raise AssertionError(f"unexpected bytes after response: {self.r.pending()[:200]!r}")
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        finally:
            self.sock.settimeout(TIMEOUT)
        if data:
            raise AssertionError(f"unexpected bytes instead of close: {data[:200]!r}")
        return True

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def send_and_collect(port: int, data: bytes, timeout: float = TIMEOUT) -> bytes:
    """Sends bytes, half-closes nothing, and reads until the peer closes or times out."""
    s = socket.create_connection((LOCAL, port), timeout=timeout)
    try:
        s.sendall(data)
        out = bytearray()
        while True:
            try:
                d = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not d:
                break
            out += d
        return bytes(out)
    finally:
        s.close()


# --------------------------------------------------------------------------------------------
# Config rendering (TOML, format in conf/README.md).
# --------------------------------------------------------------------------------------------
def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"no TOML for {v!r}")


def _table(header: str, items: dict) -> str:
    return f"{header}\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in items.items() if v is not None)


def make_config(
    clusters: dict,
    vhosts: list | None = None,
    routes: list | None = None,
    timeouts: dict | None = None,
    limits: dict | None = None,
    listeners: list | None = None,
    server: dict | None = None,
    access_log: dict | None = None,
) -> str:
    """Renders a baton config.

    clusters: {name: [addr | (addr, weight)] | {"hosts": [...], other cluster keys}}.
    vhosts: [{"name", "domains", "routes": [route dicts]}]; default one vhost "*" with `routes`
    (default: "/" to the first cluster). listeners default to one "http" on 127.0.0.1:0.
    """
    out = [_table("[server]", {"workers": 1, **(server or {})})]
    if access_log:
        out.append(_table("[server.access_log]", access_log))
    if timeouts:
        out.append(_table("[timeouts]", timeouts))
    if limits:
        out.append(_table("[limits]", limits))
    for lst in listeners or [{"name": "http", "address": f"{LOCAL}:0"}]:
        out.append(_table("[[listener]]", lst))
    for name, spec in clusters.items():
        if not isinstance(spec, dict):
            spec = {"hosts": spec}
        hosts = [h if isinstance(h, str) else {"address": h[0], "weight": h[1]} for h in spec["hosts"]]
        out.append(_table("[[cluster]]", {"name": name, **{k: v for k, v in spec.items() if k != "hosts"}, "hosts": hosts}))
    if vhosts is None:
        first = next(iter(clusters))
        vhosts = [{"name": "default", "domains": ["*"], "routes": routes or [{"prefix": "/", "cluster": first}]}]
    for vh in vhosts:
        out.append(_table("[[vhost]]", {"name": vh["name"], "domains": vh["domains"]}))
        for rt in vh["routes"]:
            out.append(_table("  [[vhost.route]]", rt))
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# The baton process.
# --------------------------------------------------------------------------------------------
def baton_bin() -> str:
    b = os.environ.get("BATON_BIN")
    if not b:
        here = os.path.dirname(os.path.abspath(__file__))
        for cand in ("build-it", "build"):
            p = os.path.join(here, "..", "..", cand, "main", "baton")
            if os.access(p, os.X_OK):
                return os.path.abspath(p)
        raise RuntimeError("BATON_BIN is not set and no built baton was found")
    return b


class Baton:
    """Runs $BATON_BIN with a config in tmp_path and follows its --ready-fd event stream."""

    def __init__(self, tmp_path, binary: str | None = None):
        self.tmp = tmp_path
        self.bin = binary or baton_bin()
        self.conf_path = os.path.join(str(tmp_path), "baton.toml")
        self.proc: subprocess.Popen | None = None
        self.listeners: dict[str, tuple[str, int]] = {}
        self.admin: tuple[str, int] | None = None  # admin HTTP listener, when configured
        self.generation = 0
        self.events: list[dict] = []
        self._rfd = -1
        self._buf = b""
        self.stderr_path = os.path.join(str(tmp_path), "baton.stderr")
        self.stdout_path = os.path.join(str(tmp_path), "baton.stdout")

    @property
    def port(self) -> int:
        return next(iter(self.listeners.values()))[1]

    def write_config(self, text: str) -> None:
        with open(self.conf_path, "w", encoding="utf-8") as f:
            f.write(text)

    def start(self, config: str | None, workers: int | None = None, extra_args: list | None = None) -> "Baton":
        """Starts baton; config None = no --config (marathon-lb style command line only)."""
        rfd, wfd = os.pipe()
        args = [self.bin, "--ready-fd", str(wfd)]
        if config is not None:
            self.write_config(config)
            args += ["--config", self.conf_path]
        if workers is not None:
            args += ["--workers", str(workers)]
        args += extra_args or []
        with open(self.stderr_path, "wb") as err, open(self.stdout_path, "wb") as out:
            self.proc = subprocess.Popen(args, pass_fds=(wfd,), stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        os.close(wfd)
        self._rfd = rfd
        ev = self.next_event()
        assert ev.get("event") == "ready", f"expected ready, got {ev}"
        self.generation = ev.get("generation", 0)
        self._take_listeners(ev)
        if ev.get("admin"):
            host, _, port = ev["admin"].rpartition(":")
            self.admin = (host.strip("[]"), int(port))
        return self

    def stderr(self) -> str:
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stdout(self) -> str:
        try:
            with open(self.stdout_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def next_event(self, timeout: float = 10.0) -> dict:
        """Blocks (select, no sleep) until baton writes one JSON line on the ready fd."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no event from baton within {timeout}s; stderr:\n{self.stderr()}")
            ready, _, _ = select.select([self._rfd], [], [], left)
            if not ready:
                continue
            data = os.read(self._rfd, 65536)
            if not data:
                rc = self.proc.poll() if self.proc else None
                raise AssertionError(f"baton closed its ready fd (exit {rc}); stderr:\n{self.stderr()}")
            self._buf += data
        line, self._buf = self._buf.split(b"\n", 1)
        ev = json.loads(line)
        self.events.append(ev)
        return ev

    def reload(self, config: str, timeout: float = 10.0) -> dict:
        """Writes the new config, sends SIGHUP, returns the reloaded/reload_failed event."""
        self.write_config(config)
        self.proc.send_signal(signal.SIGHUP)
        ev = self.next_event(timeout)
        # Other publishes meanwhile: operator changes, health-check flips, pinning deadlines.
        while ev.get("event") in ("admin", "health", "pinning", "listeners"):
            ev = self.next_event(timeout)
        assert ev.get("event") in ("reloaded", "reload_failed"), ev
        if ev["event"] == "reloaded":
            self.generation = ev.get("generation", self.generation)
            if "listeners" in ev:  # listeners may be added or removed by a reload
                self.listeners = {}
                for name, addr in ev["listeners"].items():
                    host, _, port = addr.rpartition(":")
                    self.listeners[name] = (host.strip("[]"), int(port))
        return ev

    def _take_listeners(self, ev: dict) -> None:
        if "listeners" in ev:  # listeners may be added or removed by a reload or by discovery
            self.listeners = {}
            for name, addr in ev["listeners"].items():
                host, _, port = addr.rpartition(":")
                self.listeners[name] = (host.strip("[]"), int(port))

    def wait_event(self, name: str, timeout: float = 10.0, where=None) -> dict:
        """Reads events until one named `name` (and matching `where(ev)`, if given) arrives.

        Listener maps from reloaded/discovery events are applied on the way, so .listeners is
        current afterwards."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {name} event within {timeout}s; seen {self.events[-5:]};"
                                     f" stderr:\n{self.stderr()[-3000:]}")
            ev = self.next_event(left)
            if ev.get("event") in ("reloaded", "discovery", "listeners"):
                self.generation = ev.get("generation", self.generation)
                self._take_listeners(ev)
            if ev.get("event") == name and (where is None or where(ev)):
                return ev

    def port_of(self, listener: str) -> int:
        return self.listeners[listener][1]

    def rss_kib(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self, timeout: float = 10.0) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
                raise AssertionError(f"baton did not stop within {timeout}s of SIGTERM")
        if self._rfd >= 0:
            os.close(self._rfd)
            self._rfd = -1
        return self.proc.returncode

    def client(self, listener: str | None = None, timeout: float = TIMEOUT) -> Client:
        host, port = self.listeners[listener] if listener else next(iter(self.listeners.values()))
        return Client(port, host=host, timeout=timeout)


class RssSampler:
    """Samples a process's VmRSS periodically in a thread while a transfer runs (the only
    periodic wait in the suite: RSS has no event to wait for)."""

    def __init__(self, baton: Baton, period: float = 0.05):
        self.baton = baton
        self.period = period
        self.max_kib = 0
        self.samples = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.max_kib = max(self.max_kib, self.baton.rss_kib())
                self.samples += 1
            except OSError:
                return
            self._stop.wait(self.period)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join(TIMEOUT)


def run_curl(args: list, timeout: float = 20.0) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["curl", "-sS", "--max-time", str(int(timeout)), *args],
        capture_output=True,
        timeout=timeout + 5,
    )


# --------------------------------------------------------------------------------------------
# Shared assertions.
# --------------------------------------------------------------------------------------------
def assert_rejected(c: Client, status: int | tuple, close: bool = True) -> Response:
    """The next response is a local error `status`; with close, it says `Connection: close` and
    the connection then ends (400+C)."""
    resp = c.read_response(allow_truncated=True)
    statuses = status if isinstance(status, tuple) else (status,)
    assert resp.status in statuses, f"expected {status}, got {resp.status} {resp.reason!r} {resp.body[:200]!r}"
    if close:
        assert resp.closes, f"{resp.status} without Connection: close: {resp.headers}"
        assert c.is_closed(), "connection still open after a reply with Connection: close"
    return resp


_canary_seq = [0]


def canary(baton: Baton, backend: Backend, listener: str | None = None) -> list[Recorded]:
    """Desync oracle: a fresh connection sends GET /__canary/N, which must reach `backend` and
    get its own 200; returns what the backend recorded before it (the canary excluded)."""
    _canary_seq[0] += 1
    target = f"/__canary/{_canary_seq[0]}"
    n_before = len(backend.requests)
    with baton.client(listener) as c:
        r = c.request("GET", target)
        assert r.status == 200, f"canary got {r.status}"
        assert r.json()["target"] == target
    reqs = backend.wait_requests(n_before + 1)
    idx = next(i for i, x in enumerate(reqs) if x.target == target.encode())
    return reqs[:idx] + reqs[idx + 1 :]


class Blackhole:
    """A loopback address whose SYNs go unanswered: a listening socket with backlog 0 whose
    accept queue is filled by one connection we never accept (Linux then drops further SYNs, so
    connect() hangs, which is what an unreachable backend looks like)."""

    def __init__(self):
        self.lsock = socket.socket()
        self.lsock.bind((LOCAL, 0))
        self.lsock.listen(0)
        self.port = self.lsock.getsockname()[1]
        self.address = f"{LOCAL}:{self.port}"
        self.fillers = []
        for _ in range(8):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex((LOCAL, self.port))
            self.fillers.append(s)
            _, w, _ = select.select([], [s], [], 0.2)
            if not w:
                return  # this SYN was dropped: the queue is full
        raise RuntimeError("could not fill the accept queue")

    def close(self):
        for s in self.fillers:
            s.close()
        self.lsock.close()


# The probe sockets of free_port(), held for the life of the test process (see there).
_reserved_ports: list[socket.socket] = []


def free_port() -> int:
    """A loopback port for this test process alone (for service ports that come from Marathon's
    JSON and so cannot be 0).

    The probe socket stays bound, with SO_REUSEADDR and SO_REUSEPORT, and never listens. A port
    merely free a moment ago could be handed to two concurrent tests (ctest -j), whose batons
    would then share it through SO_REUSEPORT and split its connections. While the probe is bound
    the kernel picks the port for no other bind(0), so no other free_port() and no ephemeral
    listener gets it; the consumer's explicit bind succeeds as long as it sets SO_REUSEADDR
    (baton, nginx, HAProxy, Python's HTTPServer) or SO_REUSEPORT (as root, the same user), and
    connecting to it is refused until the consumer listens."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((LOCAL, 0))
    _reserved_ports.append(s)
    return s.getsockname()[1]


def dead_address() -> str:
    """A loopback port with nothing listening (connect is refused at once)."""
    s = socket.socket()
    s.bind((LOCAL, 0))
    port = s.getsockname()[1]
    s.close()
    return f"{LOCAL}:{port}"


def made_and_closed(factory, close=lambda obj: obj.close()):
    """The body of a factory fixture: `yield from harness.made_and_closed(Thing)` gives the test a
    function that builds Things (any arguments go to `factory`) and closes every one it built at
    teardown."""
    made = []

    def make(*args, **kwargs):
        obj = factory(*args, **kwargs)
        made.append(obj)
        return obj

    yield make
    for obj in made:
        close(obj)
