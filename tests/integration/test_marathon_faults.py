"""faults.md's Marathon rows against the real binary: a stalled or dropped event stream, Marathon
down at start, 5xx / hang / redirect loop / auth failure with retries and URL failover, garbage
on the stream, a sudden fall in tasks held until a resync confirms it, event coalescing and the
periodic resync.

Already covered in test_marathon.py (not repeated here): garbage / truncated / 500 / empty app
list keep the last good state, one followed redirect with Basic auth kept, the state file.

Every wait is on an event (baton's ready-fd lines, the fake Marathon's recorded requests); the
few negative checks ("nothing happens") wait a bounded time for the event that must not come.
"""

from __future__ import annotations

import time

import pytest

import harness
from harness import LOCAL, free_port
from test_marathon import get, marathon, marathon_config, start_with, web_app  # noqa: F401 (fixture)


def requests_since(m, since, prefix):
    return [r for r in m.requests[since:] if r[1].startswith(prefix)]


def assert_no_request(m, prefix, since, within):
    """A bounded wait for a request that must not come."""
    with pytest.raises(TimeoutError):
        m.wait_for_request(prefix, within, since=since)


# ---- the event stream ----


def test_stalled_stream_reconnects_and_resyncs(baton, marathon, backends):
    """No byte for stream_idle_timeout (not even a heartbeat) → reconnect → resync: the change
    whose event was lost on the stalled stream is picked up."""
    b0, b1 = backends(2)
    m = marathon(apps=[web_app("/shop/web", [b0])], heartbeat_interval=0.1)
    start_with(baton, m, stream_idle_timeout="600ms", max_backoff="200ms")
    # Heartbeats alone keep the stream attached: no reconnect over several idle timeouts.
    since = len(m.requests)
    assert_no_request(m, "/v2/events", since, within=1.5)
    m.stall_streams()
    m.set_apps([web_app("/shop/web", [b0, b1])])
    m.status_update("shop_web.t1", "/shop/web", "TASK_RUNNING")  # lost: the stream is stalled
    since = len(m.requests)
    m.wait_for_request("/v2/events", 5, since=since)
    m.wait_for_request("/v2/apps", 5, since=since)
    baton.wait_event("discovery", where=lambda e: e["tasks"] == 2)
    b1.clear()
    for _ in range(4):
        assert get(baton).status == 200
    assert b1.wait_requests(1)


def test_dropped_stream_reconnects_and_resyncs(baton, marathon, backends):
    b0, b1 = backends(2)
    m = marathon(apps=[web_app("/shop/web", [b0])])
    start_with(baton, m, max_backoff="200ms")
    since = len(m.requests)
    m.set_apps([web_app("/shop/web", [b0, b1])])  # no event: only the resync on attach sees it
    m.close_streams()
    m.wait_for_request("/v2/events", 5, since=since)
    baton.wait_event("discovery", where=lambda e: e["tasks"] == 2)
    m.wait_streams(1)
    # The new stream is live: an event on it triggers a resync.
    m.set_apps([web_app("/shop/web", [b1], ids=[1])])
    m.status_update("shop_web.t0", "/shop/web", "TASK_KILLED")
    baton.wait_event("discovery", where=lambda e: e["tasks"] == 1)
    b0.clear()
    assert get(baton).status == 200
    assert b0.requests == []


def test_garbage_on_the_event_stream_is_survived(baton, marathon, backends):
    b0, b1 = backends(2)
    m = marathon(apps=[web_app("/shop/web", [b0])])
    start_with(baton, m, max_backoff="200ms")
    m.emit_raw(b"event: status_update_event\r\ndata: {not json at all\r\n\r\n")
    m.emit_raw(b"\x00\xff garbage without framing \r\n\r\n")
    m.emit_raw(b"data: " + b"x" * 70000 + b"\r\n\r\n")  # an oversized frame
    m.set_apps([web_app("/shop/web", [b0, b1])])
    m.wait_streams(1)
    m.status_update("shop_web.t1", "/shop/web", "TASK_RUNNING")
    baton.wait_event("discovery", where=lambda e: e["tasks"] == 2)
    assert baton.proc.poll() is None
    assert get(baton).status == 200


