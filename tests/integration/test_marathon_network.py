"""Where traffic goes and how baton reaches Marathon, end to end against the real binary:
the three network modes (host, bridge, IP-per-task) and the three sources of service ports
(portDefinitions, portMappings, legacy `ports`), several ports per app, health filtering with
the failover cache, and TLS to Marathon (CA file, wrong CA refused, host name checked).
"""

from __future__ import annotations

import pytest

import harness
from fake_marathon import app, make_pki, task
from harness import LOCAL, free_port
from test_marathon import get, marathon, marathon_config, start_with, web_app  # noqa: F401 (fixture)

UNREACHABLE = "192.0.2.10"  # TEST-NET-1: traffic sent here would time out, never succeed


def tasks_for(app_id, backends, host=LOCAL, per_task_ports=None):
    base = app_id.strip("/").replace("/", "_")
    return [task(app_id, host=host, ports=per_task_ports[i] if per_task_ports else (b.port,),
                 task_id=f"{base}.t{i}") for i, b in enumerate(backends)]


def labelled(a, **labels):
    a["labels"].update({"HAPROXY_GROUP": "external", **labels})
    return a


# ---- network modes ----


def test_bridge_mode_routes_to_agent_host_and_host_port(baton, marathon, backends):
    """Bridge: the task's agent host and its host port; never the docker-bridge ipAddress."""
    b0, b1 = backends(2)
    sp = free_port()
    a = labelled(app("/bridged", tasks=tasks_for("/bridged", [b0, b1]), mode="bridge",
                     service_ports=(sp,), container_ports=[80]),
                 HAPROXY_0_VHOST="bridge.example.com")
    assert a["tasks"][0]["ipAddresses"][0]["ipAddress"].startswith("172.17.")
    m = marathon(apps=[a])
    ev = start_with(baton, m)
    assert ev["tasks"] == 2
    for _ in range(4):
        assert get(baton, host="bridge.example.com").status == 200
    assert b0.wait_requests(1) and b1.wait_requests(1)
    # The per-service-port listener comes from portMappings[].servicePort.
    with harness.Client(sp) as c:
        assert c.request("GET", "/", host="x").status == 200


def test_ip_per_task_routes_to_each_task_ip_and_the_container_port(baton, marathon, backends):
    """IP-per-task: ipAddresses[0] and the containerPort; the agent host (unreachable here) and
    task.ports (empty) are not used. Two tasks share the container port and differ only by
    their IPs (127.0.0.1 and 127.0.0.2, both loopback)."""
    (b0,) = backends(1)
    try:
        other = _OriginAt("127.0.0.2", b0.port)
    except OSError:
        pytest.skip("cannot bind 127.0.0.2")
    try:
        sp = free_port()
        a = app("/ipt", tasks=tasks_for("/ipt", [b0, b0]), mode="container", service_ports=(sp,),
                container_ports=[b0.port])
        for t, ip in zip(a["tasks"], (LOCAL, "127.0.0.2")):
            assert t["ports"] == []
            t["host"] = UNREACHABLE
            t["ipAddresses"] = [{"ipAddress": ip, "protocol": "IPv4"}]
        labelled(a, HAPROXY_0_VHOST="ipt.example.com")
        m = marathon(apps=[a])
        assert start_with(baton, m)["tasks"] == 2
        for _ in range(8):
            assert get(baton, host="ipt.example.com").status == 200
        assert b0.wait_requests(1)
        assert other.hits >= 1
        with harness.Client(sp) as c:
            assert c.request("GET", "/", host="x").status == 200
    finally:
        other.close()


