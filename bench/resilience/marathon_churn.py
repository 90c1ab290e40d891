#!/usr/bin/env python3
"""Scenario "marathon": Marathon changes under wrk load must cost no request.

baton discovers APPS apps from the fake Marathon of the integration tests (real HTTP API and
SSE event stream). Their tasks are real backends: a pool of POOL single-process nginx, so every
host added is live. wrk (keep-alive, every request to the next app's vhost) runs while, every
second for DURATION seconds, CHANGES tasks are added or removed, each one as Marathon does it:
  add:    the task appears in /v2/apps as TASK_RUNNING, then status_update_event TASK_RUNNING;
  remove: status_update_event TASK_KILLING (the task is still listed, state TASK_KILLING; baton
          drains it at once), then KILL_GRACE seconds later the task leaves /v2/apps and
          status_update_event TASK_KILLED is sent. The backend process stays up (a killed
          Marathon task gets SIGTERM and finishes in-flight work), so zero errors are expected.
and once a second a deployment_info / deployment_success pair for the apps that changed.
Each app keeps between MIN_TASKS and POOL tasks; a port is reused only after its task is gone.
With 50 changes a second half of them removals, ~25 tasks are being killed at any time (each
holds its port for KILL_GRACE), hence a pool of 20 backends shared by 5 apps: every app keeps
free ports and running tasks, so each planned change can happen ("skipped" counts those that
could not).

Result: wrk's requests, socket errors and non-2xx, baton's own counters from /metrics (deltas),
changes and events sent, discovery events baton reported.
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid

import common
from common import LOCAL, harness
from fake_marathon import FakeMarathon, app, task

DURATION = common.env_num("MARATHON_DURATION", 60, 5)
CHANGES = int(common.env_num("CHANGES_PER_SECOND", 50, 50))
POOL = int(common.env_num("POOL", 20, 20))
APPS = int(common.env_num("APPS", 5, 5))
MIN_TASKS = 2
KILL_GRACE = common.env_num("KILL_GRACE", 1.0, 1.0)


class Churn:
    """The Marathon state (apps and their tasks) and the changes applied to it; all methods run
    on the churn thread."""

    def __init__(self, m: FakeMarathon, pool: list, rng: random.Random):
        self.m, self.pool, self.rng = m, pool, rng
        self.apps = [{"id": f"/bench/app{i}", "vhost": f"app{i}.bench.example", "sp": harness.free_port(),
                      "tasks": []} for i in range(APPS)]
        self.killing: list[tuple[float, dict, dict]] = []  # (due, app, task)
        self.adds = self.removes = self.events = self.skipped = 0
        self.changed: set = set()
        for a in self.apps:
            for port in rng.sample([b.port for b in pool], min(POOL, MIN_TASKS + 2)):
                a["tasks"].append(self._task(a, port))

    def _task(self, a, port):
        base = a["id"].strip("/").replace("/", "_")
        return task(a["id"], host=LOCAL, ports=(port,), task_id=f"{base}.{uuid.uuid4()}")

    def document(self):
        return [app(a["id"], labels={"HAPROXY_GROUP": "external", "HAPROXY_0_VHOST": a["vhost"]},
                    tasks=a["tasks"], service_ports=(a["sp"],)) for a in self.apps]

    def publish(self):
        self.m.set_apps(self.document())

    def status(self, a, t, state):
        self.m.status_update(t["id"], a["id"], state, host=LOCAL, ports=t["ports"])
        self.events += 1

    def change(self):
        # An app where a change is possible: a free port to add on, or a task above MIN_TASKS to
        # kill (ports of tasks still being killed are not free yet).
        for a in self.rng.sample(self.apps, len(self.apps)):
            used = {t["ports"][0] for t in a["tasks"]}
            free = [b.port for b in self.pool if b.port not in used]
            running = [t for t in a["tasks"] if t["state"] == "TASK_RUNNING"]
            if free or len(running) > MIN_TASKS:
                break
        else:
            self.skipped += 1  # every app at MIN_TASKS with its other ports still being killed
            return
        add = bool(free) and (len(running) <= MIN_TASKS or self.rng.random() < 0.5)
        if add:
            t = self._task(a, self.rng.choice(free))
            a["tasks"].append(t)
            self.publish()
            self.status(a, t, "TASK_RUNNING")
            self.adds += 1
        else:
            t = self.rng.choice(running)
            t["state"] = "TASK_KILLING"
            self.publish()
            self.status(a, t, "TASK_KILLING")
            self.killing.append((time.monotonic() + KILL_GRACE, a, t))
            self.removes += 1
        self.changed.add(a["id"])

    def finish_kills(self, now):
        due = [k for k in self.killing if k[0] <= now]
        if not due:
            return
        self.killing = [k for k in self.killing if k[0] > now]
        for _, a, t in due:
            a["tasks"].remove(t)
        self.publish()
        for _, a, t in due:
            self.status(a, t, "TASK_KILLED")

    def deployments(self):
        """Marathon runs a deployment per scaled app: deployment_info, then deployment_success."""
        if not self.changed:
            return
        plan = {"id": str(uuid.uuid4()), "version": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                "steps": [{"actions": [{"action": "ScaleApplication", "app": i} for i in sorted(self.changed)]}]}
        self.m.emit("deployment_info", {"plan": plan, "currentStep": plan["steps"][0]})
        self.m.emit("deployment_success", {"id": plan["id"], "plan": plan})
        self.events += 2
        self.changed.clear()

    def run(self, seconds, stop: threading.Event):
        t0 = time.monotonic()
        for s in range(int(seconds)):
            for k in range(CHANGES):
                due = t0 + s + k / CHANGES
                if stop.wait(max(0.0, due - time.monotonic())):
                    return
                self.finish_kills(time.monotonic())
                self.change()
            self.deployments()
        # Let the last kills complete as Marathon would.
        while self.killing and not stop.wait(0.05):
            self.finish_kills(time.monotonic())


def drain_events(baton: harness.Baton, seen: dict, stop: threading.Event):
    """Reads baton's --ready-fd lines (the pipe must not fill up) and counts discovery events."""
    while not stop.is_set():
        try:
            ev = baton.next_event(timeout=0.5)
        except AssertionError:
            if baton.proc.poll() is not None:
                return
            continue
        except (OSError, ValueError):
            return  # the fd was closed by baton.stop()
        if ev.get("event") == "discovery":
            seen["discovery"] = seen.get("discovery", 0) + 1
            seen["last"] = {k: ev.get(k) for k in ("apps", "tasks", "issues")}


