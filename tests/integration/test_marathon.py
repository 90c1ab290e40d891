"""Marathon discovery end to end: the real baton binary driven by a fake Marathon (or a file),
real echo backends as tasks, raw HTTP clients.

Every wait is on an event: baton writes a `discovery` line on its ready fd once every worker
serves the new routing, the fake Marathon records requests, backends record what they got.
"""

from __future__ import annotations

import json
import os
import time

import pytest

import harness
from fake_marathon import FakeMarathon, app, task
from harness import LOCAL, free_port


def marathon_config(urls, **extra) -> str:
    """A config with no static listener: everything comes from Marathon."""
    settings = {
        "urls": urls,
        "groups": ["external"],
        "bind_address": LOCAL,
        "http_port": free_port(),
        "app_id_port": 0,
        "event_debounce": "5ms",
        "resync_interval": "300s",
    }
    settings.update(extra)
    lines = ["[marathon]"] + [f"{k} = {harness.toml_value(v)}" for k, v in settings.items()]
    return "\n".join(lines) + "\n"


def web_app(app_id, backends, vhost="shop.example.com", service_port=None, labels=None, ids=None, **kw):
    """An app whose tasks are `backends`; task i is "<app>.t<ids[i]>" (ids default 0, 1, ...)."""
    labels = dict({"HAPROXY_GROUP": "external", "HAPROXY_0_VHOST": vhost}, **(labels or {}))
    if vhost is None:
        labels.pop("HAPROXY_0_VHOST")
    tasks = [
        task(app_id, host=LOCAL, ports=(b.port,), task_id=f"{app_id.strip('/').replace('/', '_')}.t{i}")
        for i, b in zip(ids or range(len(backends)), backends)
    ]
    return app(app_id, labels=labels, tasks=tasks, service_ports=(service_port or free_port(),), **kw)


def get(baton, host="shop.example.com", target="/", listener="marathon_http", headers=None):
    with baton.client(listener) as c:
        return c.request("GET", target, host=host, headers=list((headers or {}).items()))


@pytest.fixture
def marathon():
    yield from harness.made_and_closed(FakeMarathon, close=lambda m: m.stop())


def start_with(baton, m_or_url, **extra):
    url = m_or_url if isinstance(m_or_url, str) else m_or_url.url
    baton.start(marathon_config([url], **extra), workers=2)
    ev = baton.wait_event("discovery")
    if not isinstance(m_or_url, str):
        m_or_url.wait_streams(1)  # baton is subscribed: events from now on reach it
    return ev


def test_full_sync_routes_vhost_to_tasks(baton, marathon, backends):
    b0, b1 = backends(2)
    m = marathon(apps=[web_app("/shop/web", [b0, b1])])
    ev = start_with(baton, m)
    assert ev["apps"] == 1 and ev["tasks"] == 2
    for _ in range(8):
        assert get(baton).status == 200
    # Both tasks serve (each worker balances on its own, so the split need not be exactly even).
    assert b0.wait_requests(1) and b1.wait_requests(1)
    assert len(b0.requests) + len(b1.requests) == 8
    # An unknown vhost is not routed.
    assert get(baton, host="other.example.com").status == 404
    # Subscribed with the server-side filters and the light plan format.
    req = m.wait_for_request("/v2/events", 5)
    path = req[1] if isinstance(req, tuple) else req
    assert "plan-format=light" in path and "event_type=status_update_event" in path


def test_event_triggers_resync_and_new_task_serves(baton, marathon, backends):
    b0, b1 = backends(2)
    m = marathon(apps=[web_app("/shop/web", [b0])])
    start_with(baton, m)
    m.set_apps([web_app("/shop/web", [b0, b1])])
    t0 = time.monotonic()
    m.status_update("shop_web.t1", "/shop/web", "TASK_RUNNING")
    ev = baton.wait_event("discovery", where=lambda e: e["tasks"] == 2)
    assert time.monotonic() - t0 < 2.0
    for _ in range(4):
        assert get(baton).status == 200
    assert b1.wait_requests(1)


