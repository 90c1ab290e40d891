"""Every marathon-lb label baton honours, end to end: a fake Marathon serves apps with the label,
the real binary routes real requests to real echo backends, and the test checks what a client
and the backend see. (Unit tests in tests/unit/discovery/model cover the parsing corner cases;
these check that the label reaches the data path.)

Already covered in test_marathon.py: HAPROXY_GROUP external/internal, HAPROXY_0_ENABLED=false,
MODE http/tcp on service-port listeners, the app-id listener, deployment groups.
"""

from __future__ import annotations

import time

import harness
from harness import LOCAL, free_port
from test_marathon import get, marathon, marathon_config, web_app  # noqa: F401 (fixture)

HASH = "$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG."
PASSWORD = "secret"  # HASH = `openssl passwd -6 -salt abcdefgh secret`


def start(baton, m, workers=1, **extra):
    """One worker by default: balancing assertions are then exact."""
    baton.start(marathon_config([m.url], **extra), workers=workers)
    ev = baton.wait_event("discovery")
    m.wait_streams(1)
    return ev


def hits(backends, n, fn):
    for b in backends:
        b.clear()
    for _ in range(n):
        assert fn().status == 200
    return [len(b.requests) for b in backends]


def basic(user, password):
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# ---- selection: groups, ENABLED, strict mode ----


def test_per_port_group_wins_over_app_group(baton, marathon, backends):
    b0, b1 = backends(2)
    sp0, sp1 = free_port(), free_port()
    a = web_app("/two", [b0], vhost=None, service_port=sp0,
                labels={"HAPROXY_GROUP": "external", "HAPROXY_1_GROUP": "internal",
                        "HAPROXY_0_MODE": "http", "HAPROXY_1_MODE": "http"})
    a["portDefinitions"].append({"port": sp1, "protocol": "tcp", "name": "p1", "labels": {}})
    a["tasks"][0]["ports"] = [b0.port, b1.port]
    m = marathon(apps=[a])
    start(baton, m, groups=["internal"])
    assert f"port_{sp1}" in baton.listeners and f"port_{sp0}" not in baton.listeners
    with harness.Client(sp1) as c:
        assert c.request("GET", "/", host="x").status == 200
    assert b1.wait_requests(1)


def test_group_star_takes_every_app_including_ungrouped(baton, marathon, backends):
    b0, b1 = backends(2)
    grouped = web_app("/g", [b0], vhost="g.example.com", labels={"HAPROXY_GROUP": "whatever"})
    ungrouped = web_app("/u", [b1], vhost="u.example.com")
    del ungrouped["labels"]["HAPROXY_GROUP"]
    m = marathon(apps=[grouped, ungrouped])
    start(baton, m, groups=["*"])
    assert get(baton, host="g.example.com").status == 200
    assert get(baton, host="u.example.com").status == 200
    assert b0.wait_requests(1) and b1.wait_requests(1)


def test_strict_mode_exposes_only_enabled_ports(baton, marathon, backends):
    b0, b1, b2 = backends(3)
    apps = [
        web_app("/on", [b0], vhost="on.example.com", labels={"HAPROXY_0_ENABLED": "Yes"}),
        web_app("/unset", [b1], vhost="unset.example.com"),
        web_app("/off", [b2], vhost="off.example.com", labels={"HAPROXY_0_ENABLED": "false"}),
    ]
    m = marathon(apps=apps)
    start(baton, m, strict_mode=True)
    assert get(baton, host="on.example.com").status == 200
    assert get(baton, host="unset.example.com").status == 404
    assert get(baton, host="off.example.com").status == 404


# ---- VHOST, PATH, BACKEND_WEIGHT ----


def test_vhost_list_and_wildcard(baton, marathon, backends):
    b0, b1 = backends(2)
    apps = [
        web_app("/list", [b0], vhost="a.example.com, B.Example.COM"),
        web_app("/wild", [b1], vhost="*.wild.example.com"),
    ]
    m = marathon(apps=apps)
    start(baton, m)
    for host in ("a.example.com", "b.example.com", "B.EXAMPLE.com"):
        b0.clear()
        assert get(baton, host=host).status == 200, host
        assert b0.wait_requests(1)
    for host in ("x.wild.example.com", "y.z.wild.example.com"):
        b1.clear()
        assert get(baton, host=host).status == 200, host
        assert b1.wait_requests(1)
    assert get(baton, host="wild.example.com").status == 404  # a wildcard needs a label before


