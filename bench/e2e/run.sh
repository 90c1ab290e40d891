#!/usr/bin/env bash
# End-to-end benchmark: baton vs HAProxy vs nginx as HTTP/1.1 reverse proxies, side by side.
#
# One origin (nginx, 1 worker) serves /small (13 bytes) and /16k (16 KiB). Each proxy in turn runs
# with ONE worker thread/process and keep-alive to the origin, pinned to its own core; wrk drives it
# with keep-alive and new-connection-per-request load. For each proxy x scenario we print req/s,
# p50/p99 latency, the proxy's CPU time per request (from /proc: meaningful even when wrk or the
# origin, not the proxy, is the bottleneck) and RSS, then the ratios of baton to each peer.
#
# Everything binds 127.0.0.1 on ports chosen at run time; every process started here is stopped by
# pid on exit. See bench/README.md.
#
# Environment (defaults in brackets):
#   BATON_BIN    [build/main/baton]   baton binary; skipped with a message if missing or not ready
#   DURATION     [10]                 seconds of measured load per run
#   WARMUP       [2]                  seconds of unmeasured load before each run
#   CONNECTIONS  [50]                 wrk -c
#   THREADS      [1]                  wrk -t
#   PROXIES      [baton haproxy nginx]
#   SCENARIOS    [ka-small ka-16k close-small]
#   PROXY_CPU    [1]  LOAD_CPU [0]    cores for the proxy / for wrk + origin + this script
#   READY_TIMEOUT [10]                seconds to wait for a proxy to come up
#   NICE         [-10 as root, else 0] niceness of the run's own session (scheduler autogroup):
#                                     shields it from other jobs on a shared machine; 0 = off
#   RESULTS_DIR  []                   if set, keep raw wrk outputs and results.jsonl there
#   KEEP_WORK    [0]                  1 = keep the temporary work dir (configs, logs)
#   FORWARD_HEADERS [same]            or minimal: the request fields HAProxy and nginx add
#                                     (bench/lib/proc.sh)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
REPORT="$HERE/report.py"

BATON_BIN=${BATON_BIN:-$ROOT/build/main/baton}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${THREADS:-1}
PROXIES=${PROXIES:-"baton haproxy nginx"}
SCENARIOS=${SCENARIOS:-"ka-small ka-16k close-small"}
PROXY_CPU=${PROXY_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
READY_TIMEOUT=${READY_TIMEOUT:-10}
KEEP_WORK=${KEEP_WORK:-0}
# Default -10 as root: the run then gets priority over other jobs on a shared machine (see README).
if ((EUID == 0)); then NICE=${NICE:--10}; else NICE=${NICE:-0}; fi

SMALL_BODY=$'hello, world\n'
BIG_SIZE=16384

PIDS=()     # every process we started, stopped in cleanup by pid
ORIGIN_PID=""
ORIGIN_PORT=""
WORK=""
LOG_TAG=e2e
# shellcheck source=SCRIPTDIR/../lib/proc.sh
source "$ROOT/bench/lib/proc.sh" # log, die, PIDS handling, start_*/bench_proxy helpers
cleanup_on_exit

# ---------------------------------------------------------------- configs

write_origin_conf() {
  mkdir -p "$WORK/www" "$WORK/origin"
  printf '%s' "$SMALL_BODY" >"$WORK/www/small"
  head -c "$BIG_SIZE" /dev/zero | tr '\0' 'x' >"$WORK/www/16k"
  chmod -R a+rX "$WORK"
  origin_nginx_conf 4096 >"$WORK/origin/nginx.conf"
}

write_haproxy_conf() {
  local port=$1
  mkdir -p "$WORK/haproxy"
  cat >"$WORK/haproxy/haproxy.cfg" <<EOF
$(haproxy_conf_head "")

frontend fe
  bind 127.0.0.1:$port
  default_backend origin

$(haproxy_conf_backend)
EOF
}

write_nginx_proxy_conf() {
  local port=$1
  mkdir -p "$WORK/nginx"
  cat >"$WORK/nginx/nginx.conf" <<EOF
$(nginx_conf_head "$WORK/nginx" 4096)
http {
  access_log off;
  keepalive_timeout 60s;
  keepalive_requests 10000000;
$(nginx_temp_paths "$WORK/nginx")
$(nginx_proxy_upstream "64")
  server {
    listen 127.0.0.1:$port backlog=4096;
$(nginx_proxy_location)
  }
}
EOF
}

write_baton_conf() {
  mkdir -p "$WORK/baton"
  cat >"$WORK/baton/baton.toml" <<EOF
$(baton_conf_head)

[[listener]]
name = "http"
address = "127.0.0.1:0"

$(baton_conf_origin "64")
EOF
}

# ---------------------------------------------------------------- starting things
# Each start_* sets PROXY_PID and PROXY_PORT, or returns non-zero with a message.

start_origin() {
  ORIGIN_PORT=$(free_port)
  write_origin_conf
  start_origin_nginx
}

start_haproxy() {
  PROXY_PORT=$(free_port)
  write_haproxy_conf "$PROXY_PORT"
  start_peer haproxy "$WORK/haproxy/stdout.log" "$PROXY_PORT" \
    haproxy -f "$WORK/haproxy/haproxy.cfg" -db
}

start_nginx() {
  PROXY_PORT=$(free_port)
  write_nginx_proxy_conf "$PROXY_PORT"
  start_peer nginx "$WORK/nginx/error.log" "$PROXY_PORT" \
    nginx -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf"
}

# The ready line names the real listener port (the config asks for port 0).
start_baton() {
  write_baton_conf
  start_baton_ready "$WORK/baton/baton.toml" || return 1
  PROXY_PORT=$(sed -n 's/.*"event":"ready".*"listeners":{[^}]*"127\.0\.0\.1:\([0-9][0-9]*\)".*/\1/p' \
    <<<"$READY_LINE")
  if [[ -z $PROXY_PORT ]]; then
    log "e2e: SKIP baton: no 127.0.0.1 listener in the ready line '$READY_LINE'"
    return 1
  fi
}

# Each path must answer 200 with the exact body size through the proxy before we load it.
check_proxy() { # proxy (unused: the one on PROXY_PORT)
  local port=$PROXY_PORT got
  got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:$port/small") || true
  [[ $got == "200 ${#SMALL_BODY}" ]] || { log "e2e: GET /small gave '$got'"; return 1; }
  got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:$port/16k") || true
  [[ $got == "200 $BIG_SIZE" ]] || { log "e2e: GET /16k gave '$got'"; return 1; }
}

# ---------------------------------------------------------------- one measured run

scenario_args() {
  case $1 in
  ka-small) WRK_PATH=/small WRK_EXTRA=() ;;
  ka-16k) WRK_PATH=/16k WRK_EXTRA=() ;;
  close-small) WRK_PATH=/small WRK_EXTRA=(-H "Connection: close") ;;
  *) die "unknown scenario '$1'" ;;
  esac
}

