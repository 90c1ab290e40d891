"""N baton instances against one fake Marathon, as marathon-lb runs at the edge (issue 10).

Each instance is its own process with its own ports and its own state directory; they share
nothing but the fake Marathon (no store, no talking to each other), exactly as baton instances on
different public agents behind DNS round-robin or an L4 balancer.

    from multi_instance import MultiBaton, multi_baton   # multi_baton is a pytest fixture
    from fake_marathon import FakeMarathon

    m = FakeMarathon(apps=[...])
    mb = MultiBaton(m, tmp_path, n=3, extra="[pinning]\\ngrace = \\"2s\\"\\n").start()
    mb[0].baton.port_of("marathon_http")      # one instance's vhost port (also mb[0].http_port)
    mb.ports()                                # [http_port of each instance]
    mb.client(1)                              # harness.Client to instance 1's vhost listener
    mb.ask(2, "show groups json")             # admin socket line protocol of instance 2
    mb[0].admin                               # (host, port) of instance 0's admin HTTP listener
    mb.publish(apps)                          # set_apps + api_post_event; waits for every
                                              # instance's `discovery` event (returns per-instance
                                              # monotonic arrival times)
    mb.self_app("/baton")                     # a Marathon app whose tasks ARE the instances
                                              # (ports: vhost, admin HTTP), for batonctl --all
    mb.restart(1)                             # stop + start instance 1 (same ports and dir)
    mb.stop()                                 # SIGTERM all; asserts every exit code is 0

Per instance (Instance): .index, .name ("baton0"...), .dir (its state dir, holding baton.toml,
stderr/stdout, state.json = [marathon] state_file, access.json), .sock (admin UNIX socket, in a
short /tmp dir: a UNIX path must stay <108 bytes), .http_port, .baton (harness.Baton), .task_id
(its id in self_app()).

Config written for each instance (everything else is the caller's `extra`, text or a function of
the Instance, appended verbatim after these tables):

    [marathon]  urls, groups ["external"], bind_address 127.0.0.1, http_port <own free port>,
                app_id_port 0, bind_service_ports false (service ports are the same for every
                instance: on one machine only one could bind them), event_debounce 5ms,
                resync_interval 300s, health_check <arg>, state_file <dir>/state.json
    [server]    workers <arg>
    [admin]     socket <own>, http "127.0.0.1:0" (its address from the ready event), token <arg>

Waits are on events (each instance's --ready-fd stream, several fds at once with select), never
sleeps. Stdlib only; runs on the pytest thread.
"""

from __future__ import annotations

import os
import select
import shutil
import tempfile
import time
from typing import Callable

import pytest

import harness
from harness import LOCAL, free_port


class Instance:
    """One baton of the set."""

    def __init__(self, index: int, root: str, binary: str | None):
        self.index = index
        self.name = f"baton{index}"
        self.dir = os.path.join(root, self.name)
        os.makedirs(self.dir, exist_ok=True)
        self.sock_dir = tempfile.mkdtemp(prefix=f"mb{index}-")
        self.sock = os.path.join(self.sock_dir, "admin.sock")
        self.state_file = os.path.join(self.dir, "state.json")
        self.access_log = os.path.join(self.dir, "access.json")
        self.http_port = free_port()
        self.task_id = f"baton.instance{index}"
        self.baton = harness.Baton(self.dir, binary=binary)

    @property
    def admin(self) -> tuple[str, int] | None:
        """(host, port) of the admin HTTP listener, known once started."""
        return self.baton.admin

    def client(self, timeout: float = harness.TIMEOUT) -> harness.Client:
        return self.baton.client("marathon_http", timeout=timeout)

    def ask(self, line: str) -> str:
        from test_admin_socket import ask  # late: test modules import this one

        return ask(self.sock, line)

    def access_entries(self) -> list[dict]:
        """The JSON access-log lines written so far (format = "json" in the caller's extra)."""
        import json

        try:
            with open(self.access_log, "rb") as f:
                return [json.loads(x) for x in f.read().decode().splitlines() if x.strip()]
        except OSError:
            return []


