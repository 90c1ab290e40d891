"""Routing (vhosts exact / wildcard / default, segment-aware prefixes, first match wins, 404) and
load balancing (weighted round-robin, retry of connect failures, 503 when nothing is left)."""

from collections import Counter

import pytest

import harness


@pytest.fixture
def three(backends):
    return backends(3)  # b0, b1, b2


def which(baton, target="/", host="example.com") -> tuple[int, str | None]:
    with baton.client() as c:
        r = c.request("GET", target, host=host)
    return r.status, r.header("x-backend")


def test_vhosts_exact_wildcard_default(baton, three):
    a, b, d = three
    baton.start(
        harness.make_config(
            {"a": [a.address], "b": [b.address], "d": [d.address]},
            vhosts=[
                {"name": "wild", "domains": ["*.example.com"], "routes": [{"prefix": "/", "cluster": "b"}]},
                {"name": "api", "domains": ["api.example.com", "api2.example.com"], "routes": [{"prefix": "/", "cluster": "a"}]},
                {"name": "default", "domains": ["*"], "routes": [{"prefix": "/", "cluster": "d"}]},
            ],
        )
    )
    cases = {
        "api.example.com": "b0",  # exact beats wildcard whatever the order written
        "API.Example.COM": "b0",  # ASCII case-insensitive
        "api.example.com.": "b0",  # trailing dot removed
        "api.example.com:8080": "b0",  # port ignored
        "api2.example.com": "b0",
        "x.example.com": "b1",
        "a.b.example.com": "b1",
        "example.com": "b2",  # the wildcard needs at least one label
        "other.org": "b2",
        "127.0.0.1": "b2",
    }
    got = {h: which(baton, host=h) for h in cases}
    assert got == {h: (200, be) for h, be in cases.items()}


def test_no_default_vhost_404(baton, backend):
    baton.start(
        harness.make_config(
            {"web": [backend.address]},
            vhosts=[{"name": "only", "domains": ["only.example"], "routes": [{"prefix": "/", "cluster": "web"}]}],
        )
    )
    assert which(baton, host="only.example")[0] == 200
    with baton.client() as c:
        r = c.request("GET", "/", host="elsewhere.example")
        assert r.status == 404
        assert r.body_len > 0
        if not r.closes:
            assert c.request("GET", "/", host="only.example").status == 200


def test_prefixes_segment_boundaries_and_order(baton, three):
    a, b, d = three
    baton.start(
        harness.make_config(
            {"a": [a.address], "b": [b.address], "d": [d.address]},
            routes=[
                {"prefix": "/api/v2", "cluster": "b"},
                {"prefix": "/api", "cluster": "a"},
                {"prefix": "/static/", "cluster": "b"},
                {"prefix": "/", "cluster": "d"},
            ],
        )
    )
    cases = {
        "/api": "b0",
        "/api/": "b0",
        "/api/x": "b0",
        "/api?q=1": "b0",
        "/api/v2": "b1",
        "/api/v2/x": "b1",
        "/api/v2x": "b0",  # segment boundary: /api/v2 does not match /api/v2x
        "/api/v3": "b0",
        "/apix": "b2",  # /api does not match /apix
        "/API": "b2",  # case-sensitive paths
        "/%61pi/x": "b0",  # unreserved %HH decoded for routing
        "/static/x": "b1",
        "/x/../api/y": "b0",  # routed on the normalised path
        "/": "b2",
    }
    got = {t: which(baton, t) for t in cases}
    assert got == {t: (200, be) for t, be in cases.items()}


def test_shadowed_route_refused(baton, three, tmp_path):
    """First match wins in written order, and baton makes that explicit: a route that an
    earlier one shadows can never match, so the config is refused naming its line."""
    import subprocess

    a, b, _ = three
    text = harness.make_config(
        {"a": [a.address], "b": [b.address]},
        routes=[{"prefix": "/api", "cluster": "a"}, {"prefix": "/api/v2", "cluster": "b"}],
    )
    line = next(i + 1 for i, l in enumerate(text.splitlines()) if '"/api/v2"' in l)
    p = tmp_path / "shadow.toml"
    p.write_text(text, encoding="utf-8")
    res = subprocess.run([harness.baton_bin(), "--config", str(p), "--check"], capture_output=True, timeout=10)
    assert res.returncode == 2
    err = res.stderr.decode()
    # the route's own line: its [[vhost.route]] header or its prefix key
    assert f"{p}:{line}:" in err or f"{p}:{line - 1}:" in err, err
    assert "shadow" in err, err


def test_no_route_404(baton, backend):
    baton.start(harness.make_config({"web": [backend.address]}, routes=[{"prefix": "/api", "cluster": "web"}]))
    with baton.client() as c:
        r = c.request("GET", "/other")
        assert r.status == 404
        if not r.closes:
            assert c.request("GET", "/api/ok").status == 200
    assert [x.target for x in backend.requests] in ([], [b"/api/ok"])


def test_weighted_round_robin(baton, backends):
    b0, b1 = backends(2)
    baton.start(harness.make_config({"web": [(b0.address, 1), (b1.address, 3)]}))
    with baton.client() as c:
        counts = Counter(c.request("GET", f"/rr/{i}").header("x-backend") for i in range(40))
    assert counts == {"b0": 10, "b1": 30}


@pytest.mark.parametrize("policy", ["least_request", "power_of_two"])
def test_other_policies_spread(baton, backends, policy):
    b0, b1 = backends(2)
    baton.start(harness.make_config({"web": {"hosts": [b0.address, b1.address], "policy": policy}}))
    # Sequential requests: nothing is outstanding, so any host is fair; all must succeed.
    statuses = []
    for i in range(20):
        with baton.client() as c:
            statuses.append(c.request("GET", f"/p/{i}").status)
    assert statuses == [200] * 20
    assert len(b0.requests) + len(b1.requests) == 20


def test_connect_failure_retried_on_live_host(baton, backend):
    dead = harness.dead_address()
    baton.start(harness.make_config({"web": {"hosts": [dead, backend.address], "connect_attempts": 2}}))
    for i in range(6):  # round-robin lands on the dead host every other pick
        assert which(baton, f"/retry/{i}") == (200, "b0")
    assert len(backend.wait_requests(6)) == 6


def test_all_hosts_dead_503(baton):
    baton.start(harness.make_config({"web": [harness.dead_address(), harness.dead_address()]}))
    with baton.client() as c:
        r = c.request("GET", "/")
        assert r.status == 503
        assert r.body_len > 0
        if not r.closes:
            assert c.request("GET", "/").status == 503
