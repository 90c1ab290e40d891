"""TCP-mode listeners (marathon-lb's HAPROXY_{n}_MODE=tcp): bytes spliced both ways untouched.

A raw TCP echo origin (not HTTP) stands behind a `kind = "tcp"` listener. Covers: 1 MiB each way
at once (backpressure both ways), half-close in both directions, a dead host skipped for the next
one, a cluster with no reachable host (client closed), the connect and tunnel idle timeouts, the
drain deadline, reloads and concurrent tunnels on two workers.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time

import harness
import pytest

LOCAL = harness.LOCAL
TIMEOUT = harness.TIMEOUT


class EchoOrigin:
    """Threaded raw TCP echo: echoes until the client's EOF, then sends `farewell` and closes.
    Records per connection the bytes it received (so tests see what reached it)."""

    def __init__(self, farewell: bytes = b""):
        self.farewell = farewell
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((LOCAL, 0))
        self.lsock.listen(64)
        self.address = f"{LOCAL}:{self.lsock.getsockname()[1]}"
        self.received: list[int] = []  # bytes received per finished connection
        self.accepted = 0
        self.cond = threading.Condition()
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.lsock.accept()
            except OSError:
                return
            with self.cond:
                self.accepted += 1
                self._conns.append(conn)
                self.cond.notify_all()
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket):
        conn.settimeout(30)
        total = 0
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                total += len(data)
                conn.sendall(data)
            if self.farewell:
                conn.sendall(self.farewell)
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            conn.close()
            with self.cond:
                self.received.append(total)
                self.cond.notify_all()

    def wait_finished(self, n: int, timeout: float = TIMEOUT) -> list[int]:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.received) >= n, timeout), "origin connection still open"
            return list(self.received)

    def close(self):
        self.lsock.close()
        for c in self._conns:
            try:
                c.close()
            except OSError:
                pass


@pytest.fixture
def origins():
    yield from harness.made_and_closed(EchoOrigin)


def tcp_config(hosts: list[str], cluster_extra: dict | None = None, **kw) -> str:
    """One tcp listener "tcp" to cluster "echo" (the default vhost table is unused)."""
    return harness.make_config(
        clusters={"echo": {"hosts": hosts, **(cluster_extra or {})}},
        listeners=[{"name": "tcp", "address": f"{LOCAL}:0", "kind": "tcp", "cluster": "echo"}],
        **kw,
    )


def connect(baton) -> socket.socket:
    s = socket.create_connection((LOCAL, baton.port_of("tcp")), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    return s


def read_until_eof(s: socket.socket, limit: int = 1 << 24) -> bytes:
    out = bytearray()
    while len(out) <= limit:
        data = s.recv(1 << 20)
        if not data:
            return bytes(out)
        out += data
    raise AssertionError("too much data")


def closed_by_peer(s: socket.socket) -> bool:
    """True when the peer closed (EOF or reset) within TIMEOUT, without sending anything."""
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True


def test_one_mib_each_way_at_once(baton, origins):
    origin = origins()
    baton.start(tcp_config([origin.address], limits={"buffer_high_watermark": "64KiB"}))
    payload = os.urandom(1 << 20)
    with connect(baton) as s:
        got = bytearray()
        errors: list[BaseException] = []

        def reader():
            try:
                got.extend(read_until_eof(s))
            except BaseException as e:  # reported below
                errors.append(e)

        t = threading.Thread(target=reader)
        t.start()
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        t.join(30)
        assert not t.is_alive() and not errors, errors
    assert bytes(got) == payload
    assert origin.wait_finished(1) == [1 << 20]


def test_half_close_both_directions(baton, origins):
    # The origin answers only after the client's EOF reached it, and its own FIN must come
    # through after the farewell: each direction ends on its own.
    origin = origins(farewell=b"BYE")
    baton.start(tcp_config([origin.address]))
    with connect(baton) as s:
        s.sendall(b"ping")
        assert s.recv(4) == b"ping"
        s.shutdown(socket.SHUT_WR)  # client -> origin ends; origin -> client still open
        assert read_until_eof(s) == b"BYE"
    assert origin.wait_finished(1) == [4]


def test_client_silent_origin_closes_first(baton, origins):
    # The origin half-closes first (a server greeting then FIN): the client still can send.
    lsock = socket.socket()
    lsock.bind((LOCAL, 0))
    lsock.listen(4)
    seen = bytearray()

    def serve():
        conn, _ = lsock.accept()
        conn.settimeout(TIMEOUT)
        conn.sendall(b"220 hello\r\n")
        conn.shutdown(socket.SHUT_WR)
        while True:
            data = conn.recv(65536)
            if not data:
                break
            seen.extend(data)
        conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        baton.start(tcp_config([f"{LOCAL}:{lsock.getsockname()[1]}"]))
        with connect(baton) as s:
            assert read_until_eof(s) == b"220 hello\r\n"
            s.sendall(b"QUIT\r\n")
            s.shutdown(socket.SHUT_WR)
            t.join(TIMEOUT)
            assert not t.is_alive()
        assert bytes(seen) == b"QUIT\r\n"
    finally:
        lsock.close()


def test_dead_host_is_skipped(baton, origins):
    origin = origins()
    dead = harness.dead_address()
    baton.start(tcp_config([dead, origin.address], cluster_extra={"connect_attempts": 2}))
    for i in range(4):  # round-robin lands on the dead host for half of them
        with connect(baton) as s:
            msg = f"hello {i}".encode()
            s.sendall(msg)
            s.shutdown(socket.SHUT_WR)
            assert read_until_eof(s) == msg
    assert origin.wait_finished(4) == [len(f"hello {i}") for i in range(4)]


def test_dead_host_is_ejected_after_its_connect_failures(baton, origins, tmp_path):
    """Passive outlier ejection covers TCP mode: once 2 refused connects in a row have ejected
    the dead host (`show hosts` says so), it gets no more attempts, and every client is served.

    The ejection is decided on the control thread and reaches the worker with the next
    snapshot, so a connection or two may still try the dead host in between (a slow CI
    machine shows 4 failures): the test counts from the ejection on."""
    from test_drain import hosts

    origin = origins()
    dead = harness.dead_address()
    path = f"{tmp_path}/admin.sock"
    extra = {"connect_attempts": 2, "outlier": {"consecutive_failures": 2, "base_ejection": "60s"}}
    baton.start(tcp_config([dead, origin.address], cluster_extra=extra) + f'\n[admin]\nsocket = "{path}"\n')

    def serve_one():
        with connect(baton) as s:
            s.sendall(b"x")
            s.shutdown(socket.SHUT_WR)
            assert read_until_eof(s) == b"x"

    for _ in range(40):  # bounded: round-robin offers the dead host every other connection
        serve_one()
        if hosts(path, "echo")[dead]["ejected"]:
            break
    # A second admin round trip: the publish the ejection asked for has reached the worker
    # (its snapshot is queued ahead of this stats request).
    h = hosts(path, "echo")[dead]
    assert h["ejected"] is True, h
    assert h["connect_failures"] >= 2, h
    assert f"host {dead} ejected for 60s after 2 consecutive failures" in baton.stderr()
    for _ in range(6):
        serve_one()
    after = hosts(path, "echo")[dead]
    assert after["connect_failures"] == h["connect_failures"], (h, after)  # none after the ejection


def test_no_reachable_host_closes_the_client(baton, origins):
    baton.start(tcp_config([harness.dead_address(), harness.dead_address()]))
    for _ in range(3):  # every connection is closed, the listener keeps accepting
        with connect(baton) as s:
            assert closed_by_peer(s)


def test_connect_timeout_then_next_host(baton, origins):
    origin = origins()
    hole = harness.Blackhole()
    try:
        baton.start(
            tcp_config(
                [hole.address, origin.address],
                cluster_extra={"timeouts": {"upstream_connect": "200ms"}},
            )
        )
        for i in range(2):
            start = time.monotonic()
            with connect(baton) as s:
                s.sendall(b"x")
                s.shutdown(socket.SHUT_WR)
                assert read_until_eof(s) == b"x"
            assert time.monotonic() - start < 3.0
    finally:
        hole.close()


def test_idle_timeout_closes_both_sides(baton, origins):
    origin = origins()
    baton.start(tcp_config([origin.address], cluster_extra={"timeouts": {"tunnel_idle": "300ms"}}))
    with connect(baton) as s:
        s.sendall(b"a")
        assert s.recv(1) == b"a"
        start = time.monotonic()
        assert closed_by_peer(s)
        assert 0.25 <= time.monotonic() - start < 3.0
    assert origin.wait_finished(1) == [1]


def test_activity_keeps_the_tunnel_open(baton, origins):
    origin = origins()
    baton.start(tcp_config([origin.address], cluster_extra={"timeouts": {"tunnel_idle": "400ms"}}))
    with connect(baton) as s:
        # 6 round trips 150 ms apart: 900 ms in all, longer than the idle timeout.
        for i in range(6):
            s.sendall(b"%d" % i)
            assert s.recv(1) == b"%d" % i
            time.sleep(0.15)  # the gap itself is what is being tested
        s.shutdown(socket.SHUT_WR)
        assert read_until_eof(s) == b""


def test_drain_deadline_cuts_open_tunnels(baton, origins):
    # A TCP tunnel has no request boundary to stop at: SIGTERM lets it run until the drain
    # deadline, then cuts it; baton still exits cleanly.
    origin = origins()
    baton.start(tcp_config([origin.address], timeouts={"drain": "300ms"}))
    with connect(baton) as s:
        s.sendall(b"a")
        assert s.recv(1) == b"a"
        start = time.monotonic()
        baton.proc.send_signal(signal.SIGTERM)
        assert closed_by_peer(s)
        assert 0.2 <= time.monotonic() - start < 3.0
    assert baton.proc.wait(TIMEOUT) == 0  # (a second SIGTERM would not be a graceful stop)


def test_reload_keeps_open_tunnels(baton, origins):
    # A reload that changes the cluster gives new connections the new host set; an open tunnel
    # keeps its host (and its old balancer) until it ends.
    first, second = origins(), origins()
    baton.start(tcp_config([first.address]))
    with connect(baton) as s:
        s.sendall(b"1")
        assert s.recv(1) == b"1"
        ev = baton.reload(tcp_config([second.address]))
        assert ev["event"] == "reloaded", ev
        with connect(baton) as s2:
            s2.sendall(b"new")
            s2.shutdown(socket.SHUT_WR)
            assert read_until_eof(s2) == b"new"
        s.sendall(b"2")
        s.shutdown(socket.SHUT_WR)
        assert read_until_eof(s) == b"2"
    assert first.wait_finished(1) == [2]
    assert second.wait_finished(1) == [3]


def test_many_concurrent_tunnels_two_workers(baton, origins):
    origin = origins()
    baton.start(tcp_config([origin.address]), workers=2)
    payloads = [os.urandom(64 * 1024 + i) for i in range(32)]
    results: list[bytes | None] = [None] * len(payloads)

    def one(i: int) -> None:
        with connect(baton) as s:
            s.sendall(payloads[i])
            s.shutdown(socket.SHUT_WR)
            results[i] = read_until_eof(s)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(payloads))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == payloads
