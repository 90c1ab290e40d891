"""Zero-downtime binary upgrade (issue 8): `batonctl upgrade` (and SIGUSR2) against the real binary.

The old process hands its listening sockets (SCM_RIGHTS) and the operator's host states to a new
process it starts from the same binary path; the new one serves once fully initialised, then the
old one drains. Every wait is on an event: batonctl's answer, the ready-fd lines of both processes
(`upgraded` from the new pid, `handed_over` / `stopped` from the old one), the backend's records.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import threading
import time

import pytest

import harness
from h2_frames import NO_ERROR, RawH2, get_headers


def batonctl_bin() -> str:
    path = os.path.join(os.path.dirname(harness.baton_bin()), "batonctl")
    if not os.access(path, os.X_OK):
        pytest.skip(f"batonctl not built next to baton ({path})")
    return path


class Edge:
    """A baton that may be upgraded: follows the serving pid along the chain."""

    def __init__(self, baton: harness.Baton, tmp_path, backend, workers: int = 2, extra: str = ""):
        self.b = baton
        self.sock = os.path.join(str(tmp_path), "admin.sock")
        self.backend = backend
        self.extra = extra
        self.workers = workers
        baton.start(self.config())
        self.pid = baton.proc.pid
        self.pids = [self.pid]

    def config(self, extra: str = "") -> str:
        cfg = harness.make_config(clusters={"web": [self.backend.address]}, server={"workers": self.workers},
                                  timeouts={"drain": "10s"})
        return cfg + f'\n[admin]\nsocket = "{self.sock}"\n' + self.extra + extra

    def ctl(self, *args, timeout: float = 90) -> subprocess.CompletedProcess:
        return subprocess.run([batonctl_bin(), "--socket", self.sock, *args], capture_output=True,
                              text=True, timeout=timeout)

    def events_until(self, want: dict, timeout: float = 30.0) -> dict:
        """Reads ready-fd events until each (name, pid-or-None) in `want` was seen; returns them."""
        seen: dict = {}
        deadline = time.monotonic() + timeout
        while len(seen) < len(want):
            ev = self.b.next_event(max(deadline - time.monotonic(), 0.01))
            for key, pid in want.items():
                if ev.get("event") == key and (pid is None or ev.get("pid") == pid) and key not in seen:
                    seen[key] = ev
        return seen

    def upgrade(self) -> int:
        old = self.pid
        r = self.ctl("upgrade")
        assert r.returncode == 0, f"upgrade refused: {r.stdout} {r.stderr}\n{self.b.stderr()[-3000:]}"
        assert "upgraded: pid" in r.stdout, r.stdout
        seen = self.events_until({"upgraded": None, "stopped": old})
        new = seen["upgraded"]["pid"]
        assert new != old and str(new) in r.stdout
        self.b._take_listeners(seen["upgraded"])
        _wait_exit(old)
        self.pid = new
        self.pids.append(new)
        return new

    def stop(self) -> None:
        """SIGTERM to the serving process (the harness only knows the first one)."""
        if self.pid == self.b.proc.pid:
            return  # the fixture stops it
        os.kill(self.pid, signal.SIGTERM)
        self.events_until({"stopped": self.pid})

    def kill_leftovers(self) -> None:
        for pid in self.pids[1:]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _wait_exit(pid: int, timeout: float = 15.0) -> None:
    """Until `pid` has exited (a pidfd turns readable then: an event, no polling)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
        assert ready, f"pid {pid} still running {timeout}s after it reported stopped"
    finally:
        os.close(fd)


@pytest.fixture
def edge(baton, backend, tmp_path):
    made: list[Edge] = []

    def make(**kw) -> Edge:
        e = Edge(baton, tmp_path, backend, **kw)
        made.append(e)
        return e

    yield make
    for e in made:
        try:
            e.stop()
        finally:
            e.kill_leftovers()


# ---- Load -------------------------------------------------------------------------------------


