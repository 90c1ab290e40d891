#!/usr/bin/env python3
"""Scenario "upgrade": UPGRADES binary upgrades in a row under wrk load, zero failed requests.

baton (static config, three single-process nginx backends, admin socket) takes wrk's
keep-alive load; every UPGRADE_GAP seconds `batonctl --socket S upgrade` replaces the process
(it blocks until the new process serves: exit 0, or 1 with the reason). Each upgrade's wall
time and the serving pid after it (`batonctl show info`) are recorded; at the end every old
process must have exited, and wrk must have seen no socket error and no non-2xx.

Without the command (baton's help does not list it, or batonctl is refused with "unknown")
the result is "skipped: no upgrade command".
"""

from __future__ import annotations

import os
import re
import threading
import time

import common
from common import LOCAL, harness

UPGRADES = int(common.env_num("UPGRADES", 5, 2))
GAP = common.env_num("UPGRADE_GAP", 2, 1)


def serving_pid(sock: str) -> int | None:
    r = common.batonctl(sock, "show", "info", timeout=10)
    m = re.search(r"^pid: (\d+)$", r.stdout, re.M)
    return int(m.group(1)) if m else None


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def skipped(reason: str, load0: str) -> None:
    common.emit({"scenario": "upgrade", "skipped": reason, "load_before": load0, "load_after": common.load()})


def drain_ready_fd(baton: harness.Baton, stop: threading.Event) -> None:
    """Keeps reading the --ready-fd pipe (lifecycle lines) so it never fills."""
    while not stop.is_set():
        try:
            baton.next_event(timeout=0.5)
        except AssertionError as e:
            if "closed its ready fd" in str(e):
                return  # every process holding the write end is gone
        except (OSError, ValueError):
            return  # the fd was closed by baton.stop()


def main():
    common.on_signals_exit()
    work = common.workdir("upgrade")
    load0 = common.load()
    backends, baton, pids = [], None, []
    stop = threading.Event()
    try:
        backends = [common.NginxBackend(work, f"b{i}") for i in range(3)]
        config = harness.make_config({"web": {"hosts": [b.address for b in backends]}}) + common.admin_config(work)
        baton = common.start_baton(work, config)
        sock = os.path.join(work, "admin.sock")
        pids.append(baton.proc.pid)
        help_text = common.batonctl(sock, "help", timeout=10).stdout
        if "upgrade" not in help_text:
            return skipped("no upgrade command", load0)
        threading.Thread(target=drain_ready_fd, args=(baton, stop), daemon=True).start()
        wrk = common.Wrk(f"http://{LOCAL}:{baton.port}/", UPGRADES * GAP + 2, work, "upgrade")
        time.sleep(1)
        upgrades = []
        for i in range(UPGRADES):
            t0 = time.perf_counter()
            r = common.batonctl(sock, "upgrade", timeout=120)
            ms = round((time.perf_counter() - t0) * 1000)
            said = (r.stderr or r.stdout).strip().splitlines()
            if r.returncode != 0 and said and said[0].startswith("unknown"):
                wrk.result()
                return skipped("no upgrade command", load0)
            pid = serving_pid(sock)
            if pid is not None and pid not in pids:
                pids.append(pid)
            upgrades.append({"rc": r.returncode, "ms": ms, "pid": pid, "said": said[0] if said else ""})
            time.sleep(GAP)
        w = wrk.result()
        final = serving_pid(sock)
        # Old processes drain and exit on their own; give them the drain deadline to do it.
        deadline = time.monotonic() + 35
        while time.monotonic() < deadline and any(alive(p) for p in pids if p != final):
            time.sleep(0.1)
            baton.proc.poll()  # reap the first one (our child)
        lingering = [p for p in pids if p != final and alive(p)]
        result = {
            "scenario": "upgrade", "upgrades": UPGRADES, "gap_s": GAP, "requests": w["requests"], "rps": w["rps"],
            "socket_errors": w["socket_errors"], "connect": w["connect"], "read": w["read"], "write": w["write"],
            "timeout": w["timeout"], "non2xx": w["non2xx"], "failed": w["non2xx"] + w["socket_errors"],
            "upgrade_ms": [u["ms"] for u in upgrades], "upgrade_rc": [u["rc"] for u in upgrades],
            "upgrade_said": [u["said"] for u in upgrades if u["rc"] != 0], "pids": pids, "final_pid": final,
            "old_processes_still_running": lingering, "p99_ms": round(w["p99_us"] / 1000, 2),
            "load_before": load0, "load_after": common.load(),
            "wrk": f"wrk -t{common.THREADS} -c{common.CONNECTIONS} -d{int(round(UPGRADES * GAP + 2))}s (keep-alive)",
        }
        result["pass"] = (result["failed"] == 0 and all(u["rc"] == 0 for u in upgrades) and not lingering
                          and final is not None and len(set(u["pid"] for u in upgrades)) == UPGRADES)
        common.emit(result)
    finally:
        stop.set()
        if baton is not None:
            baton.stop()
        # The upgraded successors were started by baton for us: stop them by pid.
        for p in pids:
            if p != (baton.proc.pid if baton else None) and alive(p):
                common.stop_pid(p)
        for b in backends:
            b.close()
        common.stop_all()
        common.remove_work(work)


if __name__ == "__main__":
    main()
