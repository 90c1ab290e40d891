"""Asset pinning with several baton instances (issue 10): one CDN, three batons, one answer.

Three batons (multi_instance.py: each its own ports and state dir) follow one fake Marathon and
share nothing else. The CDN simulator sends every origin fetch to an instance picked at random,
as a CDN behind DNS round-robin or an L4 balancer does. Whatever instance a fetch reaches, the
answer must be the same: the CDN version, the version of each path, the flip, all computed from
Marathon's state (routing/README.md "Several instances").

- a whole zdd deploy with CDN page loads throughout, on one instance and on three (and on three
  with one restarted mid-deploy, which forgets everything it saw): zero broken pages, and no more
  unhashed mismatches with three than with one;
- one instance's own view of a blue task (passive outlier ejection, or its active health check
  failing behind a partition: instance 2 connects from its own source address and the task fails
  only the probes from there) takes the host out of that instance's picks and changes no version
  anyone gets;
- BATON_PIN_CDN_VERSION on the apps moves the CDN version on every instance, within 2 s
  (measured, printed).

Prints `HA-PINNING-RESULT:` lines (the cutover counts and the convergence) for bench/RESULTS.md.
"""

from __future__ import annotations

import json
import random
import time

import pytest

import cdn_sim
from fake_marathon import app, task
from harness import LOCAL, free_port
from multi_instance import multi_baton  # noqa: F401 (fixture)
from pin_site import SiteTask, js_path
from test_marathon import marathon  # noqa: F401 (fixture)

HOST = "site.test"
GROUP = "site"
# Marathon health checks as zdd's apps have them; grace 0 so a task counts at once.
HC = [{"protocol": "HTTP", "path": "/", "portIndex": 0, "gracePeriodSeconds": 0}]
CDN_HDRS = [("CDN-Loop", "testcdn"), ("Accept", "text/html"), ("Sec-Fetch-Dest", "document")]
# The CSS the site serves lives 300 s: the longest lifetime of its unhashed files and documents.
MAX_FRESH = "300"


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))


class HaSite:
    """Group "site" (blue/green) behind N batons; `sources`: instance index -> its [upstream]
    source_address (the local address of its connects and health probes)."""

    def __init__(self, marathon_factory, multi_baton_factory, n: int, labels: dict | None = None,
                 sources: dict | None = None):
        self.m = marathon_factory()
        sources = dict(sources or {})

        def extra(inst) -> str:
            text = '[pinning]\ngrace = "2s"\n'
            if inst.index in sources:
                text += f'[upstream]\nsource_address = "{sources[inst.index]}"\n'
            return text

        self.mb = multi_baton_factory(self.m, n=n, extra=extra)
        self.port, self.alt = free_port(), free_port()
        self.tasks: list[SiteTask] = []
        self.labels = dict(labels or {})
        now = time.time()
        # zdd stamps HAPROXY_DEPLOYMENT_STARTED_AT when a deploy begins: blue an hour ago,
        # green now (the cutover's start on Marathon's clock).
        self.started = {1: iso(now - 3600), 2: iso(now)}

    def close(self):
        for t in self.tasks:
            t.close()

    def task(self, n: int, name: str) -> SiteTask:
        t = SiteTask(n, name)
        self.tasks.append(t)
        return t

    def app(self, n: int, colour: str, tasks, target: int = 2, extra: dict | None = None):
        labels = {
            "HAPROXY_GROUP": "external", "HAPROXY_DEPLOYMENT_GROUP": GROUP,
            "HAPROXY_DEPLOYMENT_ALT_PORT": str(self.alt), "HAPROXY_0_PORT": str(self.port),
            "HAPROXY_0_VHOST": HOST, "HAPROXY_DEPLOYMENT_COLOUR": colour,
            "HAPROXY_DEPLOYMENT_STARTED_AT": self.started[n],
            "HAPROXY_DEPLOYMENT_TARGET_INSTANCES": str(target),
            "HAPROXY_DEPLOYMENT_NEW_INSTANCES": "0",
            "BATON_PIN_VERSION": f"v{n}",
            **self.labels, **(extra or {}),
        }
        app_id = f"/site-{colour}"
        base = app_id.strip("/")
        ts = [task(app_id, host=LOCAL, ports=(t.port,), task_id=f"{base}.t{t.port}", alive=True) for t in tasks]
        return app(app_id, labels=labels, tasks=ts, health_checks=HC,
                   service_ports=(self.alt if colour == "green" else self.port,))

    def start(self, apps):
        self.m.set_apps(apps)
        self.mb.start()
        return self

    def publish(self, apps):
        return self.mb.publish(apps)

    # ---- per-instance state ----
    def pinning(self, i: int) -> dict | None:
        doc = json.loads(self.mb.ask(i, "show groups json"))
        for g in doc.get("groups", []):
            for p in g.get("pinning") or []:
                return p
        return None

    def wait_all(self, pred, what: str, timeout: float = 10.0) -> list[dict]:
        """Every instance's pinning state satisfies pred (polled: admin state has no event)."""
        deadline = time.monotonic() + timeout
        states = []
        while time.monotonic() < deadline:
            states = [self.pinning(i) for i in range(len(self.mb))]
            if all(p is not None and pred(p) for p in states):
                return states
            time.sleep(0.02)
        raise AssertionError(f"not every instance showed {what}: {states}")

    def cdn(self, seed: int) -> cdn_sim.CdnSim:
        return cdn_sim.CdnSim(host=HOST, edges=4, clock=cdn_sim.SimClock(), ports=self.mb.ports(),
                              rng=random.Random(seed))

    def cdn_get(self, i: int, target: str = "/"):
        with self.mb.client(i) as c:
            return c.request("GET", target, host=HOST, headers=CDN_HDRS)


