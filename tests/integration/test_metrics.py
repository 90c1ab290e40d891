"""The admin HTTP listener's operator views against the real binary: /metrics parsed by the
Prometheus project's own text parser (Debian's python3-prometheus-client, so run with
/usr/bin/python3), /status JSON, and the write API's token and errors.

baton serves cluster "shop_web" (two named echo backends) on `[admin] http = "127.0.0.2:0"` with a
token. Clients connect from 127.0.0.3 so a leaked client address would be recognisable in a label.
"""

from __future__ import annotations

import json
import socket

import harness
import pytest
from harness import LOCAL

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # pragma: no cover - scripts/test.sh installs it
    text_string_to_metric_families = None

TOKEN = "metrics-test-token"
CLIENT_IP = "127.0.0.3"
SECRET_PATH = "/checkout/cart-4711-secret"


def host_name(backend: harness.Backend) -> str:
    return "127_0_0_1_" + str(backend.port)  # marathon-lb's svname style


def config(backends: list[harness.Backend], token: str = TOKEN) -> str:
    out = [harness._table("[server]", {"workers": 2})]
    out.append(harness._table("[[listener]]", {"name": "http", "address": f"{LOCAL}:0"}))
    hosts = [{"address": b.address, "name": host_name(b)} for b in backends]
    out.append(harness._table("[[cluster]]", {"name": "shop_web", "hosts": hosts}))
    out.append(harness._table("[[vhost]]", {"name": "shop", "domains": ["*"]}))
    out.append(harness._table("  [[vhost.route]]", {"prefix": "/", "cluster": "shop_web"}))
    out.append(harness._table("[admin]", {"http": "127.0.0.2:0", "token": token or None}))
    return "\n".join(out)


def admin(baton, method: str, target: str, headers: list | None = None) -> harness.Response:
    if baton.admin is None:
        pytest.skip("this baton does not report an admin listener in its ready event")
    host, port = baton.admin
    with harness.Client(port, host=host) as c:
        hdrs = [("Host", f"{host}:{port}")] + list(headers or [])
        return c.request(method, target, headers=hdrs, body=b"" if method == "POST" else None)


def require_service(baton) -> None:
    """Skips while the server still serves the admin listener through the old AdminProvider
    (no version, no write API): the lead's wiring of AdminService is not in this binary yet."""
    status = admin(baton, "GET", "/status").json()
    if not status.get("version"):
        pytest.skip("this baton does not serve the AdminService model yet (server.cc wiring)")


