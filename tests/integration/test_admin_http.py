"""The admin HTTP listener (marathon-lb's :9090), as zdd.py and operators use it.

`[admin] http = "127.0.0.2:0"`; baton reports the bound address as "admin" in its ready event
(harness.Baton.admin). The stats CSV is parsed the way zdd.py does it: header after "# ", rows
through csv, each row's trailing empty field dropped.
"""

from __future__ import annotations

import csv
import io
import socket
import threading

import harness
import pytest
from harness import LOCAL

# 127.0.0.2: the loader refuses a second "127.0.0.1:0" next to a listener's (see the report).
ADMIN = '\n[admin]\nhttp = "127.0.0.2:0"\n'


def require_admin(baton) -> None:
    # Until server.cc starts the AdminHttpServer and reports it, there is nothing to test.
    if baton.admin is None:
        pytest.skip("this baton does not report an admin listener in its ready event yet")


def admin_get(baton, target: str, method: str = "GET") -> harness.Response:
    require_admin(baton)
    host, port = baton.admin
    with harness.Client(port, host=host) as c:
        return c.request(method, target)


def zdd_rows(text: str) -> list[dict]:
    """zdd.py's parse_haproxy_stats, as dicts: the header line loses "# " and its trailing comma;
    every data row loses its last (empty) field."""
    lines = text.splitlines()
    assert lines and lines[0].startswith("# "), text[:200]
    headings = lines.pop(0)[2:].rstrip(",").split(",")
    out = []
    for row in csv.reader(lines, delimiter=",", quotechar="'"):
        assert row[-1] == "", row
        assert len(row[:-1]) == len(headings), row
        out.append(dict(zip(headings, row[:-1])))
    # csv.DictReader after stripping "# " sees the same fields (plus an unnamed last one).
    reader = csv.DictReader(io.StringIO(text[2:]))
    assert [r["svname"] for r in reader] == [r["svname"] for r in out]
    return out


def servers(rows: list[dict], pxname: str) -> list[dict]:
    return [r for r in rows if r["pxname"] == pxname and r["svname"] not in ("FRONTEND", "BACKEND")]


def test_health_pids_config_and_unknown(baton, backend):
    baton.start(harness.make_config(clusters={"web": [backend.address]}) + ADMIN)
    r = admin_get(baton, "/_haproxy_health_check")
    assert r.status == 200 and r.body.strip() == b"OK"
    r = admin_get(baton, "/_haproxy_getpids")
    assert r.status == 200
    assert r.body.split() == [str(baton.proc.pid).encode()]  # zdd waits for <= 2 pids
    r = admin_get(baton, "/_haproxy_getconfig")
    assert r.status == 200 and r.header("Content-Type").startswith("text/plain")
    assert admin_get(baton, "/nope").status == 404
    assert admin_get(baton, "/_haproxy_health_check", method="POST").status == 405
    head = admin_get(baton, "/_haproxy_health_check", method="HEAD")
    assert head.status == 200 and head.body == b""


def test_signals_answer_ok(baton, backend):
    baton.start(harness.make_config(clusters={"web": [backend.address]}) + ADMIN)
    assert admin_get(baton, "/_mlb_signal/hup").status == 200
    r = admin_get(baton, "/_mlb_signal/usr1")
    assert r.status == 200
    # usr1 reloads the configuration: still serving afterwards.
    with baton.client() as c:
        assert c.request("GET", "/").status == 200


