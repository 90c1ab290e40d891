#!/usr/bin/env bash
# Slow and abusive clients (issue 5 item 5): does normal traffic keep its latency while baton holds
# 1,000 slowloris + 200 slow-body + 100 slow-read connections?
#
# One origin (nginx, 1 worker) serves /small (13 bytes) and /big (1 MiB). baton runs with one worker
# in front of it. wrk measures keep-alive GET /small twice: alone (baseline), then while three
# slowhttptest processes hold their connections open (slowloris: a header line every 10 s;
# slow body: a POST whose body comes 10 bytes every 10 s; slow read: pipelined GET /big read
# 32 bytes every 3 s with a 512-byte receive window). baton's head/body deadlines are raised for
# the run so the attack is really *held* for the whole measurement (at the defaults it would be cut
# after 10 s / 30 s, which only makes it easier). The attack generators run on the load core under
# SCHED_IDLE (`chrt --idle`: CPU only when wrk and the origin leave it idle; nice 19 still took
# time slices from them and showed up in wrk's p99), so what is measured is baton's reaction.
# Prints both p99s, the ratio, the connections held and baton's RSS; the target is p99 under
# attack within 10% of the baseline.
#
# Needs: nginx, wrk, slowhttptest (Debian package `slowhttptest`), ss. Loopback only, ports chosen
# at run time, every process started here is stopped by pid on exit.
#
# Environment (defaults in brackets):
#   PROXY [baton] or haproxy (the same attack against HAProxy 2.6, timeouts raised alike: what
#   of the p99 change is this machine and the attack's own cost rather than the proxy)
#   BATON_BIN [build/main/baton]  DURATION [20] seconds per wrk run  CONNECTIONS [50] wrk -c
#   SLOWLORIS [1000] SLOWBODY [200] SLOWREAD [100]  RAMP_TIMEOUT [30] seconds to open the attack
#   PROXY_CPU [1] LOAD_CPU [0]  KEEP_WORK [0]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
PROXY=${PROXY:-baton}
BATON_BIN=${BATON_BIN:-$ROOT/build/main/baton}
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-50}
SLOWLORIS=${SLOWLORIS:-1000}
SLOWBODY=${SLOWBODY:-200}
SLOWREAD=${SLOWREAD:-100}
RAMP_TIMEOUT=${RAMP_TIMEOUT:-30}
PROXY_CPU=${PROXY_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
KEEP_WORK=${KEEP_WORK:-0}

PIDS=()
WORK=""
LOG_TAG=abuse
# shellcheck source=SCRIPTDIR/../lib/proc.sh
source "$ROOT/bench/lib/proc.sh" # log, die, cleanup, free_port, wait_port, spawn
cleanup_on_exit
for tool in nginx wrk slowhttptest ss taskset; do
  command -v "$tool" >/dev/null || die "$tool not found (slowhttptest: apt-get install slowhttptest)"
done
case $PROXY in
  baton) [[ -x $BATON_BIN ]] || die "baton binary '$BATON_BIN' missing (set BATON_BIN)" ;;
  haproxy) command -v haproxy >/dev/null || die "haproxy not found" ;;
  *) die "PROXY must be baton or haproxy" ;;
esac

# 1,300 attack sockets on each side of loopback plus wrk: well over the usual 1024.
HARD_NOFILE=$(ulimit -Hn)
if [[ $HARD_NOFILE == unlimited ]] || ((HARD_NOFILE > 65536)); then HARD_NOFILE=65536; fi
ulimit -n "$HARD_NOFILE"

established() { ss -Htn state established "( sport = :$1 )" | wc -l; }
# utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# p99 (ms) and req/s from `wrk --latency` output.
wrk_figures() {
  "$PY" - "$1" <<'PYEOF'
import re, sys
text = open(sys.argv[1]).read()
unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}
p = {m.group(1): float(m.group(2)) * unit[m.group(3)]
     for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)}
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
sock = re.search(r"Socket errors: (.*)", text)
print(f"{p['50']:.3f} {p['99']:.3f} {rps:.0f} {errors.group(1) if errors else 0} "
      f"{(sock.group(1).replace(' ', '') if sock else 'none')}")
PYEOF
}

WORK=$(mktemp -d /tmp/baton-abuse.XXXXXX)
mkdir -p "$WORK/www" "$WORK/origin"
printf 'hello, world\n' >"$WORK/www/small"
head -c $((1 << 20)) /dev/zero | tr '\0' 'x' >"$WORK/www/big"
chmod -R a+rX "$WORK"

ORIGIN_PORT=$(free_port)
origin_nginx_upload_conf 8192 300s >"$WORK/origin/nginx.conf"
start_origin_nginx

PORT=$(free_port)
if [[ $PROXY == haproxy ]]; then
  mkdir -p "$WORK/haproxy"
  {
    haproxy_conf_head ""
    printf '%s\n' "" "frontend edge" "  bind 127.0.0.1:$PORT" "  timeout client 300s" \
      "  timeout http-request 300s" "  default_backend origin" ""
    haproxy_conf_backend
    printf '%s\n' "  timeout server 300s"
  } >"$WORK/haproxy/haproxy.cfg"
  spawn "$PROXY_CPU" "$WORK/proxy.log" haproxy -f "$WORK/haproxy/haproxy.cfg" -db
