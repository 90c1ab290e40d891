"""Active health checks (issue 8) against the real binary: python backends whose /health answers
what the test says, a port that refuses, and Marathon apps with healthChecks. A failing host
leaves rotation after unhealthy_threshold probes (never after one), comes back after
healthy_threshold passes, panic routes to every host when none passes, and the verdicts show in
`show hosts`, /status and /metrics. Every wait polls the admin socket (or waits for baton's
"health" event, sent once every worker serves the flip) under a deadline; nothing sleeps."""

from __future__ import annotations

import json
import os
import re
import time

import harness
from harness import LOCAL, free_port
from test_drain import command, hosts
from test_marathon import marathon, marathon_config, web_app  # noqa: F401 (fixture)

FAST = {"interval": "200ms", "timeout": "1s", "healthy_threshold": 2, "unhealthy_threshold": 3}


def config(tmp_path, clusters, admin_http=False) -> tuple[str, str]:
    path = os.path.join(str(tmp_path), "admin.sock")
    text = harness.make_config(clusters) + f'\n[admin]\nsocket = "{path}"\n'
    if admin_http:
        text += 'http = "127.0.0.2:0"\n'
    return text, path


def wait_health(path, cluster, address, want, timeout=10.0) -> dict:
    """Polls `show hosts <cluster> json` until host `address` shows health `want`."""
    deadline = time.monotonic() + timeout
    while True:
        h = hosts(path, cluster)[address]
        if h["health"] == want:
            return h
        assert time.monotonic() < deadline, f"{address} still {h['health']} ({h}), wanted {want}"
        time.sleep(0.02)  # polling the admin socket, not waiting for a fixed time


def served(backends, port, n=20) -> list[int]:
    """Sends n requests to /; how many (non-probe) requests each backend got."""
    for b in backends:
        b.clear()
    statuses = []
    for _ in range(n):
        with harness.Client(port) as c:
            statuses.append(c.request("GET", "/").status)
    counts = [sum(1 for r in b.requests if not r.target.startswith(b"/health")) for b in backends]
    return statuses, counts


def test_failing_host_leaves_after_threshold_and_comes_back(baton, backends, tmp_path):
    b0, b1 = backends(2)
    for b in (b0, b1):
        b.on("/health", status=200, body=b"ok")
    text, path = config(tmp_path, {"web": {"hosts": [b0.address, b1.address],
                                           "health_check": dict(FAST, path="/health")}})
    baton.start(text)
    wait_health(path, "web", b0.address, "healthy")
    wait_health(path, "web", b1.address, "healthy")
    statuses, counts = served([b0, b1], baton.port)
    assert statuses == [200] * 20 and counts[0] > 0 and counts[1] > 0

    b1.on("/health", status=500, body=b"sick")
    started = time.monotonic()
    h = wait_health(path, "web", b1.address, "unhealthy")
    elapsed = time.monotonic() - started
    # Three failures 200 ms (±10 %) apart: never out after a single failed probe.
    assert elapsed >= 0.3, elapsed
    assert h["health_detail"] == "500" and h["health_consecutive"] >= 3
    assert h["health_checked_unix_ms"] > 0
    baton.wait_event("health")  # every worker serves the flip
    statuses, counts = served([b0, b1], baton.port)
    assert statuses == [200] * 20 and counts == [20, 0]
    text_view = command(path, "show hosts web")
    assert re.search(rf"{re.escape(b1.address)}\s.*\bunhealthy\s+\d+x:500\b", text_view), text_view

    b1.on("/health", status=200, body=b"ok")
    h = wait_health(path, "web", b1.address, "healthy")
    assert h["health_consecutive"] >= 2 and h["health_detail"] == "200"
    baton.wait_event("health")
    statuses, counts = served([b0, b1], baton.port)
    assert statuses == [200] * 20 and counts[1] > 0