def test_events_coalesce_into_one_resync(baton, marathon, backends):
    b0, b1 = backends(2)
    m = marathon(apps=[web_app("/shop/web", [b0])])
    start_with(baton, m, event_debounce="300ms")
    since = len(m.requests)
    m.set_apps([web_app("/shop/web", [b0, b1])])
    for i in range(30):
        m.status_update(f"shop_web.t{i}", "/shop/web", "TASK_RUNNING")
    baton.wait_event("discovery", where=lambda e: e["tasks"] == 2)
    # 30 events, a handful of fetches at most (not one each; slack for a loaded machine).
    assert len(requests_since(m, since, "/v2/apps")) <= 5, m.requests[since:]


def test_periodic_resync_when_the_stream_is_quiet(baton, marathon, backends):
    b0, b1 = backends(2)
    m = marathon(apps=[web_app("/shop/web", [b0])])
    start_with(baton, m, resync_interval="500ms")
    m.set_apps([web_app("/shop/web", [b0, b1])])  # no event at all
    baton.wait_event("discovery", timeout=5, where=lambda e: e["tasks"] == 2)


# ---- REST failures: retry, backoff, failover ----


def test_marathon_down_at_start_then_up(baton, marathon, backends):
    (b0,) = backends(1)
    port = free_port()
    baton.start(marathon_config([f"http://{LOCAL}:{port}"], max_backoff="200ms"), workers=1)
    m = marathon(apps=[web_app("/shop/web", [b0])], port=port)
    baton.wait_event("discovery", timeout=10)
    m.wait_streams(1)
    assert get(baton).status == 200


def test_5xx_is_retried_without_a_new_event(baton, marathon, backends):
    b0, b1 = backends(2)
    m = marathon(apps=[web_app("/shop/web", [b0])])
    start_with(baton, m, max_backoff="200ms")
    m.fail_next(3, "500")
    since = len(m.requests)
    m.set_apps([web_app("/shop/web", [b0, b1])])
    m.status_update("shop_web.t1", "/shop/web", "TASK_RUNNING")  # the only trigger
    baton.wait_event("discovery", timeout=10, where=lambda e: e["tasks"] == 2)
    assert len(requests_since(m, since, "/v2/apps")) >= 4  # three 500s, then the good one
    assert get(baton).status == 200


def test_hanging_marathon_times_out_and_is_retried(baton, marathon, backends):
    b0, b1 = backends(2)
    m = marathon(apps=[web_app("/shop/web", [b0])])
    start_with(baton, m, request_timeout="500ms", max_backoff="200ms")
    m.fail_next(1, "hang")
    m.set_apps([web_app("/shop/web", [b0, b1])])
    m.status_update("shop_web.t1", "/shop/web", "TASK_RUNNING")
    # The old state serves while the request hangs.
    m.wait_for_request("/v2/apps", 5)
    assert get(baton).status == 200
    baton.wait_event("discovery", timeout=10, where=lambda e: e["tasks"] == 2)


def test_failover_to_the_next_url_on_5xx(baton, marathon, backends):
    (b0,) = backends(1)
    broken = marathon(apps=[])
    broken.fail_next(10000, "500")
    good = marathon(apps=[web_app("/shop/web", [b0])])
    baton.start(marathon_config([broken.url, good.url], max_backoff="200ms"), workers=1)
    baton.wait_event("discovery", timeout=10)
    broken.wait_for_request("/v2/apps", 1, since=0)  # it was tried first
    assert get(baton).status == 200