def test_killing_task_is_drained_before_resync(baton, marathon, backends):
    b0, b1 = backends(2)
    m = marathon(apps=[web_app("/shop/web", [b0, b1])])
    start_with(baton, m)
    # Marathon reports the kill; the app document still lists the task (as it does for a while).
    m.status_update("shop_web.t0", "/shop/web", "TASK_KILLING")
    baton.wait_event("discovery")
    b0.clear()
    b1.clear()
    for _ in range(6):
        assert get(baton).status == 200
    assert len(b1.wait_requests(6)) == 6
    assert b0.requests == []


def test_service_port_listener_and_tcp_mode(baton, marathon, backends):
    b0, b1 = backends(2)
    http_port, tcp_port = free_port(), free_port()
    apps = [
        web_app("/api", [b0], vhost=None, service_port=http_port, labels={"HAPROXY_0_MODE": "http"}),
        web_app("/db", [b1], vhost=None, service_port=tcp_port, labels={"HAPROXY_0_MODE": "tcp"}),
    ]
    m = marathon(apps=apps)
    start_with(baton, m)
    assert baton.port_of(f"port_{http_port}") == http_port
    with harness.Client(http_port) as c:
        r = c.request("GET", "/anything", host="whatever")
        assert r.status == 200
    assert b0.wait_requests(1)
    # TCP mode: bytes pass through unparsed (the backend still speaks HTTP, baton doesn't care).
    with harness.Client(tcp_port) as c:
        r = c.request("GET", "/raw", host="x")
        assert r.status == 200
    assert b1.wait_requests(1)[0].target == b"/raw"


def test_app_id_listener(baton, marathon, backends):
    b0, b1 = backends(2)
    apps = [web_app("/a", [b0], vhost="a.example.com"), web_app("/b", [b1], vhost="b.example.com")]
    m = marathon(apps=apps)
    start_with(baton, m, app_id_port=free_port())
    r = get(baton, host="ignored", listener="marathon_app_id", headers={"X-Marathon-App-Id": "/b"})
    assert r.status == 200
    assert b1.wait_requests(1)
    assert get(baton, host="x", listener="marathon_app_id", headers={"X-Marathon-App-Id": "/c"}).status == 404


def test_group_selection_and_strict_mode(baton, marathon, backends):
    b0, b1, b2 = backends(3)
    apps = [
        web_app("/ext", [b0], vhost="ext.example.com"),
        web_app("/int", [b1], vhost="int.example.com", labels={"HAPROXY_GROUP": "internal"}),
        web_app("/off", [b2], vhost="off.example.com", labels={"HAPROXY_0_ENABLED": "false"}),
    ]
    m = marathon(apps=apps)
    start_with(baton, m)
    assert get(baton, host="ext.example.com").status == 200
    assert get(baton, host="int.example.com").status == 404
    assert get(baton, host="off.example.com").status == 404


def test_garbage_and_empty_documents_keep_last_good_state(baton, marathon, backends):
    (b0,) = backends(1)
    m = marathon(apps=[web_app("/shop/web", [b0])])
    start_with(baton, m)
    for kind in ("garbage", "truncated", "500"):
        m.fail_next(1, kind)
        m.status_update("shop_web.t0", "/shop/web", "TASK_RUNNING")  # triggers a resync
        m.wait_for_request("/v2/apps", 5)
        assert get(baton).status == 200, kind
    # An empty list once is held (a Marathon hiccup must not empty the edge)...
    m.fail_next(1, "empty_apps")
    m.status_update("shop_web.t0", "/shop/web", "TASK_RUNNING")
    m.wait_for_request("/v2/apps", 5)
    assert get(baton).status == 200
    # ...and applied when the following resync confirms it.
    m.set_apps([])
    m.status_update("shop_web.t0", "/shop/web", "TASK_KILLED")
    baton.wait_event("discovery", timeout=10, where=lambda e: e["apps"] == 0)
    assert get(baton).status == 404
    assert "refused" in baton.stderr()