class MultiBaton:
    """N batons against one (fake) Marathon. See the module docstring."""

    def __init__(self, marathon, tmp_path, n: int = 3, extra: str | Callable[[Instance], str] = "",
                 workers: int = 1, health_check: bool = True, token: str = "multi-token",
                 binary: str | None = None, marathon_extra: dict | None = None):
        self.m = marathon
        self.n = n
        self.extra = extra
        self.workers = workers
        self.health_check = health_check
        self.token = token
        self.marathon_extra = dict(marathon_extra or {})
        self.instances = [Instance(i, str(tmp_path), binary) for i in range(n)]

    # ---- access ----
    def __getitem__(self, i: int) -> Instance:
        return self.instances[i]

    def __iter__(self):
        return iter(self.instances)

    def __len__(self) -> int:
        return self.n

    def ports(self) -> list[int]:
        return [i.http_port for i in self.instances]

    def client(self, i: int, timeout: float = harness.TIMEOUT) -> harness.Client:
        return self.instances[i].client(timeout)

    def ask(self, i: int, line: str) -> str:
        return self.instances[i].ask(line)

    # ---- config ----
    def config(self, inst: Instance) -> str:
        marathon = {
            "urls": [self.m.url], "groups": ["external"], "bind_address": LOCAL,
            "http_port": inst.http_port, "app_id_port": 0, "bind_service_ports": False,
            "event_debounce": "5ms", "resync_interval": "300s", "health_check": self.health_check,
            "state_file": inst.state_file,
        }
        marathon.update(self.marathon_extra)
        lines = ["[marathon]"] + [f"{k} = {harness.toml_value(v)}" for k, v in marathon.items()]
        lines += ["[server]", f"workers = {self.workers}"]
        lines += ["[admin]", f"socket = {harness.toml_value(inst.sock)}", 'http = "127.0.0.1:0"']
        if self.token:
            lines.append(f"token = {harness.toml_value(self.token)}")
        extra = self.extra(inst) if callable(self.extra) else self.extra
        return "\n".join(lines) + "\n" + extra

    # ---- lifecycle ----
    def start(self, timeout: float = 10.0) -> "MultiBaton":
        """Starts every instance; returns once each has published its first Marathon state and
        holds an event stream (so later events reach all of them)."""
        for inst in self.instances:
            inst.baton.start(self.config(inst), workers=self.workers)
        for inst in self.instances:
            inst.baton.wait_event("discovery", timeout=timeout)
        self.m.wait_streams(self.n, timeout=timeout)
        return self

    def restart(self, i: int, timeout: float = 10.0) -> Instance:
        """Stops instance i (SIGTERM, asserting exit 0) and starts it again with the same config,
        ports and state dir; returns once it published its first Marathon state and holds an
        event stream again. What it kept in memory (learned maps, local marks) is gone."""
        inst = self.instances[i]
        rc = inst.baton.stop()
        assert rc == 0, f"{inst.name} exited {rc}; stderr:\n{inst.baton.stderr()[-2000:]}"
        since = len(self.m.requests)
        inst.baton = harness.Baton(inst.dir, binary=inst.baton.bin)
        inst.baton.start(self.config(inst), workers=self.workers)
        inst.baton.wait_event("discovery", timeout=timeout)
        # Subscribed again (baton resyncs once the stream is up, so nothing emitted meanwhile is
        # lost for good).
        self.m.wait_for_request("/v2/events", timeout, since=since)
        return inst

    def stop(self) -> list[int]:
        """SIGTERM every running instance; asserts each exited 0. Returns the exit codes."""
        rcs = []
        for inst in self.instances:
            rcs.append(inst.baton.stop() if inst.baton.proc is not None else 0)
        for inst in self.instances:
            shutil.rmtree(inst.sock_dir, ignore_errors=True)
        bad = [(inst.name, rc, inst.baton.stderr()[-2000:]) for inst, rc in zip(self.instances, rcs) if rc != 0]
        assert not bad, f"baton instances exited non-zero: {bad}"
        return rcs

    # ---- Marathon changes ----
    def publish(self, apps, wait: bool = True, timeout: float = 10.0, event: str = "discovery",
                which=None) -> list[float]:
        """Sets the fake Marathon's apps and emits one api_post_event. With wait, blocks until
        every instance (or those in `which`) reports `event`, and returns time.monotonic() at
        which each instance's report was read (index order; skew between instances = their
        spread; the first entry of the result's base is the emit time: see last_emit)."""
        self.m.set_apps(apps)
        self.last_emit = time.monotonic()
        self.m.emit("api_post_event", {"clientIp": LOCAL, "uri": "/v2/apps"})
        if not wait:
            return []
        return self.wait_all(event, timeout=timeout, which=which)

    def wait_all(self, event: str = "discovery", timeout: float = 10.0, which=None, where=None) -> list[float]:
        """Waits (select over every instance's ready fd at once, so arrival times are exact to
        the loop) until each instance in `which` (default all) reported `event` matching
        `where(ev)`. Returns the monotonic arrival time per instance (None for those not waited)."""
        idx = list(range(self.n)) if which is None else list(which)
        got: dict[int, float] = {}
        deadline = time.monotonic() + timeout
        while len(got) < len(idx):
            # Drain whatever is already buffered first (an earlier read may hold several lines).
            progressed = False
            for i in idx:
                if i in got:
                    continue
                b = self.instances[i].baton
                while b"\n" in b._buf:
                    ev = b.next_event(0.1)
                    if ev.get("event") in ("reloaded", "discovery"):
                        b.generation = ev.get("generation", b.generation)
                        b._take_listeners(ev)
                    if ev.get("event") == event and (where is None or where(ev)):
                        got[i] = time.monotonic()
                        progressed = True
                        break
            if progressed or len(got) == len(idx):
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                missing = [self.instances[i].name for i in idx if i not in got]
                raise AssertionError(f"no {event} event within {timeout}s from {missing}")
            fds = {self.instances[i].baton._rfd: i for i in idx if i not in got}
            ready, _, _ = select.select(list(fds), [], [], left)
            for fd in ready:
                b = self.instances[fds[fd]].baton
                data = os.read(fd, 65536)
                if not data:
                    raise AssertionError(f"{self.instances[fds[fd]].name} closed its ready fd; stderr:\n"
                                         f"{b.stderr()[-3000:]}")
                b._buf += data
        return [got.get(i) for i in range(self.n)]

    def self_app(self, app_id: str = "/baton", labels: dict | None = None) -> dict:
        """A Marathon app whose tasks are these instances (host 127.0.0.1, ports = [vhost port,
        admin HTTP port]), not in group "external" (baton must not route to itself), so
        `batonctl --all --self-app /baton` can find every instance from Marathon."""
        from fake_marathon import app, task

        ts = [task(app_id, host=LOCAL, ports=(inst.http_port, inst.admin[1] if inst.admin else 0),
                   task_id=inst.task_id) for inst in self.instances]
        return app(app_id, labels=dict(labels or {}), tasks=ts, service_ports=(free_port(), free_port()))


@pytest.fixture
def multi_baton(tmp_path):
    """Factory: multi_baton(marathon, n=3, **MultiBaton kwargs) -> an unstarted MultiBaton;
    every one made is stopped after the test (asserting clean exits)."""
    made: list[MultiBaton] = []

    def make(marathon, n: int = 3, **kw) -> MultiBaton:
        mb = MultiBaton(marathon, os.path.join(str(tmp_path), f"set{len(made)}"), n=n, **kw)
        made.append(mb)
        return mb

    yield make
    for mb in made:
        mb.stop()