def test_failover_to_the_next_url_when_one_hangs(baton, marathon, backends):
    (b0,) = backends(1)
    hung = marathon(apps=[])
    hung.fail_next(10000, "hang")
    good = marathon(apps=[web_app("/shop/web", [b0])])
    baton.start(marathon_config([hung.url, good.url], request_timeout="500ms", max_backoff="200ms"),
                workers=1)
    baton.wait_event("discovery", timeout=10)
    assert get(baton).status == 200


def test_redirect_loop_is_refused_and_the_next_url_used(baton, marathon, backends):
    (b0,) = backends(1)
    a = marathon(apps=[])
    b = marathon(apps=[])
    a.redirect_to(b)
    b.redirect_to(a)
    good = marathon(apps=[web_app("/shop/web", [b0])])
    baton.start(marathon_config([a.url, good.url], max_backoff="200ms"), workers=1)
    baton.wait_event("discovery", timeout=10)
    assert get(baton).status == 200
    # One redirect followed (a → b), the second (b → a) refused: no ping-pong.
    assert len(requests_since(a, 0, "/v2/apps")) <= 3, a.requests
    assert "second redirect" in baton.stderr()


def test_auth_failure_serves_nothing_and_keeps_retrying(baton, marathon, backends):
    (b0,) = backends(1)
    m = marathon(apps=[web_app("/shop/web", [b0])], username="u", password="right")
    baton.start(marathon_config([m.url], username="u", password="wrong", max_backoff="200ms"),
                workers=1)
    first = m.wait_for_request("/v2/apps", 5, since=0)
    assert first[2]["Authorization"].startswith("Basic ")
    m.wait_for_request("/v2/apps", 5, since=m.requests.index(first) + 1)  # retried
    assert not [e for e in baton.events if e.get("event") == "discovery"]
    assert "401" in baton.stderr()


def test_credentials_rotated_in_marathon_keep_the_last_good_state(baton, marathon, backends):
    b0, b1 = backends(2)
    m = marathon(apps=[web_app("/shop/web", [b0])], username="u", password="p")
    start_with(baton, m, username="u", password="p", max_backoff="200ms")
    m.password = "rotated"
    m.set_apps([web_app("/shop/web", [b1], ids=[1])])
    m.status_update("shop_web.t1", "/shop/web", "TASK_RUNNING")  # (a kill event would drain t0)
    first = m.wait_for_request("/v2/apps", 5)
    m.wait_for_request("/v2/apps", 5, since=m.requests.index(first) + 1)  # a retry: 401 handled
    b0.clear()
    assert get(baton).status == 200
    assert b0.wait_requests(1)  # still the last good state


def test_token_auth(baton, marathon, backends):
    (b0,) = backends(1)
    m = marathon(apps=[web_app("/shop/web", [b0])], token="s3cr3t")
    start_with(baton, m, auth_token="s3cr3t")
    assert get(baton).status == 200
    for path in ("/v2/apps", "/v2/events"):
        assert m.wait_for_request(path, 5, since=0)[2]["Authorization"] == "token=s3cr3t"


def test_bearer_token_auth(baton, marathon, backends):
    """auth_scheme = "bearer": the token as "Bearer <t>" (an OAuth gateway in front of Marathon)."""
    (b0,) = backends(1)
    m = marathon(apps=[web_app("/shop/web", [b0])], token="s3cr3t")
    start_with(baton, m, auth_token="s3cr3t", auth_scheme="bearer")
    assert get(baton).status == 200
    for path in ("/v2/apps", "/v2/events"):
        assert m.wait_for_request(path, 5, since=0)[2]["Authorization"] == "Bearer s3cr3t"


# ---- safety: a sudden fall is held until confirmed ----