def test_path_prefixes_on_a_shared_vhost(baton, marathon, backends):
    api, site = backends(2)
    apps = [
        web_app("/api", [api], vhost="shop.example.com", labels={"HAPROXY_0_PATH": "/api /v2"}),
        web_app("/site", [site], vhost="shop.example.com"),
    ]
    m = marathon(apps=apps)
    start(baton, m)
    for target, want in [("/api/x", api), ("/api", api), ("/v2/y?q=1", api), ("/apix", site),
                         ("/", site), ("/other", site)]:
        api.clear()
        site.clear()
        assert get(baton, target=target).status == 200, target
        assert want.wait_requests(1)[0].target == target.encode(), target


def test_backend_weight_orders_overlapping_rules(baton, marathon, backends):
    """Without weights the longer path wins; HAPROXY_0_BACKEND_WEIGHT puts a rule first."""
    root, api = backends(2)

    def apps(root_weight):
        labels = {"HAPROXY_0_PATH": "/"}
        if root_weight is not None:
            labels["HAPROXY_0_BACKEND_WEIGHT"] = str(root_weight)
        return [web_app("/root", [root], labels=labels),
                web_app("/api", [api], labels={"HAPROXY_0_PATH": "/api"})]

    m = marathon(apps=apps(None))
    start(baton, m)
    assert hits([root, api], 2, lambda: get(baton, target="/api/x")) == [0, 2]
    m.set_apps(apps(10))
    m.emit("api_post_event", {"clientIp": LOCAL, "uri": "/v2/apps/root"})
    baton.wait_event("discovery")
    assert hits([root, api], 2, lambda: get(baton, target="/api/x")) == [2, 0]


# ---- PORT, BIND_ADDR, MODE defaulting ----


def test_port_label_overrides_the_service_port(baton, marathon, backends):
    (b0,) = backends(1)
    sp, pinned = free_port(), free_port()
    m = marathon(apps=[web_app("/api", [b0], vhost=None, service_port=sp,
                               labels={"HAPROXY_0_PORT": str(pinned), "HAPROXY_0_MODE": "http"})])
    start(baton, m)
    assert f"port_{pinned}" in baton.listeners and f"port_{sp}" not in baton.listeners
    with harness.Client(pinned) as c:
        assert c.request("GET", "/", host="x").status == 200


def test_bind_addr_label(baton, marathon, backends):
    (b0,) = backends(1)
    sp = free_port()
    m = marathon(apps=[web_app("/api", [b0], vhost=None, service_port=sp,
                               labels={"HAPROXY_0_BIND_ADDR": "127.0.0.2", "HAPROXY_0_MODE": "http"})])
    start(baton, m)
    assert baton.listeners[f"port_{sp}"] == ("127.0.0.2", sp)
    with harness.Client(sp, host="127.0.0.2") as c:
        assert c.request("GET", "/", host="x").status == 200
    try:
        harness.Client(sp, host=LOCAL).close()
        raise AssertionError("the listener must not be open on 127.0.0.1")
    except ConnectionRefusedError:
        pass


def test_mode_defaults(baton, marathon, backends):
    """No label: http when a VHOST is set or the port's health check is HTTP(S)/MESOS_HTTP(S),
    tcp otherwise; an explicit MODE wins. Told apart by X-Forwarded-For (added in http mode,
    never in tcp mode, where bytes pass unparsed)."""
    cases = {  # app id: (labels, health checks, expected mode)
        "/plain": ({}, [], "tcp"),
        "/vhost": ({"vhost": "vhost.example.com"}, [], "http"),
        "/hchttp": ({}, [{"protocol": "HTTP", "path": "/", "portIndex": 0}], "http"),
        "/hcmesos": ({}, [{"protocol": "MESOS_HTTPS", "path": "/", "portIndex": 0}], "http"),
        "/hctcp": ({}, [{"protocol": "TCP", "portIndex": 0}], "tcp"),
        "/forced": ({"HAPROXY_0_MODE": "tcp"}, [{"protocol": "HTTP", "path": "/", "portIndex": 0}], "tcp"),
    }
    bs = backends(len(cases))
    ports = {app_id: free_port() for app_id in cases}
    apps = []
    for (app_id, (labels, hc, _)), b in zip(cases.items(), bs):
        labels = dict(labels)
        a = web_app(app_id, [b], vhost=labels.pop("vhost", None), service_port=ports[app_id], labels=labels,
                    health_checks=hc)
        for t in a["tasks"]:
            t["healthCheckResults"] = [{"alive": True}]
        apps.append(a)
    m = marathon(apps=apps)
    start(baton, m)
    for (app_id, (_, _, mode)), b in zip(cases.items(), bs):
        with harness.Client(ports[app_id]) as c:
            assert c.request("GET", "/", host="x").status == 200, app_id
        # The apps' health checks probe the same backends (Host: their address): find ours.
        rec = next(r for r in b.wait_requests(1) if r.header("host") == b"x")
        assert rec.has("x-forwarded-for") == (mode == "http"), (app_id, mode)