def test_health_check_filter_survives_leader_failover(baton, marathon, backends):
    b0, b1 = backends(2)
    hc = [{"protocol": "HTTP", "path": "/health", "portIndex": 0}]

    def apps(alive0, alive1):
        a = web_app("/shop/web", [b0, b1], health_checks=hc)
        a["tasks"][0]["healthCheckResults"] = [] if alive0 is None else [{"alive": alive0}]
        a["tasks"][1]["healthCheckResults"] = [] if alive1 is None else [{"alive": alive1}]
        if alive0 is None:
            del a["tasks"][0]["healthCheckResults"]
        if alive1 is None:
            del a["tasks"][1]["healthCheckResults"]
        return [a]

    m = marathon(apps=apps(True, False))
    start_with(baton, m, health_check=True)
    for _ in range(4):
        assert get(baton).status == 200
    assert len(b0.wait_requests(4)) == 4
    # Leader failover: every result vanishes. The last known verdicts are kept. (Another app
    # appears in the same document, so the resync yields an event to wait for.)
    m.set_apps(apps(None, None) + [web_app("/other", [b1], vhost="other.example.com")])
    m.status_update("shop_web.t0", "/shop/web", "TASK_RUNNING")
    baton.wait_event("discovery", where=lambda e: e["apps"] == 2)
    b0.clear()
    for _ in range(4):
        assert get(baton).status == 200
    assert len(b0.wait_requests(4)) == 4


def test_failover_redirect_and_auth(baton, marathon, backends):
    (b0,) = backends(1)
    leader = marathon(apps=[web_app("/shop/web", [b0])], username="u", password="p")
    standby = marathon(apps=[], username="u", password="p")
    standby.redirect_to(leader)
    url_down = "http://" + harness.dead_address()
    baton.start(marathon_config([url_down, standby.url], username="u", password="p"), workers=1)
    baton.wait_event("discovery", timeout=20)
    assert get(baton).status == 200
    # The stream was followed to the leader with the credentials kept.
    leader.wait_for_request("/v2/events", 10)


def test_state_file_used_when_marathon_is_down(baton, marathon, backends, tmp_path):
    (b0,) = backends(1)
    state = str(tmp_path / "state.json")
    m = marathon(apps=[web_app("/shop/web", [b0])])
    start_with(baton, m, state_file=state)
    assert os.path.exists(state)
    assert baton.stop() == 0
    m.stop()
    again = harness.Baton(tmp_path)
    try:
        again.start(marathon_config(["http://" + harness.dead_address()], state_file=state), workers=1)
        again.wait_event("discovery")
        assert get(again).status == 200
    finally:
        assert again.stop() == 0


def test_file_source_follows_rewrites(baton, backends, tmp_path):
    b0, b1 = backends(2)
    path = tmp_path / "apps.json"

    def write(apps):
        tmp = tmp_path / "apps.json.tmp"
        tmp.write_text(json.dumps({"apps": apps}))
        os.replace(tmp, path)  # how editors and deploy tools replace files

    write([web_app("/shop/web", [b0])])
    baton.start(marathon_config([f"file:{path}"]), workers=1)
    baton.wait_event("discovery")
    assert get(baton).status == 200
    write([web_app("/shop/web", [b1])])
    baton.wait_event("discovery")
    b1.clear()
    assert get(baton).status == 200
    assert b1.wait_requests(1)


def test_marathon_lb_command_line_without_config(baton, marathon, backends):
    (b0,) = backends(1)
    m = marathon(apps=[web_app("/shop/web", [b0])])
    baton.start(
        None,
        workers=1,
        extra_args=["--marathon", m.url, "--group", "external", "--sse", "--http-port", str(free_port()),
                    "--app-id-port", "0", "--bind-address", LOCAL, "--admin", f"{LOCAL}:0"],
    )
    baton.wait_event("discovery")
    assert get(baton).status == 200


