"""Each timeout of the issue, configured at 300 ms so the file runs fast: request-head deadline,
keep-alive idle, upstream connect, upstream first byte, body idle both ways.

No test sleeps: each one waits for baton's reaction (a response or a close) with a socket timeout
well above the configured deadline, and checks it came neither too early nor never."""

import socket
import time

import pytest

import harness
from harness import assert_rejected, canary

T = 0.3  # every configured timeout
TIMEOUTS = {
    "request_head": "300ms",
    "keepalive_idle": "300ms",
    "upstream_connect": "300ms",
    "upstream_first_byte": "300ms",
    "body_idle": "300ms",
}


@pytest.fixture
def env(start, backend):
    return start(timeouts=TIMEOUTS), backend


def test_slowloris_request_head_deadline_408(env):
    """Header lines trickle in every 100 ms (each resets any idle timer): the total head deadline
    must still fire -> 408 + close."""
    baton, backend = env
    c = baton.client()
    t0 = time.monotonic()
    c.send(b"GET /slowloris HTTP/1.1\r\nHost: example.com\r\n")
    c.sock.settimeout(0.1)
    i = 0
    while time.monotonic() - t0 < 5:
        try:
            data = c.sock.recv(65536)  # waits up to 100 ms for baton's answer
        except socket.timeout:
            i += 1
            try:
                c.send(b"X-Trickle-%d: x\r\n" % i)
            except (BrokenPipeError, ConnectionResetError):
                break
            continue
        c.r.buf += data
        break
    elapsed = time.monotonic() - t0
    c.sock.settimeout(harness.TIMEOUT)
    assert_rejected(c, 408, close=True)
    assert elapsed >= T * 0.8, f"408 after {elapsed:.2f}s, before the deadline"
    assert elapsed < 3, f"408 only after {elapsed:.2f}s"
    assert not [r for r in backend.heads if r.target == b"/slowloris"]
    c.close()


def test_partial_head_then_silence_408(env):
    baton, backend = env
    with baton.client() as c:
        c.send(b"GET /partial HTTP/1.1\r\nHost: exa")
        assert_rejected(c, 408, close=True)
    assert canary(baton, backend) == []


def test_keepalive_idle_closes(env):
    baton, backend = env
    with baton.client() as c:
        assert c.request("GET", "/ka").status == 200
        t0 = time.monotonic()
        assert c.is_closed(timeout=3), "idle keep-alive connection not closed"
        elapsed = time.monotonic() - t0
    assert T * 0.8 <= elapsed < 2.5, elapsed


def test_fresh_connection_idle_closes(env):
    """A connection that never sends a byte is closed (head deadline or idle timer); a 408 may
    precede the close."""
    baton, backend = env
    with baton.client() as c:
        c.sock.settimeout(3)
        try:
            data = c.sock.recv(65536)
        except socket.timeout:
            pytest.fail("silent connection never closed")
        except ConnectionResetError:
            data = b""
        assert data == b"" or data.startswith(b"HTTP/1.1 408")


def test_upstream_connect_timeout_504(baton):
    hole = harness.Blackhole()
    try:
        cfg = harness.make_config(
            {"web": {"hosts": [hole.address], "connect_attempts": 1}},
            timeouts=TIMEOUTS,
        )
        baton.start(cfg)
        with baton.client() as c:
            t0 = time.monotonic()
            r = c.request("GET", "/connect")
            elapsed = time.monotonic() - t0
        assert r.status == 504, (r.status, r.body)
        assert T * 0.8 <= elapsed < 3, elapsed
    finally:
        hole.close()


def test_upstream_first_byte_timeout_504(env):
    baton, backend = env
    backend.on("/slow", first_byte_wait=10)
    try:
        with baton.client() as c:
            t0 = time.monotonic()
            r = c.request("GET", "/slow")
            elapsed = time.monotonic() - t0
            assert r.status == 504
            assert T * 0.8 <= elapsed < 3, elapsed
            if not r.closes:  # the downstream connection stays usable
                assert c.request("GET", "/after").status == 200
    finally:
        backend.release.set()


def test_client_body_idle_408(env):
    baton, backend = env
    with baton.client() as c:
        c.send(b"POST /bodyidle HTTP/1.1\r\nHost: example.com\r\nContent-Length: 100\r\n\r\n0123456789")
        t0 = time.monotonic()
        assert_rejected(c, 408, close=True)
        assert time.monotonic() - t0 < 3
    # The upstream request (if it was started) was aborted, never completed.
    assert not [r for r in backend.requests if r.target == b"/bodyidle" and r.complete]
    canary(baton, backend)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_upstream_body_stall_truncates(env, chunked):
    """The backend sends the head and 100 KiB of a 1 MiB body, then stalls: after body_idle the
    client must see a truncation (close before the end / without the last chunk), never a clean
    end."""
    baton, backend = env
    backend.on("/stall", body_size=1 << 20, stall_after=100 * 1024, chunked=chunked)
    try:
        with baton.client() as c:
            c.send(harness.build_request("GET", "/stall"))
            t0 = time.monotonic()
            r = c.read_response(allow_truncated=True)
            elapsed = time.monotonic() - t0
            assert r.status == 200
            assert not r.complete, "a stalled upstream body ended cleanly downstream"
            assert r.body_len <= 100 * 1024
            assert elapsed < 3, elapsed
    finally:
        backend.release.set()


def test_upstream_close_mid_body_truncates(env):
    baton, backend = env
    backend.release.set()  # stall_after returns at once: the backend closes mid-body
    backend.on("/cut", body_size=1 << 20, stall_after=64 * 1024, chunked=True)
    with baton.client() as c:
        c.send(harness.build_request("GET", "/cut"))
        r = c.read_response(allow_truncated=True)
        assert r.status == 200 and not r.complete
    canary(baton, backend)
