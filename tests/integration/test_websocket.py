"""WebSockets over HTTP/1 through the real binary: the upgrade is forwarded only for `websocket`
on routes that allow it, the client's bytes after the request wait for the backend's 101, the
connection then becomes a tunnel (echo of text, binary and 1 MiB frames), a non-101 answer
keeps the connection on HTTP, tunnel_idle closes quiet tunnels, an open tunnel is in flight on
its host (drain waits, host_drain cuts) and SIGTERM closes it by the drain deadline.

Backends are python stdlib sockets doing the RFC 6455 handshake and framing."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import select
import socket
import struct
import subprocess
import threading
import time

import harness
from test_drain import command

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TIMEOUT = 20.0


def accept_key(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def frame(opcode: int, payload: bytes, mask: bool) -> bytes:
    head = bytes([0x80 | opcode])
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload)) if n < 4096 else _xor(payload, key)
    return head + key + masked


def _xor(payload: bytes, key: bytes) -> bytes:
    whole = (key * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(whole, "big")).to_bytes(len(payload), "big")


class Reader:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = b""

    def _fill(self) -> None:
        data = self.sock.recv(262144)
        if not data:
            raise EOFError("closed")
        self.buf += data

    def exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def head(self) -> tuple[bytes, dict]:
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        raw, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = raw.split(b"\r\n")
        headers: dict[str, list[str]] = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers.setdefault(name.decode().strip().lower(), []).append(value.decode().strip())
        return lines[0], headers

    def frame(self) -> tuple[int, bytes]:
        b0, b1 = self.exact(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.exact(8))[0]
        key = self.exact(4) if b1 & 0x80 else None
        payload = self.exact(n)
        if key:
            payload = _xor(payload, key)
        return b0 & 0x0F, payload


class WsBackend:
    """Per connection: HTTP requests until one asks for a WebSocket on a /ws path, then an echo
    tunnel. /ws/hold waits for `release` before its 101 and records any byte that arrived
    meanwhile; /deny<status> answers an upgrade request with that status and stays on HTTP."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.requests: list[tuple[str, dict]] = []
        self.early: list[bytes] = []
        self.release = threading.Event()
        self.held = threading.Event()
        self.upgraded = threading.Event()
        self.closed_tunnels = threading.Semaphore(0)
        self.lock = threading.Lock()
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        r = Reader(conn)
        try:
            while True:
                line, headers = r.head()
                target = line.split(b" ")[1].decode()
                with self.lock:
                    self.requests.append((target, headers))
                asks = "websocket" in [v.lower() for v in headers.get("upgrade", [])]
                if target.startswith("/bad101"):
                    # Switches to something nobody asked for (or without saying to what).
                    upgrade = b"Upgrade: h2c\r\n" if "h2c" in target else b""
                    conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n" + upgrade + b"\r\n")
                    return
                if target.startswith("/deny"):
                    status = int(target[5:8])
                    body = b"denied"
                    conn.sendall(b"HTTP/1.1 %d Nope\r\nContent-Length: %d\r\n\r\n%s" % (status, len(body), body))
                    continue
                if not (target.startswith("/ws") and asks):
                    body = b"no upgrade"
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                    continue
                if target.startswith("/ws/hold"):
                    self.held.set()
                    self.release.wait(TIMEOUT)
                    # Anything the proxy let through before our 101 is a failure.
                    ready, _, _ = select.select([conn], [], [], 0)
                    early = r.buf
                    if ready:
                        early += conn.recv(65536)
                    r.buf = early
                    self.early.append(early)
                key = headers["sec-websocket-key"][0].encode()
                conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                             b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept_key(key) + b"\r\n\r\n")
                self.upgraded.set()
                self._echo(conn, r)
                return
        except (EOFError, OSError):
            pass
        finally:
            conn.close()

    def _echo(self, conn: socket.socket, r: Reader) -> None:
        try:
            while True:
                opcode, payload = r.frame()
                conn.sendall(frame(opcode, payload, mask=False))
                if opcode == 8:
                    return
        finally:
            self.closed_tunnels.release()