class _OriginAt:
    """A minimal HTTP origin on a given address (harness.Backend binds 127.0.0.1 only)."""

    def __init__(self, host, port):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        outer = self
        self.hits = 0

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.hits += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer((host, port), H)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_host_mode_second_port_and_legacy_ports_field(baton, marathon, backends):
    """Port index 1 goes to each task's ports[1] with its own service port; an app without
    portDefinitions takes its service ports from the legacy `ports` field."""
    b0, b1, b2 = backends(3)
    sp0, sp1, sp_legacy = free_port(), free_port(), free_port()
    two = labelled(app("/two", tasks=tasks_for("/two", [b0], per_task_ports=[(b0.port, b1.port)]),
                       service_ports=(sp0, sp1)),
                   HAPROXY_0_MODE="http", HAPROXY_1_MODE="http")
    legacy = labelled(app("/legacy", tasks=tasks_for("/legacy", [b2]), service_ports=(1,)),
                      HAPROXY_0_MODE="http")
    del legacy["portDefinitions"]
    legacy["ports"] = [sp_legacy]
    m = marathon(apps=[two, legacy])
    start_with(baton, m)
    for port, backend in ((sp0, b0), (sp1, b1), (sp_legacy, b2)):
        with harness.Client(port) as c:
            assert c.request("GET", f"/via{port}", host="x").status == 200
        assert backend.wait_requests(1)[-1].target == f"/via{port}".encode()


def test_task_states_routed_as_marathon_lb_does(baton, marathon, backends):
    """TASK_RUNNING / TASK_UNREACHABLE are routed; TASK_STAGING / TASK_STARTING are not."""
    bs = backends(4)
    states = ["TASK_RUNNING", "TASK_UNREACHABLE", "TASK_STAGING", "TASK_STARTING"]
    a = web_app("/shop/web", bs)
    for t, st in zip(a["tasks"], states):
        t["state"] = st
    m = marathon(apps=[a])
    start_with(baton, m)
    for _ in range(8):
        assert get(baton).status == 200
    assert bs[0].wait_requests(1) and bs[1].wait_requests(1)
    assert bs[2].requests == [] and bs[3].requests == []


# ---- health filtering and the failover cache ----

HC = [{"protocol": "HTTP", "path": "/health", "portIndex": 0}]


def health_app(backends, verdicts):
    """verdicts[i]: True/False = one result alive or not; None = no results (vanished/new)."""
    a = web_app("/shop/web", backends, health_checks=HC)
    for t, v in zip(a["tasks"], verdicts):
        t.pop("healthCheckResults", None)
        if v is not None:
            t["healthCheckResults"] = [{"alive": v, "taskId": t["id"]}]
    return a


def served_by(baton, backends, n=6):
    for b in backends:
        b.clear()
    for _ in range(n):
        assert get(baton).status == 200
    return {b.name for b in backends if b.requests}


def test_health_filter_new_unchecked_task_waits_for_its_first_result(baton, marathon, backends):
    b0, b1 = backends(2)
    m = marathon(apps=[health_app([b0, b1], [True, None])])
    start_with(baton, m, health_check=True)
    assert served_by(baton, [b0, b1]) == {"b0"}  # t1 has never been checked: not routed
    m.set_apps([health_app([b0, b1], [True, True])])
    m.status_update("shop_web.t1", "/shop/web", "TASK_RUNNING")
    baton.wait_event("discovery")
    assert served_by(baton, [b0, b1], 8) == {"b0", "b1"}
    # It turns unhealthy: out again.
    m.set_apps([health_app([b0, b1], [True, False])])
    m.emit("health_status_changed_event", {"appId": "/shop/web", "taskId": "shop_web.t1",
                                           "alive": False})
    baton.wait_event("discovery")
    assert served_by(baton, [b0, b1]) == {"b0"}


def test_results_vanishing_never_empty_a_backend(baton, marathon, backends):
    """Leader failover: every result vanishes at once. Each task keeps its last verdict; a
    healthy backend is not emptied, an unhealthy task does not come back."""
    b0, b1, b2 = backends(3)
    m = marathon(apps=[health_app([b0, b1, b2], [True, True, False])])
    start_with(baton, m, health_check=True)
    assert served_by(baton, [b0, b1, b2], 8) == {"b0", "b1"}
    m.set_apps([health_app([b0, b1, b2], [None, None, None]),
                web_app("/marker", [b2], vhost="marker.example.com")])
    m.status_update("shop_web.t0", "/shop/web", "TASK_RUNNING")
    baton.wait_event("discovery", where=lambda e: e["apps"] == 2)
    assert served_by(baton, [b0, b1, b2], 8) == {"b0", "b1"}
    # Results come back: the new verdicts apply (t0 now failing).
    m.set_apps([health_app([b0, b1, b2], [False, True, True])])
    m.status_update("shop_web.t0", "/shop/web", "TASK_RUNNING")
    baton.wait_event("discovery", where=lambda e: e["apps"] == 1)
    assert served_by(baton, [b0, b1, b2], 8) == {"b1", "b2"}


