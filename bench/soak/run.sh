#!/usr/bin/env bash
# Soak (issue 5 item 6): TOTAL mixed requests through baton, then: did RSS grow after warm-up
# (target < 5 %), did the file descriptors come back to their baseline, did anything fail, and,
# with a sanitizer build as BATON_BIN, did LeakSanitizer or ASan/UBSan report anything at exit.
#
# One origin (nginx, 1 worker) serves /small (13 bytes), /mid (16 KiB), /big (1 MiB) and /upload
# (reads the whole request body, answers 13 bytes). baton (WORKERS workers) proxies to it. The load
# comes in rounds of ROUND seconds until TOTAL requests are done; each round runs at once
#   - wrk with bench/soak/mix.lua: keep-alive and Connection: close, GETs of 13 bytes to 1 MiB,
#     POSTs of 4 KiB and 256 KiB;
#   - bench/soak/aborts.py: clients that abort mid-body (FIN and RST), mid-response, mid-head,
#     at ABORT_RATE per second, with a canary request every 10 aborts.
# Between rounds the script waits until baton has no client connection left and records RSS, open
# descriptors and the upstream keep-alive connections baton pools (those are descriptors too and
# legitimately vary, so the baseline compared is descriptors minus pooled). The rounds until WARMUP
# requests are the warm-up: RSS and descriptors after it are the reference.
#
# Prints a table per round and the verdicts. Needs nginx, wrk, curl. Loopback only, ports chosen at
# run time, every process started here stopped by pid on exit.
#
# Environment (defaults in brackets):
#   BATON_BIN [build/main/baton]  TOTAL [1000000]  WARMUP [TOTAL/10]  ROUND [10] seconds
#   CONNECTIONS [32] wrk -c  WORKERS [1]  ABORT_RATE [40]  PROXY_CPU [1] LOAD_CPU [0]  KEEP_WORK [0]
# Under LeakSanitizer (a -DBATON_SANITIZE=ON build):
#   BATON_BIN=build-asan/main/baton TOTAL=100000 bench/soak/run.sh
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
BATON_BIN=${BATON_BIN:-$ROOT/build/main/baton}
TOTAL=${TOTAL:-1000000}
WARMUP=${WARMUP:-$((TOTAL / 10))}
ROUND=${ROUND:-10}
CONNECTIONS=${CONNECTIONS:-32}
WORKERS=${WORKERS:-1}
ABORT_RATE=${ABORT_RATE:-40}
PROXY_CPU=${PROXY_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
KEEP_WORK=${KEEP_WORK:-0}

PIDS=()
WORK=""
LOG_TAG=soak
# shellcheck source=SCRIPTDIR/../lib/proc.sh
source "$ROOT/bench/lib/proc.sh" # log, die, cleanup, free_port, wait_port, spawn, origin conf
cleanup_on_exit
for tool in nginx wrk curl taskset; do command -v "$tool" >/dev/null || die "$tool not found"; done
[[ -x $BATON_BIN ]] || die "baton binary '$BATON_BIN' missing (set BATON_BIN)"

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }

WORK=$(mktemp -d /tmp/baton-soak.XXXXXX)
mkdir -p "$WORK/www" "$WORK/origin"
printf 'hello, world\n' >"$WORK/www/small"
head -c $((16 << 10)) /dev/zero | tr '\0' 'm' >"$WORK/www/mid"
head -c $((1 << 20)) /dev/zero | tr '\0' 'x' >"$WORK/www/big"
chmod -R a+rX "$WORK"

ORIGIN_PORT=$(free_port)
origin_nginx_upload_conf 4096 60s >"$WORK/origin/nginx.conf"
start_origin_nginx

PORT=$(free_port)
ADMIN_PORT=$(free_port)
cat >"$WORK/baton.toml" <<CONF
[server]
workers = $WORKERS
[admin]
http = "127.0.0.1:$ADMIN_PORT"
[[listener]]
name = "http"
address = "127.0.0.1:$PORT"
$(baton_conf_origin 1024)
CONF
# Leaks are reported when baton exits (stopped below, not by the cleanup trap).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
spawn "$PROXY_CPU" "$WORK/baton.log" "$BATON_BIN" --config "$WORK/baton.toml"
BATON_PID=$SPAWNED_PID
READY_TIMEOUT=30 wait_port "$BATON_PID" "$PORT" || die "baton did not start: $(cat "$WORK/baton.log")"
READY_TIMEOUT=30 wait_port "$BATON_PID" "$ADMIN_PORT" || die "baton's admin listener did not start"