# ---- BALANCE, STICKY ----


def test_balance_roundrobin_leastconn_source(baton, marathon, backends):
    rr = backends(2)
    lc = backends(2)
    src = backends(2)
    apps = [
        web_app("/rr", rr, vhost="rr.example.com", labels={"HAPROXY_0_BALANCE": "roundrobin"}),
        web_app("/lc", lc, vhost="lc.example.com", labels={"HAPROXY_0_BALANCE": "leastconn"}),
        web_app("/src", src, vhost="src.example.com", labels={"HAPROXY_0_BALANCE": "source"}),
    ]
    m = marathon(apps=apps)
    start(baton, m)
    assert hits(rr, 6, lambda: get(baton, host="rr.example.com")) == [3, 3]
    counts = hits(src, 6, lambda: get(baton, host="src.example.com"))
    assert sorted(counts) == [0, 6]  # one client address: one backend
    # leastconn: with one request held on a backend, new ones go to the other. The two
    # backends share one condition so the test can wait for "either received the held head".
    import threading

    shared = threading.Condition()
    for b in lc:
        b.cond = shared
        b.on("/slow", first_byte_wait=10)
    held = harness.Client(baton.port_of("marathon_http"))
    held.send(harness.build_request("GET", "/slow", host="lc.example.com"))
    with shared:
        assert shared.wait_for(lambda: any(b.heads for b in lc), 5)
    busy = next(b for b in lc if b.heads)
    assert hits(lc, 4, lambda: get(baton, host="lc.example.com")) == [0 if b is busy else 4 for b in lc]
    for b in lc:
        b.release.set()
    assert held.read_response().status == 200
    held.close()


def test_sticky_cookie(baton, marathon, backends):
    bs = backends(2)
    m = marathon(apps=[web_app("/shop/web", bs, labels={"HAPROXY_0_STICKY": "true"})])
    start(baton, m)
    r = get(baton)
    cookie = r.header("set-cookie")
    assert cookie and cookie.startswith("mesosphere_server_id="), r.headers
    first = next(b for b in bs if b.requests)
    value = cookie.split(";")[0]
    assert hits(bs, 6, lambda: get(baton, headers={"Cookie": value})) == [
        6 if b is first else 0 for b in bs]


# ---- per-route actions ----


def test_redirect_to_https_on_the_vhost_only(baton, marathon, backends):
    (b0,) = backends(1)
    sp = free_port()
    m = marathon(apps=[web_app("/shop/web", [b0], service_port=sp,
                               labels={"HAPROXY_0_REDIRECT_TO_HTTPS": "true"})])
    start(baton, m)
    r = get(baton, target="/a?b=1")
    assert (r.status, r.header("location")) == (301, "https://shop.example.com/a?b=1")
    assert b0.requests == []
    with harness.Client(sp) as c:  # the per-port frontend is not redirected (marathon-lb)
        assert c.request("GET", "/", host="shop.example.com").status == 200


def test_use_hsts(baton, marathon, backends):
    (b0,) = backends(1)
    m = marathon(apps=[web_app("/shop/web", [b0], labels={"HAPROXY_0_USE_HSTS": "true"})])
    start(baton, m)
    assert get(baton).header("strict-transport-security") == "max-age=15768000"


def test_auth(baton, marathon, backends):
    b0, b1 = backends(2)
    apps = [
        web_app("/shop/web", [b0], labels={"HAPROXY_0_AUTH": f"Shop Realm:alice:{HASH}"}),
        # A malformed AUTH fails closed for its own port only.
        web_app("/bad", [b1], vhost="bad.example.com", labels={"HAPROXY_0_AUTH": "no-colons"}),
    ]
    m = marathon(apps=apps)
    start(baton, m)
    r = get(baton)
    assert r.status == 401
    assert r.header("www-authenticate") == 'Basic realm="Shop Realm"'
    assert get(baton, headers={"Authorization": basic("alice", "wrong")}).status == 401
    assert get(baton, headers={"Authorization": basic("bob", PASSWORD)}).status == 401
    assert b0.requests == []
    assert get(baton, headers={"Authorization": basic("alice", PASSWORD)}).status == 200
    assert b0.wait_requests(1)
    assert get(baton, host="bad.example.com").status == 404
    assert b1.requests == []