def test_fall_to_under_half_the_tasks_is_held_until_a_resync_confirms_it(baton, marathon, backends):
    """The rule applies from 10 tasks on: 12 tasks (3 backends, 4 tasks each) fall to 1."""
    bs = backends(3)
    m = marathon(apps=[web_app("/shop/web", bs * 4)])
    start_with(baton, m)
    # baton fetches once at start and once more when its stream attaches: let both be done,
    # else the attach fetch could see the new document and hold it before our event does.
    first = m.wait_for_request("/v2/apps", 5, since=0)
    m.wait_for_request("/v2/apps", 5, since=m.requests.index(first) + 1)
    since = len(m.requests)
    m.set_apps([web_app("/shop/web", bs[2:], ids=[2])])
    m.status_update("shop_web.t11", "/shop/web", "TASK_RUNNING")  # one event, one resync...
    m.wait_for_request("/v2/apps", 5, since=since)
    # ...held: an old task still serves (this runs well within the 1 s confirmation delay)...
    assert get(baton).status == 200
    assert bs[0].requests or bs[1].requests
    # ...until a second resync baton makes by itself confirms the fall.
    baton.wait_event("discovery", timeout=10, where=lambda e: e["tasks"] == 1)
    assert len(requests_since(m, since, "/v2/apps")) >= 2
    assert "held until a resync confirms it" in baton.stderr()
    assert "confirmed by a second resync" in baton.stderr()
    for b in bs:
        b.clear()
    for _ in range(4):
        assert get(baton).status == 200
    assert len(bs[2].wait_requests(4)) == 4


def test_service_port_listener_survives_a_failed_resync(baton, marathon, backends):
    """A failed fetch must not close discovered listeners (the last good state keeps them)."""
    (b0,) = backends(1)
    sp = free_port()
    m = marathon(apps=[web_app("/api", [b0], vhost=None, service_port=sp,
                               labels={"HAPROXY_0_MODE": "http"})])
    start_with(baton, m, max_backoff="200ms")
    for kind in ("500", "garbage", "truncated", "empty_apps"):
        m.fail_next(1, kind)
        m.status_update("api.t0", "/api", "TASK_RUNNING")
        m.wait_for_request("/v2/apps", 5)
        with harness.Client(sp) as c:
            assert c.request("GET", "/", host="x").status == 200, kind


# ---- the fast path (events that drain a task before the resync) ----


def test_unhealthy_task_kill_event_drains_at_once(baton, marathon, backends):
    b0, b1 = backends(2)
    m = marathon(apps=[web_app("/shop/web", [b0, b1])])
    start_with(baton, m)
    # Marathon kills t0 for failing its health checks; the document still lists it running.
    m.emit("unhealthy_task_kill_event", {"appId": "/shop/web", "taskId": "shop_web.t0",
                                         "version": "2017-07-19T17:34:41.967Z",
                                         "reason": "ConnectionRefused", "host": LOCAL,
                                         "slaveId": "db7b40e2-791c-445f-b373-183e2a648a86-S1"})
    baton.wait_event("discovery")
    b0.clear()
    b1.clear()
    for _ in range(6):
        assert get(baton).status == 200
    assert len(b1.wait_requests(6)) == 6
    assert b0.requests == []


def test_task_lost_event_does_not_drain_a_routable_task(baton, marathon, backends):
    b0, b1, marker = backends(3)

    def apps(with_marker):
        a = web_app("/shop/web", [b0, b1])
        a["tasks"][0]["state"] = "TASK_LOST"  # the agent is partitioned; the task may still serve
        extra = [web_app("/marker", [marker], vhost="marker.example.com")] if with_marker else []
        return [a] + extra

    m = marathon(apps=[web_app("/shop/web", [b0, b1])])
    start_with(baton, m)
    m.set_apps(apps(True))  # the marker app gives the resync an event to wait for
    m.status_update("shop_web.t0", "/shop/web", "TASK_LOST")
    baton.wait_event("discovery", where=lambda e: e["apps"] == 2)
    b0.clear()
    b1.clear()
    for _ in range(8):
        assert get(baton).status == 200
    assert b0.requests, "the TASK_LOST task (routable, as in marathon-lb) was drained"


