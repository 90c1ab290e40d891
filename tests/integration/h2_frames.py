"""A raw HTTP/2 client for hostile-input tests: hand-built frames (hyperframe) and header blocks
(hpack), no validation of what we send, and a reader that collects what the server answers.

Debian's python3-h2 / python3-hyperframe / python3-hpack; every socket read has a timeout.
"""

from __future__ import annotations

import socket
import time

import hpack
from hyperframe.frame import (
    ContinuationFrame,
    DataFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    PriorityFrame,
    RstStreamFrame,
    SettingsFrame,
    WindowUpdateFrame,
)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

NO_ERROR = 0x0
PROTOCOL_ERROR = 0x1
INTERNAL_ERROR = 0x2
REFUSED_STREAM = 0x7
CANCEL = 0x8
COMPRESSION_ERROR = 0x9
ENHANCE_YOUR_CALM = 0xB


def headers_frame(stream_id: int, block: bytes, end_stream: bool = True, end_headers: bool = True) -> bytes:
    f = HeadersFrame(stream_id)
    f.data = block
    if end_stream:
        f.flags.add("END_STREAM")
    if end_headers:
        f.flags.add("END_HEADERS")
    return f.serialize()


def continuation_frame(stream_id: int, block: bytes, end_headers: bool = False) -> bytes:
    f = ContinuationFrame(stream_id)
    f.data = block
    if end_headers:
        f.flags.add("END_HEADERS")
    return f.serialize()


def data_frame(stream_id: int, data: bytes, end_stream: bool = False) -> bytes:
    f = DataFrame(stream_id)
    f.data = data
    if end_stream:
        f.flags.add("END_STREAM")
    return f.serialize()


def rst_frame(stream_id: int, code: int = CANCEL) -> bytes:
    return RstStreamFrame(stream_id, error_code=code).serialize()


def settings_frame(settings: dict | None = None, ack: bool = False) -> bytes:
    f = SettingsFrame(0, settings=settings or {})
    if ack:
        f.flags.add("ACK")
    return f.serialize()


def ping_frame(payload: bytes = b"12345678") -> bytes:
    return PingFrame(0, opaque_data=payload).serialize()


def window_update_frame(stream_id: int, increment: int) -> bytes:
    return WindowUpdateFrame(stream_id, window_increment=increment).serialize()


def priority_frame(stream_id: int, depends_on: int = 0) -> bytes:
    return PriorityFrame(stream_id, depends_on=depends_on, stream_weight=16).serialize()


class RawH2:
    """One client connection: send() raw bytes, read frames into goaway / rst / status / bodies."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.decoder.max_allowed_table_size = 65536
        self.buf = b""
        self.goaway: int | None = None
        self.rst: dict[int, int] = {}
        self.headers: dict[int, list[tuple[str, str]]] = {}
        self.bodies: dict[int, bytes] = {}
        self.ended: set[int] = set()
        self.closed = False
        self.frames = 0
        self.auto_ack = True  # acknowledge the server's SETTINGS (off inside a header block)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def handshake(self) -> None:
        self.send(PREFACE + settings_frame())

    def send(self, data: bytes) -> bool:
        """False when the server already closed (a flood may be cut mid-send)."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            # A timeout: the server stopped reading a flood (before its GOAWAY closes the
            # connection); the caller waits for the close.
            return False

    def block(self, headers: list[tuple[str, str]]) -> bytes:
        return self.encoder.encode(headers)

    def request(self, stream_id: int, headers: list[tuple[str, str]], end_stream: bool = True) -> None:
        self.send(headers_frame(stream_id, self.block(headers), end_stream=end_stream))

    # ---- reading -----------------------------------------------------------------------
    def _read(self, deadline: float) -> bool:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(1 << 16)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            self.closed = True
            return False
        self.buf += data
        self._parse()
        return True

    def _parse(self) -> None:
        while len(self.buf) >= 9:
            f, length = Frame.parse_frame_header(memoryview(self.buf[:9]))
            if len(self.buf) < 9 + length:
                return
            f.parse_body(memoryview(self.buf[9 : 9 + length]))
            self.buf = self.buf[9 + length :]
            self.frames += 1
            self._on_frame(f)

    def _on_frame(self, f) -> None:
        if isinstance(f, GoAwayFrame):
            self.goaway = f.error_code
        elif isinstance(f, RstStreamFrame):
            self.rst[f.stream_id] = f.error_code
        elif isinstance(f, HeadersFrame):
            fields = [(k.decode() if isinstance(k, bytes) else k, v.decode() if isinstance(v, bytes) else v)
                      for k, v in self.decoder.decode(f.data, raw=True)]
            self.headers.setdefault(f.stream_id, []).extend(fields)
            if "END_STREAM" in f.flags:
                self.ended.add(f.stream_id)
        elif isinstance(f, DataFrame):
            self.bodies[f.stream_id] = self.bodies.get(f.stream_id, b"") + f.data
            if f.data:
                # Keep the windows open: the server must never stall on us here.
                self.send(window_update_frame(0, len(f.data)) + window_update_frame(f.stream_id, len(f.data)))
            if "END_STREAM" in f.flags:
                self.ended.add(f.stream_id)
        elif isinstance(f, SettingsFrame) and "ACK" not in f.flags and self.auto_ack:
            self.send(settings_frame(ack=True))

    def wait(self, cond, timeout: float | None = None) -> bool:
        """Reads until cond(self) is true, the server closes, or the timeout passes."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while not cond(self):
            if self.closed or not self._read(deadline):
                return cond(self)
        return True

    def wait_closed(self, timeout: float | None = None) -> bool:
        return self.wait(lambda c: c.closed, timeout)

    def status(self, stream_id: int) -> str | None:
        for k, v in self.headers.get(stream_id, []):
            if k == ":status":
                return v
        return None


def get_headers(path: str = "/", authority: str = "h2.test", method: str = "GET") -> list[tuple[str, str]]:
    return [(":method", method), (":scheme", "http"), (":authority", authority), (":path", path)]
