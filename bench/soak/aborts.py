#!/usr/bin/python3
"""Clients that give up half way, for bench/soak/run.sh (wrk cannot abort a request).

Runs until SIGTERM (or --seconds), at about --rate aborts per second spread over a few threads,
cycling through four ways a real client walks away:
  body-fin   POST /upload announcing 1 MiB, sends part of it, then closes (FIN)
  body-rst   the same, then resets the connection (SO_LINGER 0)
  read-rst   GET /big (1 MiB), reads a few KiB of the response, then resets
  head-fin   half a request head, then closes
Each abort is followed by a canary GET /small on a fresh connection every 10 aborts (per thread), so a proxy
that stopped serving shows up here too. Prints one JSON line of counts on exit.
Loopback only: the target is 127.0.0.1:PORT.
"""

import argparse
import json
import random
import signal
import socket
import struct
import sys
import threading
import time

KINDS = ("body-fin", "body-rst", "read-rst", "head-fin")


def reset(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def abort_once(port: int, kind: str, rng: random.Random) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        if kind.startswith("body"):
            sock.sendall(b"POST /upload HTTP/1.1\r\nHost: soak\r\nContent-Length: 1048576\r\n\r\n")
            sock.sendall(b"z" * rng.randrange(0, 512 * 1024))
        elif kind == "read-rst":
            sock.sendall(b"GET /big HTTP/1.1\r\nHost: soak\r\n\r\n")
            want = rng.randrange(1, 64 * 1024)
            got = 0
            while got < want:
                chunk = sock.recv(want - got)
                if not chunk:
                    break
                got += len(chunk)
        else:
            sock.sendall(b"GET /small HTTP/1.1\r\nHost: so")
    finally:
        if kind.endswith("rst"):
            reset(sock)
        else:
            sock.close()


def canary(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /small HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.startswith(b"HTTP/1.1 200")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rate", type=float, default=50.0, help="aborts per second, all threads")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=0.0, help="0 = until SIGTERM")
    args = ap.parse_args()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if args.seconds > 0:
        threading.Timer(args.seconds, stop.set).start()
    lock = threading.Lock()
    counts = {k: 0 for k in KINDS}
    counts.update(errors=0, canaries=0, canary_failures=0)
    period = args.threads / args.rate if args.rate > 0 else 1.0

    def run(seed: int) -> None:
        rng = random.Random(seed)
        n = 0
        while not stop.is_set():
            kind = KINDS[n % len(KINDS)]
            n += 1
            try:
                abort_once(args.port, kind, rng)
                key = kind
            except OSError:
                key = "errors"  # baton refused or reset first: counted, not fatal
            ok = True
            if n % 10 == 0:
                try:
                    ok = canary(args.port)
                except OSError:
                    ok = False
            with lock:
                counts[key] += 1
                if n % 10 == 0:
                    counts["canaries"] += 1
                    counts["canary_failures"] += 0 if ok else 1
            stop.wait(period)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(args.threads)]
    for t in threads:
        t.start()
    while not stop.is_set():
        stop.wait(0.5)
    for t in threads:
        t.join(timeout=15)
    print(json.dumps(counts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
