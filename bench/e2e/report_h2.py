#!/usr/bin/python3
"""Helpers for bench/e2e/run_h2.sh: h2load / curl output parsing, HAProxy's TLS counters, the report.

Called by run_h2.sh only (stdlib only; /proc sampling is report.py's `proc` and `busy`):
  report_h2.py haproxy-reuse SOCKET  -> "reuse_pct=N key_rate=N ssl_rate=N" from HAProxy's `show info`
                                        (TLS sessions resumed over the last second: 0 = full handshakes)
  report_h2.py table RESULTS.jsonl   -> Markdown tables on stdout; exit 3 if any row is flagged
"""

import os
import re
import socket
import sys

sys.dont_write_bytecode = True  # run from the source tree: leave no __pycache__ behind
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import add_cpu_figures, dispatch, errors_cell, print_report, read_jsonl  # noqa: E402  (shared with run.sh)

# ---------------------------------------------------------------- client output parsing

_UNITS_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def _percentile(sorted_values, pct):
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * pct // 100))  # ceil(n * pct / 100)
    return sorted_values[int(rank) - 1]


def parse_h2load(out_path, log_path):
    """Figures from one `h2load -D` run; latencies from its --log-file (µs to end of response)."""
    with open(out_path, errors="replace") as f:
        text = f.read()
    r = {"requests": 0, "seconds": 0.0, "rps": 0.0, "p50_ms": None, "p99_ms": None,
         "failed": 0, "errored": 0, "timeout": 0, "non2xx": 0, "proto": None, "tls": ""}
    m = re.search(r"finished in ([\d.]+)(us|ms|s), ([\d.]+) req/s", text)
    if m:
        r["seconds"] = float(m.group(1)) * _UNITS_S[m.group(2)]
        r["rps"] = float(m.group(3))
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored, (\d+) timeout", text)
    if m:
        r["requests"] = int(m.group(4))
        r["failed"], r["errored"], r["timeout"] = (int(m.group(i)) for i in (5, 6, 7))
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
    if m:
        r["non2xx"] = sum(int(m.group(i)) for i in (2, 3, 4))
    m = re.search(r"Application protocol: (\S+)", text)
    if m:
        r["proto"] = m.group(1)
    tls = [re.search(rf"^{k}: (.+)$", text, re.M) for k in ("TLS Protocol", "Cipher", "Server Temp Key")]
    r["tls"] = " ".join(t.group(1).strip() for t in tls if t)
    lat = []
    try:
        with open(log_path) as f:
            for line in f:
                parts = line.split("\t")
                if len(parts) >= 3 and parts[1].strip().startswith("2"):
                    lat.append(int(parts[2]) / 1000.0)
    except OSError:
        pass
    lat.sort()
    r["p50_ms"], r["p99_ms"] = _percentile(lat, 50), _percentile(lat, 99)
    return r


def parse_curl(out_path, wall_s):
    """Figures from the tls-handshake run: one line per finished transfer,
    '<status> <time_total s> <num_connects>'; rate over the client's wall-clock time."""
    r = {"requests": 0, "seconds": wall_s, "rps": 0.0, "p50_ms": None, "p99_ms": None,
         "failed": 0, "errored": 0, "timeout": 0, "non2xx": 0, "reused_conn": 0,
         "proto": "http/1.1+TLS", "tls": ""}
    lat = []
    with open(out_path, errors="replace") as f:
        for line in f:
            parts = line.split()
            if len(parts) != 3:
                continue
            code, secs, connects = parts
            if code == "000":
                r["failed"] += 1
            elif code.startswith("2"):
                r["requests"] += 1
                lat.append(float(secs) * 1000.0)
            else:
                r["non2xx"] += 1
            if code != "000" and connects != "1":
                r["reused_conn"] += 1
    try:  # curl: (NN) ... lines for transfers that failed
        with open(out_path + ".stderr", errors="replace") as f:
            r["errored"] = sum(1 for line in f if line.startswith("curl: ("))
    except OSError:
        pass
    lat.sort()
    r["p50_ms"], r["p99_ms"] = _percentile(lat, 50), _percentile(lat, 99)
    r["rps"] = r["requests"] / wall_s if wall_s > 0 else 0.0
    return r


