#!/usr/bin/env python3
"""Prints the Markdown table of a resilience run from its results.jsonl (one line per scenario,
written by the scenario scripts through common.emit).

    /usr/bin/python3 bench/resilience/table.py RESULTS.jsonl
"""

from __future__ import annotations

import json
import sys


def errs(r: dict) -> str:
    return (f'{r["socket_errors"]} (connect {r["connect"]}, read {r["read"]}, write {r["write"]}, '
            f'timeout {r["timeout"]})')


def baton_view(r: dict) -> str:
    parts = [f'{r.get("baton_requests", 0)} requests']
    for k in ("baton_4xx", "baton_5xx"):
        if r.get(k):
            parts.append(f'{k[6:]} {r[k]}')
    for k, name in (("baton_no_host", "no host"), ("baton_retries", "retries"),
                    ("baton_connect_failures", "connect failures"), ("baton_drain_cut", "drain cut")):
        parts.append(f"{name} {r.get(k, 0)}")
    return ", ".join(parts)


def rows_marathon(r):
    yield ("changes", f'{r["changes"]} in {r["duration_s"]:g} s ({r["adds"]} adds, {r["removes"]} removals via '
           f'TASK_KILLING→TASK_KILLED; {r["apps"]} apps, {r["pool"]} backends; {r["events_sent"]} events sent, '
           f'{r["discovery_events"]} discovery events from baton; skipped {r.get("skipped", 0)})', "50/s")
    yield ("requests", f'{r["requests"]} ({r["rps"]}/s, p99 {r["p99_ms"]} ms; {r["wrk"]})', "")
    yield ("socket errors", errs(r), "0")
    yield ("non-2xx", str(r["non2xx"]), "0")
    yield ("baton's counters", baton_view(r), "")


def rows_kill(r):
    yield ("requests", f'{r["requests"]} ({r["rps"]}/s, p99 {r["p99_ms"]} ms; {r["wrk"]}, kill at '
           f'{r["before_s"]:g} s; GET {r.get("path", "/")}; outlier ejection {r.get("outlier", "default")})', "")
    yield ("failed (wrk)", f'{r["failed"]}: non-2xx {r["non2xx"]}, socket errors {errs(r)}',
           f'≤ in flight on killed host ({max(r["in_flight_killed_at_kill"], r.get("in_flight_killed_log", 0))})')
    yield ("in flight at kill", f'{r["in_flight_killed_at_kill"]} on the killed host, {r["in_flight_all_at_kill"]} '
           f'in all (batonctl --json show hosts, which took {r["show_hosts_ms"]} ms; SIGKILL right after); '
           f'access log: {r.get("in_flight_killed_log", "?")} requests to it spanned the kill', "")
    ej = r["ejected_after_ms"]
    yield ("ejection", "not observed (outlier ejection off, or not in this build)" if ej is None else f"{ej} ms after the kill",
           "")
    per = ", ".join(f"s{k}: {v}" for k, v in r["log_failed_per_second"].items()) or "none"
    yield ("failed per second (access log)", f'{r["log_failed"]} of {r["log_lines"]} [{per}] by '
           f'{json.dumps(r["log_errors"])}; client went away (wrk stopping): {r["log_client_closed"]}; '
           f'request ids logged twice: {r["log_duplicate_lines"]}', "")
    yield ("failed after ejection", "n/a" if r["log_failed_after_ejection"] is None
           else str(r["log_failed_after_ejection"]), "0")
    yield ("failed from kill + 1 s", str(r["log_failed_from_1s"]), "0")
    yield ("baton's counters", baton_view(r), "")


def rows_upgrade(r):
    yield ("requests", f'{r["requests"]} ({r["rps"]}/s, p99 {r["p99_ms"]} ms; {r["wrk"]})', "")
    yield ("upgrades", f'{r["upgrades"]}: exit {r["upgrade_rc"]}, ms {r["upgrade_ms"]}'
           + (f', said {r["upgrade_said"]}' if r["upgrade_said"] else ""), "all exit 0")
    yield ("failed", f'{r["failed"]}: non-2xx {r["non2xx"]}, socket errors {errs(r)}', "0")
    yield ("old processes", f'pids {r["pids"]}, serving {r["final_pid"]}, still running '
           f'{r["old_processes_still_running"] or "none"}', "none")


def rows_overflow(r):
    o, b = r["overflow"], r["baseline_404"]
    yield ("overflow 503, one at a time", f'p50 {o["p50_us"]} µs, p99 {o["p99_us"]} µs, max {o["max_us"]} µs '
           f'over {o["n"]} (statuses {r["statuses"]}; max_requests {r["max_requests"]}, that many held)', "< 1 ms")
    if r.get("wrk"):
        w = r["wrk"]
        yield ("overflow 503, wrk", f'p50 {w["p50_us"]} µs, p99 {w["p99_us"]} µs, max {w["max_us"]} µs over '
               f'{w["requests"]} ({w["rps"]}/s, {w["cmd"]}; non-2xx {w["non2xx"]}, socket errors '
               f'{w["socket_errors"]})', "")
    yield ("floor: 404 local reply", f'p50 {b["p50_us"]} µs, p99 {b["p99_us"]} µs, max {b["max_us"]} µs', "")
    yield ("held requests", f'{r["reached_backend"]} reached the backend, answered {r["held_answers"]}',
           f'{r["max_requests"]}, all 200')
    if r.get("error"):
        yield ("error", r["error"], "")


ROWS = {"marathon": rows_marathon, "kill": rows_kill, "upgrade": rows_upgrade, "overflow": rows_overflow}


def main():
    results = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    print("| scenario | figure | value | target | load (1/5/15 min) |")
    print("|---|---|---|---|---|")
    verdicts = []
    for r in results:
        s = r["scenario"]
        load = f'{r["load_before"]} → {r["load_after"]}'
        if r.get("skipped"):
            print(f'| {s} | skipped: {r["skipped"]} | | | {load} |')
            verdicts.append(f"{s}: skipped")
            continue
        for i, (fig, value, target) in enumerate(ROWS[s](r)):
            print(f'| {s if i == 0 else ""} | {fig} | {value} | {target} | {load if i == 0 else ""} |')
        verdicts.append(f'{s}: {"PASS" if r.get("pass") else "FAIL"}')
    print()
    print("verdict: " + "; ".join(verdicts))


if __name__ == "__main__":
    main()
