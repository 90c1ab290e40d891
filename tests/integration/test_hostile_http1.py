"""hostile-inputs.md, sections "HTTP/1 framing" and "HTTP/1 syntax" (plus the size limits and
Expect/Upgrade rules that share the same oracle), against the real binary.

The oracle for every rejected request (target /hostile...):
  * the status is the documented one;
  * 400+C cases answer `Connection: close` and the connection then ends; a smuggled request
    appended to the same write (GET /smuggled) never reaches the backend;
  * when the connection stays open, a canary on the SAME connection gets its own response;
  * a canary on a fresh connection reaches the backend, and the backend never saw a complete
    /hostile request (for chunk errors baton may already have streamed the head upstream: it must
    then abort that upstream request, so the backend sees it incomplete).
"""

import socket

import pytest

import harness
from harness import canary

H = b"Host: example.com\r\n"
SMUGGLE = b"GET /smuggled HTTP/1.1\r\n" + H + b"\r\n"


@pytest.fixture
def env(start, backend):
    # A finite body cap, so a 16-hex-digit chunk size is "too large" rather than "in progress".
    return start(limits={"body": "1GiB"}), backend


def post(headers: bytes, body: bytes = b"hello") -> bytes:
    return b"POST /hostile HTTP/1.1\r\n" + H + headers + b"\r\n" + body


def chunked(body: bytes) -> bytes:
    return b"POST /hostile HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n" + body


def get_with(headers: bytes) -> bytes:
    return b"GET /hostile HTTP/1.1\r\n" + H + headers + b"\r\n"


def check_rejected(baton, backend, raw: bytes, statuses, must_close: bool, streamed: bool = False):
    statuses = statuses if isinstance(statuses, tuple) else (statuses,)
    with baton.client() as c:
        c.send(raw + (SMUGGLE if must_close else b""))
        resp = c.read_response(allow_truncated=True)
        assert resp.status in statuses, f"expected {statuses}, got {resp.status} {resp.body[:200]!r}"
        assert resp.body_len > 0, "local replies carry a short body"
        if must_close or resp.closes:
            assert resp.closes, f"{resp.status} without Connection: close"
            assert c.is_closed(), "connection left open after Connection: close"
        else:
            r2 = c.request("GET", "/__canary/same-connection")
            assert r2.status == 200 and r2.json()["target"] == "/__canary/same-connection"
    seen = canary(baton, backend)
    assert not [r for r in seen if r.target.startswith(b"/smuggled")], "smuggled request reached the backend"
    hostile = [r for r in backend.heads if r.target.startswith(b"/hostile")]
    if streamed:
        # The head may have been streamed before the bad chunk: the upstream request must be
        # aborted, never completed.
        hostile_done = [r for r in backend.requests if r.target.startswith(b"/hostile") and r.complete]
        assert hostile_done == [], f"backend got a complete hostile request: {hostile_done}"
    else:
        assert hostile == [], f"backend saw the rejected request: {[r.request_line for r in hostile]}"