# ---- Marathon gone mid-run: leader failover, staleness ----


def test_leader_dies_and_the_next_url_takes_over(baton, marathon, backends):
    b0, b1 = backends(2)
    leader = marathon(apps=[web_app("/shop/web", [b0])])
    second = marathon(apps=[web_app("/shop/web", [b0, b1])])  # the new leader's (newer) view
    baton.start(marathon_config([leader.url, second.url], max_backoff="200ms"), workers=2)
    baton.wait_event("discovery")
    leader.wait_streams(1)
    assert get(baton).status == 200
    assert second.requests == []  # the first URL answers: the second is not used
    leader.stop()  # the stream drops, the leader refuses connections
    second.wait_streams(1, timeout=10)
    baton.wait_event("discovery", where=lambda e: e["tasks"] == 2)
    b1.clear()
    for _ in range(4):
        assert get(baton).status == 200
    assert b1.wait_requests(1)


def test_marathon_down_mid_run_keeps_serving_and_exposes_staleness(baton, marathon, backends):
    import json
    import urllib.request

    b0, b1 = backends(2)
    m = marathon(apps=[web_app("/shop/web", [b0])])
    port = m.port
    admin = free_port()
    baton.start(marathon_config([m.url], max_backoff="200ms") + f'[admin]\nhttp = "{LOCAL}:{admin}"\n',
                workers=1)
    baton.wait_event("discovery")

    def status():
        with urllib.request.urlopen(f"http://{LOCAL}:{admin}/status", timeout=5) as r:
            return json.loads(r.read())["discovery"]

    m.stop()
    # A resync already answered before the stop may still be applied: compare two readings
    # between which no document was applied.
    for _ in range(20):
        before = status()
        assert get(baton).status == 200  # the last good state serves
        after = status()
        if after["documents_applied"] == before["documents_applied"]:
            break
    assert after["sync_age_ms"] >= before["sync_age_ms"] >= 0
    assert after["tasks"] == 1 and after["url"].startswith("http://127.0.0.1:")
    # Marathon comes back (same address) with a change: baton reconnects by itself.
    back = marathon(apps=[web_app("/shop/web", [b0, b1])], port=port)
    baton.wait_event("discovery", timeout=10, where=lambda e: e["tasks"] == 2)
    back.wait_streams(1)
    assert status()["sync_age_ms"] < 5000


# ---- what real Marathons send ----


def test_every_subscribed_event_type_triggers_a_resync(baton, marathon, backends):
    b0, b1 = backends(2)
    m = marathon(apps=[web_app("/shop/web", [b0])])
    start_with(baton, m)
    light_plan = {"plan": {"id": "p1", "original": {}, "target": {}, "steps": []},
                  "currentStep": {"actions": []}, "id": "d1"}
    events = [
        ("api_post_event", {"clientIp": LOCAL, "uri": "/v2/apps/shop/web"}),
        ("app_terminated_event", {"appId": "/shop/web"}),
        ("deployment_success", light_plan),
        ("deployment_failed", light_plan),
        ("health_status_changed_event", {"appId": "/shop/web", "taskId": "shop_web.t0",
                                         "instanceId": "shop_web.marathon-t0", "alive": True}),
        ("instance_health_changed_event", {"runSpecId": "/shop/web", "healthy": True,
                                           "instanceId": "shop_web.marathon-t0"}),
        ("status_update_event", None),
    ]
    tasks = 1
    for event_type, payload in events:
        tasks = 3 - tasks  # 1 <-> 2: every resync applies a change, hence a discovery event
        m.set_apps([web_app("/shop/web", [b0, b1][:tasks])])
        if payload is None:
            m.status_update("shop_web.t1", "/shop/web", "TASK_RUNNING")
        else:
            m.emit(event_type, payload)
        baton.wait_event("discovery", where=lambda e, n=tasks: e["tasks"] == n)