def test_scale_and_kill_under_load_lose_no_request(baton, marathon, backends):
    """wrk keeps 8 connections busy while tasks are added, killed (TASK_KILLING first, as Marathon
    does before SIGTERM) and removed: not one request may fail."""
    import re
    import subprocess
    import threading

    b0, b1, b2 = backends(3)
    m = marathon(apps=[web_app("/shop/web", [b0, b1])])
    start_with(baton, m)
    port = baton.port_of("marathon_http")
    out = {}

    def load():
        out["wrk"] = subprocess.run(
            ["wrk", "-t1", "-c8", "-d3s", "-H", "Host: shop.example.com", f"http://{LOCAL}:{port}/"],
            capture_output=True, text=True, timeout=30).stdout

    t = threading.Thread(target=load)
    t.start()
    b2.wait_requests(0)
    b0.wait_requests(20)  # load is flowing
    # Scale up: a third task.
    m.set_apps([web_app("/shop/web", [b0, b1, b2])])
    m.status_update("shop_web.t2", "/shop/web", "TASK_RUNNING")
    baton.wait_event("discovery", where=lambda e: e["tasks"] == 3)
    b2.wait_requests(20)
    # Kill t0: drained at once on TASK_KILLING; the task keeps serving what it has, then goes.
    m.status_update("shop_web.t0", "/shop/web", "TASK_KILLING")
    baton.wait_event("discovery")
    served = len(b0.requests)
    m.set_apps([web_app("/shop/web", [b1, b2], ids=[1, 2])])
    m.status_update("shop_web.t0", "/shop/web", "TASK_KILLED")
    baton.wait_event("discovery", where=lambda e: e["tasks"] == 2)
    t.join()
    text = out["wrk"]
    total = int(re.search(r"(\d+) requests in", text).group(1))
    assert total > 100, text
    assert "Non-2xx" not in text and "Socket errors" not in text, text
    # After the drain was acknowledged, no new request reached the killed task (at most the ones
    # already in flight on its connections when the event arrived: wrk pipelines nothing).
    assert len(b0.requests) <= served + 8


def test_deployment_group_cutover_drains_old_tasks_as_zdd_expects(baton, marathon, backends):
    """A zdd-style blue/green step: blue (2 tasks) and green (1 healthy task) share
    HAPROXY_DEPLOYMENT_GROUP=shop; one backend "shop_<HAPROXY_0_PORT>" holds all three tasks and
    one old task is drained (MAINT in the stats CSV that zdd polls), so no request reaches it."""
    import csv
    import io
    import urllib.request

    old0, old1, new0 = backends(3)
    port, alt = free_port(), free_port()
    hc = [{"protocol": "HTTP", "path": "/", "portIndex": 0}]

    def colour(app_id, name, started, tasks, ids, service_port):
        labels = {"HAPROXY_DEPLOYMENT_GROUP": "shop", "HAPROXY_DEPLOYMENT_ALT_PORT": str(alt),
                  "HAPROXY_0_PORT": str(port), "HAPROXY_DEPLOYMENT_COLOUR": name,
                  "HAPROXY_DEPLOYMENT_STARTED_AT": started,
                  "HAPROXY_DEPLOYMENT_TARGET_INSTANCES": "2", "HAPROXY_DEPLOYMENT_NEW_INSTANCES": "0"}
        a = web_app(app_id, tasks, labels=labels, ids=ids, service_port=service_port, health_checks=hc)
        for t in a["tasks"]:
            t["healthCheckResults"] = [{"alive": True}]
        return a

    blue = colour("/shop-blue", "blue", "2026-11-25T10:00:00Z", [old0, old1], [0, 1], port)
    green = colour("/shop-green", "green", "2026-11-25T11:00:00Z", [new0], [0], alt)
    m = marathon(apps=[blue, green])
    admin = free_port()
    baton.start(marathon_config([m.url], health_check=True) + f'[admin]\nhttp = "{LOCAL}:{admin}"\n', workers=2)
    baton.wait_event("discovery")
    body = urllib.request.urlopen(f"http://{LOCAL}:{admin}/haproxy?stats;csv", timeout=5).read().decode()
    rows = [r for r in csv.DictReader(io.StringIO(body.lstrip("# "))) if r["pxname"] == f"shop_{port}"]
    servers = {r["svname"]: r["status"] for r in rows if r["svname"] not in ("FRONTEND", "BACKEND")}
    assert len(servers) == 3, servers
    assert sorted(servers.values()) == ["MAINT", "UP", "UP"], servers
    drained = next(s for s, st in servers.items() if st == "MAINT")
    assert drained.endswith(f"_{old0.port}")  # old tasks sorted by id: the first is drained
    for _ in range(6):
        assert get(baton).status == 200
    assert old0.requests == []
    assert len(old1.requests) + len(new0.requests) == 6


