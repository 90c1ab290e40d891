"""SIGHUP reload (all or nothing, next request sees it, in-flight requests finish on their
snapshot, listeners stay open, zero failed requests under traffic) and `--check`."""

import re
import subprocess
import threading

import pytest

import harness


def cfg_to(cluster_backend, other=None, **kw):
    clusters = {"main": [cluster_backend.address]}
    if other is not None:
        clusters["other"] = [other.address]
    return harness.make_config(clusters, **kw)


def test_reload_changes_route_next_request(baton, backends):
    b0, b1 = backends(2)
    baton.start(cfg_to(b0))
    with baton.client() as c:
        assert c.request("GET", "/x").header("x-backend") == "b0"
        ev = baton.reload(cfg_to(b1))
        assert ev["event"] == "reloaded", ev
        assert ev["generation"] == 2
        # Same keep-alive connection: the next stream takes the newest snapshot.
        assert c.request("GET", "/x").header("x-backend") == "b1"
    with baton.client() as c:  # same listening port still open
        assert c.request("GET", "/x").header("x-backend") == "b1"


def test_reload_route_added(baton, backends):
    b0, b1 = backends(2)
    baton.start(harness.make_config({"a": [b0.address]}, routes=[{"prefix": "/a", "cluster": "a"}]))
    with baton.client() as c:
        assert c.request("GET", "/b/x").status == 404
    ev = baton.reload(
        harness.make_config({"a": [b0.address], "b": [b1.address]}, routes=[{"prefix": "/a", "cluster": "a"}, {"prefix": "/b", "cluster": "b"}])
    )
    assert ev["event"] == "reloaded"
    with baton.client() as c:
        assert c.request("GET", "/b/x").header("x-backend") == "b1"
        assert c.request("GET", "/a/x").header("x-backend") == "b0"


BAD_KINDS = ["toml-syntax", "unknown-key", "unknown-cluster", "no-listener"]


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_bad_reload_keeps_old_config(baton, backend, kind):
    good = cfg_to(backend)
    baton.start(good)
    bad = {
        "toml-syntax": "[server\nworkers = 1\n",
        "unknown-key": good.replace("[server]\n", "[server]\nworkerz = 3\n"),
        "unknown-cluster": good.replace('cluster = "main"', 'cluster = "nope"'),
        "no-listener": re.sub(r"\[\[listener\]\]\n(.*\n)*?\n", "", good, count=1),
    }[kind]
    with baton.client() as c:
        assert c.request("GET", "/before").status == 200
        ev = baton.reload(bad)
        assert ev["event"] == "reload_failed", ev
        assert ev.get("error"), ev
        assert c.request("GET", "/after-same-conn").status == 200
    with baton.client() as c:
        assert c.request("GET", "/after-new-conn").status == 200
    # and a good reload still works afterwards
    assert baton.reload(good)["event"] == "reloaded"
    with baton.client() as c:
        assert c.request("GET", "/after-good").status == 200


def test_inflight_request_finishes_on_its_snapshot(baton, backends):
    b0, b1 = backends(2)
    b0.on("/inflight", first_byte_wait=10)
    baton.start(cfg_to(b0))
    c = baton.client(timeout=15)
    c.send(harness.build_request("GET", "/inflight"))
    b0.wait_heads(1)  # the request is at the backend
    assert baton.reload(harness.make_config({"new": [b1.address]}))["event"] == "reloaded"
    with baton.client() as c2:
        assert c2.request("GET", "/x").header("x-backend") == "b1"
    b0.release.set()
    r = c.read_response()
    assert r.status == 200 and r.header("x-backend") == "b0"
    c.close()