def test_large_chunked_document(baton, marathon, backends):
    """Jetty sends big documents chunked: 2,000 apps (~4 MB) in 8 KiB chunks."""
    (b0,) = backends(1)
    apps = [web_app(f"/team/app{i}", [b0], vhost=f"app{i}.example.com", service_port=20000 + i)
            for i in range(2000)]
    m = marathon(apps=apps)
    m.chunked = True
    ev = start_with(baton, m, bind_service_ports=False)
    assert ev["apps"] == 2000 and ev["tasks"] == 2000
    assert get(baton, host="app1999.example.com").status == 200
    assert get(baton, host="app0.example.com").status == 200


def test_truncated_chunked_document_keeps_the_last_good_state(baton, marathon, backends):
    b0, b1 = backends(2)
    m = marathon(apps=[web_app("/shop/web", [b0])])
    m.chunked = True
    start_with(baton, m, max_backoff="200ms")
    m.set_apps([web_app("/shop/web", [b1], ids=[1])])
    m.fail_next(1, "truncated_chunked")
    m.status_update("shop_web.t1", "/shop/web", "TASK_RUNNING")
    first = m.wait_for_request("/v2/apps", 5)
    b0.clear()
    assert get(baton).status == 200
    # The half document is refused; the retry gets the whole one.
    m.wait_for_request("/v2/apps", 5, since=m.requests.index(first) + 1)
    baton.wait_event("discovery", where=lambda e: e["tasks"] == 1)
    assert "keeping the last good state" in baton.stderr()
    b1.clear()
    assert get(baton).status == 200
    assert b1.wait_requests(1)


def test_event_frames_split_anywhere_and_lf_only_framing(baton, marathon, backends):
    """TCP splits a frame anywhere (Jetty flushes "\\r" and "\\n" separately); a proxy in front
    of Marathon may turn CRLF into LF. Either way the event triggers a resync."""
    import json

    b0, b1 = backends(2)
    m = marathon(apps=[web_app("/shop/web", [b0])])
    start_with(baton, m)
    data = json.dumps({"eventType": "api_post_event", "clientIp": LOCAL, "uri": "/v2/apps/shop/web",
                       "timestamp": "2026-11-25T10:00:00.000Z"}).encode()
    frames = [
        [b"event: api_po", b"st_event\r", b"\ndata: " + data[:10], data[10:] + b"\r", b"\n\r", b"\n"],
        [b"event: api_post_event\ndata: " + data + b"\n\n"],
    ]
    tasks = 1
    for pieces in frames:
        tasks = 3 - tasks
        m.set_apps([web_app("/shop/web", [b0, b1][:tasks])])
        for p in pieces:
            m.emit_raw(p)
        baton.wait_event("discovery", where=lambda e, n=tasks: e["tasks"] == n)