def test_refused_port_panic_and_metrics(baton, backends, tmp_path):
    (b0,) = backends(1)
    b0.on("/health", status=200)
    dead = f"{LOCAL}:{free_port()}"  # nothing listens: connect refused
    text, path = config(tmp_path, {"web": {"hosts": [b0.address, dead],
                                           "health_check": dict(FAST, path="/health")}},
                        admin_http=True)
    baton.start(text)
    h = wait_health(path, "web", dead, "unhealthy")
    assert h["health_detail"] == "connect refused"
    wait_health(path, "web", b0.address, "healthy")
    assert json.loads(command(path, "show hosts web json"))["health_panic"] is False

    # Every host fails: panic routes to all of them (b0 still answers requests, only /health
    # fails) rather than answering 503 to everything.
    b0.on("/health", status=503)
    wait_health(path, "web", b0.address, "unhealthy")
    baton.wait_event("health")
    assert json.loads(command(path, "show hosts web json"))["health_panic"] is True
    statuses, counts = served([b0], baton.port, n=10)
    assert statuses == [200] * 10 and counts == [10]

    host, port = baton.admin
    with harness.Client(port, host=host) as c:
        metrics = c.request("GET", "/metrics").body.decode()
    assert re.search(r'baton_host_healthy\{cluster="web",host="%s"\} 0' % re.escape(dead), metrics)
    assert re.search(r'baton_host_healthy\{cluster="web",host="%s"\} 0' % re.escape(b0.address),
                     metrics)
    refused = re.search(r'baton_health_checks_total\{cluster="web",result="refused"\} (\d+)', metrics)
    bad = re.search(r'baton_health_checks_total\{cluster="web",result="bad_status"\} (\d+)', metrics)
    passed = re.search(r'baton_health_checks_total\{cluster="web",result="passed"\} (\d+)', metrics)
    assert refused and int(refused.group(1)) >= 3, metrics
    assert bad and int(bad.group(1)) >= 3 and passed and int(passed.group(1)) >= 1
    assert re.search(r'baton_cluster_health_panic\{cluster="web"\} 1', metrics)
    with harness.Client(port, host=host) as c:
        status = c.request("GET", "/status").json()
    web = next(c for c in status["clusters"] if c["name"] == "web")
    assert web["health_panic"] is True and web["health_checks"]["refused"] >= 3
    assert {h["address"]: h["health"] for h in web["hosts"]} == {b0.address: "unhealthy",
                                                                  dead: "unhealthy"}

    # Back to health: panic ends, the refused host stays out.
    b0.on("/health", status=200)
    wait_health(path, "web", b0.address, "healthy")
    baton.wait_event("health")
    assert json.loads(command(path, "show hosts web json"))["health_panic"] is False


def test_panic_off_answers_503_when_every_host_fails(baton, backends, tmp_path):
    (b0,) = backends(1)
    b0.on("/health", status=500)
    text, path = config(tmp_path, {"web": {"hosts": [b0.address], "panic": False,
                                           "health_check": dict(FAST, path="/health")}})
    baton.start(text)
    wait_health(path, "web", b0.address, "unhealthy")
    baton.wait_event("health")
    statuses, counts = served([b0], baton.port, n=5)
    assert statuses == [503] * 5 and counts == [0]


def test_tcp_check_and_verdicts_survive_a_reload(baton, backends, tmp_path):
    (b0,) = backends(1)
    dead = f"{LOCAL}:{free_port()}"
    clusters = {"web": {"hosts": [b0.address, dead], "health_check": dict(FAST, protocol="tcp")}}
    text, path = config(tmp_path, clusters)
    baton.start(text)
    assert wait_health(path, "web", b0.address, "healthy")["health_detail"] == "connected"
    wait_health(path, "web", dead, "unhealthy")
    baton.wait_event("health")
    # A reload (same hosts, a slower check) keeps the verdicts: no new flip, still out.
    clusters["web"]["health_check"]["interval"] = "300ms"
    assert baton.reload(config(tmp_path, clusters)[0])["event"] == "reloaded"
    assert hosts(path, "web")[dead]["health"] == "unhealthy"
    statuses, counts = served([b0], baton.port, n=10)
    assert statuses == [200] * 10 and counts == [10]
    # A host removed by a reload is forgotten.
    clusters["web"]["hosts"] = [b0.address]
    assert baton.reload(config(tmp_path, clusters)[0])["event"] == "reloaded"
    assert set(hosts(path, "web")) == {b0.address}


