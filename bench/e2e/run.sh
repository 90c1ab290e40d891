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

log() { printf '%s\n' "$*" >&2; }
die() {
  log "e2e: $*"
  exit 1
}

# ---------------------------------------------------------------- process handling

# True while pid exists and is not a zombie (a zombie still answers kill -0).
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

stop_pid() {
  local pid=$1 i
  alive "$pid" || {
    wait "$pid" 2>/dev/null || true
    return 0
  }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    log "e2e: pid $pid ignored SIGTERM for 5 s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? pid
  trap - EXIT
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  if [[ -n $WORK ]]; then
    if [[ $KEEP_WORK == 1 ]]; then log "e2e: work dir kept: $WORK"; else rm -rf "$WORK"; fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

forget_pid() {
  local keep=() p
  for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

# A free loopback port; the tiny race until the server binds it is acceptable for a bench.
free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits until 127.0.0.1:port accepts a connection while pid lives (nginx/HAProxy have no ready fd).
wait_port() {
  local pid=$1 port=$2 deadline=$((SECONDS + READY_TIMEOUT))
  while ((SECONDS < deadline)); do
    alive "$pid" || return 1
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  return 1
}

# "ticks rss_kb hwm_kb nprocs" for pid and its descendants.
proc_stat() { "$PY" "$REPORT" proc "$@"; }

# ---------------------------------------------------------------- configs

write_origin_conf() {
  mkdir -p "$WORK/www" "$WORK/origin"
  printf '%s' "$SMALL_BODY" >"$WORK/www/small"
  head -c "$BIG_SIZE" /dev/zero | tr '\0' 'x' >"$WORK/www/16k"
  chmod -R a+rX "$WORK"
  cat >"$WORK/origin/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/origin/nginx.pid;
error_log $WORK/origin/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 120s;
  keepalive_requests 10000000;
  client_body_temp_path $WORK/origin/client_body;
  proxy_temp_path $WORK/origin/proxy;
  fastcgi_temp_path $WORK/origin/fastcgi;
  uwsgi_temp_path $WORK/origin/uwsgi;
  scgi_temp_path $WORK/origin/scgi;
  server {
    listen 127.0.0.1:$ORIGIN_PORT backlog=4096;
    root $WORK/www;
    location / { }
  }
}
EOF
}

write_haproxy_conf() {
  local port=$1
  mkdir -p "$WORK/haproxy"
  cat >"$WORK/haproxy/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 4096
  pidfile $WORK/haproxy/haproxy.pid

defaults
  mode http
  option forwardfor
  http-reuse always
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout http-request 10s
  timeout http-keep-alive 60s

frontend fe
  bind 127.0.0.1:$port
  default_backend origin

backend origin
  server origin1 127.0.0.1:$ORIGIN_PORT
EOF
}

write_nginx_proxy_conf() {
  local port=$1
  mkdir -p "$WORK/nginx"
  cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_timeout 60s;
  keepalive_requests 10000000;
  client_body_temp_path $WORK/nginx/client_body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  upstream origin {
    server 127.0.0.1:$ORIGIN_PORT;
    keepalive 64;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:$port backlog=4096;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    }
  }
}
EOF
}

write_baton_conf() {
  mkdir -p "$WORK/baton"
  cat >"$WORK/baton/baton.toml" <<EOF
[server]
workers = 1
[server.access_log]
path = "off"

[limits]
requests_per_connection = 0

[[listener]]
name = "http"
address = "127.0.0.1:0"

[[cluster]]
name = "origin"
max_idle_connections = 64
hosts = ["127.0.0.1:$ORIGIN_PORT"]

[[vhost]]
name = "all"
domains = ["*"]
  [[vhost.route]]
  prefix = "/"
  cluster = "origin"
EOF
}

# ---------------------------------------------------------------- starting things
# Each start_* sets PROXY_PID and PROXY_PORT, or returns non-zero with a message.

