"""Streaming both ways in bounded memory, Expect: 100-continue, pipelining, upstream keep-alive,
forwarding headers, and curl — through the real binary.

Sizes: 1 GiB each way. Measured on the 2-core dev VM, the harness alone moves 1 GiB in ~2 s each
way (python client <-> python backend, no proxy), so the three 1 GiB transfers keep this file well
under 60 s. RSS is sampled from /proc/PID/status (VmRSS) every 50 ms during each transfer.
"""

import re
import time
import zlib

import pytest

import harness
from harness import RssSampler

GiB = 1 << 30
MiB = 1 << 20
BIG = GiB
RSS_LIMIT_KIB = 64 * 1024


def expected_crc(n: int) -> int:
    crc, left = 0, n
    while left:
        k = min(left, len(harness.PATTERN))
        crc = zlib.crc32(harness.PATTERN[:k], crc)
        left -= k
    return crc


@pytest.fixture
def env(start, backend):
    return start(limits={"body": "2GiB"}), backend


# ---- bounded-memory transfers ----------------------------------------------------------------
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_download_1gib_bounded_rss(env, chunked):
    baton, backend = env
    backend.on("/big", body_size=BIG, chunked=chunked, chunk_size=256 * 1024)
    crc = [0]

    def sink(d):
        crc[0] = zlib.crc32(d, crc[0])

    with RssSampler(baton) as rss, baton.client(timeout=30) as c:
        c.send(harness.build_request("GET", "/big"))
        r = c.read_response(sink=sink)
    assert r.status == 200 and r.complete
    assert r.body_len == BIG
    assert crc[0] == expected_crc(BIG)
    assert rss.samples > 3
    assert rss.max_kib < RSS_LIMIT_KIB, f"baton RSS peaked at {rss.max_kib} KiB"


def upload(c: harness.Client, n: int, chunked: bool, target="/up") -> harness.Response:
    hdrs = [("Transfer-Encoding", "chunked")] if chunked else [("Content-Length", str(n))]
    c.send(harness.build_request("POST", target, headers=hdrs))
    piece = memoryview(harness.PATTERN)
    left = n
    while left:
        k = min(left, len(piece))
        if chunked:
            c.sock.sendall(b"%x\r\n" % k)
        c.sock.sendall(piece[:k])
        if chunked:
            c.sock.sendall(b"\r\n")
        left -= k
    if chunked:
        c.sock.sendall(b"0\r\n\r\n")
    return c.read_response()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_upload_1gib_bounded_rss(env, chunked):
    baton, backend = env
    with RssSampler(baton) as rss, baton.client(timeout=30) as c:
        r = upload(c, BIG, chunked)
    assert r.status == 200
    rec = backend.wait_requests(1)[0]
    assert rec.complete and rec.body_len == BIG
    assert rec.body_sha256 == f"crc32:{expected_crc(BIG):08x}"
    # re-framed upstream the way it came in
    assert rec.chunked == chunked
    if not chunked:
        assert rec.header_all("content-length") == [str(BIG).encode()]
    assert rss.max_kib < RSS_LIMIT_KIB, f"baton RSS peaked at {rss.max_kib} KiB"


def test_slow_reader_does_not_buffer_unboundedly(env):
    """The client reads the head, then stops reading a 512 MiB body. The backend must be paused by
    baton's watermarks: it can only get a few socket buffers ahead, and baton's RSS stays bounded.
    There is no event for 'backpressure reached'; we poll the backend's progress until it stops."""
    baton, backend = env
    size = 512 * MiB
    backend.on("/slow", body_size=size)
    c = baton.client(timeout=30)
    c.sock.setsockopt(harness.socket.SOL_SOCKET, harness.socket.SO_RCVBUF, 64 * 1024)
    c.send(harness.build_request("GET", "/slow"))
    start, _ = harness.read_head(c.r)
    assert start.startswith(b"HTTP/1.1 200")
    last, stable_since, deadline = -1, time.monotonic(), time.monotonic() + 15
    with RssSampler(baton) as rss:
        while time.monotonic() < deadline:
            now = backend.body_bytes_sent
            if now != last:
                last, stable_since = now, time.monotonic()
            elif time.monotonic() - stable_since > 0.5:
                break
            backend.release.wait(0.05)  # a bounded poll; nothing signals "stalled"
    assert backend.body_bytes_sent < 64 * MiB, f"backend pushed {backend.body_bytes_sent} bytes into a stalled client"
    assert rss.max_kib < RSS_LIMIT_KIB
    # Reading resumes and the whole body arrives.
    got = len(c.r.pending())
    c.r.pos = len(c.r.buf)
    while got < size:
        got += len(c.r.read_some(MiB))
    assert got == size
    c.close()