class Load:
    """Client threads hitting baton during the upgrades; every answer is checked.

    HTTP/1 keep-alive clients reconnect after `Connection: close`; a request that got no byte back
    on a reused idle connection closing under it is retried once on a new connection, as HTTP
    clients do for idempotent requests (RFC 9110 9.2.2): counted as `retried`, never as failed.
    A fresh connection that is refused or reset is a failure. The HTTP/2 client opens a new
    connection after GOAWAY; a stream above the GOAWAY's last id is retried (RFC 9113 6.8)."""

    def __init__(self, port: int):
        self.port = port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.retried = 0
        self.closes = 0
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self._keepalive, args=(i,), daemon=True) for i in range(3)]
        self.threads.append(threading.Thread(target=self._fresh, daemon=True))
        self.threads.append(threading.Thread(target=self._h2, daemon=True))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(15)

    def _fail(self, what: str) -> None:
        with self.lock:
            self.failures.append(what)

    def _count(self, field: str) -> None:
        with self.lock:
            setattr(self, field, getattr(self, field) + 1)

    def _check(self, resp: harness.Response, target: str) -> bool:
        if resp.status != 200 or not resp.complete:
            self._fail(f"{target}: status {resp.status} complete={resp.complete}")
            return False
        if resp.json()["target"] != target:
            self._fail(f"{target}: answered for {resp.json()['target']}")
            return False
        self._count("ok")
        return True

    def _keepalive(self, n: int) -> None:
        client, used = None, False
        i = 0
        while not self.stop.is_set():
            target = f"/ka/{n}/{i}"
            i += 1
            try:
                if client is None:
                    client, used = harness.Client(self.port), False
                try:
                    resp = client.request("GET", target)
                except (harness.Closed, ConnectionError, socket.timeout) as e:
                    if not used or isinstance(e, socket.timeout):
                        raise
                    client.close()  # the idle connection closed under our request: retry once
                    self._count("retried")
                    client, used = harness.Client(self.port), False
                    resp = client.request("GET", target)
                used = True
                self._check(resp, target)
                if resp.closes:
                    self._count("closes")
                    client.close()
                    client = None
            except Exception as e:  # noqa: BLE001 - every error is a failed request
                self._fail(f"{target}: {type(e).__name__}: {e}")
                if client is not None:
                    client.close()
                client = None
        if client is not None:
            client.close()

    def _fresh(self) -> None:
        i = 0
        while not self.stop.wait(0.02):  # ~50 new connections per second
            target = f"/fresh/{i}"
            i += 1
            try:
                with harness.Client(self.port) as c:
                    self._check(c.request("GET", target, headers=[("Connection", "close")]), target)
            except Exception as e:  # noqa: BLE001
                self._fail(f"{target}: {type(e).__name__}: {e}")

    def _h2(self) -> None:
        h, sid, i = None, 1, 0
        while not self.stop.is_set():
            path = f"/h2/{i}"
            try:
                if h is None or h.goaway is not None:
                    if h is not None:
                        h.close()
                    h, sid = RawH2(self.port), 1
                    h.handshake()
                h.request(sid, get_headers(path))
                h.wait(lambda c, s=sid: s in c.ended or c.closed or c.goaway is not None)
                if sid not in h.ended and h.goaway is not None:
                    h.wait(lambda c, s=sid: s in c.ended or c.closed)
                if sid not in h.ended:
                    if h.goaway is None:
                        raise AssertionError(f"stream {sid} lost without GOAWAY")
                    self._count("retried")  # not processed (above the GOAWAY's last id): retry
                    h.close()
                    h = None
                    continue
                if h.status(sid) != "200" or json.loads(h.bodies[sid])["target"] != path:
                    self._fail(f"h2 {path}: {h.status(sid)}")
                else:
                    self._count("ok")
                i += 1
                sid += 2
            except Exception as e:  # noqa: BLE001
                self._fail(f"h2 {path}: {type(e).__name__}: {e}")
                if h is not None:
                    h.close()
                h = None
                i += 1
        if h is not None:
            h.close()

    def wait_ok(self, more: int, timeout: float = 10.0) -> None:
        """Until `more` further answers were checked (progress between upgrades, no sleep)."""
        goal = self.ok + more
        deadline = time.monotonic() + timeout
        while self.ok < goal and not self.stop.wait(0.01):
            assert time.monotonic() < deadline, f"load stalled at {self.ok}; failures {self.failures[:5]}"


# ---- Tests ------------------------------------------------------------------------------------


def test_five_upgrades_under_load_fail_no_request(edge):
    e = edge()
    with Load(e.b.port) as load:
        load.wait_ok(50)
        for _ in range(5):
            e.upgrade()
            load.wait_ok(50)  # the new process serves every kind of client
    assert not load.failures, f"{len(load.failures)} failed of {load.ok}: {load.failures[:10]}"
    assert len(set(e.pids)) == 6
    assert load.closes > 0  # keep-alive clients of old processes were told to close
    print(f"answers {load.ok}, retried {load.retried}, keep-alive closes {load.closes}")
    r = e.ctl("show", "info")
    assert r.returncode == 0 and str(e.pid) in r.stdout, r.stdout