class _Always503:
    """A Marathon that answers every request with 503 (a leader election in progress), and
    records when each request came."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        outer = self
        self.times: list[tuple[float, str]] = []
        self.cond = threading.Condition()

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                with outer.cond:
                    outer.times.append((time.monotonic(), self.path))
                    outer.cond.notify_all()
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True

        self.server = ThreadingHTTPServer((LOCAL, 0), H)
        self.server.daemon_threads = True
        self.url = f"http://{LOCAL}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def wait(self, n, timeout=10):
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.times) >= n, timeout), self.times
            return list(self.times)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_retries_back_off_with_jitter_and_a_cap_never_a_busy_loop(baton, marathon):
    down = _Always503()
    try:
        baton.start(marathon_config([down.url], max_backoff="300ms"), workers=1)
        down.wait(12)  # it keeps retrying (REST and stream), paced by the backoff
        t0 = time.monotonic()
        first = len(down.times)
        with pytest.raises(AssertionError):
            down.wait(first + 200, timeout=2.0)  # a busy loop would make hundreds
        window = [t for t, _ in down.times if t >= t0]
        assert 2 <= len(window) <= 60, len(window)
        for kind in ("/v2/apps", "/v2/events"):
            ts = [t for t, p in down.times if p.startswith(kind)]
            assert len(ts) >= 3, (kind, down.times)
            gaps = [b - a for a, b in zip(ts[2:], ts[3:])]
            assert max(gaps, default=0) < 0.3 + 0.7, (kind, gaps)  # the cap (+ scheduling slack)
        assert not [e for e in baton.events if e.get("event") == "discovery"]
    finally:
        down.close()


def test_hostile_documents_never_crash_nor_take_the_good_app_down(baton, marathon, backends):
    """Shapes a broken Marathon, a proxy or a buggy client library could produce: each is
    refused whole or applied without the bad part; the good app always keeps serving."""
    b0, b1 = backends(2)
    good = web_app("/shop/web", [b0])
    m = marathon(apps=[good])
    start_with(baton, m, max_backoff="200ms")

    def bad(mutate):
        a = web_app("/bad", [b1], vhost="bad.example.com")
        mutate(a)
        return a

    variants = {
        "port not a number": lambda a: a["tasks"][0].__setitem__("ports", ["abc"]),
        "port out of range": lambda a: a["tasks"][0].__setitem__("ports", [70000]),
        "negative service port": lambda a: a["portDefinitions"][0].__setitem__("port", -1),
        "no id": lambda a: a.pop("id"),
        "id not a string": lambda a: a.__setitem__("id", 12),
        "labels not an object": lambda a: a.__setitem__("labels", ["HAPROXY_GROUP"]),
        "label value not a string": lambda a: a["labels"].__setitem__("HAPROXY_0_VHOST", 5),
        "tasks not a list": lambda a: a.__setitem__("tasks", {"id": "x"}),
        "task without host": lambda a: a["tasks"][0].pop("host"),
        "empty host": lambda a: a["tasks"][0].__setitem__("host", ""),
        "huge label": lambda a: a["labels"].__setitem__("HAPROXY_0_VHOST", "a" * 100000 + ".com"),
        "unicode id": lambda a: a.__setitem__("id", "/b\u00e4d/\u4e2d\u6587"),
        "nested deep": lambda a: a.__setitem__("env", json_deep(150)),
    }
    for name, mutate in variants.items():
        m.set_apps([good, bad(mutate)])
        m.status_update("shop_web.t0", "/shop/web", "TASK_RUNNING")
        m.wait_for_request("/v2/apps", 5)
        # The next resync is served only after this one was handled: a second event and its
        # fetch prove baton is past the document.
        m.set_apps([good, bad(mutate)])
        m.status_update("shop_web.t0", "/shop/web", "TASK_RUNNING")
        m.wait_for_request("/v2/apps", 5)
        assert baton.proc.poll() is None, name
        b0.clear()
        assert get(baton).status == 200, name
        assert b0.wait_requests(1), name


def json_deep(n):
    v = {}
    for _ in range(n):
        v = {"a": v}
    return v


def test_trickling_answer_hits_the_whole_request_deadline(baton, marathon, backends):
    """A body that keeps coming, one byte at a time, is not 'alive': request_timeout bounds the
    whole call, then the retry gets the document."""
    b0, b1 = backends(2)
    m = marathon(apps=[web_app("/shop/web", [b0])])
    start_with(baton, m, request_timeout="700ms", max_backoff="200ms")
    m.fail_next(1, "trickle")
    m.set_apps([web_app("/shop/web", [b0, b1])])
    t0 = time.monotonic()
    m.status_update("shop_web.t1", "/shop/web", "TASK_RUNNING")
    baton.wait_event("discovery", timeout=10, where=lambda e: e["tasks"] == 2)
    assert time.monotonic() - t0 < 5