# ---- Expect: 100-continue --------------------------------------------------------------------
@pytest.mark.parametrize("backend_sends_100", [True, False], ids=["relayed", "generated"])
def test_expect_100_continue(env, backend_sends_100):
    baton, backend = env
    backend.on("/exp", send_100=backend_sends_100)
    with baton.client() as c:
        c.send(harness.build_request("POST", "/exp", headers=[("Content-Length", "5"), ("Expect", "100-continue")]))
        interim = c.read_response(keep_interim=True)
        assert interim.status == 100
        c.send(b"hello")
        r = c.read_response()
        assert r.status == 200
        assert c.request("GET", "/after").status == 200
    rec = backend.wait_requests(2)[0]
    assert rec.body_head == b"hello" and rec.complete


def test_expect_early_reject_never_parses_body(start, backend):
    baton = start(routes=[{"prefix": "/small", "cluster": "web", "body_limit": "1KiB"}, {"prefix": "/", "cluster": "web"}])
    smuggle = b"GET /smuggled HTTP/1.1\r\nHost: example.com\r\n\r\n"
    body = smuggle + b"x" * (4096 - len(smuggle))
    with baton.client() as c:
        c.send(harness.build_request("POST", "/small", headers=[("Content-Length", str(len(body))), ("Expect", "100-continue")]))
        r = c.read_response()
        assert r.status == 413
        if not c.is_closed(timeout=0.2):
            c.send(body)  # a client that sends anyway: must be drained, not parsed
            if not r.closes:
                r2 = c.request("GET", "/__canary/same")
                assert r2.status == 200
    seen = harness.canary(baton, backend)
    assert [x.target for x in seen] in ([], [b"/__canary/same"])


def test_body_over_route_limit_413_before_upstream(start, backend):
    baton = start(routes=[{"prefix": "/small", "cluster": "web", "body_limit": "1KiB"}, {"prefix": "/", "cluster": "web"}])
    with baton.client() as c:
        c.send(harness.build_request("POST", "/small", body=b"x" * 2048))
        assert c.read_response(allow_truncated=True).status == 413
    assert harness.canary(baton, backend) == []


# ---- pipelining ------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [2, 100])
def test_pipelined_in_one_write(env, n):
    baton, backend = env
    with baton.client() as c:
        c.send(b"".join(harness.build_request("GET", f"/p/{i}") for i in range(n)))
        rs = c.read_responses(n)
    assert [r.json()["target"] for r in rs] == [f"/p/{i}" for i in range(n)]
    assert [r.target for r in backend.wait_requests(n)] == [f"/p/{i}".encode() for i in range(n)]


def test_pipelined_request_and_half(env):
    baton, backend = env
    second = harness.build_request("GET", "/second", headers=[("X-Pad", "p" * 100)])
    with baton.client() as c:
        c.send(harness.build_request("GET", "/first") + second[:40])
        r1 = c.read_response()
        c.send(second[40:])
        r2 = c.read_response()
    assert (r1.json()["target"], r2.json()["target"]) == ("/first", "/second")


def test_pipelined_bodies_then_request(env):
    baton, backend = env
    data = (
        harness.build_request("POST", "/b1", body=b"abc")
        + b"POST /b2 HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n"
        + harness.build_request("GET", "/b3")
    )
    with baton.client() as c:
        c.send(data)
        rs = c.read_responses(3)
    assert [r.json()["target"] for r in rs] == ["/b1", "/b2", "/b3"]
    recs = backend.wait_requests(3)
    assert [(r.target, r.body_head) for r in recs] == [(b"/b1", b"abc"), (b"/b2", b"xyz"), (b"/b3", b"")]