class WsClient:
    def __init__(self, port: int, target: str = "/ws", extra: bytes = b"", headers: bytes = b""):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.reader = Reader(self.sock)
        self.key = base64.b64encode(os.urandom(16))
        self.sock.sendall(self.request(target, headers) + extra)

    def request(self, target: str, headers: bytes = b"") -> bytes:
        return (b"GET " + target.encode() + b" HTTP/1.1\r\nHost: chat.example\r\nConnection: Upgrade\r\n"
                b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + self.key +
                b"\r\n" + headers + b"\r\n")

    def handshake(self) -> dict:
        line, headers = self.reader.head()
        assert line.startswith(b"HTTP/1.1 101"), line
        assert headers["upgrade"] == ["websocket"], headers
        assert headers["connection"] == ["Upgrade"], headers
        assert headers["sec-websocket-accept"] == [accept_key(self.key).decode()], headers
        assert "content-length" not in headers and "transfer-encoding" not in headers
        return headers

    def send(self, opcode: int, payload: bytes) -> None:
        self.sock.sendall(frame(opcode, payload, mask=True))

    def echo(self, opcode: int, payload: bytes) -> None:
        self.send(opcode, payload)
        assert self.reader.frame() == (opcode, payload)

    def closed_within(self, seconds: float) -> bool:
        self.sock.settimeout(seconds)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
        except (socket.timeout, TimeoutError):
            return False
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()


def ws_backend(request) -> WsBackend:
    b = WsBackend()
    request.addfinalizer(b.close)
    return b


def config(b: WsBackend, routes=None, timeouts=None, **kw) -> str:
    return harness.make_config({"web": [b.address]}, routes=routes, timeouts=timeouts, **kw)


def admin_config(tmp_path, b: WsBackend, **kw) -> tuple[str, str]:
    path = os.path.join(str(tmp_path), "admin.sock")
    return config(b, **kw) + f'\n[admin]\nsocket = "{path}"\n', path


def host_json(path: str, address: str) -> dict:
    doc = json.loads(command(path, "show hosts web json"))
    return next(h for h in doc["hosts"] if h["address"] == address)


def test_echo_text_binary_and_one_mebibyte(baton, request, tmp_path):
    b = ws_backend(request)
    log = tmp_path / "access.json"
    baton.start(config(b, access_log={"path": str(log), "format": "json"}))
    c = WsClient(baton.port, headers=b"Sec-WebSocket-Protocol: chat\r\n")
    c.handshake()
    c.echo(1, "héllo".encode())
    c.echo(2, bytes(range(256)))
    big = os.urandom(1 << 20)
    c.echo(2, big)
    c.echo(1, b"after the big one")
    c.send(8, struct.pack("!H", 1000))
    assert c.reader.frame() == (8, struct.pack("!H", 1000))
    assert c.closed_within(TIMEOUT), "the tunnel ends when the backend closes"
    c.close()
    target, headers = b.requests[0]
    assert headers["upgrade"] == ["websocket"] and headers["connection"] == ["Upgrade"]
    assert headers["sec-websocket-key"] == [c.key.decode()]
    assert headers["sec-websocket-version"] == ["13"]
    assert headers["sec-websocket-protocol"] == ["chat"]
    assert baton.stop() == 0
    entry = json.loads(log.read_text().splitlines()[0])
    assert entry["status"] == 101 and entry["error"] == "-", entry
    assert entry["bytes_in"] > (1 << 20) and entry["bytes_out"] > (1 << 20), entry


def test_bytes_after_the_upgrade_request_wait_for_the_101(baton, request):
    b = ws_backend(request)
    baton.start(config(b))
    early_frame = frame(1, b"sent before the 101", mask=True)
    c = WsClient(baton.port, target="/ws/hold", extra=early_frame)
    assert b.held.wait(TIMEOUT)
    # The backend has the request head and holds its answer: baton must neither forward the
    # frame nor parse it as HTTP (a 400 would come back) while it waits.
    ready, _, _ = select.select([c.sock], [], [], 0.3)
    assert not ready, c.sock.recv(100)
    b.release.set()
    c.handshake()
    assert b.early == [b""], "a byte reached the backend before its 101"
    assert c.reader.frame() == (1, b"sent before the 101")
    c.echo(1, b"and after")
    c.close()