def main():
    common.on_signals_exit()
    work = common.workdir("marathon")
    load0 = common.load()
    pool, m, baton = [], None, None
    stop = threading.Event()
    try:
        pool = [common.NginxBackend(work, f"b{i}") for i in range(POOL)]
        m = FakeMarathon()
        churn = Churn(m, pool, random.Random(int(os.environ.get("SEED", "8"))))
        churn.publish()
        config = (
            "[marathon]\n"
            f'urls = ["{m.url}"]\ngroups = ["external"]\nbind_address = "{LOCAL}"\n'
            f"http_port = {harness.free_port()}\napp_id_port = 0\nbind_service_ports = false\n"
            "[server.access_log]\npath = \"off\"\n" + common.admin_config(work))
        baton = common.start_baton(work, config)
        baton.wait_event("discovery")
        m.wait_streams(1)
        admin_port = baton.admin[1]
        port = baton.port_of("marathon_http")
        seen: dict = {}
        reader = threading.Thread(target=drain_events, args=(baton, seen, stop), daemon=True)
        reader.start()
        before = common.metrics(admin_port)
        hosts = [a["vhost"] for a in churn.apps]
        # wrk runs 1 s before the churn starts and ~2 s after it ends (the last kills complete).
        wrk = common.Wrk(f"http://{LOCAL}:{port}/", DURATION + 2 + KILL_GRACE, work, "marathon", hosts=hosts)
        time.sleep(1)
        churn_t0 = time.monotonic()
        churn.run(DURATION, stop)
        churn_s = time.monotonic() - churn_t0
        w = wrk.result()
        after = common.metrics(admin_port)
        stop.set()
        reader.join(2)
        result = {
            "scenario": "marathon", "duration_s": DURATION, "changes_per_s": CHANGES, "apps": APPS,
            "pool": POOL, "changes": churn.adds + churn.removes, "adds": churn.adds,
            "removes": churn.removes, "skipped": churn.skipped, "events_sent": churn.events, "churn_s": round(churn_s, 1),
            "discovery_events": seen.get("discovery", 0), "last_discovery": seen.get("last"),
            "requests": w["requests"], "rps": w["rps"], "socket_errors": w["socket_errors"],
            "connect": w["connect"], "read": w["read"], "write": w["write"], "timeout": w["timeout"],
            "non2xx": w["non2xx"], "p99_ms": round(w["p99_us"] / 1000, 2),
            "baton_alive": baton.proc.poll() is None, "load_before": load0, "load_after": common.load(),
            "wrk": f"wrk -t{common.THREADS} -c{common.CONNECTIONS} -d{int(round(DURATION + 2 + KILL_GRACE))}s "
                   "(keep-alive, Host rotating over the apps)",
        }
        result.update(common.baton_counters(before, after))
        result["pass"] = (result["socket_errors"] == 0 and result["non2xx"] == 0 and result["requests"] > 0
                          and result["baton_alive"])
        common.emit(result)
    finally:
        stop.set()
        if baton is not None:
            baton.stop()
        if m is not None:
            m.stop()
        for b in pool:
            b.close()
        common.stop_all()
        common.remove_work(work)


if __name__ == "__main__":
    main()