def test_pipelined_slow_first_response_keeps_order(env):
    baton, backend = env
    backend.on("/slowfirst", first_byte_wait=0.3)
    with baton.client() as c:
        c.send(harness.build_request("GET", "/slowfirst") + harness.build_request("GET", "/fast"))
        rs = c.read_responses(2)
    assert [r.json()["target"] for r in rs] == ["/slowfirst", "/fast"]


# ---- upstream keep-alive ---------------------------------------------------------------------
def test_upstream_keepalive_reuse(env):
    baton, backend = env
    with baton.client() as c:
        for i in range(5):
            assert c.request("GET", f"/ka/{i}").status == 200
    for i in range(3):  # new downstream connections reuse the pooled upstream one too
        with baton.client() as c:
            assert c.request("GET", f"/ka2/{i}").status == 200
    recs = backend.wait_requests(8)
    assert {r.conn_id for r in recs} == {recs[0].conn_id}
    assert backend.connections == 1


def test_response_chunked_streamed(env):
    baton, backend = env
    backend.on("/chunky", body_size=10 * MiB, chunked=True, chunk_size=12345)
    with baton.client() as c:
        r = c.request("GET", "/chunky")
        assert r.status == 200 and r.body_len == 10 * MiB
        assert r.body == harness.pattern_bytes(0, 10 * MiB)
        assert c.request("GET", "/after").status == 200


# ---- forwarding headers ----------------------------------------------------------------------
def test_x_forwarded_overwritten(env):
    baton, backend = env
    with baton.client() as c:
        r = c.request(
            "GET",
            "/xf",
            host="site.example:8443",
            headers=[
                ("X-Forwarded-For", "6.6.6.6"),
                ("X-Forwarded-Proto", "https"),
                ("X-Forwarded-Host", "evil.example"),
                ("X-Forwarded-Port", "1"),
                ("X-Real-IP", "6.6.6.6"),
                ("Forwarded", "for=6.6.6.6"),
            ],
        )
        assert r.status == 200
    rec = backend.wait_requests(1)[0]
    assert rec.header_all("x-forwarded-for") == [b"127.0.0.1"]
    assert rec.header_all("x-forwarded-proto") == [b"http"]
    assert rec.header_all("x-forwarded-host") == [b"site.example:8443"]
    assert rec.header_all("x-forwarded-port") == [str(baton.port).encode()]
    for name in ("x-real-ip", "forwarded"):
        assert b"6.6.6.6" not in b",".join(rec.header_all(name))
    assert rec.header_all("host") == [b"site.example:8443"]


def test_x_forwarded_appended_for_trusted_peer(start, backend):
    baton = start(server={"workers": 1, "trusted_proxies": ["127.0.0.0/8"]})
    with baton.client() as c:
        assert c.request("GET", "/xf", headers=[("X-Forwarded-For", "6.6.6.6")]).status == 200
    rec = backend.wait_requests(1)[0]
    assert b",".join(rec.header_all("x-forwarded-for")).replace(b" ", b"") == b"6.6.6.6,127.0.0.1"


def test_request_id_generated_and_passed_through(env):
    baton, backend = env
    with baton.client() as c:
        assert c.request("GET", "/id1").status == 200
        assert c.request("GET", "/id2").status == 200
        assert c.request("GET", "/id3", headers=[("X-Request-Id", "client-chosen-42")]).status == 200
    r1, r2, r3 = backend.wait_requests(3)
    for r in (r1, r2):
        assert len(r.header_all("x-request-id")) == 1
        assert re.fullmatch(rb"[0-9a-f]{32}", r.header("x-request-id")), r.header("x-request-id")
    assert r1.header("x-request-id") != r2.header("x-request-id")
    assert r3.header_all("x-request-id") == [b"client-chosen-42"]