@pytest.fixture
def ha(marathon, multi_baton):  # noqa: F811 (fixtures)
    made: list[HaSite] = []

    def make(n: int = 3, labels: dict | None = None, sources: dict | None = None) -> HaSite:
        s = HaSite(marathon, multi_baton, n, labels, sources)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def shared_view(p: dict) -> tuple:
    """What must be equal on every instance: the CDN version, the hold, each version's counts."""
    return (p["cdn_version"], p["flip_held"], p["in_cutover"], p["active"],
            tuple((v["id"], v["serving"], v["hosts"]) for v in p["versions"]))


def zdd_deploy(site: HaSite, seed: int, restart: int | None = None, before_drain=None):
    """test_asset_pinning's whole zdd deploy (test_12c) with the CDN's fetches spread over every
    instance. `restart`: the instance stopped and started again once green has its first task.
    Returns the CDN simulator and the origin 404s without no-store seen from the cutover on."""
    blue = [site.task(1, "blue0"), site.task(1, "blue1")]
    green = [site.task(2, "green0"), site.task(2, "green1")]
    site.start([site.app(1, "blue", blue)])
    sim = site.cdn(seed)
    rng = random.Random(121)
    sim.run(150, rng, step=0.5)  # blue alone: the CDN keeps /style.css for 300 s
    cutover_from = len(sim.origin_log)
    site.publish([site.app(1, "blue", blue), site.app(2, "green", green[:1])])
    states = site.wait_all(lambda p: p["in_cutover"] and p["cdn_version"] == "v1", "cutover, CDN on v1")
    assert len({shared_view(p) for p in states}) == 1, states
    if restart is not None:
        site.mb.restart(restart)
    sim.run(150, rng, step=0.5)
    if before_drain:
        before_drain()
    site.publish([site.app(1, "blue", blue), site.app(2, "green", green)])
    held = site.wait_all(lambda p: p["versions"][0]["serving"] == 0, "every blue task drained")
    # The flip is held on every instance (rule 12): blue's /style.css may be fresh in the CDN.
    assert all(p["cdn_version"] == "v1" and p["flip_held"] for p in held), held
    assert len({shared_view(p) for p in held}) == 1, held
    sim.run(150, rng, step=6.0)
    site.publish([site.app(2, "green", green)])
    done = site.wait_all(lambda p: p["cdn_version"] == "v2" and not p["in_cutover"], "blue gone, v2")
    assert len({shared_view(p) for p in done}) == 1, done
    sim.run(150, rng, step=0.5)  # the grace
    bad404 = [f for f in sim.origin_log[cutover_from:]
              if f.status == 404 and "no-store" not in (f.cache_control or "")]
    sim.close()
    return sim, bad404