def test_health_results_ignored_without_health_check_option(baton, marathon, backends):
    b0, b1 = backends(2)
    m = marathon(apps=[health_app([b0, b1], [True, False])])
    start_with(baton, m)  # health_check off (marathon-lb without --health-check)
    assert served_by(baton, [b0, b1], 8) == {"b0", "b1"}


# ---- TLS to Marathon ----


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def test_tls_with_ca_file(baton, marathon, backends, pki):
    (b0,) = backends(1)
    m = marathon(apps=[web_app("/shop/web", [b0])], ssl_context=pki.server_context("good"))
    assert m.url.startswith("https://127.0.0.1:")
    ev = start_with(baton, m, ca_file=pki.ca)  # REST and the event stream over TLS
    assert ev["tasks"] == 1
    assert get(baton).status == 200
    # Events arrive over the TLS stream.
    m.set_apps([web_app("/shop/web", [b0, b0], ids=[0, 1])])
    m.status_update("shop_web.t1", "/shop/web", "TASK_RUNNING")
    baton.wait_event("discovery", where=lambda e: e["tasks"] == 2)
    assert m.tls_failures == []


def test_tls_by_host_name(baton, marathon, backends, pki):
    """A DNS name in the URL: verified against the certificate's DNS SAN (and sent as SNI)."""
    (b0,) = backends(1)
    m = marathon(apps=[web_app("/shop/web", [b0])], ssl_context=pki.server_context("good"))
    start_with(baton, m.url.replace("127.0.0.1", "localhost"), ca_file=pki.ca)
    assert get(baton).status == 200


@pytest.mark.parametrize("case", ["wrong_ca", "system_cas", "wrong_name"])
def test_tls_refused(baton, marathon, backends, pki, case):
    """An unknown issuer, or a certificate for another name, is refused: nothing is fetched,
    nothing is routed, and the reason is logged."""
    (b0,) = backends(1)
    cert = "wrong_name" if case == "wrong_name" else "good"
    m = marathon(apps=[web_app("/shop/web", [b0])], ssl_context=pki.server_context(cert))
    extra = {"max_backoff": "200ms"}
    if case != "system_cas":
        extra["ca_file"] = pki.other_ca if case == "wrong_ca" else pki.ca
    baton.start(marathon_config([m.url], **extra), workers=1)
    m.wait_tls_failures(2)  # refused, and retried
    assert m.requests == []  # not one HTTP request got through
    assert not [e for e in baton.events if e.get("event") == "discovery"]
    # The reason is logged (after the handshake the server saw fail: paced by the retries).
    for n in range(3, 30):
        err = baton.stderr()
        if "TLS" in err or "certificate" in err:
            break
        m.wait_tls_failures(n)
    assert "TLS" in err or "certificate" in err, err[-2000:]


# ---- agent host names, listeners following service ports ----


def test_agent_host_name_is_resolved(baton, marathon, backends):
    """Mesos agents usually report a host name, not an address: baton resolves it."""
    (b0,) = backends(1)
    a = web_app("/shop/web", [b0])
    a["tasks"][0]["host"] = "localhost"
    m = marathon(apps=[a])
    baton.start(marathon_config([m.url]), workers=1)
    # The first document may be applied before the name is resolved (the task is then skipped
    # and reported); the resolved name is applied without waiting for Marathon.
    baton.wait_event("discovery", where=lambda e: e["tasks"] == 1)
    for _ in range(20):
        r = get(baton)
        if r.status == 200:
            break
        baton.wait_event("discovery", timeout=5)
    assert r.status == 200
    assert b0.wait_requests(1)