else
  cat >"$WORK/baton.toml" <<CONF
[server]
workers = 1
[timeouts]
request_head = "300s"
body_idle = "300s"
keepalive_idle = "300s"
[[listener]]
name = "http"
address = "127.0.0.1:$PORT"
$(baton_conf_origin 1024)
CONF
  spawn "$PROXY_CPU" "$WORK/proxy.log" "$BATON_BIN" --config "$WORK/baton.toml"
fi
PROXY_PID=$SPAWNED_PID
wait_port "$PROXY_PID" "$PORT" || die "$PROXY did not start: $(cat "$WORK/proxy.log")"
URL="http://127.0.0.1:$PORT"

# Runs wrk into $1 and prints baton's CPU µs per request over the run (robust to a busy machine:
# it is what baton spent, whoever else competes for the cores).
run_wrk() {
  local t0 t1
  t0=$(cpu_ticks "$PROXY_PID")
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$URL/small" >"$1"
  t1=$(cpu_ticks "$PROXY_PID")
  "$PY" -c "import os,re,sys; t=open('$1').read(); n=int(re.search(r'(\d+) requests in', t).group(1)); \
print(f'{($t1-$t0)/os.sysconf(\"SC_CLK_TCK\")*1e6/n:.1f}')"
}

log "abuse: warm-up, then baseline (${DURATION}s, ${CONNECTIONS} connections)"
taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d2s "$URL/small" >/dev/null
BCPU=$(run_wrk "$WORK/baseline.txt")
read -r B50 B99 BRPS BERR BSOCK < <(wrk_figures "$WORK/baseline.txt")
RSS0=$(rss_kib "$PROXY_PID")

HOLD=$((DURATION + RAMP_TIMEOUT + 30))
log "abuse: opening $SLOWLORIS slowloris + $SLOWBODY slow-body + $SLOWREAD slow-read connections"
chrt --idle 0 taskset -c "$LOAD_CPU" slowhttptest -H -c "$SLOWLORIS" -r 250 -i 10 -x 10 -p 10 -l "$HOLD" \
  -u "$URL/small" >"$WORK/slowloris.log" 2>&1 &
PIDS+=($!)
chrt --idle 0 taskset -c "$LOAD_CPU" slowhttptest -B -c "$SLOWBODY" -r 100 -i 10 -x 10 -s 10000000 -p 10 \
  -l "$HOLD" -t POST -u "$URL/upload" >"$WORK/slowbody.log" 2>&1 &
PIDS+=($!)
chrt --idle 0 taskset -c "$LOAD_CPU" slowhttptest -X -c "$SLOWREAD" -r 50 -w 512 -y 1024 -n 3 -z 32 -k 3 -p 10 \
  -l "$HOLD" -u "$URL/big" >"$WORK/slowread.log" 2>&1 &
PIDS+=($!)
ATTACK_PIDS=("${PIDS[@]: -3}")
WANT=$((SLOWLORIS + SLOWBODY + SLOWREAD))
deadline=$((SECONDS + RAMP_TIMEOUT))
while (($(established "$PORT") < WANT * 98 / 100)) && ((SECONDS < deadline)); do sleep 0.5; done
HELD_BEFORE=$(established "$PORT")
log "abuse: $HELD_BEFORE connections held; measuring under attack (${DURATION}s)"
ACPU=$(run_wrk "$WORK/attack.txt")
HELD_AFTER=$(established "$PORT")
RSS1=$(rss_kib "$PROXY_PID")
read -r A50 A99 ARPS AERR ASOCK < <(wrk_figures "$WORK/attack.txt")
kill -0 "$PROXY_PID" || die "$PROXY died under attack: $(tail -20 "$WORK/proxy.log")"
# A second baseline once the attack is gone: the spread between the two baselines is the noise of
# this machine, to read the attack's figure against.
for p in "${ATTACK_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
deadline=$((SECONDS + 20))
while (($(established "$PORT") > 0)) && ((SECONDS < deadline)); do sleep 0.5; done
log "abuse: attack stopped; baseline again (${DURATION}s)"
CCPU=$(run_wrk "$WORK/after.txt")
read -r C50 C99 CRPS CERR CSOCK < <(wrk_figures "$WORK/after.txt")

RATIO=$("$PY" -c "print(f'{$A99 / $B99:.3f}')")
VERDICT=$("$PY" -c "print('PASS' if $A99 <= 1.10 * $B99 else 'FAIL')")
cat <<OUT
| run | req/s | p50 ms | p99 ms | $PROXY CPU µs/req | non-2xx | socket errors | attack conns held (start/end) | $PROXY RSS MiB |
|---|--:|--:|--:|--:|--:|---|---|--:|
| baseline | $BRPS | $B50 | $B99 | $BCPU | $BERR | $BSOCK | 0 | $((RSS0 / 1024)) |
| under attack | $ARPS | $A50 | $A99 | $ACPU | $AERR | $ASOCK | $HELD_BEFORE / $HELD_AFTER of $WANT | $((RSS1 / 1024)) |
| after the attack | $CRPS | $C50 | $C99 | $CCPU | $CERR | $CSOCK | 0 | $(($(rss_kib "$PROXY_PID") / 1024)) |

p99 under attack / baseline: ${RATIO}× (target ≤ 1.10×): $VERDICT
OUT
