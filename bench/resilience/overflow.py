#!/usr/bin/env python3
"""Scenario "overflow": a full circuit breaker answers 503 at once (target: well under 1 ms).

Cluster "slow" has one backend (the integration tests' echo backend, in this process) that
holds every request until released, and `max_requests = CB_MAX` (4). CB_MAX requests are sent
and held (the backend has their heads), so the breaker is full; then:
  1. OVERFLOW_REQUESTS requests, one at a time on a keep-alive connection (a new one, untimed,
     when baton closes it), each timed with time.perf_counter() from send to the whole response;
  2. wrk -c32 -t1 on the same URL for OVERFLOW_WRK seconds: wrk's latency distribution with many
     requests at once (every answer a 503, which wrk counts as non-2xx);
  3. the same one-at-a-time loop for a Host no vhost serves: a 404 local reply, the floor of
     what this client and loopback can measure (what the breaker adds is the difference).
Then the backend releases the held requests, which must all get their 200.

If baton refuses the config key (--check fails on max_requests), the result is
"skipped: no circuit breaking yet". If an overflow request is not answered within 2 s the
breaker is not enforced: reported as such.
"""

from __future__ import annotations

import socket
import threading
import time

import common
from common import LOCAL, harness

CB_MAX = int(common.env_num("CB_MAX", 4, 4))
N = int(common.env_num("OVERFLOW_REQUESTS", 2000, 300))
WRK_S = common.env_num("OVERFLOW_WRK", 5, 1)
HOST = "slow.bench.example"


def timed_loop(port: int, host: str, n: int) -> tuple[list, dict, str | None]:
    """n GETs one at a time: (latencies in µs, status counts, error or None)."""
    req = f"GET /overflow HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    lat, statuses = [], {}
    c = harness.Client(port, timeout=2)
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            c.send(req)
            try:
                r = c.read_response()
            except (socket.timeout, TimeoutError):
                return lat, statuses, "no answer within 2 s (breaker not enforced?)"
            lat.append((time.perf_counter() - t0) * 1e6)
            statuses[r.status] = statuses.get(r.status, 0) + 1
            if r.closes:
                c.close()
                c = harness.Client(port, timeout=2)
    finally:
        c.close()
    return lat, statuses, None


def summary(lat: list) -> dict:
    return {"n": len(lat), "p50_us": round(common.percentile(lat, 50)), "p99_us": round(common.percentile(lat, 99)),
            "max_us": round(max(lat)) if lat else 0}


def main():
    common.on_signals_exit()
    work = common.workdir("overflow")
    load0 = common.load()
    backend, baton, holders = None, None, []
    try:
        backend = harness.Backend("slow")
        backend.on("/", first_byte_wait=120)  # held until backend.release is set
        config = harness.make_config(
            {"slow": {"hosts": [backend.address], "max_requests": CB_MAX}},
            vhosts=[{"name": "slow", "domains": [HOST], "routes": [{"prefix": "/", "cluster": "slow"}]}],
        ) + common.admin_config(work)
        ok, message = common.check_config(work, config)
        if not ok:
            if "max_requests" in message:
                common.emit({"scenario": "overflow", "skipped": "no circuit breaking yet", "detail": message,
                             "load_before": load0, "load_after": common.load()})
                return
            raise RuntimeError(f"config refused: {message}")
        baton = common.start_baton(work, config)
        port = baton.port
        held = []

        def hold():
            with harness.Client(port, timeout=130) as c:
                held.append(c.request("GET", "/hold", host=HOST).status)

        holders = [threading.Thread(target=hold, daemon=True) for _ in range(CB_MAX)]
        for t in holders:
            t.start()
        backend.wait_heads(CB_MAX, timeout=10)
        lat, statuses, error = timed_loop(port, HOST, N)
        w = None
        if error is None:
            w = common.Wrk(f"http://{LOCAL}:{port}/overflow", WRK_S, work, "overflow", hosts=[HOST],
                           connections=32, threads=1).result()
        base, base_statuses, _ = timed_loop(port, "unrouted.bench.example", N)
        heads_at_backend = len(backend.heads)
        backend.release.set()
        for t in holders:
            t.join(10)
        result = {
            "scenario": "overflow", "max_requests": CB_MAX, "statuses": {str(k): v for k, v in statuses.items()},
            "overflow": summary(lat), "baseline_404": summary(base),
            "baseline_statuses": {str(k): v for k, v in base_statuses.items()},
            "reached_backend": heads_at_backend, "held_answers": held, "error": error,
            "load_before": load0, "load_after": common.load(),
        }
        if w is not None:
            result["wrk"] = {"requests": w["requests"], "rps": w["rps"], "non2xx": w["non2xx"],
                             "socket_errors": w["socket_errors"], "p50_us": w["p50_us"], "p99_us": w["p99_us"],
                             "max_us": w["max_us"], "cmd": f"wrk -t1 -c32 -d{int(round(WRK_S))}s"}
        result["pass"] = (error is None and statuses.get(503, 0) == len(lat) == N
                          and result["overflow"]["p99_us"] < 1000 and heads_at_backend == CB_MAX
                          and held == [200] * CB_MAX)
        common.emit(result)
    finally:
        if backend is not None:
            backend.release.set()
        if baton is not None:
            baton.stop()
        for t in holders:
            t.join(5)
        if backend is not None:
            backend.close()
        common.stop_all()
        common.remove_work(work)


if __name__ == "__main__":
    main()