def test_a_service_port_another_process_holds_is_opened_once_it_is_free(baton, backends, tmp_path):
    """A service port another process has bound is reported and left out (other apps are served);
    once it is free baton opens it within the retry delay (the resync interval, at most 30 s),
    without waiting for a Marathon change."""
    import socket

    (b0,) = backends(1)
    holder = socket.socket()
    holder.bind((LOCAL, 0))
    holder.listen()
    port = holder.getsockname()[1]
    path = tmp_path / "apps.json"
    path.write_text(json.dumps({"apps": [web_app("/shop/web", [b0]),
                                         web_app("/svc/held", [b0], vhost=None, service_port=port)]}))
    baton.start(marathon_config([f"file:{path}"], resync_interval="1s"), workers=2)
    ev = baton.wait_event("discovery")
    assert f"port_{port}" not in baton.listeners and ev["issues"] == 1, ev
    assert get(baton).status == 200
    assert f"listener port_{port} (127.0.0.1:{port}): not opened" in baton.stderr()
    # While the port stays taken the retry only probes it: no publish (two retry periods).
    with pytest.raises(AssertionError, match="no (listeners )?event"):
        baton.wait_event("listeners", timeout=2.5)
    holder.close()
    baton.wait_event("listeners", where=lambda ev: f"port_{port}" in ev.get("listeners", {}))
    with harness.Client(port) as c:
        assert c.request("GET", "/", host="any").status == 200


def test_service_port_listeners_leave_descriptors_for_connections(baton, backends, tmp_path):
    """One socket per worker per service port: under a small descriptor limit the listeners
    stop at a budget (a quarter of the limit stays for connections) instead of taking every
    descriptor, which left baton unable to accept any connection at all. The ports left out are
    reported; the shared vhost listener keeps serving, with many connections at once."""
    (b0,) = backends(1)
    wrapper = tmp_path / "baton-256-fds"
    wrapper.write_text(f'#!/bin/sh\nulimit -n 256\nexec "{baton.bin}" "$@"\n')
    wrapper.chmod(0o755)
    baton.bin = str(wrapper)
    ports = [free_port() for _ in range(150)]  # 300 sockets with 2 workers: over the limit
    apps = [web_app("/shop/web", [b0])]
    apps += [web_app(f"/svc/p{i}", [b0], vhost=None, service_port=p) for i, p in enumerate(ports)]
    path = tmp_path / "apps.json"
    path.write_text(json.dumps({"apps": apps}))
    admin = free_port()
    baton.start(marathon_config([f"file:{path}"]) + f'[admin]\nhttp = "{LOCAL}:{admin}"\n', workers=2)
    ev = baton.wait_event("discovery")
    opened = [p for p in ports if f"port_{p}" in baton.listeners]
    assert 0 < len(opened) < len(ports), len(opened)
    # Each port left out is an issue: counted, listed by the admin endpoints, logged once.
    assert ev["issues"] == len(ports) - len(opened), ev
    import urllib.request

    text = urllib.request.urlopen(f"http://{LOCAL}:{admin}/_haproxy_getconfig", timeout=5).read().decode()
    # A port from the far end of those left out (the budget refuses a tail of baton's order,
    # whether by app id or as written): still left out after another publish even if a
    # descriptor or two came free meanwhile.
    left_out = max((i for i, p in enumerate(ports) if p not in opened), key=lambda i: f"/svc/p{i}")
    left_out = ports[left_out]
    assert f"(127.0.0.1:{left_out}): not opened: 2 more sockets" in text, text[:3000]
    # Another publish (one more app): the ports are retried, still left out (give or take one
    # or two the budget measures afresh), and not logged again.
    path.write_text(json.dumps({"apps": apps + [web_app("/shop/api", [b0], vhost="api.example.com")]}))
    ev = baton.wait_event("discovery")
    assert abs(ev["issues"] - (len(ports) - len(opened))) <= 3, ev
    text = urllib.request.urlopen(f"http://{LOCAL}:{admin}/_haproxy_getconfig", timeout=5).read().decode()
    assert f"(127.0.0.1:{left_out}): not opened" in text
    assert baton.stderr().count(f"127.0.0.1:{left_out}") == 1
    # 20 client connections open at once (40 descriptors with their upstream ones), each served.
    clients = [baton.client("marathon_http") for _ in range(20)]
    try:
        for c in clients:
            assert c.request("GET", "/", host="shop.example.com").status == 200
    finally:
        for c in clients:
            c.close()
    with harness.Client(opened[0]) as c:
        assert c.request("GET", "/", host="any").status == 200
