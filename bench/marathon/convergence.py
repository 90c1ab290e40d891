#!/usr/bin/env python3
"""Convergence: time from a Marathon event to the new route serving traffic.

Runs a fake Marathon (tests/integration/fake_marathon.py), one echo backend and the real baton
on 127.0.0.1. Each round adds an app with a fresh vhost to Marathon's state, emits the
status_update_event Marathon would send, and spins on GET with that Host until baton answers
200 instead of 404. Prints p50/p90/p99/max over ROUNDS rounds.

    BATON_BIN=build/main/baton /usr/bin/python3 bench/marathon/convergence.py [ROUNDS]
"""
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))

import harness  # noqa: E402
from fake_marathon import FakeMarathon, app, task  # noqa: E402


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    backend = harness.Backend("origin")
    apps = []
    marathon = FakeMarathon(apps=apps)
    tmp = tempfile.mkdtemp(prefix="baton-conv-")
    baton = harness.Baton(tmp)
    config = (
        "[marathon]\n"
        f'urls = ["{marathon.url}"]\n'
        f'groups = ["external"]\nbind_address = "127.0.0.1"\nhttp_port = {harness.free_port()}\napp_id_port = 0\n'
        'bind_service_ports = false\nevent_debounce = "1ms"\n'
    )
    baton.start(config, workers=2)
    baton.wait_event("discovery")
    port = baton.port_of("marathon_http")
    samples = []
    try:
        for i in range(rounds):
            app_id = f"/bench/app{i}"
            host = f"app{i}.bench.example.com"
            t = task(app_id, host="127.0.0.1", ports=(backend.port,), task_id=f"bench_app{i}.t0")
            apps.append(app(app_id, labels={"HAPROXY_GROUP": "external", "HAPROXY_0_VHOST": host},
                            tasks=[t], service_ports=(0,)))
            marathon.set_apps(list(apps))
            with harness.Client(port) as c:
                t0 = time.perf_counter()
                marathon.status_update(f"bench_app{i}.t0", app_id, "TASK_RUNNING")
                while True:
                    r = c.request("GET", "/", host=host)
                    if r.status == 200:
                        break
                    if time.perf_counter() - t0 > 5:
                        raise SystemExit(f"round {i}: not routed after 5 s")
                samples.append((time.perf_counter() - t0) * 1000.0)
    finally:
        baton.stop()
        marathon.stop()
        backend.close()
    print(f"convergence over {len(samples)} rounds (event emitted -> first 200), ms:")
    print(f"  p50 {percentile(samples, 50):.2f}  p90 {percentile(samples, 90):.2f}  "
          f"p99 {percentile(samples, 99):.2f}  max {max(samples):.2f}")


if __name__ == "__main__":
    main()