def test_sigusr2_upgrades_and_listening_port_is_kept(edge):
    e = edge(workers=1)
    port = e.b.port
    os.kill(e.pid, signal.SIGUSR2)
    seen = e.events_until({"upgraded": None, "stopped": e.pid})
    e.pid = seen["upgraded"]["pid"]
    e.pids.append(e.pid)
    assert seen["upgraded"]["upgrade_generation"] == 1
    assert seen["upgraded"]["listeners"]["http"].endswith(f":{port}")  # port 0 resolved once, kept
    with harness.Client(port) as c:
        assert c.request("GET", "/after").status == 200


def test_operator_drain_survives_upgrade(edge, backends):
    other = backends(1)[0]
    e = edge(workers=1)
    e.b.reload(harness.make_config(clusters={"web": [e.backend.address, other.address]},
                                   timeouts={"drain": "10s"}) + f'\n[admin]\nsocket = "{e.sock}"\n')
    r = e.ctl("drain", f"web/{other.address}")
    assert r.returncode == 0, r.stderr
    r = e.ctl("weight", f"web/{e.backend.address}", "7")
    assert r.returncode == 0, r.stderr
    e.upgrade()
    r = e.ctl("show", "hosts", "web", "--json")
    assert r.returncode == 0, r.stderr
    hosts = {h["address"]: h for h in json.loads(r.stdout)["hosts"]}
    assert hosts[other.address]["admin_state"] == "drain", hosts
    assert hosts[e.backend.address]["weight"] == 7, hosts
    other.clear()
    for i in range(6):
        with harness.Client(e.b.port) as c:
            resp = c.request("GET", f"/d/{i}")
            assert resp.status == 200 and resp.json()["backend"] == e.backend.name
    assert other.requests == []  # the drained host gets nothing from the new process


@pytest.fixture
def marathon():
    from fake_marathon import FakeMarathon

    yield from harness.made_and_closed(FakeMarathon, close=lambda m: m.stop())


def test_marathon_sync_equal_to_the_state_file_makes_the_new_process_live_at_once(
        edge, marathon, tmp_path):
    """The new process publishes the persisted state, then Marathon's first sync, which usually
    says the same: it must go live on that sync, not wait out the 10 s first-sync wait."""
    from fake_marathon import app, task

    m = marathon(apps=[app("/shop/web", labels={"HAPROXY_GROUP": "external"},
                           tasks=[task("/shop/web", ports=(31000,), task_id="shop_web.t0")])])
    state = os.path.join(str(tmp_path), "state.json")
    e = edge(extra=f'\n[marathon]\nurls = ["{m.url}"]\nstate_file = "{state}"\n'
                   'http_port = 0\napp_id_port = 0\nbind_service_ports = false\n'
                   'max_backoff = "200ms"\n')
    e.b.wait_event("discovery")
    assert os.path.exists(state)
    # The new process's first requests fail: it surely publishes the persisted state first.
    m.fail_next(2, "500")
    started = time.monotonic()
    e.upgrade()
    assert time.monotonic() - started < 5.0, "the new process waited for the first-sync timeout"


def test_bad_config_fails_the_upgrade_and_old_keeps_serving(edge):
    e = edge(workers=1)
    bad = e.config().replace("workers = 1", 'workers = "many"')
    assert bad != e.config()
    e.b.write_config(bad)
    r = e.ctl("upgrade")
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stderr.startswith("failed:"), r.stderr
    assert "baton.toml:" in r.stderr and "workers" in r.stderr, r.stderr
    ev = e.events_until({"upgrade_failed": e.pid})["upgrade_failed"]
    assert "baton.toml" in ev["error"]
    with harness.Client(e.b.port) as c:
        assert c.request("GET", "/still").status == 200
    r = e.ctl("show", "info")
    assert r.returncode == 0 and str(e.pid) in r.stdout