def check_deploy(sim, bad404, what: str):
    print(f"HA-PINNING-RESULT: zdd-deploy {what} {sim.summary()} "
          f"origins={sorted({f.origin for f in sim.origin_log})}")
    assert sim.broken == 0, [(p.html_version, p.reasons) for p in sim.broken_pages[:10]]
    assert bad404 == [], [(f.path, f.status, f.cache_control) for f in bad404[:10]]
    assert set(sim.html_versions) == {"v1", "v2"}, sim.html_versions


def test_zdd_deploy_three_instances_no_worse_than_one(ha):
    labels = {"BATON_PIN_CDN_MAX_FRESH": MAX_FRESH}
    one, bad = zdd_deploy(ha(1, labels), seed=5)
    check_deploy(one, bad, "instances=1")
    three, bad = zdd_deploy(ha(3, labels), seed=5)
    check_deploy(three, bad, "instances=3")
    assert {f.origin for f in three.origin_log} == {0, 1, 2}  # the CDN used every instance
    # One instance restarted mid-deploy: it lost its view of what the CDN got before the cutover
    # (the local freshness mark); the hold comes from Marathon's clock, so it still agrees.
    restarted, bad = zdd_deploy(ha(3, labels), seed=5, restart=2)
    check_deploy(restarted, bad, "instances=3 restarted=1")
    assert three.unhashed_mismatch <= one.unhashed_mismatch, (three.summary(), one.summary())
    assert restarted.unhashed_mismatch <= one.unhashed_mismatch, (restarted.summary(), one.summary())


def test_one_instance_ejecting_a_blue_task_changes_no_version(ha):
    """Instance 2's own view: blue0 failed its requests there (503s) and passive outlier ejection
    took it out of instance 2's picks for a minute. Instances 0 and 1 never saw it fail. Every
    instance still reports Marathon's counts and the same CDN version, and the deploy's CDN run
    breaks no page."""
    site = ha(3, {"BATON_PIN_CDN_MAX_FRESH": MAX_FRESH, "BATON_0_OUTLIER_CONSECUTIVE": "3",
                  "BATON_0_OUTLIER_BASE_EJECTION": "60s"})

    def eject_on_instance_2():
        # zdd's rule drained one blue task when green's first turned healthy: the other one is
        # the CDN version's only serving host. That one goes bad on instance 2.
        name = site.cdn_get(2, "/").header("x-task")
        blue0 = next(t for t in site.tasks if t.name == name)
        other = next(t for t in site.tasks[:2] if t is not blue0)
        eject(site, 2, blue0)
        for i in (0, 1):
            row = host_row(json.loads(site.mb.ask(i, f"show hosts {cluster_name(site)} json")), blue0.port)
            assert not row.get("ejected"), (i, row)
        states = [site.pinning(i) for i in range(3)]
        # Instance 2 counts the ejected task as Marathon does: serving (one blue serving, one
        # drained by zdd's rule, on every instance).
        assert len({shared_view(p) for p in states}) == 1, states
        assert [(v["serving"], v["hosts"]) for v in states[2]["versions"]] == [(1, 2), (1, 1)], states[2]
        # Its documents still come from v1, like everyone else's: v1 has no routable serving
        # host left on instance 2, so its draining one answers (never green).
        for i in range(3):
            r = site.cdn_get(i, "/")
            assert (r.status, r.header("x-version")) == (200, "v1"), (i, r.status, r.headers)
        assert site.cdn_get(2, "/").header("x-task") == other.name

    sim, bad = zdd_deploy(site, seed=7, before_drain=eject_on_instance_2)
    check_deploy(sim, bad, "instances=3 one-ejects-blue0")


PARTITIONED = "127.0.0.3"  # instance 2's source address in the partition test


class Partition:
    """Makes `task`'s health endpoint fail the probes that come from `source` (a network
    partition between one instance and the task, as production sees it: every instance probes
    the same URL, only the one behind the partition sees it fail); records the peer address of
    every request it gets (probe or not)."""

    def __init__(self, t: SiteTask, source: str):
        self.source = source
        self.on = False
        self.refused = 0
        self.peers: list[tuple[str, bool]] = []  # (peer address, is a probe)
        outer = self
        base = t._server.RequestHandlerClass

        class Partitioned(base):
            def _serve(self, head_only):
                probe = self.headers.get("User-Agent") == "baton-health-check"
                with t.cond:
                    outer.peers.append((self.client_address[0], probe))
                if probe and outer.on and self.client_address[0] == outer.source:
                    with t.cond:
                        outer.refused += 1
                    return self._send(503, b"partitioned\n", [("Content-Type", "text/plain")], head_only)
                return super()._serve(head_only)

        t._server.RequestHandlerClass = Partitioned

    def data_peers(self) -> set[str]:
        return {peer for peer, probe in self.peers if not probe}

    def probe_peers(self) -> set[str]:
        return {peer for peer, probe in self.peers if probe}


