"""Connection lifecycle edges: half-closing clients, stalled peers on either side, and which
upstream failures may be retried. Each reproduces a bug found in review; all wait on events
(socket readiness, EOF, process state) with deadlines, never fixed sleeps."""
import select
import socket
import subprocess
import threading
import time

import harness

TO = {"request_head": "1s", "keepalive_idle": "1s", "upstream_connect": "1s",
      "upstream_first_byte": "1s", "body_idle": "1s"}


def recv_until_eof(s, timeout=6.0):
    """Everything the peer sends until it closes (or the deadline)."""
    s.settimeout(timeout)
    buf = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    except (socket.timeout, ConnectionResetError):
        pass
    return buf


def test_get_then_half_close_still_gets_its_response(start, backend):
    baton = start(timeouts=TO)
    with socket.create_connection(("127.0.0.1", baton.port)) as s:
        s.sendall(harness.build_request("GET", "/hc1"))
        s.shutdown(socket.SHUT_WR)
        data = recv_until_eof(s)
    assert data.startswith(b"HTTP/1.1 200"), data[:200]


def test_pipelined_requests_then_half_close_all_answered(start, backend):
    baton = start(timeouts=TO)
    with baton.client() as c:  # warm the pool so the upstream side answers synchronously
        assert c.request("GET", "/warm").status == 200
    with socket.create_connection(("127.0.0.1", baton.port)) as s:
        s.sendall(harness.build_request("GET", "/p1") + harness.build_request("GET", "/p2"))
        s.shutdown(socket.SHUT_WR)
        data = recv_until_eof(s)
    assert data.count(b"HTTP/1.1 200") == 2, data[:400]


def test_post_with_body_then_half_close_gets_its_response(start, backend):
    baton = start(timeouts=TO)
    with socket.create_connection(("127.0.0.1", baton.port)) as s:
        s.sendall(harness.build_request("POST", "/pb", body=b"x" * 1000))
        s.shutdown(socket.SHUT_WR)
        data = recv_until_eof(s)
    assert data.startswith(b"HTTP/1.1 200"), data[:200]
    assert backend.wait_requests(1)[0].body_len == 1000


def test_half_close_mid_body_releases_the_connection(start, backend):
    baton = start(timeouts=TO)
    with socket.create_connection(("127.0.0.1", baton.port)) as s:
        s.sendall(b"POST /cut HTTP/1.1\r\nHost: example.com\r\nContent-Length: 100\r\n\r\nabc")
        s.shutdown(socket.SHUT_WR)
        data = recv_until_eof(s, timeout=4.0)
    # The body can never complete: baton closes (it may or may not have answered).
    assert b"HTTP/1.1 200" not in data


def test_upload_to_an_upstream_that_stops_reading_times_out(baton):
    # An upstream that accepts (kernel backlog) and never reads a byte.
    sink = socket.socket()
    sink.bind(("127.0.0.1", 0))
    sink.listen(16)
    try:
        addr = "127.0.0.1:%d" % sink.getsockname()[1]
        baton.start(harness.make_config(clusters={"web": [addr]}, timeouts=TO,
                                        limits={"buffer_high_watermark": "64KiB"}))
        with socket.create_connection(("127.0.0.1", baton.port)) as s:
            s.sendall(b"POST /up HTTP/1.1\r\nHost: example.com\r\nContent-Length: %d\r\n\r\n"
                      % (256 << 20))
            s.setblocking(False)
            chunk = b"y" * 65536
            answer = b""
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                readable, writable, _ = select.select([s], [s], [], deadline - time.monotonic())
                if readable:
                    try:
                        d = s.recv(65536)
                    except ConnectionResetError:
                        break
                    if not d:
                        break
                    answer += d
                    if b"\r\n\r\n" in answer:
                        break
                elif writable:
                    try:
                        s.send(chunk)
                    except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                        pass
            assert time.monotonic() < deadline, "no answer and no close: the request hangs"
            if answer:
                assert answer.startswith(b"HTTP/1.1 504"), answer[:200]
    finally:
        sink.close()


def baton_connections(pid, port):
    out = subprocess.run(["ss", "-tnpH", "state", "connected", f"( sport = :{port} )"],
                         capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if f"pid={pid}," in line]