run_wrk() { # seconds url out
  taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$1s" --latency \
    "${WRK_EXTRA[@]}" "$2" >"$3" 2>&1 || true
}

measure() { # proxy scenario rss_idle_kb
  local proxy=$1 scenario=$2 rss_idle=$3 url out t0 o0 c0 w0 t1 o1 c1 w1 rss hwm n
  local alive_after=true
  scenario_args "$scenario"
  url="http://127.0.0.1:$PROXY_PORT$WRK_PATH"
  out="$RESULTS/$proxy-$scenario.wrk"
  log "e2e: $proxy / $scenario: warm-up ${WARMUP}s, then ${DURATION}s"
  ((WARMUP > 0)) && run_wrk "$WARMUP" "$url" "$out.warmup"
  read -r t0 _ _ _ < <(proc_stat "$PROXY_PID")
  read -r o0 _ _ _ < <(proc_stat "$ORIGIN_PID")
  read -r c0 w0 < <("$PY" "$REPORT" busy "$PROXY_CPU")
  run_wrk "$DURATION" "$url" "$out"
  read -r c1 w1 < <("$PY" "$REPORT" busy "$PROXY_CPU")
  read -r t1 rss hwm n < <(proc_stat "$PROXY_PID")
  read -r o1 _ _ _ < <(proc_stat "$ORIGIN_PID")
  alive "$PROXY_PID" || alive_after=false
  {
    printf '{"proxy":"%s","scenario":"%s","wrk_out":"%s","ticks":%d,"origin_ticks":%d,' \
      "$proxy" "$scenario" "$out" $((t1 - t0)) $((o1 - o0))
    printf '"cpu_busy_ticks":%d,"busy_wall_s":%s,' $((c1 - c0)) \
      "$("$PY" -c "print(round($w1 - $w0, 3))")"
    printf '"rss_idle_kb":%d,"rss_after_kb":%d,"hwm_kb":%d,' "$rss_idle" "${rss:-0}" "${hwm:-0}"
    printf '"nprocs":%d,"alive_after":%s}\n' "${n:-0}" "$alive_after"
  } >>"$RESULTS/results.jsonl"
}

# ---------------------------------------------------------------- main

main() {
  local p
  prepare_run baton-e2e "run scripts/setup.sh" nginx haproxy wrk curl taskset

  local load_start
  load_start=$(cut -d' ' -f1-3 /proc/loadavg)
  start_origin
  for p in $PROXIES; do bench_proxy "$p"; done

  echo "## baton end-to-end benchmark"
  echo
  host_line
  echo "- pinning: proxy under test on CPU $PROXY_CPU; wrk AND the origin share CPU $LOAD_CPU" \
    "(only $(nproc --all) cores: load generator and origin compete, so req/s may be capped by" \
    "CPU $LOAD_CPU, not by the proxy — compare CPU µs/req and proxy CPU %)"
  echo "- origin: $(nginx -v 2>&1 | sed 's/.*: //'), 1 worker, /small = ${#SMALL_BODY} B," \
    "/16k = $BIG_SIZE B"
  echo "- proxies: baton ($BATON_BIN), $(haproxy -v | head -n 1 | cut -d' ' -f1-3)" \
    "(nbthread 1, http-reuse always), nginx (1 worker, upstream keepalive 64); one" \
    "worker each, keep-alive to the origin; HAProxy and nginx add baton's request fields" \
    "(FORWARD_HEADERS=${FORWARD_HEADERS:-same})"
  echo "- load: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency after a ${WARMUP}s" \
    "warm-up; close-small adds -H 'Connection: close' (one TCP connection per request)"
  echo "- CPU µs/req = proxy utime+stime (all threads and processes, /proc/PID/stat) during the" \
    "measured run / requests completed; RSS = VmRSS (idle: after start, before any request)," \
    "peak = VmHWM (summed over nginx master+worker)"
  echo "- niceness of every process started here: $(ps -o ni= -p $$ | tr -d ' ')" \
    "(autogroup: $(cat /proc/$$/autogroup 2>/dev/null || echo none))"
  echo "- machine load average (1/5/15 min) at start: $load_start; at end:" \
    "$(cut -d' ' -f1-3 /proc/loadavg) — anything else running skews req/s and latency; the" \
    "'other on proxy CPU %' column shows what else ran on the proxy's core"
  if ((${#SKIPPED[@]})); then echo "- skipped: ${SKIPPED[*]} (see messages on stderr)"; fi
  echo
  "$PY" "$REPORT" table "$RESULTS/results.jsonl"
}

run_main "$@"
