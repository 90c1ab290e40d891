"""Shared pieces of the resilience scenarios (bench/resilience/run.sh): processes, backends, wrk,
baton's admin interfaces, and the result line each scenario appends to $RESULTS.

Everything listens on 127.0.0.1 with ports chosen at run time; every process started here is
recorded in PROCS and stopped by pid (never by name) when the scenario ends, also on SIGTERM/^C.
Runs on the scenario's main thread, plus the threads a scenario starts itself.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import harness  # noqa: E402  (tests/integration: Baton, Backend, Client, free_port)

LOCAL = "127.0.0.1"
QUICK = os.environ.get("QUICK") == "1"
BATON_BIN = os.environ.get("BATON_BIN") or os.path.join(ROOT, "build", "main", "baton")
BATONCTL_BIN = os.environ.get("BATONCTL_BIN") or os.path.join(os.path.dirname(BATON_BIN), "batonctl")
WORKERS = int(os.environ.get("WORKERS", "2"))
CONNECTIONS = int(os.environ.get("CONNECTIONS", "64"))
THREADS = int(os.environ.get("THREADS", "2"))
WRK_LUA = os.path.join(HERE, "report.lua")

PROCS: list[subprocess.Popen] = []  # stopped by pid in stop_all()


def env_num(name: str, default: float, quick: float) -> float:
    """$name if set, else the QUICK=1 value or the default (durations, counts)."""
    v = os.environ.get(name)
    if v:
        return float(v)
    return quick if QUICK else default


def load() -> str:
    """The 1/5/15-minute load averages, shown next to every figure (2 cores shared with builds)."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def workdir(prefix: str) -> str:
    return tempfile.mkdtemp(prefix=f"baton-res-{prefix}.")


def remove_work(path: str) -> None:
    """The scenario's temp dir goes unless KEEP_WORK=1 (configs, logs, wrk output)."""
    if os.environ.get("KEEP_WORK") == "1":
        print(f"work dir kept: {path}", file=sys.stderr)
    else:
        shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------- processes


def spawn(args: list, log_path: str, **kw) -> subprocess.Popen:
    with open(log_path, "ab") as out:
        p = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **kw)
    PROCS.append(p)
    return p


def stop(p: subprocess.Popen, timeout: float = 5.0) -> None:
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout)
    if p in PROCS:
        PROCS.remove(p)


def stop_all() -> None:
    for p in list(PROCS):
        stop(p)