def test_reload_under_traffic_zero_failures(baton, backends):
    """Two client threads (one keep-alive, one new connection per request) run continuously while
    5 reloads flip the route between two backends; every request must get a 200."""
    b0, b1 = backends(2)
    baton.start(cfg_to(b0, b1), workers=2)
    stop = threading.Event()
    lock = threading.Condition()
    stats = {"ok": 0, "failed": []}

    def record(ok: bool, what: str) -> None:
        with lock:
            if ok:
                stats["ok"] += 1
            else:
                stats["failed"].append(what)
            lock.notify_all()

    def keepalive_loop():
        c = None
        while not stop.is_set():
            try:
                if c is None:
                    c = baton.client()
                r = c.request("GET", "/ka")
                record(r.status == 200, f"ka {r.status}")
                if r.closes:
                    c.close()
                    c = None
            except Exception as e:  # noqa: BLE001 — any failure counts
                record(False, f"ka {e!r}")
                c = None
        if c:
            c.close()

    def newconn_loop():
        while not stop.is_set():
            try:
                with baton.client() as c:
                    r = c.request("GET", "/nc", headers=[("Connection", "close")])
                record(r.status == 200, f"nc {r.status}")
            except Exception as e:  # noqa: BLE001
                record(False, f"nc {e!r}")

    threads = [threading.Thread(target=keepalive_loop), threading.Thread(target=newconn_loop)]
    for t in threads:
        t.start()
    try:
        for i in range(5):
            with lock:  # let traffic run between reloads: wait for 20 more successes
                target = stats["ok"] + 20
                assert lock.wait_for(lambda: stats["ok"] >= target or stats["failed"], 10)
            routes = [{"prefix": "/", "cluster": "other" if i % 2 == 0 else "main"}]
            ev = baton.reload(cfg_to(b0, b1, routes=routes))
            assert ev["event"] == "reloaded", ev
        with lock:
            target = stats["ok"] + 20
            assert lock.wait_for(lambda: stats["ok"] >= target or stats["failed"], 10)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert stats["failed"] == [], stats["failed"][:10]
    assert stats["ok"] >= 120
    assert b0.requests and b1.requests


# ---- --check ---------------------------------------------------------------------------------
def run_check(path):
    return subprocess.run([harness.baton_bin(), "--config", str(path), "--check"], capture_output=True, timeout=10)


def test_check_good_config(tmp_path, backend):
    p = tmp_path / "good.toml"
    p.write_text(cfg_to(backend), encoding="utf-8")
    res = run_check(p)
    assert res.returncode == 0, res.stderr


def test_check_unknown_key_names_file_line_key(tmp_path, backend):
    p = tmp_path / "bad.toml"
    text = cfg_to(backend).replace("[server]\nworkers = 1\n", "[server]\nworkers = 1\nworkerz = 2\n")
    p.write_text(text, encoding="utf-8")
    res = run_check(p)
    assert res.returncode == 2, (res.returncode, res.stderr)
    err = res.stderr.decode()
    assert re.search(rf"^baton: {re.escape(str(p))}:3: (server\.)?workerz: \S", err, re.M), err


def test_check_bad_weight_names_file_line_key(tmp_path, backend):
    text = harness.make_config({"main": [(backend.address, 0)]})
    line = next(i + 1 for i, l in enumerate(text.splitlines()) if "weight = 0" in l)
    p = tmp_path / "weight.toml"
    p.write_text(text, encoding="utf-8")
    res = run_check(p)
    assert res.returncode == 2, (res.returncode, res.stderr)
    err = res.stderr.decode()
    assert re.search(rf"^baton: {re.escape(str(p))}:{line}: cluster\[\d+\]\.hosts\[0\]\.weight: \S", err, re.M), err


def test_check_unknown_cluster_reference(tmp_path, backend):
    text = cfg_to(backend).replace('cluster = "main"', 'cluster = "nope"')
    line = next(i + 1 for i, l in enumerate(text.splitlines()) if '"nope"' in l)
    p = tmp_path / "ref.toml"
    p.write_text(text, encoding="utf-8")
    res = run_check(p)
    assert res.returncode == 2, (res.returncode, res.stderr)
    err = res.stderr.decode()
    assert re.search(rf"^baton: {re.escape(str(p))}:{line}: \S*cluster: \S", err, re.M), err


def test_check_missing_file(tmp_path):
    p = tmp_path / "missing.toml"
    res = run_check(p)
    assert res.returncode != 0
    assert str(p) in res.stderr.decode()