def test_one_instance_behind_a_partition_from_a_blue_task_changes_no_version(ha):
    """Instance 2 connects (requests and health probes) from its own source address, 127.0.0.3;
    the blue task the CDN version is served by fails every probe from 127.0.0.3 (a partition
    between instance 2 and that task), passes the others'. Instance 2's active check takes it
    out of its picks; every instance still reports Marathon's counts and the same CDN version,
    and the zdd deploy's CDN run breaks no page."""
    site = ha(3, {"BATON_PIN_CDN_MAX_FRESH": MAX_FRESH, "BATON_0_HEALTH_CHECK_INTERVAL": "0.2"},
              sources={2: PARTITIONED})
    partitions: dict[str, Partition] = {}
    real_task = site.task

    def task_with_partition(n: int, name: str) -> SiteTask:
        t = real_task(n, name)
        partitions[name] = Partition(t, PARTITIONED)
        return t

    site.task = task_with_partition

    def partition_instance_2():
        # zdd's rule drained one blue task when green's first turned healthy: the other one is
        # the CDN version's only serving host. Instance 2 loses it behind a partition.
        name = site.cdn_get(2, "/").header("x-task")
        blue0 = next(t for t in site.tasks if t.name == name)
        other = next(t for t in site.tasks[:2] if t is not blue0)
        part = partitions[name]
        # Instance 2 connects from its source address, the others from the kernel's choice.
        assert PARTITIONED in part.data_peers() and PARTITIONED in part.probe_peers(), part.peers[-20:]
        assert LOCAL in part.probe_peers()
        part.on = True
        cluster = cluster_name(site)

        def health(i):
            return host_row(json.loads(site.mb.ask(i, f"show hosts {cluster} json")), blue0.port)["health"]

        deadline = time.monotonic() + 10
        while health(2) != "unhealthy" and time.monotonic() < deadline:
            time.sleep(0.05)  # the verdict is admin state polled from another process
        assert health(2) == "unhealthy", host_row(json.loads(site.mb.ask(2, f"show hosts {cluster} json")), blue0.port)
        assert part.refused >= 1
        assert [health(i) for i in (0, 1)] == ["healthy", "healthy"]  # their probes pass
        states = [site.pinning(i) for i in range(3)]
        # Instance 2 counts the task as Marathon does: serving (one blue serving, one drained by
        # zdd's rule, on every instance).
        assert len({shared_view(p) for p in states}) == 1, states
        assert [(v["serving"], v["hosts"]) for v in states[2]["versions"]] == [(1, 2), (1, 1)], states[2]
        # Documents still come from v1 on every instance; on instance 2 from the other blue
        # task (never green), and nothing more reaches blue0 from instance 2.
        before = len([p for p, probe in part.peers if p == PARTITIONED and not probe])
        for i in range(3):
            r = site.cdn_get(i, "/")
            assert (r.status, r.header("x-version")) == (200, "v1"), (i, r.status, r.headers)
        for _ in range(5):
            assert site.cdn_get(2, "/").header("x-task") == other.name
        assert len([p for p, probe in part.peers if p == PARTITIONED and not probe]) == before

    sim, bad = zdd_deploy(site, seed=7, before_drain=partition_instance_2)
    check_deploy(sim, bad, "instances=3 one-partitioned-from-blue0")


def eject(site: HaSite, i: int, victim: SiteTask) -> dict:
    """Makes instance i alone eject `victim` (it answers 503 while CDN documents go through
    instance i only, then recovers); returns instance i's host row for it."""
    victim.fail_status = 503
    row = None
    try:
        for _ in range(20):
            site.cdn_get(i, "/")
            row = host_row(json.loads(site.mb.ask(i, f"show hosts {cluster_name(site)} json")), victim.port)
            if row and row.get("ejected"):
                break
    finally:
        victim.fail_status = 0
    assert row and row.get("ejected"), f"instance {i} never ejected {victim.name}: {row}"
    return row