def test_non_101_answer_keeps_the_connection_on_http(baton, request):
    b = ws_backend(request)
    baton.start(config(b))
    for status in (200, 404):
        c = WsClient(baton.port, target=f"/deny{status}")
        line, headers = c.reader.head()
        assert line.startswith(b"HTTP/1.1 %d" % status), line
        assert "upgrade" not in headers
        assert c.reader.exact(6) == b"denied"
        c.sock.sendall(b"GET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
        line, headers = c.reader.head()
        assert line.startswith(b"HTTP/1.1 200"), line
        assert c.reader.exact(10) == b"no upgrade"
        c.close()
    # Pipelined: the request behind the refused upgrade is the next request.
    c = WsClient(baton.port, target="/deny404", extra=b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
    line, _ = c.reader.head()
    assert line.startswith(b"HTTP/1.1 404") and c.reader.exact(6) == b"denied"
    line, _ = c.reader.head()
    assert line.startswith(b"HTTP/1.1 200") and c.reader.exact(10) == b"no upgrade"
    assert b.requests[-1][0] == "/next"
    c.close()


def test_101_that_does_not_switch_to_websocket_is_a_502(baton, request):
    b = ws_backend(request)
    baton.start(config(b))
    for target in ("/bad101/h2c", "/bad101/none"):
        c = WsClient(baton.port, target=target)
        line, _ = c.reader.head()
        assert line.startswith(b"HTTP/1.1 502"), line
        c.close()
    # A 101 to a request that did not ask for an upgrade.
    with socket.create_connection(("127.0.0.1", baton.port), timeout=TIMEOUT) as s:
        s.sendall(b"GET /bad101/plain HTTP/1.1\r\nHost: x\r\n\r\n")
        line, _ = Reader(s).head()
        assert line.startswith(b"HTTP/1.1 502"), line


def test_route_without_websocket_and_h2c_are_plain_http(baton, request):
    b = ws_backend(request)
    routes = [{"prefix": "/ws/off", "cluster": "web", "websocket": False}, {"prefix": "/", "cluster": "web"}]
    baton.start(config(b, routes=routes))
    c = WsClient(baton.port, target="/ws/off")
    line, _ = c.reader.head()
    assert line.startswith(b"HTTP/1.1 200") and c.reader.exact(10) == b"no upgrade"
    c.close()
    target, headers = b.requests[-1]
    assert target == "/ws/off"
    assert "upgrade" not in headers and "connection" not in headers, headers
    assert headers["sec-websocket-key"], "end-to-end fields still pass"
    with socket.create_connection(("127.0.0.1", baton.port), timeout=TIMEOUT) as s:
        s.sendall(b"GET /ws/h2c HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                  b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n")
        line, _ = Reader(s).head()
        assert line.startswith(b"HTTP/1.1 200"), line
    target, headers = b.requests[-1]
    assert target == "/ws/h2c"
    assert not {"upgrade", "connection", "http2-settings"} & set(headers), headers


def test_tunnel_idle_closes_a_quiet_tunnel_not_a_busy_one(baton, request, tmp_path):
    b = ws_backend(request)
    log = tmp_path / "access.json"
    routes = [{"prefix": "/", "cluster": "web", "tunnel_idle": "1s"}]
    baton.start(config(b, routes=routes, access_log={"path": str(log), "format": "json"}))
    busy = WsClient(baton.port)
    busy.handshake()
    quiet = WsClient(baton.port)
    quiet.handshake()
    started = time.monotonic()
    # A frame every 300 ms for 2 s keeps `busy` open; `quiet` is closed after about 1 s.
    while time.monotonic() - started < 2.0:
        busy.echo(1, b"ping")
        time.sleep(0.3)
    assert quiet.closed_within(0.1 + max(0.0, 3.0 - (time.monotonic() - started)))
    busy.echo(1, b"still open after 2 s")
    assert busy.closed_within(3.0), "then idle for 1 s: closed"
    busy.close()
    quiet.close()
    assert baton.stop() == 0
    entries = [json.loads(x) for x in log.read_text().splitlines()]
    assert [e["error"] for e in entries] == ["TunnelIdleTimeout", "TunnelIdleTimeout"], entries
    assert all(e["status"] == 101 for e in entries)
    assert entries[0]["duration_us"] >= 900_000


def test_host_drain_waits_for_the_tunnel_then_cuts_it(baton, request, tmp_path):
    b = ws_backend(request)
    text, sock = admin_config(tmp_path, b, timeouts={"host_drain": "2s"})
    baton.start(text)
    c = WsClient(baton.port)
    c.handshake()
    c.echo(1, b"hi")
    assert host_json(sock, b.address)["in_flight"] == 1
    started = time.monotonic()
    command(sock, f"drain host web/{b.address}")
    answer = command(sock, f"wait host web/{b.address} 1")
    assert answer.startswith("timeout:") and "1 in flight" in answer, answer
    c.echo(1, b"still served while draining")
    waiting = subprocess.Popen(
        [os.path.join(os.path.dirname(harness.baton_bin()), "batonctl"), "--socket", sock, "drain",
         f"web/{b.address}", "--wait", "--wait-timeout", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert c.closed_within(TIMEOUT), "host_drain cuts the tunnel"
    elapsed = time.monotonic() - started
    assert 1.5 < elapsed < 6, elapsed
    out, err = waiting.communicate(timeout=20)
    assert waiting.returncode == 0, (out, err)
    h = host_json(sock, b.address)
    assert h["drain_cut"] == 1 and h["in_flight"] == 0, h
    c.close()


def test_sigterm_closes_an_open_tunnel_by_the_drain_deadline(baton, request):
    b = ws_backend(request)
    baton.start(config(b, timeouts={"drain": "1500ms"}))
    c = WsClient(baton.port)
    c.handshake()
    c.echo(1, b"before")
    started = time.monotonic()
    baton.proc.send_signal(15)
    c.echo(1, b"the tunnel stays until the deadline")
    assert c.closed_within(TIMEOUT)
    baton.proc.wait(TIMEOUT)
    elapsed = time.monotonic() - started
    assert baton.proc.returncode == 0
    assert 1.0 < elapsed < 5.0, elapsed
    c.close()


# ---- WebSockets over HTTP/2 (RFC 8441 extended CONNECT) ----------------------------------------

class H2WsClient:
    """A WebSocket over one HTTP/2 stream (h2c prior knowledge, python3-h2): CONNECT with
    :protocol websocket once the server's SETTINGS allow it. `recv` makes the stream's DATA look
    like a socket, so Reader parses WebSocket frames from it."""

    def __init__(self, port: int, path: str = "/ws", headers=(), protocol: str = "websocket"):
        import h2.config
        import h2.connection
        import h2.events
        import h2.settings

        self.events = h2.events
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self._flush()
        self.remote_settings: dict = {}
        self.response: dict | None = None
        self.data = b""
        self.ended = False
        self.reset: int | None = None
        while h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL not in self.remote_settings:
            self._pump()
        self.sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(self.sid, [(":method", "CONNECT"), (":protocol", protocol), (":scheme", "http"),
                                          (":path", path), (":authority", "chat.example"),
                                          ("sec-websocket-version", "13"), *headers])
        self._flush()
        self.reader = Reader(self)  # type: ignore[arg-type]

    def _flush(self) -> None:
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)

    def _pump(self) -> None:
        data = self.sock.recv(262144)
        if not data:
            raise EOFError("connection closed")
        for ev in self.conn.receive_data(data):
            if isinstance(ev, self.events.RemoteSettingsChanged):
                self.remote_settings.update({k: v.new_value for k, v in ev.changed_settings.items()})
            elif isinstance(ev, self.events.ResponseReceived) and ev.stream_id == self.sid:
                self.response = dict(ev.headers)
            elif isinstance(ev, self.events.DataReceived) and ev.stream_id == self.sid:
                self.data += ev.data
                self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, self.events.StreamEnded) and ev.stream_id == self.sid:
                self.ended = True
            elif isinstance(ev, self.events.StreamReset) and ev.stream_id == self.sid:
                self.reset = ev.error_code
        self._flush()

    def head(self) -> dict:
        while self.response is None:
            self._pump()
        return self.response

    def recv(self, n: int) -> bytes:  # Reader's socket side
        while not self.data and not self.ended and self.reset is None:
            self._pump()
        out, self.data = self.data[:n], self.data[n:]
        return out

    def send(self, opcode: int, payload: bytes) -> None:
        data = frame(opcode, payload, mask=True)
        while data:
            window = min(self.conn.local_flow_control_window(self.sid), self.conn.max_outbound_frame_size)
            if window <= 0:
                self._pump()  # wait for WINDOW_UPDATE
                continue
            self.conn.send_data(self.sid, data[:window])
            data = data[window:]
            self._flush()

    def echo(self, opcode: int, payload: bytes) -> None:
        self.send(opcode, payload)
        assert self.reader.frame() == (opcode, payload)

    def end(self) -> None:
        self.conn.end_stream(self.sid)
        self._flush()

    def wait_closed(self) -> None:
        while not self.ended and self.reset is None:
            self._pump()

    def close(self) -> None:
        self.sock.close()


def test_http2_websocket_extended_connect_echo_and_close(baton, request, tmp_path):
    b = ws_backend(request)
    log = tmp_path / "access.json"
    baton.start(config(b, access_log={"path": str(log), "format": "json"}))
    c = H2WsClient(baton.port, headers=[("sec-websocket-protocol", "chat")])
    assert c.remote_settings[0x8] == 1  # SETTINGS_ENABLE_CONNECT_PROTOCOL
    head = c.head()
    assert head[":status"] == "200", head
    assert not {"upgrade", "connection", "sec-websocket-accept"} & set(head), head
    c.echo(1, "héllo over h2".encode())
    big = os.urandom(1 << 20)  # well past the stream windows both ways: flow control is honoured
    c.echo(2, big)
    c.send(8, struct.pack("!H", 1000))
    assert c.reader.frame() == (8, struct.pack("!H", 1000))
    c.wait_closed()
    assert c.ended and c.reset in (None, 0), (c.ended, c.reset)  # backend closed: END_STREAM
    c.close()
    target, headers = b.requests[0]
    assert target == "/ws"
    assert headers["upgrade"] == ["websocket"] and headers["connection"] == ["Upgrade"]
    assert len(base64.b64decode(headers["sec-websocket-key"][0])) == 16  # baton's own nonce
    assert headers["sec-websocket-version"] == ["13"] and headers["sec-websocket-protocol"] == ["chat"]
    assert baton.stop() == 0
    entry = json.loads(log.read_text().splitlines()[0])
    assert (entry["status"], entry["protocol"], entry["error"]) == (200, "HTTP/2.0", "-"), entry
    assert entry["bytes_in"] > (1 << 20) and entry["bytes_out"] > (1 << 20), entry


def test_http2_websocket_other_streams_live_on_and_refusals(baton, request):
    b = ws_backend(request)
    baton.start(config(b, routes=[{"prefix": "/plain", "cluster": "web", "websocket": False},
                                  {"prefix": "/", "cluster": "web"}]))
    c = H2WsClient(baton.port)
    assert c.head()[":status"] == "200"
    c.echo(1, b"one")
    # A plain request on the same connection while the WebSocket is open.
    sid = c.conn.get_next_available_stream_id()
    c.conn.send_headers(sid, [(":method", "GET"), (":scheme", "http"), (":path", "/hello"),
                              (":authority", "chat.example")], end_stream=True)
    c._flush()
    got: dict = {}
    while "ended" not in got:
        for ev in c.conn.receive_data(c.sock.recv(65536)):
            if isinstance(ev, c.events.ResponseReceived) and ev.stream_id == sid:
                got["status"] = dict(ev.headers)[":status"]
            elif isinstance(ev, c.events.StreamEnded) and ev.stream_id == sid:
                got["ended"] = True
        c._flush()
    assert got["status"] == "200"
    c.echo(1, b"two")
    # Client half-close: END_STREAM reaches the backend as FIN; its close ends our stream.
    c.end()
    c.wait_closed()
    assert c.ended and c.reset in (None, 0), (c.ended, c.reset)
    c.close()
    # A route without websocket: the CONNECT is refused (there is no plain-GET reading of it).
    d = H2WsClient(baton.port, path="/plain/ws")
    assert d.head()[":status"] == "405"
    d.close()
    # A protocol other than websocket: refused the same way, never forwarded.
    e = H2WsClient(baton.port, headers=[], path="/ws", protocol="h3-datagram")
    assert e.head()[":status"] == "405"
    e.close()
    assert [t for t, _ in b.requests].count("/ws") == 1  # only the first client's handshake


def test_http2_websocket_quiet_client_lives_to_tunnel_idle_not_body_idle(baton, request, tmp_path):
    # After the 101 the stream's DATA are tunnel bytes: a client that only listens (a push feed)
    # is not a stalled upload, so body_idle must not cut it; tunnel_idle still does.
    b = ws_backend(request)
    log = tmp_path / "access.json"
    baton.start(config(b, timeouts={"body_idle": "1s", "tunnel_idle": "3s"},
                       access_log={"path": str(log), "format": "json"}))
    c = H2WsClient(baton.port)
    assert c.head()[":status"] == "200"
    c.echo(1, b"one")
    time.sleep(1.6)  # the client says nothing for longer than body_idle: nothing to await
    c.echo(1, b"still open past body_idle")
    quiet_from = time.monotonic()
    c.wait_closed()
    elapsed = time.monotonic() - quiet_from
    assert c.reset is not None and not c.ended, (c.ended, c.reset)  # cut, not ended cleanly
    assert 2.5 < elapsed < 6, elapsed
    c.close()
    assert baton.stop() == 0
    entry = json.loads(log.read_text().splitlines()[0])
    assert (entry["status"], entry["error"]) == (200, "TunnelIdleTimeout"), entry
