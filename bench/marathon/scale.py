#!/usr/bin/env python3
"""Scale: 10,000 apps / 100,000 tasks from one Marathon document.

Measures, on the real baton binary with the file source (the same JSON as Marathon's
GET /v2/apps?embed=apps.tasks):
  1. resync cost: file replaced -> `discovery` event (read + parse + validate + translate + merge +
     build + publish to every worker), and the parse/translate/build split baton reports; also
     the CPU time per resync of the control thread (read + merge + build + publish; from /proc
     schedstat) and of all of baton's threads (with the resync thread's parse and translate),
     the figures that stay meaningful when other processes share the CPUs (wall times then
     include waiting for a core);
  2. memory: baton's RSS with the whole state loaded;
  3. the data path while resyncs run every second (the file replaced a second after the last
     time, or as soon as that resync was applied if it took longer): wrk req/s on one app, idle
     vs under resyncs (ROUNDS interleaved rounds, medians), and how long the resyncs took under
     that load. The app's backend is nginx
     (one worker) in a process of its own, and a "decoy" run writes the same documents every
     second where baton does not look: this script writing 37.5 MB a second is the rig's own load
     on the 2 cores, and busy/decoy is baton's share of the drop. (Until 2026-11-27 14:30 the
     backend was the Python test origin, in this process: it set the data path's req/s, ~5k, and
     stalled on the GIL while this script wrote each document.)

    BATON_BIN=build/main/baton /usr/bin/python3 bench/marathon/scale.py
    APPS=10000 TASKS_PER_APP=10 SERVICE_PORTS=1 DURATION=10 ROUNDS=3 REST=12 ACTIVE_CHECKS=0
    CHURN=every ... (defaults shown; DURATION=0 skips the data-path part)

ACTIVE_CHECKS=0 labels every app BATON_0_HEALTH_CHECK=off: since issue 8 baton probes an app's
Marathon health check itself (on its health thread); ACTIVE_CHECKS=1 keeps the checks, whose
100,000 targets then count in the memory figures (the tasks' 127.x addresses refuse at once).
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))

import harness  # noqa: E402
sys.path.insert(0, os.path.join(HERE, "..", "resilience"))
from common import NginxBackend  # noqa: E402  (one single-process nginx answering 200 to "/")

APPS = int(os.environ.get("APPS", "10000"))
TASKS = int(os.environ.get("TASKS_PER_APP", "10"))
SERVICE_PORTS = os.environ.get("SERVICE_PORTS", "1") == "1"
DURATION = int(os.environ.get("DURATION", "10"))
REST = float(os.environ.get("REST", "12"))  # seconds to wait before the "RSS at rest" figure
ACTIVE_CHECKS = os.environ.get("ACTIVE_CHECKS", "0") == "1"
# What the resync every second during the data-path run changes: "every" task (the worst case)
# or "one" app (the common case: a scale or a deploy).
CHURN = os.environ.get("CHURN", "every")
ROUNDS = int(os.environ.get("ROUNDS", "3"))  # data-path rounds of idle, decoy and busy runs


def document(backend_port: int, generation: int, only_app: int | None = None) -> str:
    """Every task id carries `generation` (a resync where every task changed), or only
    `only_app`'s do (the common case: one app scaled or redeployed)."""
    apps = []
    checked = f"2026-01-01T00:{generation % 60:02d}:00.000Z"
    for i in range(APPS):
        app_id = f"/team{i % 100}/app{i}"
        tasks = []
        for t in range(TASKS):
            if i == 0:
                host, port = "127.0.0.1", backend_port  # the one app wrk talks to
            else:
                # Loopback addresses nothing listens on (127.0.0.0/8 is all loopback on Linux):
                # with ACTIVE_CHECKS=1 the probes are refused at once and nothing leaves the box.
                host, port = f"127.{1 + ((i >> 8) & 255)}.{i & 255}.{t + 1}", 31000 + t
            tasks.append({
                "id": f"team{i % 100}_app{i}.{generation if only_app in (None, i) else 0}-{t}",
                "appId": app_id, "host": host,
                "ports": [port], "state": "TASK_RUNNING", "version": "2026-01-01T00:00:00.000Z",
                "startedAt": "2026-01-01T00:00:01.000Z", "slaveId": f"agent-{t}",
                # Marathon rewrites lastSuccess on every check: every document differs in every
                # task, even when only one app changed.
                "healthCheckResults": [{"alive": True, "consecutiveFailures": 0,
                                        "lastSuccess": checked}],
            })
        labels = {"HAPROXY_GROUP": "external", "HAPROXY_0_VHOST": f"app{i}.example.com"}
        if not ACTIVE_CHECKS:
            labels["BATON_0_HEALTH_CHECK"] = "off"
        apps.append({
            "id": app_id, "instances": TASKS, "networks": [{"mode": "host"}],
            "portDefinitions": [{"port": 10000 + i, "protocol": "tcp", "name": "http"}],
            "labels": labels,
            "healthChecks": [{"protocol": "HTTP", "path": "/health", "portIndex": 0}],
            "version": "2026-01-01T00:00:00.000Z", "tasks": tasks,
        })
    return json.dumps({"apps": apps})