def test_stats_csv_rows_and_in_flight_request(baton, backends):
    b0, b1 = backends(2)
    cfg = harness.make_config(clusters={"web": [b0.address, b1.address]})
    cfg = cfg.replace(f'"{b0.address}"', f'{{ address = "{b0.address}", name = "web_a" }}')
    cfg = cfg.replace(f'"{b1.address}"', f'{{ address = "{b1.address}", name = "web_b" }}')
    baton.start(cfg + ADMIN, workers=2)
    for target in ("/haproxy?stats;csv", "/haproxy?stats"):
        r = admin_get(baton, target)
        assert r.status == 200
        rows = zdd_rows(r.body.decode())
        web = servers(rows, "web")
        assert [s["svname"] for s in web] == ["web_a", "web_b"]
        assert all(s["status"] == "UP" and s["qcur"] == "0" and s["scur"] == "0" for s in web)
        backend_rows = [x for x in rows if x["pxname"] == "web" and x["svname"] == "BACKEND"]
        assert len(backend_rows) == 1

    # A slow request in flight is counted in scur of the host serving it (summed over workers).
    for b in (b0, b1):
        b.on("/slow", first_byte_wait=10.0)
    c = baton.client()
    try:
        c.send(harness.build_request("GET", "/slow"))
        # Wait until one backend has the request head.
        done = threading.Event()
        which: list[str] = []

        def watch(b, name):
            try:
                b.wait_heads(1, timeout=harness.TIMEOUT)
                which.append(name)
                done.set()
            except AssertionError:
                pass

        threads = [threading.Thread(target=watch, args=(b, n), daemon=True) for b, n in ((b0, "web_a"), (b1, "web_b"))]
        for t in threads:
            t.start()
        assert done.wait(harness.TIMEOUT)
        served = which[0]
        rows = zdd_rows(admin_get(baton, "/haproxy?stats;csv").body.decode())
        scur = {s["svname"]: s["scur"] for s in servers(rows, "web")}
        other = "web_b" if served == "web_a" else "web_a"
        assert scur == {served: "1", other: "0"}
        backend_row = next(x for x in rows if x["pxname"] == "web" and x["svname"] == "BACKEND")
        assert backend_row["scur"] == "1"
    finally:
        b0.release.set()
        b1.release.set()
    assert c.read_response().status == 200
    c.close()
    rows = zdd_rows(admin_get(baton, "/haproxy?stats;csv").body.decode())
    assert all(s["scur"] == "0" for s in servers(rows, "web"))


def test_tcp_connection_counts_in_scur(baton):
    lsock = socket.socket()
    lsock.bind((LOCAL, 0))
    lsock.listen(4)
    try:
        cfg = harness.make_config(
            clusters={"db": [f"{LOCAL}:{lsock.getsockname()[1]}"]},
            listeners=[
                {"name": "tcp", "address": f"{LOCAL}:0", "kind": "tcp", "cluster": "db"},
            ],
        )
        baton.start(cfg + ADMIN)
        with socket.create_connection((LOCAL, baton.port_of("tcp")), timeout=harness.TIMEOUT) as s:
            lsock.settimeout(harness.TIMEOUT)
            conn, _ = lsock.accept()
            with conn:
                rows = zdd_rows(admin_get(baton, "/haproxy?stats;csv").body.decode())
                assert [x["scur"] for x in servers(rows, "db")] == ["1"]
                s.close()
                conn.settimeout(harness.TIMEOUT)
                assert conn.recv(1) == b""  # the client's FIN went through
        # The tunnel ends once baton saw both sides end; no event says so, so ask the stats a
        # bounded number of times (each answer is a fresh read of every worker).
        for _ in range(50):
            rows = zdd_rows(admin_get(baton, "/haproxy?stats;csv").body.decode())
            if [x["scur"] for x in servers(rows, "db")] == ["0"]:
                break
        assert [x["scur"] for x in servers(rows, "db")] == ["0"]
    finally:
        lsock.close()


def test_killing_task_shows_maint(baton, backends):
    # Marathon's TASK_KILLING makes discovery mark the task draining (the only way a host drains
    # today: no TOML key for it). Imported here so the other tests need no Marathon helpers.
    from fake_marathon import FakeMarathon
    from test_marathon import marathon_config, web_app

    b0, b1 = backends(2)
    m = FakeMarathon(apps=[web_app("/shop/web", [b0, b1])])
    try:
        baton.start(marathon_config([m.url]) + ADMIN, workers=2)
        require_admin(baton)
        baton.wait_event("discovery")
        m.wait_streams(1)  # events emitted before baton subscribes are lost (no replay)
        m.status_update("shop_web.t0", "/shop/web", "TASK_KILLING")
        baton.wait_event("discovery")
        rows = zdd_rows(admin_get(baton, "/haproxy?stats;csv").body.decode())
        hosts = [r for r in rows if r["svname"] not in ("FRONTEND", "BACKEND")]
        by_port = {r["svname"].rsplit("_", 1)[-1]: r for r in hosts}
        drained = by_port[str(b0.port)]
        # zdd's "drained" test: MAINT with no queued and no current sessions.
        assert (drained["status"], drained["qcur"], drained["scur"]) == ("MAINT", "0", "0")
        assert by_port[str(b1.port)]["status"] == "UP"
    finally:
        m.stop()
