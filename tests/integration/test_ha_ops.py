"""Several baton instances operated as one (issue 10 part B, README "Several instances").

Three instances against one fake Marathon (multi_instance.py), whose app /baton lists them as its
tasks (admin port = task.ports[1], named by the BATON_ADMIN_PORT_INDEX label):
- a sticky cookie set through one instance is honoured by the others;
- request ids carry the answering instance's id;
- `batonctl --all drain --wait` under wrk load spread over the three (one wrk per instance): no
  socket error and no non-2xx answer in any wrk summary, and no new request reaches the host on
  any instance afterwards;
- `batonctl --all show ...` aggregates; an unreachable instance makes the exit status "partial";
- `show instances` / /status list the instances with generations and Marathon state, and mark one
  whose Marathon stopped telling it about changes as lagging.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import time
import urllib.request

import pytest

import harness
from fake_marathon import FakeMarathon, app, task
from harness import LOCAL, Backend, free_port
from multi_instance import MultiBaton, multi_baton  # noqa: F401 (fixture)
from test_admin_socket import batonctl_bin

VHOST = "shop.example.com"
SELF_APP = "/baton"
TOKEN = "multi-token"


@pytest.fixture(autouse=True)
def peer_env(monkeypatch):
    """Every instance knows its own app id (as Marathon's MARATHON_APP_ID would tell it) and
    polls its peers fast, with a short lag threshold, so the test waits little."""
    monkeypatch.setenv("MARATHON_APP_ID", SELF_APP)
    monkeypatch.setenv("BATON_PEER_INTERVAL_MS", "150")
    monkeypatch.setenv("BATON_PEER_LAG_MS", "800")


@pytest.fixture
def marathon():
    m = FakeMarathon()
    yield m
    m.stop()


def web_app(bs, labels=None, service_port=10100):
    ts = [task("/shop/web", host=LOCAL, ports=(b.port,), task_id=f"shop_web.t{i}") for i, b in enumerate(bs)]
    lab = {"HAPROXY_GROUP": "external", "HAPROXY_0_VHOST": VHOST, **(labels or {})}
    return app("/shop/web", labels=lab, tasks=ts, service_ports=(service_port,))


def self_app(mb: MultiBaton, extra_tasks=()):
    a = mb.self_app(SELF_APP, labels={"BATON_ADMIN_PORT_INDEX": "1"})
    a["tasks"].extend(extra_tasks)
    return a


def start_set(marathon, multi_baton, bs, labels=None, n=3) -> MultiBaton:
    marathon.set_apps([web_app(bs, labels)])
    mb = multi_baton(marathon, n=n, token=TOKEN).start()
    # Baton's own app is not in group "external": adding it changes no routing (no event).
    marathon.set_apps([web_app(bs, labels), self_app(mb)])
    return mb


def get(port, headers=None, host=VHOST):
    c = http.client.HTTPConnection(LOCAL, port, timeout=harness.TIMEOUT)
    try:
        c.request("GET", "/", headers={"Host": host, **(headers or {})})
        r = c.getresponse()
        r.read()
        return r
    finally:
        c.close()


def admin_get(inst, path):
    host, port = inst.admin
    with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=harness.TIMEOUT) as r:
        return json.loads(r.read())


def batonctl_all(marathon, *args, timeout=30):
    cmd = [batonctl_bin(), "--all", "--self-app", SELF_APP, "--marathon", marathon.url, "--token", TOKEN,
           "--timeout", "5", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def wait_until(what, fn, timeout=8.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.05)  # polling another process's periodic state: nothing to await
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def host_name(b: Backend) -> str:
    return f"{LOCAL.replace('.', '_')}_{b.port}"


def cluster_name(mb: MultiBaton) -> str:
    clusters = json.loads(mb.ask(0, "show clusters json"))["clusters"]
    (c,) = [c["name"] for c in clusters if c["name"].startswith("shop_web")]
    return c


# ---- state that must agree ----


def test_sticky_cookie_from_one_instance_is_honoured_by_the_others(marathon, multi_baton, backends):
    bs = backends(3)
    mb = start_set(marathon, multi_baton, bs, labels={"HAPROXY_0_STICKY": "true"})
    r = get(mb[0].http_port)
    cookie = r.getheader("Set-Cookie")
    assert cookie and cookie.startswith("mesosphere_server_id="), r.getheaders()
    value = cookie.split(";")[0]
    (first,) = [b for b in bs if b.requests]
    for b in bs:
        b.clear()
    for inst in (mb[1], mb[2], mb[0]):
        for _ in range(4):
            r = get(inst.http_port, headers={"Cookie": value})
            assert r.status == 200
            assert r.getheader("Set-Cookie") is None  # the cookie already names a live host
    assert [len(b.requests) for b in bs] == [12 if b is first else 0 for b in bs]


def test_request_ids_carry_the_instance_id(marathon, multi_baton, backends):
    (b0,) = backends(1)
    mb = start_set(marathon, multi_baton, [b0])
    ids = [admin_get(inst, "/instance")["instance_id"] for inst in mb]
    assert len(set(ids)) == 3 and all(len(i) == 8 for i in ids), ids
    for inst, iid in zip(mb, ids):
        b0.clear()
        assert get(inst.http_port).status == 200
        (rec,) = b0.wait_requests(1)
        rid = rec.header("x-request-id").decode()
        assert len(rid) == 32 and rid.startswith(iid), (rid, iid)
        assert f"instance_id: {iid}" in inst.ask("show info")


# ---- batonctl --all ----


WRK_SECONDS = 5


class Wrk:
    """One wrk per instance (keep-alive GETs to the shop vhost, -d bounded), parsed when done."""

    def __init__(self, ports, seconds=WRK_SECONDS, connections=4):
        self.seconds = seconds
        self.procs = [subprocess.Popen(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-H", f"Host: {VHOST}",
             f"http://{LOCAL}:{port}/"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for port in ports]

    def results(self) -> list[dict]:
        out = []
        for p in self.procs:
            text, err = p.communicate(timeout=self.seconds + 20)
            assert p.returncode == 0, (text, err)
            done = re.search(r"(\d+) requests in", text)
            assert done, text
            non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
            errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
            out.append({"requests": int(done.group(1)), "non2xx": int(non2xx.group(1)) if non2xx else 0,
                        "socket_errors": sum(map(int, errors.groups())) if errors else 0, "text": text})
        return out

    def kill(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def test_all_drain_under_wrk_load_reaches_every_instance(marathon, multi_baton, backends):
    """wrk on each of the three instances; `batonctl --all drain --wait` mid-run: no failed
    request in any wrk summary, and the drained host gets no new request from any instance."""
    bs = backends(3)
    mb = start_set(marathon, multi_baton, bs)
    cluster = cluster_name(mb)
    victim, others = bs[2], bs[:2]
    load = Wrk(mb.ports())
    try:
        # Every instance balances over the three hosts: the load reaches the victim before the
        # drain (per instance: the `requests` counters checked after the run).
        wait_until("load on every host", lambda: all(len(b.requests) >= 100 for b in bs))
        r = batonctl_all(marathon, "drain", f"{cluster}/{host_name(victim)}", "--wait", "--wait-timeout", "10")
        assert r.returncode == 0, (r.stdout, r.stderr)
        assert r.stdout.count(" ok: ") == 3 and "3 instance(s): 3 ok" in r.stdout, r.stdout
        # --wait answered on every instance: nothing is in flight to the host anywhere.
        after_drain = len(victim.requests)
        others_at_drain = sum(len(b.requests) for b in others)
        assert all(p.poll() is None for p in load.procs), "the drain came while wrk was still running"
        summaries = load.results()
    finally:
        load.kill()
    print(f"HA-OPS-WRK: requests per instance {[s['requests'] for s in summaries]}, victim {after_drain} "
          f"before the drain, others {others_at_drain} -> {sum(len(b.requests) for b in others)}")
    for i, s in enumerate(summaries):
        assert s["socket_errors"] == 0 and s["non2xx"] == 0, (i, s["text"])
        assert s["requests"] > 100, (i, s["text"])
    assert len(victim.requests) == after_drain, "a drained host got new requests"
    assert sum(len(b.requests) for b in others) > others_at_drain + 100, "the load went on after the drain"
    for inst in mb:
        hosts = json.loads(inst.ask(f"show hosts {cluster} json"))["hosts"]
        (h,) = [h for h in hosts if h["name"] == host_name(victim)]
        assert h["admin_state"] == "drain", h
        assert h["traffic"]["total"] > 0, (inst.name, h)  # this instance loaded it before
        assert h["in_flight"] == 0, (inst.name, h)


def test_all_show_aggregates_and_reports_an_unreachable_instance(marathon, multi_baton, backends):
    bs = backends(2)
    mb = start_set(marathon, multi_baton, bs)
    cluster = cluster_name(mb)
    for i, inst in enumerate(mb):
        for _ in range(i + 1):  # 1, 2 and 3 requests: the total is 6
            assert get(inst.http_port).status == 200

    r = batonctl_all(marathon, "show", "clusters")
    assert r.returncode == 0, (r.stdout, r.stderr)
    lines = r.stdout.splitlines()
    assert lines[0].split()[:2] == ["instance", "cluster"], lines
    rows = [ln.split() for ln in lines[1:] if cluster in ln]
    header = lines[0].split()
    req = header.index("requests")
    per_instance = {row[0]: int(row[req]) for row in rows if row[0] != "total"}
    assert per_instance == {inst.task_id: inst.index + 1 for inst in mb}, lines
    (total,) = [row for row in rows if row[0] == "total"]
    assert int(total[req]) == 6, lines

    r = batonctl_all(marathon, "show", "info")
    assert r.returncode == 0, r.stderr
    head = r.stdout.splitlines()[0].split()
    assert head == ["key"] + [inst.task_id for inst in mb], r.stdout
    assert any(ln.split()[0] == "generation" for ln in r.stdout.splitlines())

    r = batonctl_all(marathon, "--json", "show", "hosts", cluster)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [i["task_id"] for i in doc["instances"]] == [inst.task_id for inst in mb]
    assert all(i["ok"] and len(i["answer"]["hosts"]) == 2 for i in doc["instances"]), doc

    # A fourth task nobody answers for: reported as unreachable, exit 3 (partial).
    dead = task(SELF_APP, host=LOCAL, ports=(free_port(), free_port()), task_id="baton.dead")
    marathon.set_apps([web_app(bs), self_app(mb, [dead])])
    r = batonctl_all(marathon, "drain", f"{cluster}/{host_name(bs[0])}")
    assert r.returncode == 3, (r.returncode, r.stdout, r.stderr)
    assert "baton.dead" in r.stderr and "unreachable" in r.stderr, r.stderr
    assert r.stdout.count(" ok: ") == 3, r.stdout
    # A refusal (no such cluster) from reachable instances: exit 1.
    marathon.set_apps([web_app(bs), self_app(mb)])
    r = batonctl_all(marathon, "drain", "nosuch/host")
    assert r.returncode == 1 and r.stderr.count("notfound") == 3, (r.stdout, r.stderr)
    # A wrong token: every instance refuses.
    r = subprocess.run([batonctl_bin(), "--all", "--marathon", marathon.url, "--token", "wrong", "drain",
                        f"{cluster}/{host_name(bs[0])}"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and r.stderr.count("denied") == 3, r.stderr


# ---- show instances, lag ----


def test_instances_listed_and_a_lagging_one_marked(marathon, multi_baton, backends):
    bs = backends(3)
    # Two instances on the live Marathon, one whose Marathon is another (stale) fake that never
    # hears of the change: its routing state stays behind.
    stale = FakeMarathon(apps=[web_app(bs[:2])])
    try:
        marathon.set_apps([web_app(bs[:2])])
        live = multi_baton(marathon, n=2, token=TOKEN).start()
        behind = multi_baton(stale, n=1, token=TOKEN).start()
        behind[0].task_id = "baton.behind"
        everyone = list(live) + list(behind)
        me = self_app(live)
        me["tasks"].append(task(SELF_APP, host=LOCAL, ports=(behind[0].http_port, behind[0].admin[1]),
                                task_id="baton.behind"))
        marathon.set_apps([web_app(bs[:2]), me])
        stale.set_apps([web_app(bs[:2]), me])

        def view(inst):
            return admin_get(inst, "/status")["instances"]

        def agreed():
            v = view(live[0])
            peers = v["peers"]
            ok = len(peers) == 3 and all(p["reachable"] for p in peers) and \
                len({p["facts"]["marathon_state"] for p in peers}) == 1
            return v if ok else None

        v = wait_until("three instances in step", agreed)
        assert sorted(p["task_id"] for p in v["peers"]) == sorted(i.task_id for i in everyone)
        assert [p["self"] for p in v["peers"] if p["task_id"] == live[0].task_id] == [True]
        assert not any(p["lagging"] for p in v["peers"])
        assert all(p["facts"]["generation"] >= 1 for p in v["peers"])

        # A change only the live Marathon tells about.
        live.publish([web_app(bs), me])

        def lagging():
            peers = view(live[1])["peers"]
            marks = {p["task_id"]: p["lagging"] for p in peers}
            return marks if marks.get("baton.behind") and not marks[live[0].task_id] else None

        marks = wait_until("baton.behind marked lagging", lagging)
        assert marks == {live[0].task_id: False, live[1].task_id: False, "baton.behind": True}
        text = live[0].ask("show instances")
        row = [ln for ln in text.splitlines() if ln.startswith("baton.behind")]
        assert row and " lagging " in row[0], text
        assert "generation" in text.splitlines()[0]
        # The dashboard has the panel that renders it.
        host, port = live[0].admin
        with urllib.request.urlopen(f"http://{host}:{port}/dashboard", timeout=5) as r:
            assert b'id="instances"' in r.read()

        # The stale Marathon catches up: no one lags any more.
        stale.set_apps([web_app(bs), me])
        stale.emit("api_post_event", {"clientIp": LOCAL, "uri": "/v2/apps"})
        wait_until("in step again", lambda: not any(p["lagging"] for p in view(live[1])["peers"])
                   and len({p["facts"]["marathon_state"] for p in view(live[1])["peers"]}) == 1)
    finally:
        stale.stop()