def test_version_kept_when_this_instance_took_out_all_its_hosts(ha):
    """Blue's only task is out of instance 2's picks (ejected there, not in Marathon's view): a
    CDN document on instance 2 still goes to blue (the CDN version), to that very task, rather
    than to green; instances 0 and 1 never saw it fail."""
    site = ha(3, {"BATON_0_OUTLIER_CONSECUTIVE": "3", "BATON_0_OUTLIER_BASE_EJECTION": "60s"})
    blue, green = site.task(1, "blue0"), site.task(2, "green0")
    site.start([site.app(1, "blue", [blue]), site.app(2, "green", [green])])
    site.wait_all(lambda p: p["cdn_version"] == "v1", "CDN on v1")
    eject(site, 2, blue)
    for i in range(3):
        r = site.cdn_get(i, "/")
        assert (r.status, r.header("x-version"), r.header("x-task")) == (200, "v1", "blue0"), (i, r.headers)
    for i in (0, 1):
        assert not host_row(json.loads(site.mb.ask(i, f"show hosts {cluster_name(site)} json")),
                            blue.port).get("ejected")


def cluster_name(site: HaSite) -> str:
    return f"{GROUP}_{site.port}"


def host_row(doc, port: int) -> dict | None:
    hosts = doc["hosts"] if isinstance(doc, dict) else doc
    for h in hosts:
        if str(h.get("address", "")).endswith(f":{port}"):
            return h
    return None


def test_cdn_version_label_moves_every_instance(ha):
    """BATON_PIN_CDN_VERSION=v2 on the group's apps: every instance's CDN answers turn v2, within
    2 s of the Marathon event (routing follows Marathon within milliseconds; the bound is
    generous for a loaded machine). The admin command stays per instance."""
    site = ha(3)
    blue, green = site.task(1, "blue0"), site.task(2, "green0")
    site.start([site.app(1, "blue", [blue]), site.app(2, "green", [green])])
    site.wait_all(lambda p: p["cdn_version"] == "v1", "CDN on v1")
    assert all(site.cdn_get(i).header("x-version") == "v1" for i in range(3))
    label = {"BATON_PIN_CDN_VERSION": "v2"}
    site.mb.publish([site.app(1, "blue", [blue], extra=label), site.app(2, "green", [green], extra=label)],
                    wait=False)
    t0 = site.mb.last_emit
    seen: dict[int, float] = {}
    deadline = t0 + 2.0
    while len(seen) < 3 and time.monotonic() < deadline:
        for i in range(3):
            if i not in seen and site.cdn_get(i).header("x-version") == "v2":
                seen[i] = time.monotonic() - t0
    print(f"HA-PINNING-RESULT: cdn-label-flip instances=3 "
          f"ms={[round(seen[i] * 1000, 1) if i in seen else None for i in range(3)]} "
          f"skew_ms={round((max(seen.values()) - min(seen.values())) * 1000, 1) if len(seen) == 3 else None}")
    assert len(seen) == 3, f"instances serving v2 to the CDN within 2 s: {sorted(seen)}"
    states = site.wait_all(lambda p: p["cdn_version"] == "v2", "CDN on v2")
    assert len({shared_view(p) for p in states}) == 1, states
    # The asset a v2 page references comes from green on every instance; v1's still from blue.
    for i in range(3):
        assert site.cdn_get(i, js_path(2)).header("x-version") == "v2"
        assert site.cdn_get(i, js_path(1)).header("x-version") == "v1"
    # The admin command overrides on one instance only (documented: the label is the HA way).
    assert "CDN version v1" in site.mb.ask(0, "set group site cdn-version v1")
    assert [site.cdn_get(i).header("x-version") for i in range(3)] == ["v1", "v2", "v2"]
    # The label removed: baton's rule (oldest serving) again, on every instance (instance 0's
    # override ended with the label change).
    site.mb.publish([site.app(1, "blue", [blue]), site.app(2, "green", [green])], wait=False)
    site.wait_all(lambda p: p["cdn_version"] == "v1", "CDN back on v1")
