#!/usr/bin/python3
"""Helpers for bench/e2e/run.sh: /proc sampling, wrk output parsing, the Markdown report.

Called by run.sh and run_h2.sh (stdlib only, no third-party modules); report_h2.py imports its
CPU figures and table printing (print_report):
  report.py proc PID...          -> "cpu_ticks rss_kb hwm_kb nprocs" summed over each PID and all
                                    its descendants (nginx = master + worker)
  report.py busy CPU             -> "ticks monotonic_seconds": non-idle ticks of that CPU
                                    (to see what else ran on the proxy's core) and a timestamp
  report.py table RESULTS.jsonl  -> Markdown tables on stdout; exit 3 if any row is flagged
"""

import json
import os
import re
import statistics
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
BUSY_PCT = 10  # other work on the proxy's core above this share of a core makes a run "disturbed"


# ---------------------------------------------------------------- /proc sampling


def _children(pid):
    """Direct children of every thread of pid (needs CONFIG_PROC_CHILDREN, standard on Debian)."""
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids += [int(k) for k in f.read().split()]
    except OSError:
        pass
    return kids


def _tree(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += _children(p)
    return out


def _cpu_ticks(pid):
    """utime + stime of the whole process (all threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    # comm (field 2) may hold spaces: split after its closing parenthesis.
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); utime is field 14, stime field 15.
    return int(fields[11]) + int(fields[12])


def _status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def cpu_busy(cpu):
    """Non-idle ticks of one CPU from /proc/stat (user nice system irq softirq steal)."""
    with open("/proc/stat") as f:
        for line in f:
            parts = line.split()
            if parts[0] == f"cpu{cpu}":
                v = [int(x) for x in parts[1:9]]
                return v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
    return 0


def proc(pids):
    ticks = rss = hwm = n = 0
    for root in pids:
        for p in _tree(root):
            try:
                ticks += _cpu_ticks(p)
                rss += _status_kb(p, "VmRSS")
                hwm += _status_kb(p, "VmHWM")
                n += 1
            except (OSError, ValueError):
                pass  # exited between listing and reading
    print(ticks, rss, hwm, n)


# ---------------------------------------------------------------- wrk output parsing

_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    return float(m.group(1)) * _UNITS_MS[m.group(2)] if m else None


def parse_wrk(path):
    """Figures from one `wrk --latency` run; missing lines mean zero errors."""
    with open(path, errors="replace") as f:
        text = f.read()
    r = {"requests": 0, "seconds": 0.0, "rps": 0.0, "p50_ms": None, "p99_ms": None,
         "bytes_read": None, "sock_errors": 0, "sock_detail": "", "non2xx": 0}
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", text)
    if m:
        r["requests"] = int(m.group(1))
        r["seconds"] = _ms(m.group(2) + m.group(3)) / 1e3
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        r["rps"] = float(m.group(1))
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", text, re.M)
        if m:
            r[key] = _ms(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        c, rd, w, t = (int(x) for x in m.groups())
        r["sock_errors"] = c + rd + w + t
        r["sock_detail"] = f"connect {c}, read {rd}, write {w}, timeout {t}"
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        r["non2xx"] = int(m.group(1))
    return r


# ---------------------------------------------------------------- report


def _fmt(x, spec):
    return "n/a" if x is None else format(x, spec)


def _mib(kb):
    return None if kb is None else kb / 1024.0


def read_jsonl(path):
    """The records of a results.jsonl, blank lines skipped."""
    with open(path) as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def add_cpu_figures(rec, requests, run_s):
    """Proxy CPU per request and %, origin CPU %, and other work on the proxy's core, from the
    tick counts run.sh / run_h2.sh recorded around a run of run_s seconds."""
    secs = rec["ticks"] / CLK_TCK
    origin_secs = rec["origin_ticks"] / CLK_TCK
    rec["cpu_us_req"] = secs * 1e6 / requests if requests else None
    rec["cpu_pct"] = 100.0 * secs / run_s if run_s else None
    rec["origin_pct"] = 100.0 * origin_secs / run_s if run_s else None
    # Busy ticks of the proxy's core over the wall-clock window around the client, minus the proxy's.
    wall = rec.get("busy_wall_s", 0.0)
    other = rec.get("cpu_busy_ticks", 0) / CLK_TCK - secs
    rec["other_pct"] = max(0.0, 100.0 * other / wall) if wall > 0 else None


def load(path):
    rows = []
    for rec in read_jsonl(path):
        w = parse_wrk(rec["wrk_out"])
        rec.update(w)
        add_cpu_figures(rec, w["requests"], w["seconds"])
        problems = []
        if w["requests"] == 0:
            problems.append("no requests completed")
        if w["sock_errors"]:
            problems.append(f"socket errors: {w['sock_detail']}")
        if w["non2xx"]:
            problems.append(f"{w['non2xx']} non-2xx/3xx responses")
        if not rec.get("alive_after", True):
            problems.append("proxy died during the run")
        rec["problems"] = problems
        rows.append(rec)
    return rows


def errors_cell(r):
    return "0" if not r["problems"] else "**FLAGGED**: " + "; ".join(r["problems"])


def print_main_table(rows, cpu_header="CPU µs/req", errors=errors_cell):
    print(f"| proxy | scenario | req/s | p50 ms | p99 ms | {cpu_header} | proxy CPU % "
          "| other on proxy CPU % | origin CPU % | RSS idle MiB | RSS peak MiB | RSS after MiB | errors |")
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
    multi = len({r.get("round", 1) for r in rows}) > 1
    for r in rows:
        scenario = f"{r['scenario']} (round {r.get('round', 1)})" if multi else r["scenario"]
        print(f"| {r['proxy']} | {scenario} | {r['rps']:.0f} | {_fmt(r['p50_ms'], '.3f')} "
              f"| {_fmt(r['p99_ms'], '.3f')} | {_fmt(r['cpu_us_req'], '.1f')} "
              f"| {_fmt(r['cpu_pct'], '.0f')} | {_fmt(r['other_pct'], '.0f')} "
              f"| {_fmt(r['origin_pct'], '.0f')} "
              f"| {_fmt(_mib(r['rss_idle_kb']), '.1f')} | {_fmt(_mib(r['hwm_kb']), '.1f')} "
              f"| {_fmt(_mib(r['rss_after_kb']), '.1f')} | {errors(r)} |")


METRICS = (("req/s (higher is better)", "rps"),
           ("CPU µs/req (lower is better)", "cpu_us_req"),
           ("p99 (lower is better)", "p99_ms"))


def _round_ratios(rounds, scenario, key, peer):
    """baton's figure over peer's, in each round that measured both."""
    out = []
    for by in rounds.values():
        b, p = by.get(("baton", scenario)), by.get((peer, scenario))
        if b and p and b[key] is not None and p[key]:
            out.append(b[key] / p[key])
    return sorted(out)


def _ratio_cell(ratios):
    if not ratios:
        return "n/a"
    median = statistics.median(ratios)
    if len(ratios) == 1:
        return f"{median:.2f}×"
    return f"{median:.2f}× ({ratios[0]:.2f}–{ratios[-1]:.2f})"


def print_ratios(rows, metrics=METRICS):
    """One ratio per round, from the rows measured back to back in it; with several rounds the
    median and, in brackets, the range."""
    rounds = {}
    for r in rows:
        rounds.setdefault(r.get("round", 1), {})[(r["proxy"], r["scenario"])] = r
    scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
    if len(rounds) > 1:
        print(f"Ratios: median of {len(rounds)} rounds (lowest–highest).\n")
    print("| scenario | metric | baton/HAProxy | baton/nginx |")
    print("|---|---|--:|--:|")
    for s in scenarios:
        for label, key in metrics:
            print(f"| {s} | {label} | {_ratio_cell(_round_ratios(rounds, s, key, 'haproxy'))} "
                  f"| {_ratio_cell(_round_ratios(rounds, s, key, 'nginx'))} |")
    if not any(p == "baton" for by in rounds.values() for p, _ in by):
        print("\nbaton was skipped in this run: every ratio is n/a.")


BUSY_TAIL = (". It may only have filled time the proxy left idle, but req/s and latency "
             "then depend on scheduling: compare them only between runs on an equally quiet machine "
             "(NICE=-10 as root helps); CPU µs/req is the least disturbed figure.")


def print_report(rows, cpu_header="CPU µs/req", errors=errors_cell, metrics=METRICS,
                 notes=None, busy_tail=BUSY_TAIL):
    """The whole report of run.sh or run_h2.sh; returns the exit status (3 if any row is flagged).
    notes(rows) prints what a script adds after the ratios."""
    if not rows:
        print("no results recorded")
        return 1
    print_main_table(rows, cpu_header, errors)
    print()
    print_ratios(rows, metrics)
    if notes:
        notes(rows)
    busy = [r for r in rows if (r["other_pct"] or 0) > BUSY_PCT]
    if busy:
        print(f"\nNOTE: in {len(busy)} of {len(rows)} rows other work used more than {BUSY_PCT}% of the "
              f"proxy's core{busy_tail}")
    flagged = [r for r in rows if r["problems"]]
    if flagged:
        print("\nFLAGGED rows (a proxy with errors is not a valid result):")
        for r in flagged:
            print(f"- {r['proxy']} / {r['scenario']}: {'; '.join(r['problems'])}")
        return 3
    return 0


def table(path):
    return print_report(load(path))


def dispatch(argv, commands, doc):
    """Runs the command argv[1] of commands ({name: (number of arguments, or None for one or more,
    function of the argument list returning the exit status or None for 0)}); usage and 2 otherwise."""
    nargs, fn = commands.get(argv[1] if len(argv) >= 3 else "", (0, None))
    if fn is None or (nargs is not None and len(argv) - 2 != nargs):
        print(doc, file=sys.stderr)
        return 2
    return fn(argv[2:]) or 0


COMMANDS = {
    "proc": (None, lambda args: proc([int(p) for p in args])),
    "busy": (1, lambda args: print(cpu_busy(int(args[0])), f"{time.monotonic():.6f}")),
    "table": (1, lambda args: table(args[0])),
}


def main(argv):
    return dispatch(argv, COMMANDS, __doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