def test_marathon_app_health_checks_drive_rotation(baton, marathon, backends, tmp_path):
    b0, b1 = backends(2)
    for b in (b0, b1):
        b.on("/health", status=200)
    sp = free_port()
    check = {"protocol": "HTTP", "path": "/health", "portIndex": 0, "intervalSeconds": 1,
             "timeoutSeconds": 1, "maxConsecutiveFailures": 2, "gracePeriodSeconds": 0}
    m = marathon(apps=[
        web_app("/web", [b0, b1], service_port=sp, health_checks=[check],
                labels={"BATON_0_HEALTH_CHECK_INTERVAL": "200ms"}),
        web_app("/other", [b0], vhost="other.example.com", service_port=free_port(),
                health_checks=[check], labels={"BATON_0_HEALTH_CHECK": "off"}),
    ])
    path = os.path.join(str(tmp_path), "admin.sock")
    baton.start(marathon_config([m.url]) + f'\n[admin]\nsocket = "{path}"\n', workers=2)
    baton.wait_event("discovery")
    cluster = f"web_{sp}"
    wait_health(path, cluster, b0.address, "healthy")
    wait_health(path, cluster, b1.address, "healthy")
    other = [c for c in command(path, "show clusters").split() if c.startswith("other_")]
    assert other and hosts(path, other[0])[b0.address]["health"] == "unchecked"

    b1.on("/health", status=500)
    h = wait_health(path, cluster, b1.address, "unhealthy")
    assert h["health_detail"] == "500"
    baton.wait_event("health")
    for b in (b0, b1):
        b.clear()
    for _ in range(12):
        with baton.client("marathon_http") as c:
            assert c.request("GET", "/", host="shop.example.com").status == 200
    assert sum(1 for r in b1.requests if not r.target.startswith(b"/health")) == 0
    assert sum(1 for r in b0.requests if not r.target.startswith(b"/health")) == 12

    # A Marathon resync (the same apps) keeps the verdict.
    m.set_apps(m.apps())
    b1.on("/health", status=200)
    wait_health(path, cluster, b1.address, "healthy")


class HttpsHealth:
    """A TLS /health endpoint on 127.0.0.1:0 (http.server over ssl) answering `status`; records
    the Host headers and SNI names it was probed with."""

    def __init__(self, tmp_path):
        import http.server
        import ssl
        import threading

        import tls_pki

        pki = tls_pki.Pki(os.path.join(str(tmp_path), "pki"))
        pem, key = pki.leaf("health", ["svc.internal"])
        self.status = 200
        self.hosts: list[str] = []
        self.snis: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                outer.hosts.append(self.headers.get("Host", ""))
                self.send_response(outer.status if self.path == "/health" else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(pem, key)
        ctx.sni_callback = lambda sock, name, _ctx: outer.snis.append(name or "")
        self.server = http.server.ThreadingHTTPServer((LOCAL, 0), Handler)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_https_check_on_its_own_port_with_host_and_sni(baton, backends, tmp_path):
    (b0,) = backends(1)
    tls = HttpsHealth(tmp_path)
    try:
        check = dict(FAST, protocol="https", path="/health", port=tls.port, host="svc.internal")
        text, path = config(tmp_path, {"web": {"hosts": [b0.address], "panic": False,
                                               "health_check": check}})
        baton.start(text)
        assert wait_health(path, "web", b0.address, "healthy")["health_detail"] == "200"
        assert "svc.internal" in tls.hosts and "svc.internal" in tls.snis
        tls.status = 500
        assert wait_health(path, "web", b0.address, "unhealthy")["health_detail"] == "500"
        baton.wait_event("health")
        statuses, _ = served([b0], baton.port, n=3)
        assert statuses == [503] * 3  # panic off: the only host is out
        # The probes went to the check's port, never to the host's own.
        assert not any(r.target.startswith(b"/health") for r in b0.requests)
    finally:
        tls.close()
