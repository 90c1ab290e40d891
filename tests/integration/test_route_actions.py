"""Route actions, scopes and per-cluster behaviour against the real binary (marathon-lb labels):
listener scopes and X-Marathon-App-Id routing, allowed_sources, basic_auth, the two redirects,
strip_prefix + upstream_host, location_rewrite + hsts, sticky cookies, source hashing and
per-cluster timeouts. Configs are raw TOML (make_config has no scopes or nested tables)."""

from __future__ import annotations

import hashlib
import time

import harness

LOCAL = harness.LOCAL

# python3: crypt.crypt('s3cret', '$6$saltsalt$')
ALICE_HASH = "$6$saltsalt$As4wrv0kZlfch1du9WeH7qhskyLriQWySXrZzynnvi46nFnNxjdpl6ksRegrrKexvhIa/Iny8S8uF3fVWTMuC1"
ALICE_OK = "Basic YWxpY2U6czNjcmV0"  # alice:s3cret
ALICE_BAD = "Basic YWxpY2U6d3Jvbmc="  # alice:wrong


def header_block(workers: int = 1) -> str:
    return f'[server]\nworkers = {workers}\n\n[[listener]]\nname = "http"\naddress = "{LOCAL}:0"\n'


def cluster(name: str, *addresses: str, extra: str = "") -> str:
    hosts = ", ".join(f'"{a}"' for a in addresses)
    return f'\n[[cluster]]\nname = "{name}"\nhosts = [{hosts}]\n{extra}'


def vhost_all(cluster_name: str = "web", route_extra: str = "") -> str:
    return (
        '\n[[vhost]]\nname = "app"\ndomains = ["*"]\n'
        f'  [[vhost.route]]\n  prefix = "/"\n  cluster = "{cluster_name}"\n{route_extra}'
    )


def get(baton, target="/", host="app.example.com", headers=None, listener=None):
    with baton.client(listener) as c:
        return c.request("GET", target, headers=headers, host=host)


def test_listener_scopes_and_app_id_routing(baton, backends):
    shared, scoped, app = backends(3)
    # Distinct loopback addresses: two listeners may not share "127.0.0.1:0".
    config = (
        header_block()
        + '\n[[listener]]\nname = "svc"\naddress = "127.0.0.2:0"\nscope = "port_10001"\n'
        + '\n[[listener]]\nname = "appid"\naddress = "127.0.0.3:0"\nroute_by = "app_id"\nscope = "app_id"\n'
        + cluster("shared", shared.address)
        + cluster("scoped", scoped.address)
        + cluster("app", app.address)
        + """
[[vhost]]
name = "shared"
domains = ["*"]
  [[vhost.route]]
  prefix = "/"
  cluster = "shared"

[[vhost]]
name = "svc"
domains = ["only.example.com"]
scope = "port_10001"
  [[vhost.route]]
  prefix = "/"
  cluster = "scoped"

[[vhost]]
name = "web-app"
domains = ["/shop/web"]
scope = "app_id"
  [[vhost.route]]
  prefix = "/"
  cluster = "app"
"""
    )
    baton.start(config)
    assert get(baton, host="only.example.com", listener="http").header("x-backend") == "b0"
    assert get(baton, host="only.example.com", listener="svc").header("x-backend") == "b1"
    # A scoped listener never falls back to the shared vhosts.
    assert get(baton, host="other.example.com", listener="svc").status == 404
    r = get(baton, host="whatever", headers=[("X-Marathon-App-Id", "/shop/web")], listener="appid")
    assert (r.status, r.header("x-backend")) == (200, "b2")
    assert get(baton, host="whatever", listener="appid").status == 404  # no header
    r = get(baton, headers=[("X-Marathon-App-Id", "/shop/other")], listener="appid")
    assert r.status == 404


def routes_config(backend_address: str, routes: str, cluster_extra: str = "") -> str:
    return (
        header_block()
        + cluster("web", backend_address, extra=cluster_extra)
        + '\n[[vhost]]\nname = "app"\ndomains = ["*"]\n'
        + routes
    )


