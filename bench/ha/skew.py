#!/usr/bin/env python3
"""Convergence skew between baton instances (issue 10 §4, README "Several instances").

Three baton instances (tests/integration/multi_instance.py: own ports, own state dir, one fake
Marathon, as marathon-lb runs on several public agents) follow the same Marathon. Each round
changes Marathon's state (a new app with one task, alternately a task moved to another port) and
emits one api_post_event; every instance resyncs and reports `discovery` on its --ready-fd once
every worker serves the new snapshot. The harness reads all three fds with one select(), so each
arrival time is when that instance applied the change.

Per round: skew = last arrival - first arrival (how far apart two instances route differently),
latency = arrival - emit (event -> route, per instance). Prints p50/p90/p99/max of both over
ROUNDS rounds, and PASS/FAIL against the single-instance convergence target (p99 < 50 ms,
bench/RESULTS.md "Marathon discovery").

    BATON_BIN=build/main/baton /usr/bin/python3 bench/ha/skew.py [ROUNDS]     (default 200)
    env: INSTANCES (3), WORKERS (1)
"""
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))

import harness  # noqa: E402
from fake_marathon import FakeMarathon, app, task  # noqa: E402
from multi_instance import MultiBaton  # noqa: E402

TARGET_MS = 50.0


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def summary(name, values):
    ms = [v * 1000.0 for v in values]
    return (f"{name:<31} p50 {percentile(ms, 50):7.2f} ms  p90 {percentile(ms, 90):7.2f} ms  "
            f"p99 {percentile(ms, 99):7.2f} ms  max {max(ms):7.2f} ms")


def web(i, port):
    app_id = f"/skew/app{i}"
    labels = {"HAPROXY_GROUP": "external", "HAPROXY_0_VHOST": f"app{i}.example.com"}
    ts = [task(app_id, host=harness.LOCAL, ports=(port,), task_id=f"skew_app{i}.t0")]
    return app(app_id, labels=labels, tasks=ts, service_ports=(20000 + i,))


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    n = int(os.environ.get("INSTANCES", "3"))
    workers = int(os.environ.get("WORKERS", "1"))
    backend = harness.Backend("origin")
    apps = [web(0, backend.port)]
    marathon = FakeMarathon(apps=apps)
    tmp = tempfile.mkdtemp(prefix="baton-skew-")
    mb = MultiBaton(marathon, tmp, n=n, workers=workers, health_check=False,
                    marathon_extra={"event_debounce": "1ms"}).start()
    moves = (harness.free_port(), harness.free_port())  # app0's task alternates between these
    skews, latencies = [], []
    try:
        for r in range(rounds):
            if r % 2 == 0:
                apps.append(web(len(apps), backend.port))
            else:  # move the first app's task: a change to an existing cluster
                apps[0] = web(0, moves[(r // 2) % 2])
            arrivals = mb.publish(list(apps))
            skews.append(max(arrivals) - min(arrivals))
            latencies.extend(a - mb.last_emit for a in arrivals)
    finally:
        mb.stop()
        marathon.stop()
        backend.close()
    print(f"{n} instances, {workers} worker(s) each, {rounds} Marathon changes "
          f"(document grows to {len(apps)} apps)")
    print(summary("skew between instances", skews))
    print(summary("event -> applied, per instance", latencies))
    p99 = percentile(skews, 99) * 1000.0
    verdict = "PASS" if p99 < TARGET_MS else "FAIL"
    print(f"skew p99 {p99:.2f} ms vs target < {TARGET_MS:.0f} ms (single-instance convergence p99): {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