def test_trace_headers_untouched(env):
    baton, backend = env
    tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    b3 = "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90"
    hdrs = [("traceparent", tp), ("tracestate", "congo=t61rcWkgMzE"), ("b3", b3), ("X-B3-TraceId", "463ac35c9f6413ad")]
    with baton.client() as c:
        assert c.request("GET", "/trace", headers=hdrs).status == 200
    rec = backend.wait_requests(1)[0]
    for k, v in hdrs:
        assert rec.header_all(k) == [v.encode()]


def test_hop_by_hop_stripped(env):
    baton, backend = env
    hdrs = [
        ("Connection", "keep-alive, X-Secret, X-Other"),
        ("X-Secret", "s"),
        ("X-Other", "o"),
        ("Keep-Alive", "timeout=5"),
        ("Proxy-Connection", "keep-alive"),
        ("TE", "trailers"),
        ("Upgrade", "websocket"),
        ("X-Kept", "k"),
    ]
    with baton.client() as c:
        assert c.request("GET", "/hop", headers=hdrs).status == 200
        assert c.request("GET", "/after").status == 200  # still keep-alive downstream
    rec = backend.wait_requests(1)[0]
    for name in ("x-secret", "x-other", "keep-alive", "proxy-connection", "te", "upgrade", "transfer-encoding"):
        assert not rec.has(name), f"{name} forwarded: {rec.headers}"
    assert b"x-secret" not in b",".join(rec.header_all("connection")).lower()
    assert rec.header("x-kept") == b"k"


def test_connection_close_listing_baton_headers(env):
    """`Connection: close, X-Forwarded-For, X-Request-Id` must not remove what baton adds."""
    baton, backend = env
    with baton.client() as c:
        r = c.request("GET", "/cc", headers=[("Connection", "close, X-Forwarded-For, X-Request-Id"), ("X-Forwarded-For", "6.6.6.6")])
        assert r.status == 200
        assert r.closes
        assert c.is_closed()
    rec = backend.wait_requests(1)[0]
    assert rec.header_all("x-forwarded-for") == [b"127.0.0.1"]
    assert re.fullmatch(rb"[0-9a-f]{32}", rec.header("x-request-id") or b"")


def test_response_hop_by_hop_stripped(env):
    baton, backend = env
    backend.on("/rh", body=b"ok", headers=[("Connection", "X-Internal"), ("X-Internal", "1"), ("Keep-Alive", "timeout=1"), ("X-Public", "2")])
    with baton.client() as c:
        r = c.request("GET", "/rh")
        assert r.status == 200 and r.body == b"ok"
        assert r.header("x-internal") is None and r.header("keep-alive") is None
        assert r.header("x-public") == "2"
        assert c.request("GET", "/after").status == 200


# ---- curl ------------------------------------------------------------------------------------
def test_curl_get_and_post(env, tmp_path):
    baton, backend = env
    url = f"http://127.0.0.1:{baton.port}"
    p = harness.run_curl(["-o", "/dev/null", "-w", "%{http_code}", url + "/curl/get"])
    assert (p.returncode, p.stdout) == (0, b"200"), p.stderr
    payload = tmp_path / "payload.bin"
    payload.write_bytes(harness.pattern_bytes(0, MiB))
    p = harness.run_curl(["-o", "/dev/null", "-w", "%{http_code}", "--data-binary", f"@{payload}", url + "/curl/post"])
    assert (p.returncode, p.stdout) == (0, b"200"), p.stderr
    p = harness.run_curl(["-o", "/dev/null", "-w", "%{http_code}", "-H", "Transfer-Encoding: chunked", "--data-binary", f"@{payload}", url + "/curl/chunked"])
    assert (p.returncode, p.stdout) == (0, b"200"), p.stderr
    recs = backend.wait_requests(3)
    assert [r.target for r in recs] == [b"/curl/get", b"/curl/post", b"/curl/chunked"]
    for r in recs[1:]:
        assert r.complete and r.body_len == MiB
        assert r.body_sha256 == f"crc32:{zlib.crc32(harness.PATTERN):08x}"