metrics() { curl -fsS --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics"; }
# Sum of every sample of one family (labels ignored).
metric_sum() { metrics | awk -v n="$1" '$1 == n || index($1, n "{") == 1 {s += $NF} END {print s + 0}'; }

# Waits until baton holds no client connection (aborted ones included), up to 30 s.
wait_quiet() {
  local deadline=$((SECONDS + 30))
  while (($(metric_sum baton_connections_open) > 0)) && ((SECONDS < deadline)); do sleep 0.2; done
}

ROWS=()
DONE=0 NON2XX=0 SOCKERR=0 ROUNDS=0 ABORTS=0 ABORT_ERRORS=0 CANARIES=0 CANARY_FAILS=0
RSS_WARM="" FD_WARM=""
log "soak: $TOTAL requests (warm-up $WARMUP) in rounds of ${ROUND}s; baton pid $BATON_PID"
while ((DONE < TOTAL)); do
  ROUNDS=$((ROUNDS + 1))
  nice -n 5 taskset -c "$LOAD_CPU" "$PY" "$HERE/aborts.py" --port "$PORT" --rate "$ABORT_RATE" \
    --seconds "$ROUND" >"$WORK/aborts.$ROUNDS.json" 2>"$WORK/aborts.$ROUNDS.err" &
  ABORT_PID=$!
  PIDS+=("$ABORT_PID")
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"${ROUND}s" -s "$HERE/mix.lua" \
    "http://127.0.0.1:$PORT" >"$WORK/wrk.$ROUNDS.txt"
  wait "$ABORT_PID" || die "aborts.py failed: $(cat "$WORK/aborts.$ROUNDS.err")"
  forget_pid "$ABORT_PID"
  alive "$BATON_PID" || die "baton died in round $ROUNDS: $(tail -30 "$WORK/baton.log")"
  read -r N E S < <("$PY" - "$WORK/wrk.$ROUNDS.txt" <<'PYEOF'
import re, sys
t = open(sys.argv[1]).read()
n = int(re.search(r"(\d+) requests in", t).group(1))
e = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
s = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
print(n, e.group(1) if e else 0, sum(map(int, s.groups())) if s else 0)
PYEOF
)
  read -r A AE C CF < <("$PY" -c "import json,sys; c=json.load(open(sys.argv[1])); \
print(sum(c[k] for k in ('body-fin','body-rst','read-rst','head-fin')), c['errors'], c['canaries'], c['canary_failures'])" \
    "$WORK/aborts.$ROUNDS.json")
  DONE=$((DONE + N + A + C)) NON2XX=$((NON2XX + E)) SOCKERR=$((SOCKERR + S))
  ABORTS=$((ABORTS + A)) ABORT_ERRORS=$((ABORT_ERRORS + AE)) CANARIES=$((CANARIES + C))
  CANARY_FAILS=$((CANARY_FAILS + CF))
  wait_quiet
  RSS=$(rss_kib "$BATON_PID") FDS=$(fd_count "$BATON_PID") POOLED=$(metric_sum baton_host_pooled_connections)
  ROWS+=("| $ROUNDS | $DONE | $N | $A | $E | $S | $(mib "$RSS") | $FDS | $POOLED | $((FDS - POOLED)) |")
  log "soak: round $ROUNDS: $DONE done, RSS $(mib "$RSS") MiB, fds $FDS (pooled $POOLED)"
  if [[ -z $RSS_WARM ]] && ((DONE >= WARMUP)); then RSS_WARM=$RSS FD_WARM=$((FDS - POOLED)); fi
done

SHED=$(metric_sum baton_connections_shed_total)
REQ5XX=$(metrics | awk '$1 ~ /^baton_listener_requests_total\{/ && $1 ~ /class="5xx"/ {s += $NF} END {print s + 0}')
FD_END=$((FDS - POOLED))
GROWTH=$("$PY" -c "print(f'{($RSS - $RSS_WARM) * 100 / $RSS_WARM:+.2f}')")
# Stop baton the way an operator does and read what the sanitizers said at exit.
kill -TERM "$BATON_PID"
for ((i = 0; i < 300; i++)); do alive "$BATON_PID" || break; sleep 0.1; done
wait "$BATON_PID" 2>/dev/null && EXIT=0 || EXIT=$?
forget_pid "$BATON_PID"
SAN=$(grep -c -E "ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:" "$WORK/baton.log" || true)

cat <<OUT
| round | requests so far | wrk requests | aborts | wrk non-2xx | wrk socket errors | RSS MiB | fds | pooled upstream | fds − pooled |
|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|
$(printf '%s\n' "${ROWS[@]}")

requests: $DONE ($ABORTS aborted by the client, $CANARIES canaries, $CANARY_FAILS canary failures, $ABORT_ERRORS aborts refused first)
wrk non-2xx: $NON2XX; wrk socket errors: $SOCKERR; 5xx answered by baton: $REQ5XX; connections shed: $SHED
RSS after warm-up $(mib "$RSS_WARM") MiB → at the end $(mib "$RSS") MiB: ${GROWTH} % (target < 5 %)
descriptors minus pooled upstream: after warm-up $FD_WARM, at the end $FD_END (target: equal)
baton exit status $EXIT; sanitizer reports in its log: $SAN
OUT
if ((SAN > 0)); then
  grep -E -A12 "ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:" "$WORK/baton.log" | head -60 >&2
fi
