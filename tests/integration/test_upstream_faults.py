"""Every upstream row of faults.md (issue 8) against the real binary, one scripted origin per
fault: refuses, resets before any byte, hangs, drips, closes mid-response, sends garbage.
Each case checks the client's answer (status, or a visible truncation), that the downstream
connection is still usable where it should be (a canary on it), and that no poisoned upstream
connection is pooled: the next request to the same origin gets a clean answer on a connection
the fault did not leave behind. Timeouts are 400 ms so the file runs fast; nothing sleeps
except the drip origin, whose pauses are the fault."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

import harness
from harness import LOCAL

T = {"upstream_connect": "400ms", "upstream_first_byte": "400ms", "body_idle": "400ms"}
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class Origin:
    """Reads each request head, then runs script(conn, n) for the n-th request it got (all
    connections counted together). The script returns True to keep the connection."""

    def __init__(self, script):
        self.script = script
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((LOCAL, 0))
        self.lsock.listen(64)
        self.address = f"{LOCAL}:{self.lsock.getsockname()[1]}"
        self.requests = 0
        self.connections = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.lsock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                buf = buf[buf.index(b"\r\n\r\n") + 4:]
                with self.lock:
                    self.requests += 1
                    n = self.requests
                if not self.script(conn, n):
                    return
        except OSError:
            return
        finally:
            conn.close()

    def close(self):
        self.lsock.close()


def refuse_address() -> str:
    s = socket.socket()
    s.bind((LOCAL, 0))
    address = f"{LOCAL}:{s.getsockname()[1]}"
    s.close()  # nothing listens there now: connect() is refused
    return address


def first_then_ok(fault):
    """The first request gets the fault, every later one a clean 200."""

    def script(conn, n):
        if n == 1:
            return fault(conn)
        conn.sendall(OK)
        return True

    return script


def reset(conn):
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    return False  # closed with RST before any byte


def hang(conn):
    time.sleep(3)  # longer than the first-byte timeout: baton must give up first
    return False


def close_mid_response(conn):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
    return False


def garbage(conn):
    conn.sendall(b"HTTX/9.9 banana\r\n\r\n")
    return True  # left open: baton must never pool it


def drip(conn):
    # 10 pieces 150 ms apart: 1.5 s in all (more than body_idle), each gap well under it.
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
    for _ in range(10):
        time.sleep(0.15)
        conn.sendall(b"d")
    return True


@pytest.fixture
def origin():
    made = []

    def make(script):
        o = Origin(script)
        made.append(o)
        return o

    yield make
    for o in made:
        o.close()


def start(baton, address, **cluster):
    baton.start(harness.make_config({"web": {"hosts": [address], **cluster}}, timeouts=T))


def next_request_is_clean(baton, o: Origin) -> None:
    """A fresh client's request after the fault: answered 200 by the origin."""
    with baton.client() as c:
        r = c.request("GET", "/next")
        assert r.status == 200 and r.body == b"ok", (r.status, r.body)


def test_refused_connect_is_503_and_the_connection_lives(baton):
    start(baton, refuse_address(), connect_attempts=1)
    with baton.client() as c:
        r = c.request("GET", "/x")
        assert r.status == 503 and b"connect failed" in r.body
        assert c.request("GET", "/canary").status == 503  # same connection, answered again


def test_refused_host_is_skipped_for_a_live_one(baton, origin):
    o = origin(first_then_ok(lambda conn: (conn.sendall(OK), True)[1]))
    baton.start(harness.make_config({"web": [refuse_address(), o.address]}, timeouts=T))
    for _ in range(4):
        with baton.client() as c:
            assert c.request("POST", "/x", body=b"a=1").status == 200  # any method: nothing sent


def test_reset_before_any_byte_is_502_and_not_pooled(baton, origin):
    o = origin(first_then_ok(reset))
    start(baton, o.address)
    with baton.client() as c:
        r = c.request("GET", "/x")
        assert r.status == 502 and b"reset" in r.body
        assert c.request("GET", "/canary").status == 200
    next_request_is_clean(baton, o)


def test_hang_is_504_and_not_pooled(baton, origin):
    o = origin(first_then_ok(hang))
    start(baton, o.address)
    with baton.client() as c:
        t0 = time.monotonic()
        r = c.request("GET", "/x")
        assert r.status == 504
        assert time.monotonic() - t0 < 2.5
        if not r.closes:
            assert c.request("GET", "/canary").status == 200
    next_request_is_clean(baton, o)
    assert o.connections >= 2  # the hung connection was not reused


def test_drip_survives_while_each_gap_is_under_body_idle(baton, origin):
    o = origin(first_then_ok(drip))
    start(baton, o.address)
    with baton.client() as c:
        t0 = time.monotonic()
        r = c.request("GET", "/x")
        assert r.status == 200 and r.body == b"d" * 10
        assert time.monotonic() - t0 > 1.0  # longer in all than body_idle, yet not cut
        assert c.request("GET", "/canary").status == 200


def test_close_mid_response_is_a_visible_truncation(baton, origin, tmp_path):
    o = origin(first_then_ok(close_mid_response))
    log = tmp_path / "access.json"
    baton.start(harness.make_config({"web": [o.address]}, timeouts=T,
                                    access_log={"path": str(log), "format": "json"}))
    with baton.client() as c:
        c.send(harness.build_request("GET", "/x"))
        head, _ = harness.read_head(c.r)
        assert head.startswith(b"HTTP/1.1 200")
        got = b""
        while True:
            try:
                data = c.r.read_some(65536)
            except (harness.Closed, ConnectionResetError):
                break
            if not data:
                break
            got += data
        assert len(got) < 100000  # short of Content-Length, then closed: a truncation
    next_request_is_clean(baton, o)
    assert baton.stop() == 0  # flushes the access log
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    # One line per request: the cut one is logged once, with the upstream's error (the sink's
    # close on the abort is the stream's own doing, not a client that went away).
    assert [e["error"] for e in entries] == ["UpstreamReset", "-"], entries


def test_garbage_is_502_and_never_pooled(baton, origin):
    o = origin(first_then_ok(garbage))
    start(baton, o.address)
    with baton.client() as c:
        r = c.request("GET", "/x")
        assert r.status == 502 and b"protocol error" in r.body
        assert c.request("GET", "/canary").status == 200
    assert o.connections >= 2  # the canary went on a new connection
    next_request_is_clean(baton, o)