def test_service_port_listeners_follow_apps_without_touching_others(baton, marathon, backends):
    b0, b1 = backends(2)
    sp0, sp1 = free_port(), free_port()
    stay = web_app("/stay", [b0], vhost=None, service_port=sp0, labels={"HAPROXY_0_MODE": "http"})
    goes = web_app("/goes", [b1], vhost=None, service_port=sp1, labels={"HAPROXY_0_MODE": "http"})
    m = marathon(apps=[stay, goes])
    start_with(baton, m)
    kept = harness.Client(sp0)  # a keep-alive connection on the listener that stays
    assert kept.request("GET", "/1", host="x").status == 200
    m.set_apps([stay])
    m.emit("app_terminated_event", {"appId": "/goes"})
    baton.wait_event("discovery", where=lambda e: e["apps"] == 1)
    assert f"port_{sp1}" not in baton.listeners
    try:
        harness.Client(sp1).close()
        raise AssertionError(f"port {sp1} still accepts after its app is gone")
    except ConnectionRefusedError:
        pass
    assert kept.request("GET", "/2", host="x").status == 200  # same connection, untouched
    kept.close()
    # The app comes back: its listener opens again.
    m.set_apps([stay, goes])
    m.emit("api_post_event", {"clientIp": LOCAL, "uri": "/v2/apps/goes"})
    baton.wait_event("discovery", where=lambda e: e["apps"] == 2)
    with harness.Client(sp1) as c:
        assert c.request("GET", "/", host="x").status == 200


# ---- how baton is pointed at Marathon ----


def test_marathon_behind_a_path_prefix(baton, marathon, backends):
    """DC/OS: Marathon is reached at https://master/marathon: every path keeps the prefix."""
    b0, b1 = backends(2)
    m = marathon(apps=[web_app("/shop/web", [b0])], path_prefix="/marathon")
    assert m.url.endswith("/marathon")
    start_with(baton, m)
    assert get(baton).status == 200
    assert m.wait_for_request("/marathon/v2/events", 5, since=0)
    m.set_apps([web_app("/shop/web", [b0, b1])])
    m.status_update("shop_web.t1", "/shop/web", "TASK_RUNNING")
    baton.wait_event("discovery", where=lambda e: e["tasks"] == 2)
    assert all(r[1].startswith("/marathon/") for r in m.requests), [r[1] for r in m.requests]


def test_marathon_lb_command_line_with_tls_auth_group_and_strict_mode(baton, marathon, backends, pki, tmp_path):
    """marathon-lb's flags: --marathon-ca-cert, --auth-credentials (and the credential file),
    --group, --strict-mode, --health-check, --dont-bind-service-ports."""
    b0, b1, b2 = backends(3)
    hc = [{"protocol": "HTTP", "path": "/", "portIndex": 0}]
    sp = free_port()
    apps = [
        web_app("/in", [b0, b1], vhost="in.example.com", service_port=sp, health_checks=hc,
                labels={"HAPROXY_GROUP": "internal", "HAPROXY_0_ENABLED": "true"}),
        web_app("/notenabled", [b2], vhost="ne.example.com", labels={"HAPROXY_GROUP": "internal"}),
        web_app("/ext", [b2], vhost="ext.example.com", labels={"HAPROXY_0_ENABLED": "true"}),
    ]
    apps[0]["tasks"][0]["healthCheckResults"] = [{"alive": True}]
    apps[0]["tasks"][1]["healthCheckResults"] = [{"alive": False}]
    m = marathon(apps=apps, ssl_context=pki.server_context("good"), username="lb", password="pw")
    cred = tmp_path / "cred"
    cred.write_text("lb:pw\n")
    for auth in (["--auth-credentials", "lb:pw"], ["--marathon-auth-credential-file", str(cred)]):
        b = harness.Baton(tmp_path / auth[0].strip("-"))
        (tmp_path / auth[0].strip("-")).mkdir()
        try:
            b.start(None, workers=1, extra_args=[
                "--marathon", m.url, "--marathon-ca-cert", pki.ca, *auth, "--group", "internal",
                "--strict-mode", "--health-check", "--dont-bind-service-ports", "--http-port",
                str(free_port()), "--app-id-port", "0", "--bind-address", LOCAL])
            b.wait_event("discovery")
            assert f"port_{sp}" not in b.listeners
            for _ in range(4):
                assert get(b, host="in.example.com").status == 200
            assert get(b, host="ne.example.com").status == 404  # strict: not enabled
            assert get(b, host="ext.example.com").status == 404  # other group
            assert b1.requests == []  # unhealthy
        finally:
            assert b.stop() == 0
    assert len(b0.requests) == 8