def test_allowed_sources_use_the_peer_address(baton, backend):
    baton.start(
        routes_config(
            backend.address,
            """
  [[vhost.route]]
  prefix = "/private"
  cluster = "web"
  allowed_sources = ["10.0.0.0/8"]
  [[vhost.route]]
  prefix = "/"
  cluster = "web"
  allowed_sources = ["127.0.0.1/32", "::1"]
""",
        )
    )
    with baton.client() as c:
        # X-Forwarded-For never counts: only the direct peer (127.0.0.1) does.
        r = c.request("GET", "/private/x", headers=[("X-Forwarded-For", "10.1.2.3")], host="h")
        assert r.status == 403
        assert not r.closes  # a refusal leaves the connection usable
        assert c.request("GET", "/public", host="h").status == 200
    assert [x.target for x in backend.wait_requests(1)] == [b"/public"]


def test_basic_auth(baton, backend):
    baton.start(
        routes_config(
            backend.address,
            f"""
  [[vhost.route]]
  prefix = "/"
  cluster = "web"
  [vhost.route.basic_auth]
  realm = "ops area"
  users = [{{ user = "alice", password_hash = "{ALICE_HASH}" }}]
""",
        )
    )
    r = get(baton)
    assert r.status == 401
    assert r.header("www-authenticate") == 'Basic realm="ops area"'
    assert get(baton, headers=[("Authorization", ALICE_BAD)]).status == 401
    assert get(baton, headers=[("Authorization", "Bearer x")]).status == 401
    r = get(baton, target="/in", headers=[("Authorization", ALICE_OK)])
    assert r.status == 200
    assert [x.target for x in backend.wait_requests(1)] == [b"/in"]


def test_redirects(baton, backend):
    baton.start(
        routes_config(
            backend.address,
            """
  [[vhost.route]]
  prefix = "/secure"
  cluster = "web"
  redirect_to_https = true
  [[vhost.route]]
  prefix = "/"
  cluster = "web"
  redirect_root_to = "/welcome/"
""",
        )
    )
    with baton.client() as c:
        r = c.request("GET", "/secure/a?b=1", host="Shop.Example.com:8080")
        assert (r.status, r.header("location")) == (301, "https://shop.example.com/secure/a?b=1")
        r = c.request("GET", "/", host="shop.example.com")
        assert (r.status, r.header("location")) == (301, "/welcome/")
        r = c.request("GET", "/?x=1", host="shop.example.com")  # the path is exactly "/"
        assert r.status == 301
        assert c.request("GET", "/other", host="shop.example.com").status == 200
    assert [x.target for x in backend.wait_requests(1)] == [b"/other"]


def test_strip_prefix_and_upstream_host(baton, backend):
    baton.start(
        routes_config(
            backend.address,
            """
  [[vhost.route]]
  prefix = "/app"
  cluster = "web"
  strip_prefix = "/app"
  upstream_host = "internal.example"
""",
        )
    )
    for target, forwarded in [("/app/x?q=1", b"/x?q=1"), ("/app", b"/"), ("/%61pp/y", b"/y")]:
        backend.clear()
        assert get(baton, target=target, host="shop.example.com").status == 200
        rec = backend.wait_requests(1)[0]
        assert rec.target == forwarded, target
        assert rec.header("host") == b"internal.example"
        assert rec.header("x-forwarded-host") == b"shop.example.com"


def test_location_rewrite_and_hsts(baton, backend):
    backend.on("/redir", status=302, headers=[("Location", "http://shop.example.com:8080/login?next=%2F")])
    backend.on("/elsewhere", status=302, headers=[("Location", "http://other.example.com/login")])
    baton.start(routes_config(backend.address, vhost_route('  location_rewrite = "/shop/"\n  hsts = true\n')))
    r = get(baton, target="/redir", host="shop.example.com:8080")
    assert r.status == 302
    assert r.header("location") == "/shop/login?next=%2F"
    assert r.header("strict-transport-security") == "max-age=15768000"
    r = get(baton, target="/elsewhere", host="shop.example.com")
    assert r.header("location") == "http://other.example.com/login"
    assert get(baton, target="/plain").header("strict-transport-security") == "max-age=15768000"