start_origin() {
  ORIGIN_PORT=$(free_port)
  write_origin_conf
  taskset -c "$LOAD_CPU" nginx -p "$WORK/origin" -e "$WORK/origin/error.log" \
    -c "$WORK/origin/nginx.conf" >"$WORK/origin/stdout.log" 2>&1 &
  ORIGIN_PID=$!
  PIDS+=("$ORIGIN_PID")
  wait_port "$ORIGIN_PID" "$ORIGIN_PORT" || {
    cat "$WORK/origin/error.log" >&2 || true
    die "origin nginx did not start"
  }
}

start_haproxy() {
  PROXY_PORT=$(free_port)
  write_haproxy_conf "$PROXY_PORT"
  taskset -c "$PROXY_CPU" haproxy -f "$WORK/haproxy/haproxy.cfg" -db \
    >"$WORK/haproxy/stdout.log" 2>&1 &
  PROXY_PID=$!
  PIDS+=("$PROXY_PID")
  wait_port "$PROXY_PID" "$PROXY_PORT" || {
    log "$(cat "$WORK/haproxy/stdout.log")"
    return 1
  }
}

start_nginx() {
  PROXY_PORT=$(free_port)
  write_nginx_proxy_conf "$PROXY_PORT"
  taskset -c "$PROXY_CPU" nginx -p "$WORK/nginx" -e "$WORK/nginx/error.log" \
    -c "$WORK/nginx/nginx.conf" >"$WORK/nginx/stdout.log" 2>&1 &
  PROXY_PID=$!
  PIDS+=("$PROXY_PID")
  wait_port "$PROXY_PID" "$PROXY_PORT" || {
    log "$(cat "$WORK/nginx/error.log")"
    return 1
  }
}

# baton says when it is ready on --ready-fd: one JSON line naming the real listener port. We read it
# through a FIFO held open read-write by this shell, so opening its write end never blocks.
start_baton() {
  if [[ ! -x $BATON_BIN ]]; then
    log "e2e: SKIP baton: binary '$BATON_BIN' missing or not executable (set BATON_BIN)"
    return 1
  fi
  write_baton_conf
  local fifo="$WORK/baton/ready" ready_fd line="" deadline rc
  mkfifo "$fifo"
  exec {ready_fd}<>"$fifo"
  taskset -c "$PROXY_CPU" "$BATON_BIN" --config "$WORK/baton/baton.toml" --ready-fd 3 \
    3>"$fifo" {ready_fd}<&- >"$WORK/baton/stdout.log" 2>&1 &
  PROXY_PID=$!
  PIDS+=("$PROXY_PID")
  deadline=$((SECONDS + READY_TIMEOUT))
  while ((SECONDS < deadline)); do
    if read -r -t 0.2 -u "$ready_fd" line; then break; fi
    line=""
    alive "$PROXY_PID" || break
  done
  exec {ready_fd}<&-
  PROXY_PORT=$(sed -n 's/.*"event":"ready".*"listeners":{[^}]*"127\.0\.0\.1:\([0-9][0-9]*\)".*/\1/p' \
    <<<"$line")
  if [[ -z $PROXY_PORT ]]; then
    if alive "$PROXY_PID"; then
      log "e2e: SKIP baton: no ready line on --ready-fd within ${READY_TIMEOUT}s (got: '${line}')"
    else
      wait "$PROXY_PID" 2>/dev/null && rc=0 || rc=$?
      log "e2e: SKIP baton: exited (status $rc) before becoming ready"
    fi
    if [[ -s $WORK/baton/stdout.log ]]; then log "$(tail -n 20 "$WORK/baton/stdout.log")"; fi
    return 1
  fi
}