def test_redirect_from_https_to_plain_http_does_not_leak_credentials(baton, marathon, backends, pki):
    """A standby reached over TLS redirects to a leader URL in plain http: following it with the
    Basic credentials would send them in clear text (python-requests, which marathon-lb uses,
    strips Authorization on such a downgrade). Acceptable: refuse the redirect, or follow it
    without credentials; never send them over plain http."""
    (b0,) = backends(1)
    leader = marathon(apps=[web_app("/shop/web", [b0])])  # plain http, no auth required
    standby = marathon(apps=[], ssl_context=pki.server_context("good"), username="u", password="p")
    standby.redirect_to(leader)
    baton.start(marathon_config([standby.url], ca_file=pki.ca, username="u", password="p",
                                max_backoff="200ms"), workers=1)
    first = standby.wait_for_request("/v2/", 5, since=0)
    assert first[2]["Authorization"]  # sent over TLS: fine
    try:
        leader.wait_for_request("/v2/", 3, since=0)  # baton followed the redirect...
    except TimeoutError:
        return  # ...or refused the downgrade: fine too
    leaked = [r for r in leader.requests if r[2].get("Authorization")]
    assert leaked == [], f"credentials sent in clear text to {leader.url}: {[r[1] for r in leaked]}"


def test_tls_stalled_stream_reconnects(baton, marathon, backends, pki):
    """The read-idle timeout also covers a TLS stream (bytes may sit in the TLS layer)."""
    b0, b1 = backends(2)
    m = marathon(apps=[web_app("/shop/web", [b0])], ssl_context=pki.server_context("good"))
    start_with(baton, m, ca_file=pki.ca, stream_idle_timeout="500ms", max_backoff="200ms")
    m.stall_streams()
    m.set_apps([web_app("/shop/web", [b0, b1])])
    since = len(m.requests)
    m.wait_for_request("/v2/events", 5, since=since)
    baton.wait_event("discovery", where=lambda e: e["tasks"] == 2)


def test_tls_redirect_to_the_tls_leader(baton, marathon, backends, pki):
    (b0,) = backends(1)
    leader = marathon(apps=[web_app("/shop/web", [b0])], ssl_context=pki.server_context("good"),
                      username="u", password="p")
    standby = marathon(apps=[], ssl_context=pki.server_context("good"))
    standby.redirect_to(leader)
    baton.start(marathon_config([standby.url], ca_file=pki.ca, username="u", password="p"), workers=1)
    baton.wait_event("discovery")
    leader.wait_streams(1)
    assert get(baton).status == 200


def test_results_missing_right_after_a_restart_use_the_state_file(baton, marathon, backends, tmp_path):
    """baton restarts during a Marathon leader failover (health results missing): the verdicts
    in the persisted last good document are the last known ones; the backend is not emptied."""
    b0, b1 = backends(2)
    state = str(tmp_path / "state.json")
    m = marathon(apps=[health_app([b0, b1], [True, False])])
    start_with(baton, m, health_check=True, state_file=state)
    assert served_by(baton, [b0, b1]) == {"b0"}
    assert baton.stop() == 0
    # The marker app tells the Marathon document (apps == 2) from the saved one (apps == 1).
    m.set_apps([health_app([b0, b1], [None, None]), web_app("/marker", [b1], vhost="m.example.com")])
    again = harness.Baton(tmp_path / "again")
    (tmp_path / "again").mkdir()
    try:
        again.start(marathon_config([m.url], health_check=True, state_file=state), workers=2)
        again.wait_event("discovery", where=lambda e: e["apps"] == 2)
        assert served_by(again, [b0, b1]) == {"b0"}
    finally:
        assert again.stop() == 0