def stop_pid(pid: int, timeout: float = 10.0) -> None:
    """A process we did not spawn ourselves but caused (baton's upgraded successor): by pid."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        # Our own child turned zombie: reap it.
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            pass
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def on_signals_exit() -> None:
    """SIGTERM and SIGINT end the scenario through its finally blocks (processes stopped)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process {proc.args[0]} exited ({proc.returncode}) before serving {port}")
        try:
            socket.create_connection((LOCAL, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing accepts on {LOCAL}:{port} after {timeout}s")


# ---------------------------------------------------------------- backends


class NginxBackend:
    """One nginx as ONE process (master_process off): SIGKILL takes the whole backend down at once,
    as when a task's container dies. Answers every path with 200 "hello, world\\n", keep-alive,
    except /slow64k: 64 KiB sent at 1 MiB/s (~60 ms per response), so that many requests are
    mid-response on the backend at any time (kill_backend.py's KILL_PATH)."""

    def __init__(self, work: str, name: str):
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(work, 0o755)
        self.port = harness.free_port()
        self.address = f"{LOCAL}:{self.port}"
        temp = "".join(f"  {w}_temp_path {self.dir}/{w};\n" for w in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(
                f"master_process off;\ndaemon off;\nworker_processes 1;\npid {self.dir}/nginx.pid;\n"
                f"error_log {self.dir}/error.log warn;\nevents {{ worker_connections 4096; }}\n"
                f"http {{\n  access_log off;\n  keepalive_timeout 120s;\n  keepalive_requests 10000000;\n{temp}"
                f"  server {{\n    listen {LOCAL}:{self.port} backlog=4096;\n"
                f"    location / {{ default_type text/plain; return 200 \"hello, world\\n\"; }}\n"
                f"    location = /slow64k {{ alias {self.dir}/slow64k; limit_rate 1m; }}\n  }}\n}}\n")
        with open(os.path.join(self.dir, "slow64k"), "wb") as f:
            f.write(b"x" * 65536)
        os.chmod(os.path.join(self.dir, "slow64k"), 0o644)
        self.proc = spawn(["nginx", "-p", self.dir, "-e", f"{self.dir}/error.log", "-c", conf],
                          os.path.join(self.dir, "stdout.log"))
        wait_port(self.port, self.proc)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)

    def close(self) -> None:
        stop(self.proc)


# ---------------------------------------------------------------- baton


def admin_config(work: str) -> str:
    """Admin HTTP (/metrics) and socket (batonctl). A port picked here, not 0: a listener on
    "127.0.0.1:0" may exist and two may not share an address string."""
    return f'[admin]\nhttp = "{LOCAL}:{harness.free_port()}"\nsocket = "{work}/admin.sock"\n'


def start_baton(work: str, config: str) -> harness.Baton:
    b = harness.Baton(work, binary=BATON_BIN)
    b.start(config, workers=WORKERS)
    return b


def check_config(work: str, config: str) -> tuple[bool, str]:
    """baton --check: (accepted, message)."""
    path = os.path.join(work, "check.toml")
    with open(path, "w") as f:
        f.write(config)
    r = subprocess.run([BATON_BIN, "--config", path, "--check"], capture_output=True, text=True, timeout=30)
    return r.returncode == 0, (r.stderr + r.stdout).strip()


def batonctl(sock: str, *words: str, json_out: bool = False, timeout: float = 120) -> subprocess.CompletedProcess:
    args = [BATONCTL_BIN, "--socket", sock] + (["--json"] if json_out else []) + list(words)
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def metrics(admin_port: int) -> dict[str, float]:
    """/metrics as {'name{labels}': value}."""
    with urllib.request.urlopen(f"http://{LOCAL}:{admin_port}/metrics", timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        try:
            out[key] = float(value)
        except ValueError:
            pass
    return out


def metric_sum(m: dict[str, float], name: str, **labels: str) -> float:
    """Sum of every sample of family `name` whose labels include `labels`."""
    total = 0.0
    for key, v in m.items():
        if key.split("{", 1)[0] != name:
            continue
        if all(f'{k}="{val}"' in key for k, val in labels.items()):
            total += v
    return total


def baton_counters(before: dict, after: dict) -> dict:
    """baton's own view of the run: request classes, no-host 503s, retries, connect failures,
    requests cut at the host drain deadline (deltas over the run)."""
    def d(name, **labels):
        return int(metric_sum(after, name, **labels) - metric_sum(before, name, **labels))
    out = {"baton_requests": d("baton_cluster_requests_total")}
    for cls in ("2xx", "3xx", "4xx", "5xx"):
        n = d("baton_cluster_requests_total", **{"class": cls})
        if n:
            out[f"baton_{cls}"] = n
    out["baton_no_host"] = d("baton_cluster_no_host_total")
    out["baton_retries"] = d("baton_cluster_retries_total")
    out["baton_connect_failures"] = d("baton_host_connect_failures_total")
    out["baton_drain_cut"] = d("baton_host_drain_cut_total")
    return out


# ---------------------------------------------------------------- wrk


class Wrk:
    """wrk in the background with report.lua; .result() waits and returns its JSON counts plus
    socket_errors (connect + read + write + timeout) and non2xx."""

    def __init__(self, url: str, seconds: float, work: str, name: str, hosts: list | None = None,
                 connections: int | None = None, threads: int | None = None, extra: list | None = None):
        self.out_path = os.path.join(work, f"wrk-{name}.out")
        env = dict(os.environ, WRK_HOSTS=",".join(hosts or []))
        args = ["wrk", f"-t{threads or THREADS}", f"-c{connections or CONNECTIONS}", f"-d{max(1, int(round(seconds)))}s",
                "--timeout", "5s", "-s", WRK_LUA] + (extra or []) + [url]
        self.t0 = time.monotonic()
        self.proc = spawn(args, self.out_path, env=env)

    def result(self) -> dict:
        self.proc.wait()
        PROCS.remove(self.proc)
        text = open(self.out_path).read()
        m = re.search(r"^WRKJSON (\{.*\})$", text, re.M)
        if not m:
            raise RuntimeError(f"wrk gave no summary:\n{text}")
        r = json.loads(m.group(1))
        r["socket_errors"] = r["connect"] + r["read"] + r["write"] + r["timeout"]
        r["non2xx"] = r["status"]
        r["rps"] = round(r["requests"] / (r["duration_us"] / 1e6)) if r["duration_us"] else 0
        return r


# ---------------------------------------------------------------- results


def emit(result: dict) -> None:
    """Appends the scenario's result to $RESULTS (one JSON line) and prints it."""
    line = json.dumps(result, sort_keys=True)
    path = os.environ.get("RESULTS")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")
    print(line, flush=True)


def percentile(values: list, p: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]