def test_proxypass_path_strips_prefix_and_sets_host(baton, marathon, backends):
    (b0,) = backends(1)
    labels = {"HAPROXY_0_PATH": "/api", "HAPROXY_0_HTTP_BACKEND_PROXYPASS_PATH": "/api"}
    m = marathon(apps=[web_app("/api", [b0], labels=labels)])
    start(baton, m)
    assert get(baton, target="/api/items?x=1", host="shop.example.com:8080").status == 200
    rec = b0.wait_requests(1)[0]
    assert rec.target == b"/items?x=1"
    assert rec.header("host") == b"shop.example.com"


def test_revproxy_path_rewrites_location(baton, marathon, backends):
    (b0,) = backends(1)
    b0.on("/login", status=302, headers=[("Location", "http://shop.example.com/login/form?next=%2F")])
    labels = {"HAPROXY_0_HTTP_BACKEND_REVPROXY_PATH": "/shop/"}
    m = marathon(apps=[web_app("/shop/web", [b0], labels=labels)])
    start(baton, m)
    r = get(baton, target="/login")
    assert (r.status, r.header("location")) == (302, "/shop/login/form?next=%2F")


def test_backend_redir(baton, marathon, backends):
    (b0,) = backends(1)
    m = marathon(apps=[web_app("/shop/web", [b0], labels={"HAPROXY_0_HTTP_BACKEND_REDIR": "/welcome/"})])
    start(baton, m)
    r = get(baton, target="/")
    assert (r.status, r.header("location")) == (301, "/welcome/")
    assert get(baton, target="/other").status == 200


def test_network_allowed_acl(baton, marathon, backends):
    b0, b1, b2 = backends(3)
    apps = [
        web_app("/open", [b0], vhost="open.example.com",
                labels={"HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL": "10.0.0.0/8 127.0.0.1"}),
        web_app("/closed", [b1], vhost="closed.example.com",
                labels={"HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL": "10.0.0.0/8 192.168.1.7"}),
        web_app("/broken", [b2], vhost="broken.example.com",
                labels={"HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL": "10.0.0.0/33"}),
    ]
    m = marathon(apps=apps)
    start(baton, m)
    assert get(baton, host="open.example.com").status == 200
    assert get(baton, host="closed.example.com").status == 403
    assert b1.requests == []
    assert get(baton, host="broken.example.com").status == 404  # fails closed: not exposed
    assert b2.requests == []


# ---- BATON_{n}_TIMEOUT_* ----


def test_timeout_server_label(baton, marathon, backends):
    slow, other = backends(2)
    slow.on("/", first_byte_wait=10)
    other.on("/", first_byte_wait=10)
    apps = [
        web_app("/slow", [slow], vhost="slow.example.com", labels={"BATON_0_TIMEOUT_SERVER": "300ms"}),
        web_app("/other", [other], vhost="other.example.com"),
    ]
    m = marathon(apps=apps)
    start(baton, m)
    t0 = time.monotonic()
    r = get(baton, host="slow.example.com")
    assert r.status == 504
    assert time.monotonic() - t0 < 3
    # The other app keeps the global default: still waiting after the label's timeout.
    with baton.client("marathon_http") as c:
        c.send(harness.build_request("GET", "/", host="other.example.com"))
        other.wait_heads(1)
        t0 = time.monotonic()
        c.sock.settimeout(1.0)
        try:
            c.read_response()
            raise AssertionError("answered before the backend")
        except (TimeoutError, OSError):
            pass
        assert time.monotonic() - t0 >= 0.9
    slow.release.set()
    other.release.set()


def test_timeout_tunnel_label_on_a_tcp_port(baton, marathon, backends):
    (b0,) = backends(1)
    sp = free_port()
    m = marathon(apps=[web_app("/db", [b0], vhost=None, service_port=sp,
                               labels={"HAPROXY_0_MODE": "tcp", "BATON_0_TIMEOUT_TUNNEL": "300ms"})])
    start(baton, m)
    with harness.Client(sp) as c:
        assert c.request("GET", "/", host="x").status == 200
        t0 = time.monotonic()
        assert c.is_closed(timeout=5)  # idle: cut by the label's tunnel timeout
        assert time.monotonic() - t0 < 3