def test_client_that_never_reads_is_disconnected(start, backend):
    backend.on("/big", body_size=64 << 20)
    baton = start(timeouts=TO, limits={"buffer_high_watermark": "64KiB"})
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", baton.port))
    try:
        s.sendall(harness.build_request("GET", "/big"))
        # The client never reads. baton must give up within body_idle (1 s) of no progress
        # plus the closing deadline (1 s); poll the socket table until it does (bounded).
        deadline = time.monotonic() + 8
        conns = baton_connections(baton.proc.pid, baton.port)
        while conns and time.monotonic() < deadline:
            time.sleep(0.1)
            conns = baton_connections(baton.proc.pid, baton.port)
        assert not conns, "baton still holds the connection:\n" + "\n".join(conns)
    finally:
        s.close()


def test_fresh_connection_closed_without_response_is_not_retried(start, backend):
    backend.on("/once", close_without_response=True)
    baton = start(timeouts=TO)
    with baton.client() as c:
        c.send(harness.build_request("GET", "/once"))
        r = c.read_response(allow_truncated=True)
    # A retry would have happened before this response was sent, so counting now is exact.
    n = len([x for x in backend.requests if x.target == b"/once"])
    assert n == 1, f"GET /once reached the upstream {n} times (status {r.status})"
    assert r.status == 502


def test_pipelining_client_that_never_reads_is_held_back(start, backend):
    # Requests that answer without a body (404 here) never pass through the stream's response
    # backpressure: baton itself must stop parsing (and reading) while responses pile up.
    baton = start(timeouts={"keepalive_idle": "10s"},
                  vhosts=[{"name": "only", "domains": ["only.example"],
                           "routes": [{"prefix": "/", "cluster": "web"}]}])
    rss_before = baton.rss_kib()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", baton.port))
    s.settimeout(2)
    flood = b"GET /x HTTP/1.1\r\nHost: other\r\n\r\n" * 1000
    sent, blocked = 0, False
    try:
        while sent < (256 << 20):
            s.sendall(flood)
            sent += len(flood)
    except socket.timeout:
        blocked = True  # baton stopped reading: the kernel buffers filled up
    finally:
        rss_after = baton.rss_kib()
        s.close()
    assert blocked, f"baton kept reading: {sent} bytes of requests accepted"
    assert rss_after - rss_before < 32 * 1024, (rss_before, rss_after)


def test_early_error_reply_reaches_a_client_still_uploading(baton):
    # The upstream answers 413 without reading the body; the client sends its whole body before
    # reading (like http.client). baton must discard the rest of the upload (lingering close)
    # so the client can finish sending and read the 413, not get a reset.
    answered = []

    def serve(conn):
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = conn.recv(4096)
            if not d:
                return
            buf += d
        conn.sendall(b"HTTP/1.1 413 Too Large\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope")
        answered.append(True)
        # Like a real server's lingering close: discard the rest until baton closes.
        while conn.recv(65536):
            pass
        conn.close()

    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)

    def accept_loop():
        try:
            conn, _ = ls.accept()
        except OSError:
            return
        serve(conn)

    threading.Thread(target=accept_loop, daemon=True).start()
    address = "127.0.0.1:%d" % ls.getsockname()[1]
    baton.start(harness.make_config(clusters={"web": [address]}))
    body = 8 << 20
    with socket.create_connection(("127.0.0.1", baton.port)) as s:
        s.settimeout(10)
        s.sendall(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % body)
        chunk = b"a" * 65536
        for _ in range(body // len(chunk)):
            s.sendall(chunk)
        reply = recv_until_eof(s)
    ls.close()
    assert reply.startswith(b"HTTP/1.1 413"), reply[:100]


def test_graceful_stop_flushes_a_queued_response(start, backend):
    size = 3 << 20
    backend.on("/big", body_size=size)
    baton = start(timeouts={"drain": "60s"})
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", baton.port))
    try:
        s.sendall(harness.build_request("GET", "/big"))
        s.settimeout(5)
        first = s.recv(4096)  # the response has started: the rest is queued in baton
        assert first.startswith(b"HTTP/1.1 200")
        backend.wait_requests(1)
        baton.proc.send_signal(15)
        # A 4 KiB receive window makes this ~800 round trips: generous deadlines for a loaded CI
        # machine (the test ends at EOF, not at the deadline).
        data = first + recv_until_eof(s, timeout=60)
    finally:
        s.close()
    body = data.partition(b"\r\n\r\n")[2]
    assert len(body) == size
    assert baton.proc.wait(60) == 0