def send_from(port: int, n: int, target: str) -> list[int]:
    """n keep-alive GETs from CLIENT_IP; returns the statuses."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(harness.TIMEOUT)
    sock.bind((CLIENT_IP, 0))
    sock.connect((LOCAL, port))
    reader = harness.SockReader(sock)
    statuses = []
    try:
        for _ in range(n):
            sock.sendall(harness.build_request("GET", target, host="shop.example.com"))
            start, headers = harness.read_head(reader)
            length = int(harness.header_values(headers, "content-length")[0])
            reader.read_exact(length)
            statuses.append(int(start.split()[1]))
    finally:
        sock.close()
    return statuses


def families(text: str) -> dict:
    assert text_string_to_metric_families is not None, "python3-prometheus-client is not installed"
    return {f.name: f for f in text_string_to_metric_families(text)}


def samples(fams: dict, family: str, suffix: str = "", **labels) -> list:
    fam = fams[family]
    return [
        s
        for s in fam.samples
        if s.name == family + suffix and all(s.labels.get(k) == v for k, v in labels.items())
    ]


def test_metrics_parse_and_count_the_traffic(baton, backends):
    bs = backends(2)
    baton.start(config(bs))
    require_service(baton)
    statuses = send_from(baton.port, 20, SECRET_PATH + "?user=alice")
    assert statuses == [200] * 20
    r = admin(baton, "GET", "/metrics")
    assert r.status == 200
    assert r.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8"
    text = r.body.decode()
    fams = families(text)

    # Counts match what was sent, whichever way they are cut.
    by_host = {
        host_name(b): sum(
            s.value
            for s in samples(fams, "baton_host_requests", "_total", cluster="shop_web", host=host_name(b))
        )
        for b in bs
    }
    assert sum(by_host.values()) == 20, by_host
    assert by_host == {host_name(b): len(b.requests) for b in bs}
    ok = samples(fams, "baton_cluster_requests", "_total", cluster="shop_web", **{"class": "2xx"})
    assert [s.value for s in ok] == [20]
    listener = samples(fams, "baton_listener_requests", "_total", listener="http", **{"class": "2xx"})
    assert [s.value for s in listener] == [20]
    assert fams["baton_cluster_requests"].type == "counter"

    # Histograms: cumulative buckets ending in +Inf == _count == requests.
    for b in bs:
        buckets = samples(fams, "baton_host_request_duration_seconds", "_bucket", host=host_name(b))
        values = [s.value for s in buckets]
        assert values == sorted(values), values
        assert buckets[-1].labels["le"] == "+Inf"
        count = samples(fams, "baton_host_request_duration_seconds", "_count", host=host_name(b))
        assert [s.value for s in count] == [values[-1]] == [len(b.requests)]
    assert fams["baton_host_request_duration_seconds"].type == "histogram"

    # Host state gauges and process facts.
    for b in bs:
        ready = samples(fams, "baton_host_admin_state", host=host_name(b), state="ready")
        assert [s.value for s in ready] == [1]
        assert [s.value for s in samples(fams, "baton_host_weight", host=host_name(b))] == [1]
    assert [s.value for s in samples(fams, "baton_config_generation")] == [baton.generation]
    assert [s.value for s in samples(fams, "baton_workers")] == [2]

    # Bounded labels: never the request path, its query, or the client address.
    for fam in fams.values():
        for s in fam.samples:
            for value in s.labels.values():
                assert "checkout" not in value and "alice" not in value, (s.name, s.labels)
                assert CLIENT_IP not in value, (s.name, s.labels)


def test_status_json_is_the_model(baton, backends):
    bs = backends(2)
    baton.start(config(bs))
    require_service(baton)
    send_from(baton.port, 4, "/x")
    r = admin(baton, "GET", "/status")
    assert r.status == 200 and r.header("Content-Type") == "application/json"
    status = r.json()
    assert status["pid"] == baton.proc.pid
    assert status["workers"] == 2
    assert status["generation"] == baton.generation
    [cluster] = [c for c in status["clusters"] if c["name"] == "shop_web"]
    assert sorted(h["name"] for h in cluster["hosts"]) == sorted(host_name(b) for b in bs)
    assert sum(h["traffic"]["total"] for h in cluster["hosts"]) == 4
    assert all(h["state"] == "ready" for h in cluster["hosts"])
    assert [l["name"] for l in status["listeners"]] == ["http"]
    json.dumps(status)  # plain JSON all the way down


def test_writes_need_the_token_and_name_real_hosts(baton, backends):
    bs = backends(2)
    baton.start(config(bs))
    require_service(baton)
    target = f"/api/host/state?cluster=shop_web&host={host_name(bs[0])}&state=drain"
    r = admin(baton, "POST", target)
    assert r.status == 401
    assert r.header("WWW-Authenticate").startswith("Bearer")
    assert r.json()["error"] == "denied"
    assert admin(baton, "POST", target, [("Authorization", "Bearer nope")]).status == 401
    auth = [("Authorization", f"Bearer {TOKEN}")]
    # A page of another origin cannot use an operator's browser to write (CSRF).
    evil = admin(baton, "POST", target, auth + [("Origin", "http://evil.example")])
    assert evil.status == 403 and evil.json()["error"] == "denied"

    # Nothing changed so far.
    hosts = {h["name"]: h for h in admin(baton, "GET", "/status").json()["clusters"][0]["hosts"]}
    assert hosts[host_name(bs[0])]["admin_state"] == "ready"

    r = admin(baton, "POST", target, auth)
    assert r.status == 200, r.body
    assert r.json()["ok"] is True
    hosts = {h["name"]: h for h in admin(baton, "GET", "/status").json()["clusters"][0]["hosts"]}
    assert hosts[host_name(bs[0])]["admin_state"] == "drain"
    assert hosts[host_name(bs[0])]["state"] == "drain"
    # The drained host gets no new request: all of them go to the other one.
    bs[0].clear()
    assert send_from(baton.port, 6, "/after-drain") == [200] * 6
    assert len(bs[0].requests) == 0 and len(bs[1].wait_requests(6)) >= 6

    missing = admin(baton, "POST", "/api/host/state?cluster=shop_web&host=10_9_9_9_1&state=drain", auth)
    assert missing.status == 404 and missing.json()["error"] == "notfound"
    nocluster = admin(baton, "POST", "/api/cluster/state?cluster=nope&state=drain", auth)
    assert nocluster.status == 404
    bad = admin(baton, "POST", f"/api/host/weight?cluster=shop_web&host={host_name(bs[1])}&weight=0", auth)
    assert bad.status == 400 and bad.json()["error"] in ("invalid", "usage")
    assert admin(baton, "GET", target).status == 405  # a GET never writes

    ready = admin(baton, "POST", target.replace("state=drain", "state=ready"), auth)
    assert ready.status == 200
    fams = families(admin(baton, "GET", "/metrics").body.decode())
    assert [s.value for s in samples(fams, "baton_host_admin_state", host=host_name(bs[0]), state="ready")] == [1]


def test_log_level_and_reload_through_the_api(baton, backends):
    bs = backends(1)
    baton.start(config(bs, token=""))
    require_service(baton)
    r = admin(baton, "POST", "/api/log-level?level=debug")
    assert r.status == 200, r.body
    assert admin(baton, "GET", "/status").json()["log_level"] == "debug"
    assert admin(baton, "POST", "/api/log-level?level=loud").status == 400
    r = admin(baton, "POST", "/api/reload")
    assert r.status == 200, r.body
    ev = baton.wait_event("reloaded")
    assert ev["generation"] > 1
    # A broken file is refused, with the loader's message, and the old config keeps serving.
    baton.write_config(config(bs, token="") + "\n[nonsense]\n")
    r = admin(baton, "POST", "/api/reload")
    assert r.status == 500 and r.json()["error"] == "failed"
    assert "nonsense" in r.json()["message"]
    assert send_from(baton.port, 1, "/still") == [200]


def test_weight_set_through_the_api_shifts_traffic(baton, backends):
    a, b = backends(2)
    baton.start(config([a, b]))
    require_service(baton)
    auth = [("Authorization", f"Bearer {TOKEN}")]
    r = admin(baton, "POST", f"/api/host/weight?cluster=shop_web&host={host_name(a)}&weight=4", auth)
    assert r.status == 200, r.body
    hosts = {h["name"]: h for h in admin(baton, "GET", "/status").json()["clusters"][0]["hosts"]}
    assert hosts[host_name(a)]["weight"] == 4 and hosts[host_name(a)]["weight_overridden"] is True
    assert hosts[host_name(b)]["weight"] == 1
    assert send_from(baton.port, 50, "/w") == [200] * 50
    # One keep-alive connection = one worker's balancer: 4 of every 5 picks go to `a`.
    assert len(a.requests) == 40 and len(b.requests) == 10, (len(a.requests), len(b.requests))
    fams = families(admin(baton, "GET", "/metrics").body.decode())
    assert [s.value for s in samples(fams, "baton_host_weight", host=host_name(a))] == [4]