def test_unsupported_labels_are_reported_not_fatal(baton, marathon, backends):
    (b0,) = backends(1)
    admin = free_port()
    labels = {"HAPROXY_0_BIND_OPTIONS": "alpn h2", "HAPROXY_0_BACKEND_HEAD": "timeout server 5m",
              "BATON_0_TIMEOUT_SERVER": "soon"}
    m = marathon(apps=[web_app("/shop/web", [b0], labels=labels)])
    baton.start(marathon_config([m.url]) + f'[admin]\nhttp = "{LOCAL}:{admin}"\n', workers=1)
    ev = baton.wait_event("discovery")
    assert ev["issues"] >= 3
    assert get(baton).status == 200
    import urllib.request

    text = urllib.request.urlopen(f"http://{LOCAL}:{admin}/_haproxy_getconfig", timeout=5).read().decode()
    for label in labels:
        assert label in text, (label, text[-2000:])


def test_missing_ssl_cert_file_is_reported_and_app_still_served(baton, marathon, backends, tmp_path):
    (b0,) = backends(1)
    admin = free_port()
    missing = str(tmp_path / "no-such-cert.pem")
    m = marathon(apps=[web_app("/shop/web", [b0], labels={"HAPROXY_0_SSL_CERT": missing})])
    baton.start(marathon_config([m.url], https_port=free_port()) + f'[admin]\nhttp = "{LOCAL}:{admin}"\n',
                workers=1)
    baton.wait_event("discovery")
    assert get(baton).status == 200
    import urllib.request

    text = urllib.request.urlopen(f"http://{LOCAL}:{admin}/_haproxy_getconfig", timeout=5).read().decode()
    assert "# tls: " in text and "marathon:/shop/web" in text and missing in text, text[-2000:]
    assert " https scope=shared (marathon)" in text  # the :443 listener (marathon_https)


def test_timeout_connect_label(baton, marathon, backends):
    """A task behind a black hole (TEST-NET-1 drops SYNs): the label's connect timeout answers
    long before the global default would."""
    (b0,) = backends(1)
    a = web_app("/hole", [b0], vhost="hole.example.com", labels={"BATON_0_TIMEOUT_CONNECT": "300ms"})
    a["tasks"][0]["host"] = "192.0.2.10"
    m = marathon(apps=[a])
    start(baton, m)
    t0 = time.monotonic()
    r = get(baton, host="hole.example.com")
    assert 500 <= r.status < 600
    assert time.monotonic() - t0 < 2.5


def test_timeout_body_idle_label(baton, marathon, backends):
    (b0,) = backends(1)
    b0.on("/big", body_size=1 << 20, stall_after=1000)
    m = marathon(apps=[web_app("/shop/web", [b0], labels={"BATON_0_TIMEOUT_BODY_IDLE": "300ms"})])
    start(baton, m)
    t0 = time.monotonic()
    with baton.client("marathon_http") as c:
        c.send(harness.build_request("GET", "/big", host="shop.example.com"))
        r = c.read_response(allow_truncated=True)
        assert r.status == 200 and not r.complete and r.body_len == 1000
    assert time.monotonic() - t0 < 3
    b0.release.set()


def test_allowed_acl_on_a_tcp_port_fails_closed(baton, marathon, backends):
    """TCP mode cannot enforce an allow-list: the port is not exposed (never opened wide)."""
    b0, b1 = backends(2)
    sp, other = free_port(), free_port()
    apps = [web_app("/db", [b0], vhost=None, service_port=sp,
                    labels={"HAPROXY_0_MODE": "tcp", "HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL": "127.0.0.1"}),
            web_app("/ok", [b1], vhost=None, service_port=other, labels={"HAPROXY_0_MODE": "tcp"})]
    m = marathon(apps=apps)
    ev = start(baton, m)
    assert ev["issues"] >= 1
    assert f"port_{sp}" not in baton.listeners and f"port_{other}" in baton.listeners
    with harness.Client(other) as c:
        assert c.request("GET", "/", host="x").status == 200