# Each path must answer 200 with the exact body size through the proxy before we load it.
check_proxy() {
  local port=$1 got
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

bench_proxy() {
  local proxy=$1 rss_idle s
  PROXY_PID="" PROXY_PORT=""
  if ! "start_$proxy"; then
    [[ $proxy == baton ]] || log "e2e: SKIP $proxy: failed to start"
    [[ -n $PROXY_PID ]] && { stop_pid "$PROXY_PID"; forget_pid "$PROXY_PID"; }
    SKIPPED+=("$proxy")
    return 0
  fi
  # Idle RSS: after start-up, before any request.
  read -r _ rss_idle _ _ < <(proc_stat "$PROXY_PID")
  if ! check_proxy "$PROXY_PORT"; then
    log "e2e: SKIP $proxy: sanity requests failed"
    stop_pid "$PROXY_PID"
    forget_pid "$PROXY_PID"
    SKIPPED+=("$proxy")
    return 0
  fi
  for s in $SCENARIOS; do measure "$proxy" "$s" "$rss_idle"; done
  stop_pid "$PROXY_PID"
  forget_pid "$PROXY_PID"
}

# ---------------------------------------------------------------- main

main() {
  local p tool
  for tool in nginx haproxy wrk curl taskset; do
    command -v "$tool" >/dev/null || die "$tool not found (run scripts/setup.sh)"
  done
  [[ -x $PY ]] || die "$PY not found"
  (($(nproc --all) >= 2)) || die "needs at least 2 CPUs (proxy on one, load on the other)"
  # HAProxy's maxconn 4096 needs ~8200 descriptors; raise the soft limit as far as the hard one allows.
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  # This script and its helpers stay off the proxy's core.
  taskset -cp "$LOAD_CPU" $$ >/dev/null
  if [[ $NICE != 0 ]]; then
    renice -n "$NICE" -p $$ >/dev/null || die "cannot renice to $NICE (negative needs root)"
    # With autogroup scheduling, niceness only ranks processes of the same session; our own session
    # (see in_own_session) gets the niceness as a whole against other sessions.
    if [[ -w /proc/$$/autogroup ]]; then echo "$NICE" >"/proc/$$/autogroup" || true; fi
  fi

  WORK=$(mktemp -d /tmp/baton-e2e.XXXXXX)
  chmod 755 "$WORK" # nginx workers run as an unprivileged user when we are root
  RESULTS=${RESULTS_DIR:-$WORK/results}
  mkdir -p "$RESULTS"
  : >"$RESULTS/results.jsonl"
  SKIPPED=()

  local load_start
  load_start=$(cut -d' ' -f1-3 /proc/loadavg)
  start_origin
  for p in $PROXIES; do bench_proxy "$p"; done

  echo "## baton end-to-end benchmark"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); host: $(uname -srm); $(nproc --all) CPUs:" \
    "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)"
  echo "- pinning: proxy under test on CPU $PROXY_CPU; wrk AND the origin share CPU $LOAD_CPU" \
    "(only $(nproc --all) cores: load generator and origin compete, so req/s may be capped by" \
    "CPU $LOAD_CPU, not by the proxy — compare CPU µs/req and proxy CPU %)"
  echo "- origin: $(nginx -v 2>&1 | sed 's/.*: //'), 1 worker, /small = ${#SMALL_BODY} B," \
    "/16k = $BIG_SIZE B"
  echo "- proxies: baton ($BATON_BIN), $(haproxy -v | head -n 1 | cut -d' ' -f1-3)" \
    "(nbthread 1, http-reuse always), nginx (1 worker, upstream keepalive 64); one" \
    "worker each, keep-alive to the origin; HAProxy and nginx add X-Forwarded-For"
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

# Re-runs this script as the leader of a new session, so that NICE applies to its own scheduler
# autogroup and nothing else; forwards INT/TERM to its process group (a new session does not get the
# terminal's ^C), which stops wrk at once and lets the script clean up.
in_own_session() {
  local child rc
  trap - EXIT
  _BATON_E2E_SESSION=1 setsid bash "$0" "$@" &
  child=$!
  trap 'kill -TERM -- "-$child" 2>/dev/null' INT TERM
  while true; do
    wait "$child" && rc=0 || rc=$?
    alive "$child" || break
  done
  exit "$rc"
}

if [[ $NICE != 0 && -z ${_BATON_E2E_SESSION:-} ]] && command -v setsid >/dev/null; then
  in_own_session "$@"
fi
main "$@"
