#!/usr/bin/env python3
"""Where a Marathon resync's memory and CPU time go (companion of scale.py).

Loads scale.py's 10,000-app / 100,000-task document into baton, runs two "one app changed"
resyncs (EVERY=1: two "every task changed" resyncs), waits REST seconds, prints RSS (smaps_rollup) and peak, and optionally:

    PERF=1      perf record -g of the process during the resyncs (OUT/perf.data; the parse and
                translate run on the thread named baton-resync and its helpers, the publish on
                the control thread)
    PERFSTAT=1  perf stat (page faults, task clock) of the process during the resyncs
    SMAPS=1     a copy of /proc/PID/smaps at rest (OUT/smaps)
    CALLGRIND=1 instructions per thread during the resyncs, the figure this VM's noise leaves
                alone: run with BATON_BIN pointing at a wrapper that execs
                `valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file=OUT/cg.%p
                BATON "$@"`; counters are zeroed before the resyncs and dumped after them (one
                file per thread: the control thread's is cg.PID.1-01, the resync thread's the
                next one with parseSpans in it, its helpers' the ones after)
    DUMP=1      a jemalloc heap profile at rest (needs MALLOC_CONF=prof:true,...; read it with
                jeprof --text --cum BATON_BIN jeprof.*.heap), taken through gdb (prof.dump)

    MALLOC_CONF=prof:true,lg_prof_sample:17,prof_prefix:/tmp/jeprof DUMP=1 \
      BATON_BIN=build/main/baton /usr/bin/python3 bench/marathon/profile.py

APPS, TASKS_PER_APP and ACTIVE_CHECKS as in scale.py; OUT (default /tmp/baton-profile) gets the
files.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = "/work/main/bench/marathon"
sys.path.insert(0, HERE)

import scale  # noqa: E402  (puts tests/integration on the path)
import harness  # noqa: E402

OUT = os.environ.get("OUT", "/tmp/baton-profile")
REST = float(os.environ.get("REST", "12"))
EVERY = os.environ.get("EVERY") == "1"


def smaps(pid: int) -> dict:
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                fields[parts[0].rstrip(":")] = int(parts[1]) // 1024
    return {k: fields[k] for k in ("Rss", "Anonymous") if k in fields}


def start_perf(pid: int):
    if os.environ.get("PERFSTAT"):
        cmd = ["perf", "stat", "-e", "page-faults,task-clock", "-p", str(pid), "-o",
               os.path.join(OUT, "perfstat.txt")]
    elif os.environ.get("PERF"):
        cmd = ["perf", "record", *os.environ.get("PERFOPTS", "-g").split(), "-p", str(pid), "-o",
               os.path.join(OUT, "perf.data")]
    else:
        return None
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)  # perf attaches asynchronously
    return proc


def main():
    os.makedirs(OUT, exist_ok=True)
    backend = harness.Backend("origin")
    tmp = tempfile.mkdtemp(prefix="baton-profile-")
    path = os.path.join(tmp, "apps.json")
    scale.replace(path, scale.document(backend.port, 0))
    baton = harness.Baton(tmp)
    config = (
        "[marathon]\n"
        f'urls = ["file:{path}"]\n'
        f'groups = ["external"]\nbind_address = "127.0.0.1"\nhttp_port = {harness.free_port()}\n'
        "app_id_port = 0\nbind_service_ports = true\nhealth_check = true\n"
    )
    baton.start(config, workers=int(os.environ.get("WORKERS", "2")))
    baton.wait_event("discovery", timeout=300)
    pid = baton.proc.pid
    print(f"after the first load: {smaps(pid)} MiB", flush=True)
    perf = start_perf(pid)
    if os.environ.get("CALLGRIND"):
        subprocess.run(["callgrind_control", "-z", str(pid)], capture_output=True)
    for g in (2, 3):
        cpu0, all0 = scale.control_cpu_ms(pid), scale.process_cpu_ms(pid)
        scale.replace(path, scale.document(backend.port, g, only_app=None if EVERY else 7))
        ev = baton.wait_event("discovery", timeout=300)
        print(f"{'every task' if EVERY else 'one app'} changed: CPU control thread "
              f"{scale.control_cpu_ms(pid) - cpu0:.0f} ms, all threads "
              f"{scale.process_cpu_ms(pid) - all0:.0f} ms "
              f"(parse {ev.get('parse_ms')}, translate {ev.get('translate_ms')}, build+publish "
              f"{ev.get('build_ms')} ms)", flush=True)
    if os.environ.get("CALLGRIND"):
        subprocess.run(["callgrind_control", "-d", str(pid)], capture_output=True)
    if perf:
        perf.send_signal(2)
        perf.wait()
    time.sleep(REST)
    print(f"at rest: {smaps(pid)} MiB; peak (VmHWM) {scale.status_kib(pid, 'VmHWM') // 1024} MiB",
          flush=True)
    if os.environ.get("SMAPS"):
        shutil.copy(f"/proc/{pid}/smaps", os.path.join(OUT, "smaps"))
    if os.environ.get("DUMP"):
        subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex",
                        'call (int)mallctl("prof.dump", 0, 0, 0, 0)'], capture_output=True)
    baton.stop()
    backend.close()


if __name__ == "__main__":
    main()