def test_sticky_host_gone_falls_back(baton, marathon, backends):
    b0, b1 = backends(2)
    m = marathon(apps=[web_app("/shop/web", [b0, b1], labels={"HAPROXY_0_STICKY": "true"})])
    start(baton, m)
    r = get(baton)
    value = r.header("set-cookie").split(";")[0]
    first, other, ids = (b0, b1, [1]) if b0.requests else (b1, b0, [0])
    m.set_apps([web_app("/shop/web", [other], ids=ids, labels={"HAPROXY_0_STICKY": "true"})])
    m.emit("api_post_event", {"clientIp": LOCAL, "uri": "/v2/apps/shop/web"})
    baton.wait_event("discovery")
    first.clear()
    r = get(baton, headers={"Cookie": value})
    assert r.status == 200
    assert other.wait_requests(1) and first.requests == []
    assert r.header("set-cookie").startswith("mesosphere_server_id=")  # re-pinned


def test_duplicate_vhost_is_reported_and_routed_deterministically(baton, marathon, backends):
    """marathon-lb issue #458: two apps with one VHOST. The first by app id wins; the other's
    route is dropped with an issue, never silently shadowed."""
    a, b = backends(2)
    m = marathon(apps=[web_app("/b-app", [b]), web_app("/a-app", [a])])
    ev = start(baton, m)
    assert ev["issues"] >= 1
    assert hits([a, b], 3, lambda: get(baton)) == [3, 0]
    assert "collision" in baton.stderr()


def test_a_bad_label_takes_out_only_its_own_port(baton, marathon, backends):
    """Port 1 of an app has a malformed AUTH: port 0 (and its vhost) keeps serving; port 1's
    vhost and listener are not exposed. A bad BIND_ADDR skips only that port's listener."""
    b0, b1, b2 = backends(3)
    sp0, sp1, sp2 = free_port(), free_port(), free_port()
    two = web_app("/two", [b0], vhost="zero.example.com", service_port=sp0,
                  labels={"HAPROXY_1_VHOST": "one.example.com", "HAPROXY_1_AUTH": "realm-only"})
    two["portDefinitions"].append({"port": sp1, "protocol": "tcp", "name": "p1", "labels": {}})
    two["tasks"][0]["ports"] = [b0.port, b1.port]
    badbind = web_app("/badbind", [b2], vhost="badbind.example.com", service_port=sp2,
                      labels={"HAPROXY_0_BIND_ADDR": "not-an-address"})
    m = marathon(apps=[two, badbind])
    ev = start(baton, m)
    assert ev["issues"] >= 2
    assert get(baton, host="zero.example.com").status == 200
    assert b0.wait_requests(1)
    assert get(baton, host="one.example.com").status == 404
    assert f"port_{sp0}" in baton.listeners and f"port_{sp1}" not in baton.listeners
    assert f"port_{sp2}" not in baton.listeners
    assert get(baton, host="badbind.example.com").status == 200
    assert b1.requests == []


def test_port_conflicts_are_reported_and_the_first_app_keeps_the_port(baton, marathon, backends):
    b0, b1 = backends(2)
    sp = free_port()
    m = marathon(apps=[
        web_app("/a", [b0], vhost=None, service_port=sp, labels={"HAPROXY_0_MODE": "http"}),
        web_app("/b", [b1], vhost=None, service_port=free_port(),
                labels={"HAPROXY_0_MODE": "http", "HAPROXY_0_PORT": str(sp)}),
    ])
    ev = start(baton, m)
    assert ev["issues"] >= 1
    with harness.Client(sp) as c:
        assert c.request("GET", "/", host="x").status == 200
    assert b0.wait_requests(1) and b1.requests == []
    assert "already served" in baton.stderr()


def test_second_port_vhost_routes_to_the_tasks_second_port(baton, marathon, backends):
    b0, b1 = backends(2)
    a = web_app("/two", [b0], vhost="zero.example.com",
                labels={"HAPROXY_1_VHOST": "one.example.com"})
    a["portDefinitions"].append({"port": free_port(), "protocol": "tcp", "name": "p1", "labels": {}})
    a["tasks"][0]["ports"] = [b0.port, b1.port]
    m = marathon(apps=[a])
    start(baton, m)
    assert get(baton, host="one.example.com", target="/one").status == 200
    assert b1.wait_requests(1)[0].target == b"/one" and b0.requests == []