# ---- HTTP/1 framing --------------------------------------------------------------------------
FRAMING = [
    ("cl-and-te", post(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"), 400),
    ("te-and-cl", post(b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", b"0\r\n\r\n"), 400),
    ("te-xchunked", post(b"Transfer-Encoding: xchunked\r\n", b"5\r\nhello\r\n0\r\n\r\n"), (400, 501)),
    ("te-gzip-unknown", post(b"Transfer-Encoding: gzip\r\n", b"5\r\nhello\r\n0\r\n\r\n"), (501, 400)),
    ("te-chunked-chunked", post(b"Transfer-Encoding: chunked, chunked\r\n", b"0\r\n\r\n"), 400),
    ("te-two-lines", post(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"), 400),
    ("te-space-before-colon", post(b"Transfer-Encoding : chunked\r\n", b"0\r\n\r\n"), 400),
    ("te-tab-value", post(b"Transfer-Encoding: \tchunked\r\n", b"0\r\n\r\n"), 400),
    ("te-quoted", post(b'Transfer-Encoding: "chunked"\r\n', b"0\r\n\r\n"), (400, 501)),
    ("te-parameter", post(b"Transfer-Encoding: chunked;q=1\r\n", b"0\r\n\r\n"), (400, 501)),
    ("te-obs-fold", post(b"Transfer-Encoding:\r\n chunked\r\n", b"0\r\n\r\n"), 400),
    ("te-gzip-chunked", post(b"Transfer-Encoding: gzip, chunked\r\n", b"0\r\n\r\n"), (400, 501)),
    ("te-http10", b"POST /hostile HTTP/1.0\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("cl-dup-equal", post(b"Content-Length: 5\r\nContent-Length: 5\r\n"), 400),
    ("cl-dup-differ", post(b"Content-Length: 5\r\nContent-Length: 6\r\n"), 400),
    ("cl-list", post(b"Content-Length: 5, 5\r\n"), 400),
    ("cl-plus", post(b"Content-Length: +5\r\n"), 400),
    ("cl-minus", post(b"Content-Length: -5\r\n"), 400),
    ("cl-hex", post(b"Content-Length: 0x5\r\n"), 400),
    ("cl-empty", post(b"Content-Length: \r\n"), 400),
    ("cl-20-digits", post(b"Content-Length: 00000000000000000005\r\n"), 400),
    ("cl-space-inside", post(b"Content-Length: 5 5\r\n"), 400),
]

CHUNK_ERRORS = [
    ("chunk-17-hex-digits", chunked(b"00000000000000005\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk-overflow", chunked(b"1FFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk-16-f", chunked(b"FFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n"), (400, 413)),
    ("chunk-plus-sign", chunked(b"+5\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk-minus-sign", chunked(b"-5\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk-space-before-crlf", chunked(b"5 \r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk-tab-before-crlf", chunked(b"5\t\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk-empty-size-line", chunked(b"\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk-bare-lf", chunked(b"5\nhello\r\n0\r\n\r\n"), 400),
    ("chunk-bare-cr", chunked(b"5\rhello\r\n0\r\n\r\n"), 400),
    ("chunk-data-not-crlf", chunked(b"3\r\nabcXX0\r\n\r\n"), 400),
    ("chunk-ext-ctl", chunked(b"5;a\x01b\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk-ext-huge", chunked(b"5;" + b"a" * 20000 + b"\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk-second-bad", chunked(b"5\r\nhello\r\nzz\r\nhello\r\n0\r\n\r\n"), 400),
]


# Behaviour the binary does not implement yet (observed at the end of the suite's time box);
# strict=False so the tests turn green silently once baton is fixed.
XFAIL = {
}


def cases(rows):
    return [
        pytest.param(*row, id=row[0], marks=[pytest.mark.xfail(strict=False, reason=XFAIL[row[0]])] if row[0] in XFAIL else [])
        for row in rows
    ]


@pytest.mark.parametrize("name,raw,status", cases(FRAMING))
def test_framing_rejected(env, name, raw, status):
    baton, backend = env
    check_rejected(baton, backend, raw, status, must_close=True)


@pytest.mark.parametrize("name,raw,status", cases(CHUNK_ERRORS))
def test_chunk_syntax_rejected(env, name, raw, status):
    baton, backend = env
    check_rejected(baton, backend, raw, status, must_close=True, streamed=True)


def test_chunk_extensions_not_forwarded(env):
    baton, backend = env
    with baton.client() as c:
        c.send(chunked(b"5;name=value;x\r\nhello\r\n6;y=\"q\"\r\n world\r\n0\r\n\r\n"))
        r = c.read_response()
        assert r.status == 200
        assert c.request("GET", "/__canary/same").status == 200
    rec = backend.wait_requests(2)[0]
    assert rec.target == b"/hostile" and rec.complete
    assert rec.chunked and rec.body_head == b"hello world"
    assert rec.chunk_exts == []


def test_trailer_framing_fields_dropped(env):
    baton, backend = env
    body = b"5\r\nhello\r\n0\r\nContent-Length: 99\r\nHost: evil\r\nX-Trailer: t\r\n\r\n"
    with baton.client() as c:
        c.send(chunked(body))
        assert c.read_response().status == 200
        assert c.request("GET", "/__canary/same").status == 200
    rec = backend.wait_requests(2)[0]
    assert rec.body_head == b"hello" and rec.complete
    names = {k.lower() for k, _ in rec.trailers}
    assert not names & {b"content-length", b"transfer-encoding", b"host"}, rec.trailers


def test_trailer_transfer_encoding_dropped_or_refused(env):
    """Transfer-Encoding in the trailer section: dropping it or refusing the message (400+C,
    upstream request aborted) are both safe; forwarding it is not."""
    baton, backend = env
    body = b"5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n"
    with baton.client() as c:
        c.send(chunked(body) + SMUGGLE)
        r = c.read_response(allow_truncated=True)
        assert r.status in (200, 400)
        if r.status == 400:
            assert r.closes and c.is_closed()
    seen = canary(baton, backend)
    for rec in seen:
        assert not [k for k, _ in rec.trailers if k.lower() == b"transfer-encoding"]
    if r.status == 400:
        assert not [x for x in seen if x.target == b"/hostile" and x.complete]


def test_body_shorter_than_cl_at_eof(env):
    """The client announces 10 bytes, sends 5 and half-closes: the upstream request is aborted
    and that upstream connection never reused."""
    baton, backend = env
    s = socket.create_connection(("127.0.0.1", baton.port), timeout=harness.TIMEOUT)
    s.sendall(b"POST /hostile HTTP/1.1\r\n" + H + b"Content-Length: 10\r\n\r\nhello")
    heads = backend.wait_heads(1)
    s.shutdown(socket.SHUT_WR)
    try:
        while s.recv(65536):
            pass
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    bad = next(r for r in backend.wait_requests(1) if r.target == b"/hostile")
    assert not bad.complete and bad.body_len == 5
    seen = canary(baton, backend)
    canary_conn = backend.requests[-1].conn_id if backend.requests[-1].target.startswith(b"/__canary") else None
    assert canary_conn is not None and canary_conn != heads[0].conn_id
    assert [r.target for r in seen] == [b"/hostile"]


def test_http10_get_with_body_forwarded_with_framing(env):
    baton, backend = env
    with baton.client() as c:
        c.send(b"GET /hostile/get10 HTTP/1.0\r\n" + H + b"Content-Length: 5\r\n\r\nhello")
        r = c.read_response()
        assert r.status in (200, 413)
        if r.status == 413:  # HAProxy's choice; the brief picked forwarding, so flag it
            pytest.fail("HTTP/1.0 GET with a body was refused (413); expected forwarding")
    rec = backend.wait_requests(1)[0]
    assert rec.target == b"/hostile/get10"
    assert rec.header_all("content-length") == [b"5"] or rec.chunked
    assert rec.body_head == b"hello"


# ---- HTTP/1 syntax ---------------------------------------------------------------------------
SYNTAX_CLOSE = [
    ("ws-before-colon", get_with(b"Foo : bar\r\n")),
    ("empty-name", get_with(b": x\r\n")),
    ("name-paren", get_with(b"Fo(o: bar\r\n")),
    ("name-quote", get_with(b'Fo"o: bar\r\n')),
    ("name-high-byte", get_with(b"Fo\x80o: bar\r\n")),
    ("name-nul", get_with(b"Fo\x00o: bar\r\n")),
    ("no-colon", get_with(b"Foo\r\n")),
    ("value-cr", get_with(b"X-A: a\rb\r\n")),
    ("value-nul", get_with(b"X-A: a\x00b\r\n")),
    ("value-ctl", get_with(b"X-A: a\x01b\r\n")),
    ("value-del", get_with(b"X-A: a\x7fb\r\n")),
    ("obs-fold", get_with(b"X-A: a\r\n b\r\n")),
    ("obs-fold-tab", get_with(b"X-A: a\r\n\tb\r\n")),
    ("leading-ws-first-header", b"GET /hostile HTTP/1.1\r\n X-A: a\r\n" + H + b"\r\n"),
    ("bare-lf-everywhere", b"GET /hostile HTTP/1.1\n" + b"Host: example.com\n\n"),
    ("bare-lf-one-header", get_with(b"X-A: a\nX-B: b\r\n")),
    ("bare-lf-request-line", b"GET /hostile HTTP/1.1\n" + H + b"\r\n"),
    ("http09", b"GET /hostile\r\n\r\n"),
    ("two-spaces-after-method", b"GET  /hostile HTTP/1.1\r\n" + H + b"\r\n"),
    ("two-spaces-before-version", b"GET /hostile  HTTP/1.1\r\n" + H + b"\r\n"),
    ("tab-separator", b"GET\t/hostile HTTP/1.1\r\n" + H + b"\r\n"),
    ("trailing-space", b"GET /hostile HTTP/1.1 \r\n" + H + b"\r\n"),
    ("method-not-token", b"GE(T /hostile HTTP/1.1\r\n" + H + b"\r\n"),
    ("method-high-byte", b"G\xc3\x89T /hostile HTTP/1.1\r\n" + H + b"\r\n"),
]


@pytest.mark.parametrize("name,raw", cases(SYNTAX_CLOSE))
def test_syntax_rejected_and_closed(env, name, raw):
    baton, backend = env
    check_rejected(baton, backend, raw, 400, must_close=True)


SYNTAX_STATUS = [
    # (id, raw, statuses) — the connection may stay open; if so, a same-connection canary runs.
    ("connect", b"CONNECT example.com:443 HTTP/1.1\r\n" + H + b"\r\n", 405),
    ("trace", b"TRACE /hostile HTTP/1.1\r\n" + H + b"\r\n", 405),
    ("version-1.2", b"GET /hostile HTTP/1.2\r\n" + H + b"\r\n", (505, 400)),
    ("version-2.0", b"GET /hostile HTTP/2.0\r\n" + H + b"\r\n", (505, 400)),
    ("version-3.0", b"GET /hostile HTTP/3.0\r\n" + H + b"\r\n", (505, 400)),
    ("version-lowercase", b"GET /hostile http/1.1\r\n" + H + b"\r\n", 400),
    ("version-garbage", b"GET /hostile HTTP/1.1.1\r\n" + H + b"\r\n", (400, 505)),
    ("host-missing", b"GET /hostile HTTP/1.1\r\n\r\n", 400),
    ("host-repeated", get_with(b"Host: example.com\r\n"), 400),
    ("host-list", b"GET /hostile HTTP/1.1\r\nHost: a.com, b.com\r\n\r\n", 400),
    ("host-space", b"GET /hostile HTTP/1.1\r\nHost: a .com\r\n\r\n", 400),
    ("host-ctl", b"GET /hostile HTTP/1.1\r\nHost: a\x01.com\r\n\r\n", 400),
    ("host-at", b"GET /hostile HTTP/1.1\r\nHost: user@a.com\r\n\r\n", 400),
    ("host-slash", b"GET /hostile HTTP/1.1\r\nHost: a.com/x\r\n\r\n", 400),
    ("host-backslash", b"GET /hostile HTTP/1.1\r\nHost: a.com\\x\r\n\r\n", 400),
    ("header-field-over-8k", get_with(b"X-Big: " + b"a" * 9000 + b"\r\n"), 431),
    ("header-block-over-32k", get_with(b"".join(b"X-B%d: %s\r\n" % (i, b"a" * 7000) for i in range(5))), 431),
    ("header-count-over-100", get_with(b"".join(b"X-C%d: c\r\n" % i for i in range(101))), 431),
    ("expect-unknown", get_with(b"Expect: teapot\r\n"), 417),
]


@pytest.mark.parametrize("name,raw,status", cases(SYNTAX_STATUS))
def test_syntax_rejected_status(env, name, raw, status):
    baton, backend = env
    check_rejected(baton, backend, raw, status, must_close=False)


# ---- accepted but sanitised ------------------------------------------------------------------
def test_htab_in_value_forwarded(env):
    baton, backend = env
    with baton.client() as c:
        c.send(get_with(b"X-Tab: a\tb\r\n"))
        assert c.read_response().status == 200
    assert backend.wait_requests(1)[0].header("x-tab") == b"a\tb"


def test_underscore_header_names_dropped(env):
    baton, backend = env
    with baton.client() as c:
        c.send(get_with(b"X_Forwarded_For: 6.6.6.6\r\nX_Custom: 1\r\nX-Ok: 1\r\n"))
        r = c.read_response()
        assert r.status == 200
        assert c.request("GET", "/__canary/same").status == 200
    rec = backend.wait_requests(1)[0]
    assert not [k for k, _ in rec.headers if b"_" in k], rec.headers
    assert rec.header("x-ok") == b"1"
    assert b"6.6.6.6" not in b",".join(rec.header_all("x-forwarded-for"))


def test_h2c_upgrade_stripped(env):
    baton, backend = env
    with baton.client() as c:
        c.send(get_with(b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n"))
        r = c.read_response()
        assert r.status == 200
        assert c.request("GET", "/__canary/same").status == 200
    rec = backend.wait_requests(1)[0]
    for name in ("upgrade", "http2-settings", "connection"):
        assert not rec.has(name) or name == "connection" and b"upgrade" not in rec.header("connection").lower()
