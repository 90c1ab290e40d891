"""HTTP/2 to backends (cluster protocol = "h2c" / "h2") through the real binary: a Python HTTP/2
backend (Debian's python3-h2, server side over a plain or TLS socket) that echoes bodies, streams,
and ends responses with gRPC-style trailers; clients are curl --http2-prior-knowledge, nghttp,
h2load, a python-h2 client (trailers, bidirectional ping-pong) and plain HTTP/1.1.

Checked: request and response trailers pass through (grpc-status), `te: trailers` reaches the
backend, a bidirectional stream answers each message before the next is sent (nothing buffers a
whole body), many client streams share few backend connections (the backend's
SETTINGS_MAX_CONCURRENT_STREAMS respected), GOAWAY from the backend lets in-flight streams finish
and new ones go to a new connection, a backend reset is a clean 502 / truncation, and h2 over TLS
needs ALPN h2 and a verifiable certificate.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import threading
import time

import h2.config
import h2.connection
import h2.events
import h2.settings
import pytest

import harness
import tls_pki

TIMEOUT = harness.TIMEOUT
CURL_TIMEOUT = 20


# --------------------------------------------------------------------------------------------
# The HTTP/2 backend.
# --------------------------------------------------------------------------------------------
class H2Backend:
    """HTTP/2 server on 127.0.0.1:0, one thread per connection, behaviour by path:

    anything else     body echoed after END_STREAM; trailers grpc-status: 0 and x-req-trailer
                      (the request's x-checksum trailer); headers x-got-te, x-got-authority,
                      x-conn (connection number)
    /stream           head at once, every DATA frame echoed at once, trailers at END_STREAM
    /trailers-only    one HEADERS with grpc-status 12 and END_STREAM
    /big?n=N          N bytes of response, then trailers
    /reset            head, some bytes, then RST_STREAM INTERNAL_ERROR
    /goaway           answered, then GOAWAY (last stream = this one) and close when idle
    """

    def __init__(self, max_streams: int = 100, tls_ctx: ssl.SSLContext | None = None, refuse: bool = False):
        self.max_streams = max_streams
        self.refuse = refuse  # answer every stream with RST_STREAM REFUSED_STREAM
        self.tls_ctx = tls_ctx
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((harness.LOCAL, 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.address = f"{harness.LOCAL}:{self.port}"
        self.lock = threading.Condition()
        self.connections = 0
        self.requests: list[dict] = []
        self.max_open_seen = 0
        self.closing = False
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.closing = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept thread
        except OSError:
            pass
        self.sock.close()
        for c in list(self.conns):
            try:
                c.close()
            except OSError:
                pass

    def wait_requests(self, n: int, timeout: float = TIMEOUT) -> list[dict]:
        with self.lock:
            ok = self.lock.wait_for(lambda: len(self.requests) >= n, timeout)
            assert ok, f"backend saw {len(self.requests)} requests, expected {n}"
            return list(self.requests)

    def _accept(self) -> None:
        while not self.closing:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                cid = self.connections
                self.lock.notify_all()
            threading.Thread(target=self._serve, args=(conn, cid), daemon=True).start()

    def _serve(self, raw: socket.socket, cid: int) -> None:
        try:
            sock = raw
            if self.tls_ctx is not None:
                sock = self.tls_ctx.wrap_socket(raw, server_side=True)
                if sock.selected_alpn_protocol() != "h2":
                    sock.close()
                    return
            self.conns.append(sock)
            _Conn(self, sock, cid).run()
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                raw.close()
            except OSError:
                pass


def _kind(path: str) -> str:
    for k in ("trailers-only", "stream", "reset", "big", "goaway"):
        if path.startswith("/" + k):
            return k
    return "echo"


class _Conn:
    def __init__(self, backend: H2Backend, sock, cid: int):
        self.b = backend
        self.sock = sock
        self.cid = cid
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        self.streams: dict[int, dict] = {}
        self.pending: dict[int, bytearray] = {}  # response bytes waiting for window
        self.end_after: dict[int, list] = {}  # trailers to send once pending drained
        self.goaway_when_idle = False

    def run(self) -> None:
        # In the first SETTINGS (python-h2 then also enforces it: a client exceeding it is a
        # protocol error on this connection).
        self.h2.local_settings = h2.settings.Settings(
            client=False, initial_values={h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: self.b.max_streams})
        self.h2.initiate_connection()
        self.flush()
        self.sock.settimeout(30)
        while True:
            data = self.sock.recv(65536)
            if not data:
                return
            for ev in self.h2.receive_data(data):
                self.handle(ev)
            self.pump()
            self.flush()
            if self.goaway_when_idle and not self.h2.open_inbound_streams:
                self.sock.close()
                return

    def flush(self) -> None:
        out = self.h2.data_to_send()
        if out:
            self.sock.sendall(out)

    def handle(self, ev) -> None:
        if isinstance(ev, h2.events.RequestReceived):
            headers = dict(ev.headers)
            st = {"headers": headers, "body": bytearray(), "trailers": {}, "conn": self.cid}
            self.streams[ev.stream_id] = st
            with self.b.lock:
                self.b.requests.append(st)
                self.b.max_open_seen = max(self.b.max_open_seen, self.h2.open_inbound_streams)
                self.b.lock.notify_all()
            path = headers[":path"]
            kind = _kind(path)
            if self.b.refuse:
                self.h2.reset_stream(ev.stream_id, error_code=7)
                self.streams.pop(ev.stream_id)
            elif kind == "trailers-only":
                self.h2.send_headers(ev.stream_id, [(":status", "200"), ("content-type", "application/grpc"),
                                                    ("grpc-status", "12"), ("grpc-message", "unimplemented")],
                                     end_stream=True)
            elif kind == "stream":
                self.h2.send_headers(ev.stream_id, [(":status", "200"), ("content-type", "application/grpc")])
            elif kind == "reset":
                self.h2.send_headers(ev.stream_id, [(":status", "200")])
                self.h2.send_data(ev.stream_id, b"partial")
                self.h2.reset_stream(ev.stream_id, error_code=2)
            elif kind == "big":
                n = int(path.split("n=")[1])
                self.h2.send_headers(ev.stream_id, [(":status", "200")])
                self.pending[ev.stream_id] = bytearray(harness.pattern_bytes(0, n))
                self.end_after[ev.stream_id] = [("grpc-status", "0")]
            if ev.stream_ended is not None:
                self.on_end(ev.stream_id)
        elif isinstance(ev, h2.events.DataReceived):
            st = self.streams.get(ev.stream_id)
            self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            if st is None:
                return
            st["body"] += ev.data
            if _kind(st["headers"][":path"]) == "stream" and ev.data:
                self.h2.send_data(ev.stream_id, ev.data)
            if ev.stream_ended is not None:
                self.on_end(ev.stream_id)
        elif isinstance(ev, h2.events.TrailersReceived):
            st = self.streams.get(ev.stream_id)
            if st is not None:
                st["trailers"] = dict(ev.headers)
            if ev.stream_ended is not None:
                self.on_end(ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            self.on_end(ev.stream_id)
        elif isinstance(ev, h2.events.StreamReset):
            self.pending.pop(ev.stream_id, None)
            self.end_after.pop(ev.stream_id, None)

    def on_end(self, sid: int) -> None:
        st = self.streams.get(sid)
        if st is None or st.get("ended"):
            return
        st["ended"] = True
        kind = _kind(st["headers"][":path"])
        if kind == "stream":
            self.h2.send_headers(sid, [("grpc-status", "0")], end_stream=True)
        elif kind in ("echo", "goaway"):
            h = st["headers"]
            self.h2.send_headers(sid, [(":status", "200"), ("content-type", "application/grpc"),
                                       ("x-got-te", h.get("te", "-")), ("x-got-authority", h.get(":authority", "-")),
                                       ("x-got-method", h[":method"]), ("x-conn", str(self.cid))])
            self.pending[sid] = bytearray(st["body"])
            self.end_after[sid] = [("grpc-status", "0"), ("x-req-trailer", st["trailers"].get("x-checksum", "-"))]
            if kind == "goaway":
                self.goaway_when_idle = True
        self.pump()
        if kind == "goaway":
            self.h2.close_connection(last_stream_id=sid)

    def pump(self) -> None:
        for sid in list(self.pending):
            buf = self.pending[sid]
            while buf:
                window = min(self.h2.local_flow_control_window(sid), self.h2.max_outbound_frame_size)
                if window <= 0:
                    break
                piece = bytes(buf[:window])
                del buf[:window]
                self.h2.send_data(sid, piece)
            if not buf:
                del self.pending[sid]
                trailers = self.end_after.pop(sid, None)
                if trailers is not None:
                    self.h2.send_headers(sid, trailers, end_stream=True)


# --------------------------------------------------------------------------------------------
# A python-h2 client (trailers, bidirectional streaming).
# --------------------------------------------------------------------------------------------
class H2Client:
    def __init__(self, port: int):
        self.sock = socket.create_connection((harness.LOCAL, port), timeout=TIMEOUT)
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.h2.initiate_connection()
        self.sock.sendall(self.h2.data_to_send())
        self.events: list = []

    def close(self) -> None:
        self.sock.close()

    def send(self) -> None:
        out = self.h2.data_to_send()
        if out:
            self.sock.sendall(out)

    def request(self, path: str, headers=(), end_stream: bool = False) -> int:
        sid = self.h2.get_next_available_stream_id()
        self.h2.send_headers(sid, [(":method", "POST"), (":scheme", "http"), (":authority", "grpc.test"),
                                   (":path", path), *headers], end_stream=end_stream)
        self.send()
        return sid

    def wait(self, pred, timeout: float = TIMEOUT):
        """Reads events until pred(event) is true for one; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if pred(ev):
                    return self.events.pop(i)
            left = deadline - time.monotonic()
            assert left > 0, f"timed out; events: {self.events}"
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            assert data, "baton closed the connection"
            for ev in self.h2.receive_data(data):
                if isinstance(ev, h2.events.DataReceived):
                    self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                self.events.append(ev)
            self.send()


def of(kind, sid):
    return lambda ev: isinstance(ev, kind) and ev.stream_id == sid


# --------------------------------------------------------------------------------------------
# Fixtures and helpers.
# --------------------------------------------------------------------------------------------
@pytest.fixture
def h2backends():
    yield from harness.made_and_closed(H2Backend)


def start(baton, backend: H2Backend, protocol: str = "h2c", extra: dict | None = None, **kw):
    cluster = {"hosts": [backend.address], "protocol": protocol, **(extra or {})}
    return baton.start(harness.make_config(clusters={"grpc": cluster}, **kw))


def curl(port: int, path: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["curl", "-sS", "--http2-prior-knowledge", "--max-time", "10", *args, f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        timeout=CURL_TIMEOUT,
    )


# --------------------------------------------------------------------------------------------
# Tests.
# --------------------------------------------------------------------------------------------
def test_curl_echo_over_h2c(baton, h2backends):
    be = h2backends()
    b = start(baton, be)
    body = bytes(range(256)) * 2000  # 512,000 bytes: several windows both ways
    path = os.path.join(str(baton.tmp), "up.bin")
    with open(path, "wb") as f:
        f.write(body)
    out = os.path.join(str(baton.tmp), "down.bin")
    r = curl(b.port, "/echo/big", "--data-binary", f"@{path}", "-o", out, "-w", "%{http_code}")
    assert r.stdout == b"200", r.stderr
    with open(out, "rb") as f:
        assert f.read() == body
    rec = be.wait_requests(1)[0]
    assert rec["headers"][":method"] == "POST"
    assert rec["headers"][":scheme"] == "http"
    assert rec["headers"][":authority"] == f"127.0.0.1:{b.port}"
    assert "x-forwarded-for" in rec["headers"]


def test_grpc_trailers_both_ways_and_te(baton, h2backends):
    be = h2backends()
    b = start(baton, be)
    c = H2Client(b.port)
    try:
        sid = c.request("/echo/pkg.Svc/Call", [("content-type", "application/grpc"), ("te", "trailers")])
        c.h2.send_data(sid, b"\x00\x00\x00\x00\x05hello")
        c.h2.send_headers(sid, [("x-checksum", "abc123")], end_stream=True)
        c.send()
        head = c.wait(of(h2.events.ResponseReceived, sid))
        h = dict(head.headers)
        assert h[":status"] == "200"
        assert h["x-got-te"] == "trailers"
        data = c.wait(of(h2.events.DataReceived, sid))
        assert data.data == b"\x00\x00\x00\x00\x05hello"
        tr = c.wait(of(h2.events.TrailersReceived, sid))
        t = dict(tr.headers)
        assert t["grpc-status"] == "0"
        assert t["x-req-trailer"] == "abc123"  # the request trailer reached the backend
    finally:
        c.close()


def test_trailers_only_response(baton, h2backends):
    be = h2backends()
    b = start(baton, be)
    c = H2Client(b.port)
    try:
        sid = c.request("/trailers-only", [("te", "trailers")], end_stream=True)
        head = c.wait(of(h2.events.ResponseReceived, sid))
        h = dict(head.headers)
        assert h[":status"] == "200"
        assert h["grpc-status"] == "12"
        c.wait(of(h2.events.StreamEnded, sid))
    finally:
        c.close()


def test_bidirectional_streaming_ping_pong(baton, h2backends):
    """Each message is answered before the next is sent: nothing waits for a whole body."""
    be = h2backends()
    b = start(baton, be)
    c = H2Client(b.port)
    try:
        sid = c.request("/stream", [("content-type", "application/grpc"), ("te", "trailers")])
        c.wait(of(h2.events.ResponseReceived, sid))
        for i in range(20):
            msg = f"ping-{i:03d}".encode()
            c.h2.send_data(sid, msg)
            c.send()
            got = bytearray()
            while len(got) < len(msg):
                got += c.wait(of(h2.events.DataReceived, sid)).data
            assert bytes(got) == msg
        c.h2.end_stream(sid)
        c.send()
        tr = c.wait(of(h2.events.TrailersReceived, sid))
        assert dict(tr.headers)["grpc-status"] == "0"
    finally:
        c.close()


def test_http1_client_to_h2c_cluster(baton, h2backends):
    be = h2backends()
    b = start(baton, be)
    with harness.Client(b.port) as c:
        r = c.request("GET", "/echo/plain")
        assert r.status == 200
        assert r.header("x-got-method") == "GET"
        r = c.request("POST", "/echo/post", body=b"x" * 100_000)
        assert r.status == 200
        assert r.body == b"x" * 100_000
        # Unknown length toward HTTP/1.1: chunked, and the trailers go in the trailer section.
        c.send(harness.build_request("POST", "/echo/t", body=b"abc", host="grpc.test"))
        start_line, headers = harness.read_head(c.r)
        assert start_line.startswith(b"HTTP/1.1 200")
        assert harness.header_values(headers, "transfer-encoding") == [b"chunked"]
        got = bytearray()
        trailers = harness.read_chunked(c.r, got.extend)
        assert bytes(got) == b"abc"
        assert (b"grpc-status", b"0") in trailers
    assert be.wait_requests(3)[0]["headers"][":authority"] == "example.com"


def test_nghttp_and_many_streams_share_connections(baton, h2backends):
    be = h2backends(max_streams=8)
    b = start(baton, be)
    r = subprocess.run(["nghttp", "-n", "-s", f"http://127.0.0.1:{b.port}/echo/a",
                        f"http://127.0.0.1:{b.port}/echo/b", f"http://127.0.0.1:{b.port}/echo/c"],
                       capture_output=True, timeout=CURL_TIMEOUT)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["h2load", "-n", "400", "-c", "2", "-m", "32", f"http://127.0.0.1:{b.port}/echo/load"],
                       capture_output=True, timeout=60)
    out = r.stdout.decode()
    assert "400 succeeded" in out, out
    assert "0 failed" in out, out
    with be.lock:
        # 64 concurrent client streams over a backend allowing 8 per connection: a handful of
        # connections, never one per request, and the backend's limit never exceeded.
        assert be.max_open_seen <= 8
        assert 2 <= be.connections <= 16, be.connections


def test_goaway_in_flight_finishes_and_new_connection_follows(baton, h2backends):
    be = h2backends()
    b = start(baton, be)
    r = curl(b.port, "/echo/first", "-o", "/dev/null", "-w", "%{http_code}")
    assert r.stdout == b"200", r.stderr
    r = curl(b.port, "/goaway", "-d", "bye", "-w", " %{http_code}")
    assert r.stdout == b"bye 200", r.stderr
    r = curl(b.port, "/echo/after", "-o", "/dev/null", "-w", "%{http_code}")
    assert r.stdout == b"200", r.stderr
    reqs = be.wait_requests(3)
    assert reqs[0]["conn"] == reqs[1]["conn"]  # multiplexed on one connection
    assert reqs[2]["conn"] != reqs[1]["conn"]  # after GOAWAY: a new one


def test_backend_reset_truncates_and_service_goes_on(baton, h2backends):
    be = h2backends()
    b = start(baton, be)
    c = H2Client(b.port)
    try:
        sid = c.request("/reset", end_stream=True)
        c.wait(of(h2.events.ResponseReceived, sid))
        rst = c.wait(of(h2.events.StreamReset, sid))
        assert rst.error_code == 2  # INTERNAL_ERROR: the client sees the cut
    finally:
        c.close()
    r = curl(b.port, "/echo/ok", "-o", "/dev/null", "-w", "%{http_code}")
    assert r.stdout == b"200", r.stderr


def test_refused_stream_is_retried_on_another_host(baton, h2backends):
    refusing = h2backends(refuse=True)
    good = h2backends()
    b = baton.start(harness.make_config(
        clusters={"grpc": {"hosts": [refusing.address, good.address], "protocol": "h2c"}}))
    # Without a body (nothing of the client's was consumed) a refused stream goes to the next
    # host; round robin sends half of these to the refusing host first.
    for i in range(4):
        r = curl(b.port, f"/echo/{i}", "-o", "/dev/null", "-w", "%{http_code}")
        assert r.stdout == b"200", r.stderr
    assert len(refusing.wait_requests(1)) >= 1
    assert len(good.wait_requests(4)) == 4


def test_dead_backend_is_503(baton):
    s = socket.socket()
    s.bind((harness.LOCAL, 0))
    addr = f"{harness.LOCAL}:{s.getsockname()[1]}"
    s.close()  # bound, never listening: connections are refused
    b = baton.start(harness.make_config(clusters={"grpc": {"hosts": [addr], "protocol": "h2c"}}))
    r = curl(b.port, "/echo/x", "-o", "/dev/null", "-w", "%{http_code}")
    assert r.stdout == b"503", r.stderr  # connect failure, as for HTTP/1 backends


def test_slow_client_large_response(baton, h2backends):
    """A 3 MB response through a client that reads slowly arrives complete (flow control ties
    the backend's window to the client's reading; nothing is lost or buffered unbounded)."""
    be = h2backends()
    b = start(baton, be, limits={"buffer_high_watermark": "64KiB"})
    n = 3_000_000
    c = H2Client(b.port)
    try:
        sid = c.request("/big?n=%d" % n, end_stream=True)
        c.wait(of(h2.events.ResponseReceived, sid))
        got = 0
        while got < n:
            got += len(c.wait(of(h2.events.DataReceived, sid)).data)
        assert got == n
        tr = c.wait(of(h2.events.TrailersReceived, sid))
        assert dict(tr.headers)["grpc-status"] == "0"
    finally:
        c.close()


def _ip_leaf(pki: tls_pki.Pki, name: str) -> tuple[str, str]:
    """A leaf for 127.0.0.1 (IP SAN): baton verifies a backend by its address."""
    key = os.path.join(pki.root, f"{name}.key")
    csr = os.path.join(pki.root, f"{name}.csr")
    pem = os.path.join(pki.root, f"{name}.pem")
    ext = os.path.join(pki.root, f"{name}.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    tls_pki._run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                 "-out", csr, "-subj", "/CN=127.0.0.1")
    tls_pki._run("x509", "-req", "-in", csr, "-CA", pki.ca_pem, "-CAkey", pki.ca_key, "-set_serial", "77",
                 "-days", "2", "-extfile", ext, "-out", pem)
    return pem, key


def _server_ctx(pem: str, key: str, alpn: list[str]) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pem, key)
    ctx.set_alpn_protocols(alpn)
    return ctx


def test_h2_over_tls_verified(baton, h2backends, tmp_path):
    pki = tls_pki.Pki(str(tmp_path / "pki"))
    pem, key = _ip_leaf(pki, "backend")
    be = h2backends(tls_ctx=_server_ctx(pem, key, ["h2"]))
    b = start(baton, be, protocol="h2", extra={"tls_ca_file": pki.ca_pem})
    c = H2Client(b.port)
    try:
        sid = c.request("/echo/tls", [("te", "trailers")])
        c.h2.send_data(sid, b"over tls", end_stream=True)
        c.send()
        head = c.wait(of(h2.events.ResponseReceived, sid))
        assert dict(head.headers)[":status"] == "200"
        assert c.wait(of(h2.events.DataReceived, sid)).data == b"over tls"
        assert dict(c.wait(of(h2.events.TrailersReceived, sid)).headers)["grpc-status"] == "0"
    finally:
        c.close()
    assert be.wait_requests(1)[0]["headers"][":scheme"] == "https"


def test_h2_over_tls_verified_by_service_name(baton, h2backends, tmp_path):
    """Marathon tasks' certificates name the service, not the agent's IP: tls_server_name is sent
    as SNI and verified instead of the address; without it the same backend is refused."""
    pki = tls_pki.Pki(str(tmp_path / "pki"))
    pem, key = pki.leaf("svc", ["grpc.svc.internal"])
    be = h2backends(tls_ctx=_server_ctx(pem, key, ["h2"]))
    config = harness.make_config(
        clusters={
            "named": {"hosts": [be.address], "protocol": "h2", "tls_ca_file": pki.ca_pem,
                      "tls_server_name": "grpc.svc.internal"},
            "by_ip": {"hosts": [be.address], "protocol": "h2", "tls_ca_file": pki.ca_pem},
        },
        routes=[{"prefix": "/a", "cluster": "named"}, {"prefix": "/b", "cluster": "by_ip"}],
    )
    b = baton.start(config)
    assert curl(b.port, "/a/echo", "-o", "/dev/null", "-w", "%{http_code}").stdout == b"200"
    assert curl(b.port, "/b/echo", "-o", "/dev/null", "-w", "%{http_code}").stdout == b"503"


def test_h2_over_tls_refuses_unverified_or_non_h2(baton, h2backends, tmp_path):
    pki = tls_pki.Pki(str(tmp_path / "pki"))
    pem, key = _ip_leaf(pki, "backend")
    be = h2backends(tls_ctx=_server_ctx(pem, key, ["h2"]))
    be_h1 = h2backends(tls_ctx=_server_ctx(pem, key, ["http/1.1"]))
    config = harness.make_config(
        clusters={
            "nocafile": {"hosts": [be.address], "protocol": "h2"},  # system store: not trusted
            "noverify": {"hosts": [be.address], "protocol": "h2", "tls_verify": False},
            "h1only": {"hosts": [be_h1.address], "protocol": "h2", "tls_ca_file": pki.ca_pem},
        },
        routes=[{"prefix": "/a", "cluster": "nocafile"}, {"prefix": "/b", "cluster": "noverify"},
                {"prefix": "/c", "cluster": "h1only"}],
    )
    b = baton.start(config)
    # A TLS/ALPN refusal is a connect failure (503, as for HTTP/1 backends), nothing was sent.
    assert curl(b.port, "/a/echo", "-o", "/dev/null", "-w", "%{http_code}").stdout == b"503"
    assert curl(b.port, "/b/echo", "-o", "/dev/null", "-w", "%{http_code}").stdout == b"200"
    assert curl(b.port, "/c/echo", "-o", "/dev/null", "-w", "%{http_code}").stdout == b"503"