def test_in_flight_requests_finish_with_close_and_goaway(edge):
    e = edge(workers=1)
    e.backend.on("/hold", first_byte_wait=10)
    ka = harness.Client(e.b.port)
    assert ka.request("GET", "/warm").status == 200  # a reused keep-alive connection
    ka.send(harness.build_request("GET", "/hold/h1"))
    h = RawH2(e.b.port)
    h.handshake()
    h.request(1, get_headers("/hold/h2"))
    e.backend.wait_heads(3)
    old = e.pid
    r = subprocess.Popen([batonctl_bin(), "--socket", e.sock, "upgrade"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        seen = e.events_until({"upgraded": None, "handed_over": old})
        e.pid = seen["upgraded"]["pid"]
        e.pids.append(e.pid)
        assert h.wait(lambda c: c.goaway is not None)  # the old process asks the h2 client to go
        assert h.goaway == NO_ERROR and not h.closed
        e.backend.release.set()
        resp = ka.read_response()
        assert resp.status == 200 and resp.json()["target"] == "/hold/h1"
        assert resp.closes  # HTTP/1 keep-alive closed after its in-flight response
        assert ka.is_closed()
        assert h.wait(lambda c: 1 in c.ended) and h.status(1) == "200"
        assert h.wait_closed()
        out, err = r.communicate(timeout=30)
        assert r.returncode == 0, out + err
        e.events_until({"stopped": old})
    finally:
        ka.close()
        h.close()
        if r.poll() is None:
            r.kill()


def test_upgrade_to_more_workers_keeps_service_ports_within_the_descriptor_budget(
        edge, baton, backend, tmp_path):
    """An upgrade adopts the old process's service-port sockets whatever the descriptor budget
    says, and opens sockets for the workers it adds only within it. Without the budget, going
    from 1 to 2 workers under a 256-descriptor limit opened a socket per port per new worker and
    left too few descriptors to accept with: connections to the ports were shed."""
    from fake_marathon import app, task

    wrapper = tmp_path / "baton-256-fds"
    wrapper.write_text(f'#!/bin/sh\nulimit -n 256\nexec "{baton.bin}" "$@"\n')
    wrapper.chmod(0o755)
    baton.bin = str(wrapper)
    ports = [harness.free_port() for _ in range(110)]
    apps = [app(f"/svc/p{i}", labels={"HAPROXY_GROUP": "external"}, service_ports=(p,),
                tasks=[task(f"/svc/p{i}", ports=(backend.port,), task_id=f"svc_p{i}.t0")])
            for i, p in enumerate(ports)]
    path = tmp_path / "apps.json"
    path.write_text(json.dumps({"apps": apps}))
    e = edge(workers=1, extra=f'\n[marathon]\nurls = ["file:{path}"]\nhttp_port = 0\n'
                              'app_id_port = 0\n')
    e.b.wait_event("discovery")
    # One socket each: nearly all fit (how many exactly depends on what else the process holds).
    served = [p for p in ports if f"port_{p}" in e.b.listeners]
    assert len(served) >= 90, len(served)
    e.workers = 2
    e.b.write_config(e.config())
    e.upgrade()
    for p in served:
        with harness.Client(p) as c:
            assert c.request("GET", "/", host="any").status == 200, p
    # The budget was short for some ports' second socket: they serve on the inherited one only.
    sockets = listening_sockets(e.pid)
    inherited_only = [p for p in served if sockets.get(p) == 1]
    assert inherited_only, sockets
    # All but 20 of those apps go: descriptors come free. The sockets of the ports just removed are still open
    # while this publish is planned (their workers close them after it), so the next publish is
    # the one that gives the ports kept on one socket their second: retried on every publish.
    inherited_only = inherited_only[:20]
    kept = [a for a, p in zip(apps, ports) if p in inherited_only]
    path.write_text(json.dumps({"apps": kept}))
    e.b.wait_event("discovery", where=lambda ev: ev.get("apps") == len(kept))
    extra = app("/svc/extra", labels={"HAPROXY_GROUP": "external"},
                service_ports=(harness.free_port(),),
                tasks=[task("/svc/extra", ports=(backend.port,), task_id="svc_extra.t0")])
    path.write_text(json.dumps({"apps": kept + [extra]}))
    ev = e.b.wait_event("discovery", where=lambda ev: ev.get("apps") == len(kept) + 1)
    assert ev["issues"] == 0, ev
    sockets = listening_sockets(e.pid)
    assert [sockets.get(p) for p in inherited_only] == [2] * len(inherited_only)
    for p in inherited_only:
        with harness.Client(p) as c:
            assert c.request("GET", "/", host="any").status == 200, p


def listening_sockets(pid: int) -> dict[int, int]:
    """Listening TCP sockets of process `pid`, counted by port: the /proc/net/tcp{,6} entries in
    state 0A whose inode is one of its descriptors (other tests' sockets are not counted)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    counts: dict[int, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and fields[9] in inodes:
                port = int(fields[1].rsplit(":", 1)[1], 16)
                counts[port] = counts.get(port, 0) + 1
    return counts
