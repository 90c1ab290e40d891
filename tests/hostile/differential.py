#!/usr/bin/python3
"""Differential check (issue 5 item 2): the rows of cases.py against baton, Debian's HAProxy and
Debian's nginx, each on 127.0.0.1 with a port chosen at run time, all in front of the same
recording backend (and the same scripted upstream for the response-side rows).

Prints one line per case: the expected verdict, then each proxy's (statuses; +C closed, +O open;
(trunc) a truncated body; !canary a desync), with a `*` when a proxy's verdict class differs from
baton's; then, where a proxy forwarded something, the request line(s) it forwarded (with -v the
whole forwarded head and the first body bytes). Ends with the list of disagreements.

Usage: BATON_BIN=build/main/baton /usr/bin/python3 tests/hostile/differential.py [-v] [-k SUBSTR]
       [--json OUT] [--proxies baton,haproxy,nginx] [--no-response]
Exit status: 0 (this is a report, not a test; the suite is tests/integration/test_hostile_suite.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cases  # noqa: E402
import drive  # noqa: E402
from drive import harness  # noqa: E402

READ_TIMEOUT = 2.0  # per read: HAProxy/nginx may wait for bytes a hostile case never sends


def free_port() -> int:
    with socket.socket() as s:
        s.bind((harness.LOCAL, 0))
        return s.getsockname()[1]


def wait_port(proc: subprocess.Popen, port: int, what: str, timeout: float = 10.0) -> None:
    """HAProxy and nginx have no ready fd: poll connect() until it succeeds (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection((harness.LOCAL, port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout}s")


def start_haproxy(work: str, web: harness.Backend, scripted: harness.Backend):
    port = free_port()
    cfg = os.path.join(work, "haproxy.cfg")
    with open(cfg, "w") as f:
        f.write(f"""global
  nbthread 1
defaults
  mode http
  timeout connect 2s
  timeout client 10s
  timeout server 10s
  timeout http-request 10s
frontend fe
  bind {harness.LOCAL}:{port}
  use_backend scripted if {{ path_beg /__resp }}
  default_backend web
backend web
  server web1 {web.address}
backend scripted
  server s1 {scripted.address}
""")
    proc = subprocess.Popen(["haproxy", "-db", "-f", cfg], stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(work, "haproxy.log"), "wb"))
    wait_port(proc, port, "haproxy")
    return proc, port


def start_nginx(work: str, web: harness.Backend, scripted: harness.Backend):
    port = free_port()
    d = os.path.join(work, "nginx")
    os.makedirs(d, mode=0o755)
    cfg = os.path.join(d, "nginx.conf")
    with open(cfg, "w") as f:
        f.write(f"""worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  upstream web {{ server {web.address}; keepalive 8; }}
  upstream scripted {{ server {scripted.address}; }}
  server {{
    listen {harness.LOCAL}:{port};
    location / {{
      proxy_pass http://web;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
    }}
    location /__resp {{
      proxy_pass http://scripted;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
""")
    proc = subprocess.Popen(["nginx", "-e", f"{d}/stderr.log", "-p", d, "-c", cfg],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(proc, port, "nginx")
    return proc, port


def klass(v: drive.Verdict) -> str:
    """The verdict reduced to what a disagreement is about: which status class, whether it was
    forwarded complete, whether the connection survived."""
    first = v.answers[0] if v.answers else "none"
    if isinstance(first, int):
        first = "2xx" if 200 <= first < 300 else str(first)
    done = [r for r in v.records if r.complete]
    fwd = "fwd " + repr(done[0].request_line)[2:-1][:40] if done else "-"
    return f"{first}/{'C' if v.closed else 'O'}/{fwd}"


def expected_text(expect, open_) -> str:
    e = expect if isinstance(expect, list) else [expect]
    if len(e) > 4:
        e = e[:2] + ["..."]
    return ",".join(str(x) for x in e) + {True: "+O", False: "+C", None: ""}[open_]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-v", action="store_true", help="print the forwarded heads, not just request lines")
    ap.add_argument("-k", default="", help="only cases whose name contains this")
    ap.add_argument("--json", help="write every verdict to this file")
    ap.add_argument("--proxies", default="baton,haproxy,nginx")
    ap.add_argument("--no-response", action="store_true", help="skip the response-side rows")
    args = ap.parse_args()
    names = args.proxies.split(",")

    work = tempfile.mkdtemp(prefix="baton-diff-")
    os.chmod(work, 0o755)
    web, scripted = harness.Backend("web"), harness.Backend("scripted")
    for name, _cls, raw, *_ in cases.RESPONSE_CASES:
        scripted.on("/__resp/" + name, raw=raw)
    procs, ports, baton = [], {}, None
    try:
        if "baton" in names:
            os.makedirs(os.path.join(work, "baton"))
            baton = harness.Baton(os.path.join(work, "baton"))
            baton.start(drive.suite_config(web, scripted))
            ports["baton"] = baton.port
        if "haproxy" in names:
            p, ports["haproxy"] = start_haproxy(work, web, scripted)
            procs.append(p)
        if "nginx" in names:
            p, ports["nginx"] = start_nginx(work, web, scripted)
            procs.append(p)
        rows = [(r, False) for r in cases.REQUEST_CASES]
        if not args.no_response:
            rows += [(r, True) for r in cases.RESPONSE_CASES]
        report, disagreements = [], []
        hdr = f"{'case':38} {'expected':14} " + " ".join(f"{n:16}" for n in names)
        print(hdr)
        print("-" * len(hdr))
        for row, response_side in rows:
            name, cls, raw, expect, open_, _ = row
            if args.k not in name:
                continue
            if response_side:
                raw = b"GET /__resp/" + name.encode() + b" HTTP/1.1\r\n" + drive.H + b"\r\n"
            verdicts = {}
            wait = 0.5 if row[5] == cases.ABORTED else 0.0
            for n in names:
                verdicts[n] = drive.run(ports[n], web, raw, expect, open_, timeout=READ_TIMEOUT,
                                        close_wait=READ_TIMEOUT, await_head=wait)
            base = klass(verdicts[names[0]])
            marks = {n: ("*" if klass(v) != base else " ") for n, v in verdicts.items()}
            print(f"{name:38} {expected_text(expect, open_):14} "
                  + " ".join(f"{marks[n]}{verdicts[n].short()[:15]:15}" for n in names))
            for n, v in verdicts.items():
                for rec in v.records if not response_side else []:
                    text = drive.forwarded_bytes(rec) if args.v else rec.request_line
                    print(f"    {n:8} fwd{'' if rec.complete else '(cut)'} {text!r}"[:400])
            if any(m == "*" for m in marks.values()):
                disagreements.append((name, cls, {n: klass(v) for n, v in verdicts.items()}))
            report.append({
                "case": name, "class": cls,
                "verdicts": {n: {"answers": [str(a) for a in v.answers], "closed": v.closed, "class": klass(v),
                                 "truncated": v.truncated, "same_canary": v.same_canary, "fresh_canary": v.fresh_canary,
                                 "forwarded": [drive.forwarded_bytes(r).decode("latin-1") for r in v.records]}
                             for n, v in verdicts.items()},
            })
        print(f"\n{len(disagreements)} disagreements (verdict class = first status/closed/first forwarded request line):")
        for name, cls, ks in disagreements:
            print(f"  {name:38} {cls:14} " + "  ".join(f"{n}={k}" for n, k in ks.items()))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(report, f, indent=1)
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        if baton is not None:
            baton.stop()
        web.close()
        scripted.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