def vhost_route(extra: str = "") -> str:
    return f'\n  [[vhost.route]]\n  prefix = "/"\n  cluster = "web"\n{extra}'


def sticky_value(address: str) -> str:
    """marathon-lb's cookie value: sha1(server name)[:10]; the name defaults to the address."""
    return hashlib.sha1(address.encode()).hexdigest()[:10]


def test_sticky_cookie(baton, backends):
    b0, b1 = backends(2)
    baton.start(
        header_block()
        + cluster("web", b0.address, b1.address, extra='sticky_cookie = "mesosphere_server_id"\n')
        + vhost_all()
    )
    by_value = {sticky_value(b0.address): "b0", sticky_value(b1.address): "b1"}
    r = get(baton)
    cookie = r.header("set-cookie")
    assert cookie is not None and cookie.startswith("mesosphere_server_id=")
    assert cookie.endswith("; path=/")
    value = cookie.split("=", 1)[1].split(";", 1)[0]
    assert by_value[value] == r.header("x-backend")
    assert r.header("cache-control") == "private"
    # With the cookie: always that host (round-robin would alternate), no new cookie, and the
    # cookie itself never reaches the upstream (indirect) while the other cookies do.
    with baton.client() as c:
        for _ in range(6):
            r2 = c.request("GET", "/", headers=[("Cookie", f"a=1; mesosphere_server_id={value}; b=2")], host="h")
            assert r2.header("x-backend") == by_value[value]
            assert r2.header("set-cookie") is None
    recorded = b0.requests + b1.requests
    assert all(b"mesosphere_server_id" not in v for rec in recorded for v in rec.header_all("cookie"))
    with_cookie = [rec for rec in recorded if rec.has("cookie")]
    assert len(with_cookie) == 6
    assert all(rec.header("cookie") == b"a=1; b=2" for rec in with_cookie)
    # An unknown value: a normal pick and a fresh cookie.
    r3 = get(baton, headers=[("Cookie", "mesosphere_server_id=0000000000")])
    assert r3.status == 200
    assert r3.header("set-cookie").startswith("mesosphere_server_id=")


def test_source_hash_keeps_a_client_on_one_host(baton, backends):
    bs = backends(3)
    baton.start(
        header_block()
        + cluster("web", *(b.address for b in bs), extra='policy = "source_hash"\n')
        + vhost_all()
    )
    seen = {get(baton).header("x-backend") for _ in range(12)}
    assert len(seen) == 1  # round-robin would have used all three


def test_per_cluster_first_byte_timeout(baton, backends):
    slow, fast = backends(2)
    slow.on("/", first_byte_wait=10.0)
    baton.start(
        header_block()
        + '\n[timeouts]\nupstream_first_byte = "30s"\n'
        + cluster("slow", slow.address, extra='[cluster.timeouts]\nupstream_first_byte = "300ms"\n')
        + cluster("fast", fast.address)
        + '\n[[vhost]]\nname = "app"\ndomains = ["*"]\n'
        + '  [[vhost.route]]\n  prefix = "/slow"\n  cluster = "slow"\n'
        + '  [[vhost.route]]\n  prefix = "/"\n  cluster = "fast"\n'
    )
    t0 = time.monotonic()
    r = get(baton, target="/slow")
    elapsed = time.monotonic() - t0
    slow.release.set()
    assert r.status == 504
    assert elapsed < 3.0  # the cluster's 300ms, not the global 30s
    assert get(baton, target="/fast").status == 200


def test_per_cluster_body_idle(baton, backends):
    stalling, _ = backends(2)
    stalling.on("/", body_size=1 << 20, stall_after=4096)
    baton.start(
        header_block()
        + '\n[timeouts]\nbody_idle = "30s"\n'
        + cluster("web", stalling.address, extra='[cluster.timeouts]\nbody_idle = "300ms"\n')
        + vhost_all()
    )
    t0 = time.monotonic()
    with baton.client() as c:
        c.send(harness.build_request("GET", "/big"))
        r = c.read_response(allow_truncated=True)
    elapsed = time.monotonic() - t0
    stalling.release.set()
    assert r.status == 200
    assert not r.complete  # cut by the cluster's body_idle, not the global 30s
    assert elapsed < 3.0