def test_groups_changed_by_a_reload_apply_at_once(baton, marathon, backends):
    """SIGHUP with other [marathon] groups: the same apps are re-selected without waiting for
    a Marathon event."""
    b0, b1 = backends(2)
    m = marathon(apps=[web_app("/ext", [b0], vhost="ext.example.com"),
                       web_app("/int", [b1], vhost="int.example.com", labels={"HAPROXY_GROUP": "internal"})])
    port = free_port()
    baton.start(marathon_config([m.url], http_port=port), workers=1)
    baton.wait_event("discovery")
    assert get(baton, host="ext.example.com").status == 200
    assert get(baton, host="int.example.com").status == 404
    assert baton.reload(marathon_config([m.url], http_port=port, groups=["internal"]))["event"] == "reloaded"
    baton.wait_event("discovery")
    with harness.Client(port) as c:
        assert c.request("GET", "/", host="int.example.com").status == 200
    with harness.Client(port) as c:
        assert c.request("GET", "/", host="ext.example.com").status == 404
    assert b1.wait_requests(1) and len(b0.requests) == 1


def test_automatic_domains_follow_apps_as_they_start_and_stop(baton, marathon, backends):
    """`[marathon] domain` (`--domain`): an http-mode app without a VHOST label is served at its
    id's segments reversed under the domain, each made a DNS label (a tcp-mode one gets none: a
    port without a VHOST, a MODE=http label or an HTTP health check is tcp, as in marathon-lb);
    a VHOST label wins a collision with an automatic name, which is reported; names come and go
    with the apps."""
    b0, b1, b2 = backends(3)
    http = {"HAPROXY_0_MODE": "http"}
    branch = web_app("/Team/My_Project/feature.1", [b0], vhost=None, labels=http)
    m = marathon(apps=[branch, web_app("/shop/web", [b1], vhost=None, labels=http),
                       web_app("/shop/db", [b2], vhost=None)])
    ev = start(baton, m, domain="ns.example.com")
    assert ev["issues"] == 0, ev
    assert get(baton, host="feature-1.my-project.team.ns.example.com").status == 200
    assert b0.wait_requests(1)
    assert get(baton, host="web.shop.ns.example.com").status == 200
    assert b1.wait_requests(1)
    assert get(baton, host="db.shop.ns.example.com").status == 404  # tcp mode: its port only
    # A new app whose automatic name another app's VHOST label has: the label wins, reported.
    clash = web_app("/web/shop", [b2], vhost=None, labels=http)  # -> shop.web.ns.example.com
    owner = web_app("/owner", [b1], vhost="shop.web.ns.example.com")
    m.set_apps([branch, clash, owner])
    m.emit("deployment_success")
    ev = baton.wait_event("discovery", where=lambda e: e["apps"] == 3 and e["issues"] == 1)
    b1.clear()
    b2.clear()
    assert get(baton, host="shop.web.ns.example.com").status == 200
    assert b1.wait_requests(1) and b2.requests == []
    assert "shop.web.ns.example.com" in baton.stderr()
    assert get(baton, host="web.shop.ns.example.com").status == 404  # /shop/web stopped
    m.set_apps([clash, owner])
    m.emit("deployment_success")
    baton.wait_event("discovery", where=lambda e: e["apps"] == 2)
    assert get(baton, host="feature-1.my-project.team.ns.example.com").status == 404


def test_access_log_label_picks_which_requests_are_logged(baton, marathon, backends, tmp_path):
    """BATON_{n}_ACCESS_LOG (what marathon-lb users did with template overrides): `off` leaves an
    app's requests out of the access log, `errors` keeps only those baton could not serve or that
    got a 5xx, the default logs every one; a word it does not know is reported and changes
    nothing."""
    import json

    (b0,) = backends(1)
    dead = harness.dead_address()
    down = web_app("/errs/down", [b0], vhost="down.example.com",
                   labels={"BATON_0_ACCESS_LOG": "errors"})
    down["tasks"][0]["ports"] = [int(dead.rsplit(":", 1)[1])]
    m = marathon(apps=[
        web_app("/quiet", [b0], vhost="quiet.example.com", labels={"BATON_0_ACCESS_LOG": "off"}),
        web_app("/errs/up", [b0], vhost="up.example.com", labels={"BATON_0_ACCESS_LOG": "errors"}),
        down,
        web_app("/all", [b0], vhost="all.example.com", labels={"BATON_0_ACCESS_LOG": "sometimes"}),
        web_app("/redir", [b0], vhost="redir.example.com",
                labels={"BATON_0_ACCESS_LOG": "errors", "HAPROXY_0_REDIRECT_TO_HTTPS": "true"}),
    ])
    log = tmp_path / "access.json"
    baton.start(marathon_config([m.url]) + f'[server.access_log]\npath = "{log}"\nformat = "json"\n',
                workers=1)
    ev = baton.wait_event("discovery")
    assert ev["issues"] == 1, ev  # "sometimes"
    assert "BATON_0_ACCESS_LOG" in baton.stderr()
    for host, status in (("quiet.example.com", 200), ("up.example.com", 200),
                         ("down.example.com", 503), ("all.example.com", 200),
                         ("redir.example.com", 301)):  # a redirect is not an error
        assert get(baton, host=host).status == status, host
    assert baton.stop() == 0  # the writer thread flushes before exit
    with open(log, "rb") as f:
        hosts = [json.loads(line)["host"] for line in f.read().decode().splitlines()]
    assert hosts == ["down.example.com", "all.example.com"], hosts


