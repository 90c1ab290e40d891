"""HTTP/2 downstream (h2c prior knowledge on a plain listener) through the real binary, to real
(HTTP/1.1) backends: curl, nghttp, h2load for the happy paths; hand-built frames
(h2_frames.py: hyperframe + hpack) for every HTTP/2 class of hostile-inputs.md. Each hostile case
checks the expected GOAWAY / RST_STREAM, that the connection is closed when it should be, that
baton still serves another client, and that baton's CPU time stayed bounded.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time

import pytest

import harness
from h2_frames import (
    CANCEL,
    ENHANCE_YOUR_CALM,
    INTERNAL_ERROR,
    NO_ERROR,
    PROTOCOL_ERROR,
    REFUSED_STREAM,
    RawH2,
    continuation_frame,
    data_frame,
    get_headers,
    headers_frame,
    ping_frame,
    priority_frame,
    rst_frame,
    settings_frame,
    window_update_frame,
)

CURL_TIMEOUT = 20


def h2_config(clusters: dict, http2: dict | None = None, **kw) -> str:
    text = harness.make_config(clusters=clusters, **kw)
    if http2:
        text += "\n" + "\n".join(["[http2]"] + [f"{k} = {harness.toml_value(v)}" for k, v in http2.items()]) + "\n"
    return text


def start_h2(baton, backend, http2: dict | None = None, **kw):
    kw.setdefault("clusters", {"web": [backend.address]})
    return baton.start(h2_config(http2=http2, **kw))


def curl(port: int, path: str = "/", *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["curl", "-sS", "--http2-prior-knowledge", "--max-time", "10", *args, f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        timeout=CURL_TIMEOUT,
    )


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime, stime: fields 14 and 15 of stat(5), i.e. 12 and 13 after the command name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def assert_still_serving(port: int) -> None:
    r = curl(port, "/alive", "-o", "/dev/null", "-w", "%{http_code} %{http_version}")
    assert r.stdout.decode() == "200 2", r.stderr


# ---- Happy paths ------------------------------------------------------------------------------


def test_curl_get_and_post(baton, backend):
    b = start_h2(baton, backend)
    r = curl(b.port, "/hello?x=1", "-i")
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr
    assert out.startswith("HTTP/2 200"), out
    assert "connection:" not in out.lower().split("\r\n\r\n")[0]
    rec = backend.wait_requests(1)[0]
    assert rec.target == b"/hello?x=1"
    assert rec.version == b"HTTP/1.1"
    assert rec.header("host") == f"127.0.0.1:{b.port}".encode()

    body = bytes(range(256)) * 1000  # 256,000 bytes: more than one stream window
    path = os.path.join(str(baton.tmp), "up.bin")
    with open(path, "wb") as f:
        f.write(body)
    r = curl(b.port, "/post", "--data-binary", f"@{path}", "-o", "/dev/null", "-w", "%{http_code}")
    assert r.stdout == b"200", r.stderr
    rec = backend.wait_requests(2)[1]
    assert rec.method == b"POST"
    assert rec.complete and rec.body_len == len(body)
    assert rec.body_head == body[: len(rec.body_head)] and len(rec.body_head) > 0
    assert rec.chunked or rec.content_length == len(body)


def test_nghttp_multiplexes_streams(baton, backend):
    b = start_h2(baton, backend)
    urls = [f"http://127.0.0.1:{b.port}/m{i}" for i in range(6)]
    r = subprocess.run(["nghttp", "-nv", *urls], capture_output=True, timeout=CURL_TIMEOUT)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    # One connection, six streams, six responses.
    assert out.count("send HEADERS frame") == 6
    assert out.count(":status: 200") == 6
    assert len(backend.wait_requests(6)) == 6


def test_h2load_no_failures(baton, backend):
    b = start_h2(baton, backend)
    r = subprocess.run(
        ["h2load", "-n", "2000", "-c", "4", "-m", "10", f"http://127.0.0.1:{b.port}/load"],
        capture_output=True,
        timeout=120,
    )
    out = r.stdout.decode()
    assert r.returncode == 0, out + r.stderr.decode()
    assert "2000 succeeded, 0 failed, 0 errored, 0 timeout" in out, out
    assert "2000 2xx" in out, out
    # Every upstream connection goes back to the pool when its exchange ends, whichever side
    # ends last (the client's END_STREAM can reach the stream after the response is done): no
    # more connections than requests in flight (4 connections x 10 streams).
    assert backend.connections <= 40, backend.connections


def test_large_response_to_slow_reader(baton, backend):
    size = 32 << 20
    backend.on("/big", body_size=size)
    b = start_h2(baton, backend)
    path = os.path.join(str(baton.tmp), "big.bin")
    assert_still_serving(b.port)  # warm: allocator arenas, pools
    base = b.rss_kib()
    with harness.RssSampler(b) as rss:
        r = curl(b.port, "/big", "--limit-rate", "12M", "-o", path, "-w", "%{http_code}")
    assert r.stdout == b"200", r.stderr
    with open(path, "rb") as f:
        got = f.read()
    assert len(got) == size
    assert got == harness.pattern_bytes(0, size)
    # Backpressure: baton never held the body (bounded by watermarks, not by the response).
    # (Natively about 1 MiB; the bound leaves room for instrumented builds.)
    assert rss.samples > 10
    assert rss.max_kib - base < 12 * 1024, (base, rss.max_kib)


def test_authority_routes_not_host(baton, backends):
    a, c = backends(2)
    vhosts = [
        {"name": "a", "domains": ["a.test"], "routes": [{"prefix": "/", "cluster": "a"}]},
        {"name": "c", "domains": ["c.test"], "routes": [{"prefix": "/", "cluster": "c"}]},
    ]
    b = baton.start(h2_config(clusters={"a": [a.address], "c": [c.address]}, vhosts=vhosts))
    with RawH2(b.port) as h:
        h.handshake()
        h.request(1, get_headers("/x", "a.test") + [("host", "c.test")])
        assert h.wait(lambda c_: 1 in c_.ended)
        assert h.status(1) == "200"
    rec = a.wait_requests(1)[0]
    assert rec.header("host") == b"a.test"
    assert c.requests == []


def test_truncated_upstream_body_is_reset(baton, backend):
    backend.on("/cut", raw=b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nonly this")
    b = start_h2(baton, backend)
    with RawH2(b.port) as h:
        h.handshake()
        h.request(1, get_headers("/cut"))
        assert h.wait(lambda c: 1 in c.rst)
        assert h.rst[1] == INTERNAL_ERROR
        assert 1 not in h.ended  # never a clean END_STREAM
    assert_still_serving(b.port)


def test_client_cancel_cancels_upstream(baton, backend):
    backend.on("/slow", first_byte_wait=10)
    log = os.path.join(str(baton.tmp), "access.json")
    b = start_h2(baton, backend, access_log={"path": log, "format": "json"})
    with RawH2(b.port) as h:
        h.handshake()
        h.request(1, get_headers("/slow"))
        backend.wait_heads(1)
        h.send(rst_frame(1, CANCEL))
        h.request(3, get_headers("/after"))
        assert h.wait(lambda c: 3 in c.ended)
        assert h.status(3) == "200"
    assert b.stop() == 0
    backend.release.set()
    with open(log, encoding="utf-8") as f:
        entries = [json.loads(line) for line in f.read().splitlines()]
    # The cancelled request ended (and was logged) at the cancel, before the next one and long
    # before the backend would have answered it.
    assert [e["target"] for e in entries] == ["/slow", "/after"], (entries, [r.target for r in backend.requests])
    assert entries[0]["error"] == "Http2StreamCancelled", entries[0]
    assert entries[0]["duration_ms"] < 5000 if "duration_ms" in entries[0] else True


# ---- Hostile inputs ---------------------------------------------------------------------------


# What one hostile connection may cost baton: CPU seconds, and resident memory growth (the
# decoded HPACK cap, stream and queue limits bound it well under this).
HOSTILE_CPU_S = 3.0
HOSTILE_RSS_GROWTH_KIB = 48 * 1024


@contextlib.contextmanager
def bounded_cost(b):
    before_cpu = cpu_seconds(b.proc.pid)
    before_rss = b.rss_kib()
    with harness.RssSampler(b, period=0.02) as rss:
        yield
    spent = cpu_seconds(b.proc.pid) - before_cpu
    assert spent < HOSTILE_CPU_S, f"baton spent {spent:.2f}s of CPU on one hostile connection"
    grew = max(rss.max_kib, b.rss_kib()) - before_rss
    assert grew < HOSTILE_RSS_GROWTH_KIB, f"baton's RSS grew by {grew} KiB on one hostile connection"
    assert_still_serving(b.port)


@pytest.fixture
def guarded(baton, backend):
    """Starts baton with tight flood budgets; checks its CPU and memory after the test."""
    http2 = {"reset_burst": 100, "reset_rate": 10, "control_frame_burst": 100, "control_frame_rate": 10}
    b = start_h2(baton, backend, http2=http2, timeouts={"request_head": "500ms"})
    with bounded_cost(b):
        yield b


def test_rapid_reset_gets_enhance_your_calm(guarded, backend):
    with RawH2(guarded.port) as h:
        h.handshake()
        burst = b"".join(
            headers_frame(sid, h.block(get_headers(f"/r{sid}"))) + rst_frame(sid, CANCEL)
            for sid in range(1, 20001, 2)
        )
        h.send(burst)
        assert h.wait_closed(10)
        assert h.goaway == ENHANCE_YOUR_CALM
    # Few of the 10,000 cancelled streams reached the backend.
    assert len(backend.heads) <= 150, len(backend.heads)


def test_rapid_reset_at_the_default_budgets(baton, backend):
    # No tightened [http2] limits: the defaults (a burst of 1000, then 33 a second) still cut a
    # 20,000-stream reset flood, and only about the burst reaches a backend.
    b = start_h2(baton, backend)
    with bounded_cost(b):
        with RawH2(b.port) as h:
            h.handshake()
            burst = b"".join(
                headers_frame(sid, h.block(get_headers(f"/r{sid}"))) + rst_frame(sid, CANCEL)
                for sid in range(1, 40001, 2)
            )
            h.send(burst)
            assert h.wait_closed(15)
            assert h.goaway == ENHANCE_YOUR_CALM
    assert len(backend.heads) <= 1100, len(backend.heads)


def test_made_you_reset_flood_is_cut(guarded, backend):
    # MadeYouReset (CVE-2025-8671): each stream is a valid request followed by a frame that makes
    # the server reset it (a WINDOW_UPDATE overflowing the stream's send window: FLOW_CONTROL_ERROR
    # on that stream only); the client never sends RST_STREAM. Whichever of baton's limits fires
    # first (the count of resets it sends, unit-tested in server_session_test
    # StreamErrorsWeSendCountToo, or the refused streams that follow), the connection is cut
    # with ENHANCE_YOUR_CALM at a bounded cost and the flood never reaches a backend.
    with RawH2(guarded.port) as h:
        h.handshake()
        flood = b"".join(
            headers_frame(sid, h.block(get_headers(f"/m{sid}"))) + window_update_frame(sid, 0x7FFFFFFF)
            for sid in range(1, 20001, 2)
        )
        h.send(flood)
        assert h.wait_closed(10)
        assert h.goaway == ENHANCE_YOUR_CALM
    assert len(backend.heads) <= 150, len(backend.heads)


@pytest.mark.parametrize("kind", ["priority", "empty DATA"])
def test_priority_and_empty_data_floods_get_enhance_your_calm(guarded, kind):
    with RawH2(guarded.port) as h:
        h.handshake()
        h.request(1, get_headers("/upload", method="POST"), end_stream=False)
        one = priority_frame(3) if kind == "priority" else data_frame(1, b"")
        h.send(one * 20000)
        assert h.wait_closed(10)
        assert h.goaway == ENHANCE_YOUR_CALM


def test_continuation_flood_is_connection_error(guarded):
    with RawH2(guarded.port) as h:
        h.handshake()
        flood = headers_frame(1, h.block(get_headers()), end_stream=True, end_headers=False)
        flood += b"".join(continuation_frame(1, b"") for _ in range(20000))
        h.send(flood)
        assert h.wait_closed(10)
        assert h.goaway in (ENHANCE_YOUR_CALM, PROTOCOL_ERROR)


def test_hpack_bomb_answered_431(guarded, backend):
    with RawH2(guarded.port) as h:
        h.handshake()
        # One 4000-byte field in the dynamic table, referenced 1000 times: ~5 KiB on the wire,
        # 4 MB decoded.
        first = h.block(get_headers() + [("x-bomb", "a" * 4000)])
        idx = None
        for i, (name, _value) in enumerate(h.encoder.header_table.dynamic_entries):
            if name == b"x-bomb":
                idx = 62 + i
        assert idx is not None
        ref = bytes([0x80 | 0x7F]) + bytes([idx - 127]) if idx >= 127 else bytes([0x80 | idx])
        h.send(headers_frame(1, first + ref * 1000))
        assert h.wait(lambda c: 1 in c.ended)
        assert h.status(1) == "431"
        assert h.goaway is None
        # HPACK state stayed in sync: the connection serves the next request.
        h.request(3, get_headers("/after-bomb"))
        assert h.wait(lambda c: 3 in c.ended)
        assert h.status(3) == "200"
    assert [r.target for r in backend.requests] == [b"/after-bomb"]


def test_settings_flood_gets_enhance_your_calm(guarded):
    with RawH2(guarded.port) as h:
        h.handshake()
        h.send(settings_frame() * 20000)
        assert h.wait_closed(10)
        assert h.goaway == ENHANCE_YOUR_CALM


def test_ping_flood_gets_enhance_your_calm(guarded):
    with RawH2(guarded.port) as h:
        h.handshake()
        h.send(ping_frame() * 20000)
        assert h.wait_closed(10)
        assert h.goaway == ENHANCE_YOUR_CALM


BAD_HEADS = {
    "duplicate :path": [(":method", "GET"), (":scheme", "http"), (":authority", "h2.test"), (":path", "/"), (":path", "/x")],
    "missing :path": [(":method", "GET"), (":scheme", "http"), (":authority", "h2.test")],
    "upper-case name": get_headers() + [("X-Upper", "1")],
    "path with space": get_headers("/a b"),
    "connection field": get_headers() + [("connection", "close")],
    "pseudo after regular": [(":method", "GET"), ("x-a", "1"), (":scheme", "http"), (":path", "/")],
    "CR LF in value": get_headers() + [("x-v", "a\r\nx-injected: 1")],
    "NUL in value": get_headers() + [("x-v", "a\x00b")],
    "LF in name": get_headers() + [("x-a\nb", "1")],
    "empty :path": get_headers(""),
    "unknown pseudo-header": get_headers() + [(":foo", "bar")],
    "pseudo in a regular's place": get_headers() + [(":status", "200")],
}


@pytest.mark.parametrize("case", sorted(BAD_HEADS))
def test_malformed_request_is_stream_error(guarded, backend, case):
    with RawH2(guarded.port) as h:
        h.handshake()
        h.send(headers_frame(1, h.block(BAD_HEADS[case])))
        assert h.wait(lambda c: 1 in c.rst), case
        assert h.rst[1] == PROTOCOL_ERROR
        # A stream error only: the connection goes on.
        h.request(3, get_headers("/ok"))
        assert h.wait(lambda c: 3 in c.ended)
        assert h.status(3) == "200"
        assert h.goaway is None
    assert [r.target for r in backend.requests] == [b"/ok"]
    for r in backend.requests:
        assert not r.has("x-injected")


def test_too_many_streams_refused(baton, backend):
    backend.on("/hold", first_byte_wait=10)
    b = start_h2(baton, backend, http2={"max_concurrent_streams": 2})
    with RawH2(b.port) as h:
        # Three streams before our SETTINGS could be acknowledged: the third is refused.
        h.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + settings_frame())
        for sid in (1, 3, 5):
            h.request(sid, get_headers("/hold"))
        assert h.wait(lambda c: 5 in c.rst)
        assert h.rst[5] == REFUSED_STREAM
        assert 1 not in h.rst and 3 not in h.rst
        backend.release.set()
        assert h.wait(lambda c: {1, 3} <= c.ended)
        assert h.goaway is None


# ---- Connection lifecycle ---------------------------------------------------------------------


def test_drain_goaway_lets_streams_in_flight_finish(baton, backend):
    backend.on("/hold", first_byte_wait=10)
    b = start_h2(baton, backend)
    with RawH2(b.port) as h:
        h.handshake()
        h.request(1, get_headers("/hold"))
        backend.wait_heads(1)
        b.proc.send_signal(signal.SIGTERM)
        assert h.wait(lambda c: c.goaway is not None)
        assert h.goaway == NO_ERROR
        assert not h.closed  # the stream in flight is not lost
        backend.release.set()
        assert h.wait(lambda c: 1 in c.ended)
        assert h.status(1) == "200"
        assert h.wait_closed()
    assert b.proc.wait(10) == 0


def test_idle_connection_gets_goaway_and_closes(baton, backend):
    b = start_h2(baton, backend, timeouts={"keepalive_idle": "300ms"})
    with RawH2(b.port) as h:
        h.handshake()
        h.request(1, get_headers("/one"))
        assert h.wait(lambda c: 1 in c.ended)
        assert h.wait_closed(5)
        assert h.goaway == NO_ERROR


def test_incomplete_header_block_times_out(guarded):
    # CONTINUATION slowloris: a header block that never ends is bounded by request_head.
    with RawH2(guarded.port) as h:
        h.auto_ack = False  # nothing but CONTINUATION may follow the open block
        h.handshake()
        h.send(headers_frame(1, h.block(get_headers()), end_stream=True, end_headers=False))
        assert h.wait_closed(15)
        assert h.goaway == ENHANCE_YOUR_CALM


def test_stalled_request_body_gets_408(baton, backend):
    b = start_h2(baton, backend, timeouts={"body_idle": "300ms"})
    with RawH2(b.port) as h:
        h.handshake()
        h.request(1, get_headers("/upload", method="POST") + [("content-length", "100")], end_stream=False)
        h.send(data_frame(1, b"x" * 10))
        assert h.wait(lambda c: 1 in c.ended or 1 in c.rst, 5)
        assert h.status(1) == "408"
        # Only that stream failed.
        h.request(3, get_headers("/next"))
        assert h.wait(lambda c: 3 in c.ended)
        assert h.status(3) == "200"


def test_settings_with_too_many_entries_is_connection_error(guarded):
    with RawH2(guarded.port) as h:
        h.handshake()
        # 1,000 entries in one SETTINGS frame (hyperframe keeps one per id: build it by hand).
        payload = b"\x00\x03\x00\x00\x00\x64" * 1000
        h.send(len(payload).to_bytes(3, "big") + b"\x04\x00\x00\x00\x00\x00" + payload)
        assert h.wait_closed(10)
        assert h.goaway is not None and h.goaway != NO_ERROR


def test_content_length_mismatch_is_stream_error(guarded, backend):
    with RawH2(guarded.port) as h:
        h.handshake()
        h.request(1, get_headers("/cl", method="POST") + [("content-length", "4")], end_stream=False)
        h.send(data_frame(1, b"abcdefgh", end_stream=True))
        assert h.wait(lambda c: 1 in c.rst)
        assert h.rst[1] == PROTOCOL_ERROR
        assert h.goaway is None


def test_held_request_bodies_count_in_the_buffer_account(baton, tmp_path):
    # Request body bytes an HTTP/2 stream holds until its upstream takes them (here: a backend
    # that never answers the connect) are buffered memory like a socket buffer's: they must show
    # in buffered_bytes (and so count toward [limits] buffer_budget), and leave it when the
    # streams end. Up to a stream window each: 100 x 256 KiB on one connection by default.
    from test_drain import command

    hole = harness.Blackhole()
    sock = os.path.join(str(tmp_path), "admin.sock")
    text = h2_config({"web": {"hosts": [hole.address], "connect_attempts": 1}},
                     timeouts={"upstream_connect": "20s"}) + f'\n[admin]\nsocket = "{sock}"\n'
    b = baton.start(text, workers=1)

    def buffered() -> int:
        info = dict(line.split(": ", 1) for line in command(sock, "show info").splitlines() if ": " in line)
        return int(info["buffered_bytes"].split()[0])

    try:
        assert buffered() < 64 * 1024
        streams, chunk, frames = range(1, 16, 2), b"x" * 16384, 7  # 8 streams x 112 KiB, in the windows
        with RawH2(b.port) as h:
            h.handshake()
            # The 256 KiB stream window applies once our ACK of baton's SETTINGS is read.
            assert h.wait(lambda c: c.frames >= 1)
            for sid in streams:
                h.request(sid, get_headers(f"/up{sid}", method="POST") + [("content-length", str(1 << 20))],
                          end_stream=False)
                h.send(data_frame(sid, chunk) * frames)
            held = len(streams) * frames * len(chunk)
            deadline = time.monotonic() + 10
            while buffered() < held - 64 * 1024:
                assert time.monotonic() < deadline, f"buffered_bytes {buffered()} never reached ~{held}"
                time.sleep(0.02)  # polling the admin socket: no event says "the bytes are held"
            h.send(b"".join(rst_frame(sid, CANCEL) for sid in streams))
            deadline = time.monotonic() + 10
            while buffered() >= 64 * 1024:
                assert time.monotonic() < deadline, f"buffered_bytes {buffered()} after the streams ended"
                time.sleep(0.02)
    finally:
        hole.close()


class _TrailerBackend:
    """HTTP/1.1 backend on a raw socket: records each request's bytes up to the end of its
    chunked body (trailer section included) and answers chunked with trailers."""

    def __init__(self):
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.requests: list[bytes] = []
        self.got = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            buf = b""
            with conn:
                conn.settimeout(10)
                while b"\r\n0\r\n" not in buf or not buf.endswith(b"\r\n\r\n"):
                    data = conn.recv(65536)
                    if not data:
                        break
                    buf += data
                self.requests.append(buf)
                self.got.set()
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
                             b"0\r\nGrpc-Status: 0\r\nConnection: close\r\nX-Checksum: abc\r\n\r\n")

    def close(self) -> None:
        self.sock.close()


def test_trailers_cross_between_http2_clients_and_http1_backends(baton):
    # An HTTP/2 client's request trailers go out in the HTTP/1.1 chunked trailer section; an
    # HTTP/1.1 backend's response trailers come back as a trailing HEADERS frame. Hop-by-hop and
    # framing fields never cross.
    be = _TrailerBackend()
    try:
        b = baton.start(h2_config({"web": [be.address]}))
        with RawH2(b.port) as h:
            h.handshake()
            h.request(1, get_headers("/up", method="POST"), end_stream=False)
            h.send(data_frame(1, b"abc") + headers_frame(
                1, h.block([("x-sum", "s1"), ("x-forwarded-for", "6.6.6.6")])))
            assert h.wait(lambda c: 1 in c.ended)
            fields = h.headers[1]
            assert h.status(1) == "200"
            assert h.bodies[1] == b"hello"
            assert ("grpc-status", "0") in fields and ("x-checksum", "abc") in fields, fields
            assert ("connection", "close") not in fields
        assert be.got.wait(5)
        raw = be.requests[0]
        assert b"transfer-encoding: chunked" in raw.lower(), raw
        # Only the client's own field: one baton sets on the request is never taken from trailers.
        assert raw.endswith(b"\r\n0\r\nx-sum: s1\r\n\r\n"), raw
    finally:
        be.close()