# ---------------------------------------------------------------- report


def load(path):
    rows = []
    for rec in read_jsonl(path):
        if rec["scenario"] == "tls-handshake":
            w = parse_curl(rec["out"], rec.get("client_wall_s", 0.0))
        else:
            w = parse_h2load(rec["out"], rec["log"])
        rec.update(w)
        add_cpu_figures(rec, w["requests"], w["seconds"] or rec.get("busy_wall_s", 0.0))
        rec["problems"] = problems(rec, w)
        rows.append(rec)
    return rows


def problems(rec, w):
    out = []
    scenario = rec["scenario"]
    if w["requests"] == 0:
        out.append("no requests completed")
    # h2load -D stops its clients when the duration ends and counts the streams still in flight
    # (at most connections x streams) as failed; more than that is a real error.
    in_flight = 0
    m = re.search(r"-m(\d+)$", scenario)
    if m and rec.get("connections"):
        in_flight = int(rec["connections"]) * int(m.group(1))
    failed = w["failed"] + w["errored"] + w["timeout"]
    if scenario == "tls-handshake":
        if failed:
            out.append(f"{w['failed']} transfers failed, {w['errored']} curl errors")
        if w.get("reused_conn"):
            out.append(f"{w['reused_conn']} requests reused a connection")
    elif failed > in_flight:
        out.append(f"{w['failed']} failed, {w['errored']} errored, {w['timeout']} timeout "
                   f"(more than the {in_flight} streams in flight at the end)")
    if w["non2xx"]:
        out.append(f"{w['non2xx']} non-2xx responses")
    want = {"tls": "h2", "h2c": "h2c"}.get(scenario.split("-")[0]) if m else None
    if want and w["proto"] != want:
        out.append(f"negotiated '{w['proto']}', wanted '{want}'")
    if not rec.get("alive_after", True):
        out.append("proxy died during the run")
    return out


def _errors(r):
    if not r["problems"] and r["failed"]:
        return f"0 ({r['failed']} in flight at stop)"
    return errors_cell(r)


METRICS = (("req/s (higher is better)", "rps"),
           ("CPU ms/1k req (lower is better)", "cpu_us_req"),
           ("p99 (lower is better)", "p99_ms"),
           ("RSS peak (lower is better)", "hwm_kb"))


def _notes(rows):
    tls = {}
    for r in rows:
        if r.get("tls"):
            tls.setdefault(r["proxy"], r["tls"])
    if tls:
        print("\nTLS seen by h2load: " + "; ".join(f"{p}: {t}" for p, t in tls.items()))
    for r in rows:
        if r.get("haproxy_reuse_pct"):
            where = f" (round {r['round']})" if "round" in r else ""
            print(f"\nHAProxy's counters after tls-handshake{where} (last second): {r['haproxy_reuse_pct']} "
                  "(reuse_pct 0 = every connection was a full handshake)")
    print("\ntls-handshake: req/s = full TLS handshakes per second (one request per connection); "
          "CPU ms/1k req = proxy CPU ms per 1000 handshakes (handshake + one HTTP/1.1 request).")


def table(path):
    return print_report(load(path), cpu_header="CPU ms/1k req", errors=_errors, metrics=METRICS,
                        notes=_notes,
                        busy_tail=": compare req/s and latency only between runs on an equally quiet "
                        "machine; CPU per request is the least disturbed figure.")


# ---------------------------------------------------------------- HAProxy


def haproxy_reuse(sock_path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2.0)
    s.connect(sock_path)
    s.sendall(b"show info\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    info = dict(line.split(": ", 1) for line in data.decode(errors="replace").splitlines()
                if ": " in line)
    print(f"reuse_pct={info.get('SslFrontendSessionReuse_pct', '?').strip()} "
          f"key_rate={info.get('SslFrontendKeyRate', '?').strip()} "
          f"ssl_rate={info.get('SslRate', '?').strip()}")


def main(argv):
    return dispatch(argv, {"haproxy-reuse": (1, lambda args: haproxy_reuse(args[0])),
                           "table": (1, lambda args: table(args[0]))}, __doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
