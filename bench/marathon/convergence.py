#!/usr/bin/env python3
"""Convergence: time from a Marathon event to the new route serving traffic.

Runs a fake Marathon (tests/integration/fake_marathon.py), one echo backend and the real baton
on 127.0.0.1. Each round adds an app with a fresh vhost to Marathon's state, emits the
status_update_event Marathon would send, and spins on GET with that Host until baton answers
200 instead of 404. Prints p50/p90/p99/max over ROUNDS rounds.

The fake Marathon runs in a process of its own, with its apps document rendered before the
event (a real Marathon answers from memory): in this process its threads would wait for the
GIL behind the spinning client, and the rounds would time Python, not baton.

    BATON_BIN=build/main/baton /usr/bin/python3 bench/marathon/convergence.py [ROUNDS]
"""
import multiprocessing
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


def _next_command(conn):
    try:
        return conn.recv()
    except EOFError:
        return None


def serve_marathon(conn, parent_end):
    """The fake Marathon's process: per command (app, task id), add the app, render the
    document, emit the task's status_update_event and answer when it was emitted. Ends on None
    or when the parent is gone (EOF)."""
    parent_end.close()  # inherited by the fork: closed, so the parent's exit reads as EOF here
    apps = []
    marathon = FakeMarathon(apps=apps)
    conn.send(marathon.url)
    try:
        while (command := _next_command(conn)) is not None:
            new_app, task_id = command
            apps.append(new_app)
            marathon.set_apps(apps)
            marathon.apps_document()
            emitted = time.perf_counter()  # CLOCK_MONOTONIC: comparable across processes
            marathon.status_update(task_id, new_app["id"], "TASK_RUNNING")
            conn.send(emitted)
    finally:
        marathon.stop()


def answer(control, what: str):
    """The fake Marathon's next answer; fails (instead of waiting forever) if it died."""
    if not control.poll(10):
        raise SystemExit(f"the fake Marathon did not answer ({what}) within 10 s")
    return control.recv()


def measure(control, marathon_url: str, rounds: int) -> list[float]:
    samples = []
    backend = harness.Backend("origin")
    baton = harness.Baton(tempfile.mkdtemp(prefix="baton-conv-"))
    try:
        config = (
            "[marathon]\n"
            f'urls = ["{marathon_url}"]\n'
            f'groups = ["external"]\nbind_address = "127.0.0.1"\nhttp_port = {harness.free_port()}\napp_id_port = 0\n'
            'bind_service_ports = false\nevent_debounce = "1ms"\n'
        )
        baton.start(config, workers=2)
        baton.wait_event("discovery")
        port = baton.port_of("marathon_http")
        for i in range(rounds):
            app_id = f"/bench/app{i}"
            host = f"app{i}.bench.example.com"
            t = task(app_id, host="127.0.0.1", ports=(backend.port,), task_id=f"bench_app{i}.t0")
            new_app = app(app_id, labels={"HAPROXY_GROUP": "external", "HAPROXY_0_VHOST": host},
                          tasks=[t], service_ports=(0,))
            with harness.Client(port) as c:
                control.send((new_app, f"bench_app{i}.t0"))
                t0 = answer(control, f"round {i}")
                while True:
                    r = c.request("GET", "/", host=host)
                    if r.status == 200:
                        break
                    if time.perf_counter() - t0 > 5:
                        raise SystemExit(f"round {i}: not routed after 5 s")
                samples.append((time.perf_counter() - t0) * 1000.0)
    finally:
        try:
            baton.stop()
        finally:
            backend.close()
    return samples


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    # Forked before this process starts any thread. A daemon: it never outlives this process.
    ctx = multiprocessing.get_context("fork")
    control, child_end = ctx.Pipe()
    child = ctx.Process(target=serve_marathon, args=(child_end, control), daemon=True)
    child.start()
    child_end.close()  # the child's end: closed here, so a dead child reads as EOF, not silence
    try:
        samples = measure(control, answer(control, "its URL"), rounds)
    finally:
        try:
            control.send(None)
        except OSError:
            pass  # it is gone already
        child.join(10)
        if child.is_alive():
            child.terminate()
    print(f"convergence over {len(samples)} rounds (event emitted -> first 200), ms:")
    print(f"  p50 {percentile(samples, 50):.2f}  p90 {percentile(samples, 90):.2f}  "
          f"p99 {percentile(samples, 99):.2f}  max {max(samples):.2f}")


if __name__ == "__main__":
    main()