def test_tunnel_timeout_label_closes_an_apps_quiet_websockets(baton, marathon, request):
    """BATON_{n}_TIMEOUT_TUNNEL on an HTTP app: its WebSocket tunnels close after that long idle
    (marathon-lb users were cut after exactly one hour by a global tunnel timeout); another app's
    tunnel on the same host keeps the default."""
    from test_websocket import WsClient, ws_backend

    b = ws_backend(request)

    class Port:  # web_app takes backends by their .port
        port = int(b.address.rsplit(":", 1)[1])

    short = web_app("/chat/short", [Port], vhost="chat.example",
                    labels={"HAPROXY_0_PATH": "/ws/short", "BATON_0_TIMEOUT_TUNNEL": "1s"})
    long = web_app("/chat/long", [Port], vhost="chat.example", labels={"HAPROXY_0_PATH": "/ws/long"})
    m = marathon(apps=[short, long])
    ev = start(baton, m)
    assert ev["issues"] == 0, ev
    port = baton.listeners["marathon_http"][1]
    quiet = WsClient(port, target="/ws/short")
    quiet.handshake()
    other = WsClient(port, target="/ws/long")
    other.handshake()
    started = time.monotonic()
    quiet.echo(1, b"hello")
    assert quiet.closed_within(5.0)
    assert time.monotonic() - started >= 0.9
    assert not other.closed_within(0.2)
    other.echo(1, b"still open")
    quiet.close()
    other.close()


def test_redirect_to_https_app_is_served_over_tls_with_hsts(baton, marathon, backends, tmp_path):
    # The other half of REDIRECT_TO_HTTPS: the HTTPS side (marathon_https, with the app's
    # SSL_CERT) serves the request; a redirect there too would be a loop, i.e. an outage.
    import os

    from tls_pki import Pki, TlsClient

    pki = Pki(os.path.join(str(tmp_path), "pki"))
    (b0,) = backends(1)
    pem = pki.combined("shop", ["shop.example.com"])
    m = marathon(apps=[web_app("/shop/web", [b0], labels={
        "HAPROXY_0_REDIRECT_TO_HTTPS": "true", "HAPROXY_0_USE_HSTS": "true", "HAPROXY_0_SSL_CERT": pem})])
    https = free_port()
    start(baton, m, https_port=https)
    assert get(baton, target="/a").status == 301
    with TlsClient(https, pki.context(), "shop.example.com") as c:
        r = c.request("GET", "/a", host="shop.example.com")
        assert r.status == 200, (r.status, r.header("location"))
        assert r.header("strict-transport-security") == "max-age=15768000"
    assert [x.target for x in b0.wait_requests(1)] == [b"/a"]
    assert b0.requests[0].header("x-forwarded-proto") == b"https"


def test_proto_h2c_label_reaches_an_http2_backend(baton, marathon):
    # BATON_0_PROTO=h2c: the app's tasks speak HTTP/2 only (gRPC); an HTTP/1.1 client's request
    # reaches them as an HTTP/2 stream, and the response (with its trailers) comes back.
    from test_grpc_h2_upstream import H2Backend

    be = H2Backend()
    try:
        m = marathon(apps=[web_app("/grpc/svc", [be], vhost="grpc.example.com",
                                   labels={"BATON_0_PROTO": "h2c"})])
        start(baton, m)
        r = get(baton, host="grpc.example.com", target="/echo/x")
        assert r.status == 200, r.status
        assert r.header("x-got-method") == "GET"
        rec = be.wait_requests(1)[0]
        assert rec["headers"][":authority"] == "grpc.example.com"
        assert rec["headers"][":path"] == "/echo/x"
    finally:
        be.close()