def status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def control_cpu_ms(pid: int) -> float:
    """CPU time the control thread (baton's main thread) has used so far, in ms."""
    with open(f"/proc/{pid}/task/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e6


def process_cpu_ms(pid: int) -> float:
    """CPU time every thread of baton has used so far (exited ones too: the resync thread's
    parse and translate helpers), in ms; 10 ms resolution."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def resyncs(baton, path: str, docs: list, label: str) -> None:
    """Six resyncs alternating `docs`; prints each, then the medians of wall and CPU time."""
    walls, cpus, all_cpus, phases = [], [], [], []
    for g in range(6):
        cpu0, all0 = control_cpu_ms(baton.proc.pid), process_cpu_ms(baton.proc.pid)
        t0 = time.perf_counter()
        replace(path, docs[g % len(docs)])
        ev = baton.wait_event("discovery", timeout=300)
        walls.append((time.perf_counter() - t0) * 1000)
        cpus.append(control_cpu_ms(baton.proc.pid) - cpu0)
        all_cpus.append(process_cpu_ms(baton.proc.pid) - all0)
        phases.append(sum(float(ev.get(k) or 0) for k in ("parse_ms", "translate_ms", "build_ms")))
        print(f"{label} {g}: {walls[-1]:.0f} ms, CPU: control thread {cpus[-1]:.0f} ms, all "
              f"threads {all_cpus[-1]:.0f} ms (parse {ev.get('parse_ms')} ms, translate "
              f"{ev.get('translate_ms')} ms, build+publish {ev.get('build_ms')} ms)", flush=True)
    print(f"{label}: resync median {sorted(walls)[len(walls) // 2]:.0f} ms, CPU median: control "
          f"thread {sorted(cpus)[len(cpus) // 2]:.0f} ms, all threads "
          f"{sorted(all_cpus)[len(all_cpus) // 2]:.0f} ms; baton's parse + translate + build "
          f"median {sorted(phases)[len(phases) // 2]:.0f} ms; RSS {baton.rss_kib() / 1024:.1f} MiB",
          flush=True)


def replace(path: str, text: str | bytes) -> None:
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(text if isinstance(text, bytes) else text.encode())
    os.replace(tmp, path)


def wrk(port: int, seconds: int) -> tuple[float, float]:
    """req/s and the 99th percentile latency in ms."""
    out = subprocess.run(["wrk", "-t1", "-c32", f"-d{seconds}s", "--latency", "-H",
                          "Host: app0.example.com", f"http://127.0.0.1:{port}/"],
                         capture_output=True, text=True).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return (float(m.group(1)) if m else 0.0,
            float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"))


def main():
    tmp = tempfile.mkdtemp(prefix="baton-scale-")
    # In a process of its own: not a thread of this script, whose GIL the document writes hold.
    backend = NginxBackend(tmp, "origin")
    path = os.path.join(tmp, "apps.json")
    docs = [document(backend.port, g) for g in range(2)]
    print(f"document: {APPS} apps, {APPS * TASKS} tasks, {len(docs[0]) / 1e6:.1f} MB")
    replace(path, docs[0])
    baton = harness.Baton(tmp)
    config = (
        "[marathon]\n"
        f'urls = ["file:{path}"]\n'
        f'groups = ["external"]\nbind_address = "127.0.0.1"\nhttp_port = {harness.free_port()}\napp_id_port = 0\n'
        f"bind_service_ports = {'true' if SERVICE_PORTS else 'false'}\nhealth_check = true\n"
    )
    t0 = time.perf_counter()
    baton.start(config, workers=2)
    ev = baton.wait_event("discovery", timeout=300)
    print(f"first load (start -> discovery event): {(time.perf_counter() - t0) * 1000:.0f} ms; "
          f"baton reports {json.dumps({k: ev.get(k) for k in ('parse_ms', 'translate_ms', 'build_ms')})}")
    print(f"listeners open: {len(baton.listeners)}; RSS {baton.rss_kib() / 1024:.1f} MiB")
    print(f"baton pid {baton.proc.pid}", flush=True)
    resyncs(baton, path, [docs[1], docs[0]], "every task changed")
    # The common case: one app changed (scaled, redeployed); unchanged clusters are reused.
    resyncs(baton, path, [document(backend.port, g, only_app=7) for g in (2, 3)], "one app changed")
    # jemalloc returns freed pages to the kernel over dirty_decay_ms (10 s by default): RSS right
    # after a resync counts the previous state's pages too; at rest it is the live state.
    time.sleep(REST)
    print(f"RSS at rest ({REST:.0f} s after the last resync) {baton.rss_kib() / 1024:.1f} MiB; "
          f"peak (VmHWM) {status_kib(baton.proc.pid, 'VmHWM') / 1024:.1f} MiB", flush=True)
    if DURATION == 0:
        baton.stop()
        backend.close()
        return

    port = baton.port_of("marathon_http")
    churn_docs = docs if CHURN == "every" else [document(backend.port, g, only_app=7) for g in (4, 5)]
    churn_docs = [d.encode() for d in churn_docs]
    decoy = os.path.join(tmp, "decoy", "apps.json")  # a directory baton does not watch
    os.makedirs(os.path.dirname(decoy))
    applied = []  # seconds from each file replacement to its `discovery` event, under load
    # Documents written to each target so far, across runs: each write differs from the one
    # before, or baton (nothing changed) would send no `discovery` event to wait for.
    written = {path: 0, decoy: 0}

    def under_churn(target: str) -> tuple[float, float]:
        """wrk's req/s while `target` is replaced every second (or as soon as baton applied it,
        when it took longer: `target` is the watched file)."""
        stop = threading.Event()

        def churn():
            while not stop.is_set():
                t0 = time.perf_counter()
                replace(target, churn_docs[written[target] % 2])
                written[target] += 1
                if target == path:
                    baton.wait_event("discovery", timeout=60)
                    applied.append(time.perf_counter() - t0)
                stop.wait(max(0.0, 1.0 - (time.perf_counter() - t0)))

        t = threading.Thread(target=churn, daemon=True)
        t.start()
        rate = wrk(port, DURATION)
        stop.set()
        t.join()
        return rate

    # Interleaved rounds, the order rotating each round: this VM's speed drifts within a minute,
    # so one run of each (the figure before 2026-11-27 16:00) spread 0.7-1.1x on the same binary.
    rates = {"idle": [], "decoy": [], "busy": []}
    p99s = {"idle": [], "decoy": [], "busy": []}
    runs = {"idle": lambda: wrk(port, DURATION), "decoy": lambda: under_churn(decoy),
            "busy": lambda: under_churn(path)}
    order = list(runs)
    for r in range(ROUNDS):
        for kind in order[r % 3:] + order[:r % 3]:
            rate, p99 = runs[kind]()
            rates[kind].append(rate)
            p99s[kind].append(p99)
        print(f"round {r}: idle {rates['idle'][-1]:.0f}, decoy {rates['decoy'][-1]:.0f}, "
              f"busy {rates['busy'][-1]:.0f} req/s ({rates['busy'][-1] / rates['idle'][-1]:.2f}x "
              f"idle); p99 {p99s['idle'][-1]:.2f} / {p99s['decoy'][-1]:.2f} / "
              f"{p99s['busy'][-1]:.2f} ms", flush=True)
    idle, decoyed, busy = (statistics.median(rates[k]) for k in ("idle", "decoy", "busy"))
    to_idle = statistics.median(b / i for b, i in zip(rates["busy"], rates["idle"]))
    to_decoy = statistics.median(b / d for b, d in zip(rates["busy"], rates["decoy"]))
    print(f"data path, median of {ROUNDS} rounds: idle {idle:.0f} req/s, the same documents written "
          f"every second where baton does not look {decoyed:.0f} req/s, with a resync every second "
          f"({CHURN} changed) {busy:.0f} req/s; per-round ratio median {to_idle:.2f}x idle, "
          f"{to_decoy:.2f}x decoy; p99 latency median idle "
          f"{statistics.median(p99s['idle']):.2f} ms, decoy {statistics.median(p99s['decoy']):.2f} "
          f"ms, busy {statistics.median(p99s['busy']):.2f} ms")
    ms = sorted(a * 1000 for a in applied)
    print(f"resyncs under that load: {len(ms)} applied, file replaced -> discovery event median "
          f"{ms[len(ms) // 2]:.0f} ms, max {ms[-1]:.0f} ms", flush=True)
    baton.stop()
    backend.close()


if __name__ == "__main__":
    main()
