"""Circuit breaking (issue 8, item 4) against the real binary: per-cluster max_requests,
max_pending and max_connections, across workers. A request over a limit is answered 503 at
once (UpstreamOverflow: nothing reaches a backend, nothing waits for one), counted by limit in
`show clusters json` and /metrics, and the units come back when requests and connections end
(a reload keeps counting what is in flight). Backends hold requests on an event; nothing sleeps."""

from __future__ import annotations

import json
import os
import time

import harness
from test_drain import command


def start(baton, tmp_path, clusters, workers=2, timeouts=None) -> str:
    path = os.path.join(str(tmp_path), "admin.sock")
    text = harness.make_config(clusters, timeouts=timeouts) + f'\n[admin]\nsocket = "{path}"\n'
    baton.start(text, workers=workers)
    return path


def circuit(path: str, name: str = "web") -> dict:
    doc = json.loads(command(path, "show clusters json"))
    return next(c for c in doc["clusters"] if c["name"] == name)["circuit"]


def hold(port: int, target: str) -> harness.Client:
    """A client whose request the backend holds (it reads the answer later)."""
    c = harness.Client(port)
    c.send(harness.build_request("GET", target))
    return c


def timed_get(port: int, target: str):
    with harness.Client(port) as c:
        t0 = time.monotonic()
        r = c.request("GET", target)
        return r, time.monotonic() - t0


def test_max_requests_overflow_is_answered_at_once(baton, backend, tmp_path):
    backend.on("/hold", first_byte_wait=20)
    path = start(baton, tmp_path, {"web": {"hosts": [backend.address], "max_requests": 2}})
    held = [hold(baton.port, f"/hold/{i}") for i in range(2)]
    try:
        backend.wait_heads(2)
        assert circuit(path)["max_requests"]["current"] == 2
        r, elapsed = timed_get(baton.port, "/x")
        assert r.status == 503 and b"overflow" in r.body, (r.status, r.body)
        assert elapsed < 2  # not after the held requests: at once
        assert len(backend.heads) == 2  # it never reached the backend
    finally:
        backend.release.set()
    for c in held:
        assert c.read_response().status == 200
        c.close()
    assert timed_get(baton.port, "/after")[0].status == 200
    c = circuit(path)
    assert c["max_requests"] == {"limit": 2, "current": 0, "overflow": 1}


def test_max_pending_counts_requests_waiting_for_a_connection(baton, tmp_path):
    hole = harness.Blackhole()
    try:
        path = start(baton, tmp_path,
                     {"web": {"hosts": [hole.address], "max_pending": 1, "connect_attempts": 1}},
                     timeouts={"upstream_connect": "2s"})
        first = hold(baton.port, "/first")
        deadline = time.monotonic() + 5
        while circuit(path)["max_pending"]["current"] != 1:
            assert time.monotonic() < deadline, "the first request never became pending"
            time.sleep(0.01)  # polling the admin socket
        r, elapsed = timed_get(baton.port, "/second")
        assert r.status == 503 and b"overflow" in r.body
        assert elapsed < 1.5  # before the first one's connect timeout
        assert first.read_response().status == 504
        first.close()
        assert circuit(path)["max_pending"] == {"limit": 1, "current": 0, "overflow": 1}
    finally:
        hole.close()


def test_max_connections_counts_pooled_ones_and_reuses_them(baton, backend, tmp_path):
    backend.on("/hold", first_byte_wait=20)
    path = start(baton, tmp_path,
                 {"web": {"hosts": [backend.address], "max_connections": 1}}, workers=1)
    held = hold(baton.port, "/hold/1")
    try:
        backend.wait_heads(1)
        r, _ = timed_get(baton.port, "/x")
        assert r.status == 503 and b"overflow" in r.body
    finally:
        backend.release.set()
    assert held.read_response().status == 200
    held.close()
    # The one connection is idle in the pool now: the next request reuses it.
    assert timed_get(baton.port, "/y")[0].status == 200
    assert backend.connections == 1
    c = circuit(path)["max_connections"]
    assert c["current"] == 1 and c["overflow"] == 1


def test_reload_keeps_counting_what_is_in_flight(baton, backend, tmp_path):
    backend.on("/hold", first_byte_wait=20)
    clusters = {"web": {"hosts": [backend.address], "max_requests": 1}}
    path = start(baton, tmp_path, clusters)
    held = hold(baton.port, "/hold/1")
    try:
        backend.wait_heads(1)
        clusters["web"]["connect_attempts"] = 2  # a changed cluster: rebuilt by the reload
        text = harness.make_config(clusters) + f'\n[admin]\nsocket = "{path}"\n'
        assert baton.reload(text)["event"] == "reloaded"
        assert timed_get(baton.port, "/x")[0].status == 503
    finally:
        backend.release.set()
    assert held.read_response().status == 200
    held.close()
    assert timed_get(baton.port, "/y")[0].status == 200
    assert circuit(path)["max_requests"]["current"] == 0
