# shellcheck shell=bash
# Process handling shared by the benchmark scripts: bench/e2e/run.sh, bench/e2e/run_h2.sh and
# bench/abuse/run.sh source this file (it does nothing on its own). Loopback only; every process a
# script starts goes into PIDS and is stopped by pid on exit, never by name.
#
# The sourcing script sets, before calling anything here:
#   LOG_TAG        prefix of messages ("e2e", "e2e-h2", "abuse")
#   PY             the python3 to use
#   PIDS=() WORK="" KEEP_WORK READY_TIMEOUT (seconds; 10 if unset)
# and, for the e2e helpers below: PROXY_CPU, LOAD_CPU, NICE, SCENARIOS, and the functions
# start_<proxy>, check_proxy, measure.

log() { printf '%s\n' "$*" >&2; }
die() {
  log "$LOG_TAG: $*"
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
    log "$LOG_TAG: pid $pid ignored SIGTERM for 5 s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# Stops every process in PIDS (all get SIGTERM at once, so they wind down together), then removes
# WORK unless KEEP_WORK=1. Keeps the script's exit status.
cleanup() {
  local rc=$? pid
  trap - EXIT
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  if [[ -n $WORK ]]; then
    if [[ $KEEP_WORK == 1 ]]; then log "$LOG_TAG: work dir kept: $WORK"; else rm -rf "$WORK"; fi
  fi
  exit "$rc"
}

# Called once at the top of a script: cleanup on any exit, including ^C and SIGTERM.
cleanup_on_exit() {
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

forget_pid() {
  local keep=() p
  for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

stop_and_forget() {
  stop_pid "$1"
  forget_pid "$1"
}

# A free loopback port; the tiny race until the server binds it is acceptable for a bench.
free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits until 127.0.0.1:port accepts a connection while pid lives (nginx/HAProxy have no ready fd).
wait_port() {
  local pid=$1 port=$2 deadline=$((SECONDS + ${READY_TIMEOUT:-10}))
  while ((SECONDS < deadline)); do
    alive "$pid" || return 1
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  return 1
}

# Starts "$@" pinned to cpu, stdout and stderr to out, in the background; sets SPAWNED_PID.
spawn() { # cpu out command...
  local cpu=$1 out=$2
  shift 2
  taskset -c "$cpu" "$@" >"$out" 2>&1 &
  SPAWNED_PID=$!
  PIDS+=("$SPAWNED_PID")
}

# ---------------------------------------------------------------- nginx and baton configuration pieces

# The head of an nginx.conf for one worker in the foreground, pid and error log under dir.
nginx_conf_head() { # dir worker_connections
  printf '%s\n' "worker_processes 1;" "daemon off;" "pid $1/nginx.pid;" \
    "error_log $1/error.log warn;" "events { worker_connections $2; }"
}

# nginx's temporary paths (it needs them writable even when unused), inside an http block.
nginx_temp_paths() { # dir
  local what
  for what in client_body proxy fastcgi uwsgi scgi; do printf '  %s_temp_path %s;\n' "$what" "$1/$what"; done
}

# The origin's nginx.conf: serves $WORK/www on ORIGIN_PORT with keep-alive, logs nothing.
origin_nginx_conf() { # worker_connections
  cat <<EOF
$(nginx_conf_head "$WORK/origin" "$1")
http {
  access_log off;
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 120s;
  keepalive_requests 10000000;
$(nginx_temp_paths "$WORK/origin")
  server {
    listen 127.0.0.1:$ORIGIN_PORT backlog=4096;
    root $WORK/www;
    location / { }
  }
}
EOF
}

# The origin's nginx.conf for the benches that send bodies (abuse, soak): like origin_nginx_conf,
# plus /upload, which reads the whole request body (nginx buffers it before proxying), then
# answers /small.
origin_nginx_upload_conf() { # worker_connections client_body_timeout
  cat <<EOF
$(nginx_conf_head "$WORK/origin" "$1")
http {
  access_log off;
  sendfile on;
  keepalive_timeout 300s;
  keepalive_requests 10000000;
  client_body_timeout $2;
$(nginx_temp_paths "$WORK/origin")
  server {
    listen 127.0.0.1:$ORIGIN_PORT backlog=4096;
    root $WORK/www;
    location / { }
    location = /upload {
      client_max_body_size 0;
      proxy_method GET;
      proxy_pass http://127.0.0.1:$ORIGIN_PORT/small;
    }
  }
}
EOF
}

# FORWARD_HEADERS [same]: "same" has HAProxy and nginx add to each request the fields baton adds
# by default (X-Forwarded-For, -Proto, -Host, -Port, X-Real-IP, X-Request-Id), so the origin
# parses a like-sized head from every proxy and every proxy does the same work; "minimal" has
# them add only X-Forwarded-For (the setup of the bench/RESULTS.md entries below the one of
# 2026-11-27 12:40–13:35). At one stream per connection the load core caps req/s, and the origin
# parsing baton's five extra fields cost it ~0.8 µs a request (RESULTS.md, 2026-11-27 12:40–13:35).
# Checked here, when this file is sourced: the functions below run inside $( ), where a die
# would end only the substitution and leave a broken config behind.
case ${FORWARD_HEADERS:-same} in
same | minimal) ;;
*)
  printf '%s\n' "FORWARD_HEADERS must be 'same' or 'minimal', not '$FORWARD_HEADERS'" >&2
  exit 1
  ;;
esac
forward_same_headers() { [[ ${FORWARD_HEADERS:-same} == same ]]; }

# nginx as the proxy under test: its upstream "origin" (keep-alive pool of pool connections) and the
# location that proxies everything to it with keep-alive and the request fields of
# FORWARD_HEADERS.
nginx_proxy_upstream() { # pool
  cat <<EOF
  upstream origin {
    server 127.0.0.1:$ORIGIN_PORT;
    keepalive $1;
    keepalive_requests 10000000;
  }
EOF
}
nginx_proxy_location() {
  printf '%s\n' "    location / {" "      proxy_pass http://origin;" "      proxy_http_version 1.1;" \
    '      proxy_set_header Connection "";' \
    '      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;'
  if forward_same_headers; then
    printf '%s\n' '      proxy_set_header X-Forwarded-Proto $scheme;' \
      '      proxy_set_header X-Forwarded-Host $http_host;' \
      '      proxy_set_header X-Forwarded-Port $server_port;' \
      '      proxy_set_header X-Real-IP $remote_addr;' \
      '      proxy_set_header X-Request-Id $request_id;'
  fi
  printf '%s\n' "    }"
}

# HAProxy's global and defaults sections (one thread, forwardfor, connection reuse to the origin);
# a non-empty extra line goes at the end of global. The backend is the origin.
haproxy_conf_head() { # extra_global_line
  printf '%s\n' global "  nbthread 1" "  maxconn 4096" "  pidfile $WORK/haproxy/haproxy.pid"
  if [[ -n $1 ]]; then printf '  %s\n' "$1"; fi
  cat <<EOF

defaults
  mode http
  option forwardfor
  http-reuse always
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout http-request 10s
  timeout http-keep-alive 60s
EOF
}
haproxy_conf_backend() {
  printf '%s\n' "backend origin"
  if forward_same_headers; then
    printf '%s\n' "  http-request set-header X-Forwarded-Proto https if { ssl_fc }" \
      "  http-request set-header X-Forwarded-Proto http if !{ ssl_fc }" \
      "  http-request set-header X-Forwarded-Host %[req.hdr(host)]" \
      "  http-request set-header X-Forwarded-Port %[dst_port]" \
      "  http-request set-header X-Real-IP %[src]" \
      "  http-request set-header X-Request-Id %[uuid]"
  fi
  printf '%s\n' "  server origin1 127.0.0.1:$ORIGIN_PORT"
}

# The [server] and [limits] head of a baton.toml: one worker, no access log, no per-connection limit.
baton_conf_head() {
  printf '%s\n' "[server]" "workers = 1" "[server.access_log]" 'path = "off"' "" "[limits]" \
    "requests_per_connection = 0"
}

# baton's cluster "origin" (ORIGIN_PORT, up to max_idle idle connections) and a catch-all vhost to it.
baton_conf_origin() { # max_idle
  cat <<EOF
[[cluster]]
name = "origin"
max_idle_connections = $1
hosts = ["127.0.0.1:$ORIGIN_PORT"]

[[vhost]]
name = "all"
domains = ["*"]
  [[vhost.route]]
  prefix = "/"
  cluster = "origin"
EOF
}

# A whole baton.toml for the HTTP/2 benchmarks: a TLS listener (ALPN h2, http/1.1) on port $1 and
# an h2c one on port $2 (two listeners may not share an address string, so both get explicit free
# ports), the certificate $3/cert.pem with $3/key.pem, before the origin (max_idle $4).
baton_conf_tls_h2c() { # tls_port h2c_port tls_dir max_idle
  cat <<EOF
$(baton_conf_head)

[tls]
[[tls.certificate]]
cert = "$3/cert.pem"
key = "$3/key.pem"
default = true

[[listener]]
name = "https"
address = "127.0.0.1:$1"
tls = true

[[listener]]
name = "h2c"
address = "127.0.0.1:$2"

$(baton_conf_origin "$4")
EOF
}

# Starts the origin nginx of $WORK/origin/nginx.conf on LOAD_CPU; sets ORIGIN_PID; dies if
# ORIGIN_PORT does not answer.
start_origin_nginx() {
  spawn "$LOAD_CPU" "$WORK/origin/stdout.log" nginx -p "$WORK/origin" -e "$WORK/origin/error.log" \
    -c "$WORK/origin/nginx.conf"
  ORIGIN_PID=$SPAWNED_PID
  wait_port "$ORIGIN_PID" "$ORIGIN_PORT" || {
    cat "$WORK/origin/error.log" >&2 || true
    die "origin nginx did not start"
  }
}

# ---------------------------------------------------------------- e2e: proxies under test

# Starts HAProxy or nginx ("$@" after the ports) on PROXY_CPU, output to $WORK/<name>/stdout.log;
# sets PROXY_PID; returns 1 (after logging err_log) unless every port comes up.
start_peer() { # name err_log "port..." command...
  local name=$1 err_log=$2 ports=$3 port
  shift 3
  spawn "$PROXY_CPU" "$WORK/$name/stdout.log" "$@"
  PROXY_PID=$SPAWNED_PID
  for port in $ports; do
    wait_port "$PROXY_PID" "$port" || {
      log "$(cat "$err_log")"
      return 1
    }
  done
}

# Starts baton with config on PROXY_CPU; sets PROXY_PID and READY_LINE. baton says when it is ready
# on --ready-fd: one JSON line ("event":"ready", naming the real listener ports). We read it through
# a FIFO held open read-write by this shell, so opening its write end never blocks.
start_baton_ready() { # config
  if [[ ! -x $BATON_BIN ]]; then
    log "$LOG_TAG: SKIP baton: binary '$BATON_BIN' missing or not executable (set BATON_BIN)"
    return 1
  fi
  local fifo="$WORK/baton/ready" ready_fd deadline rc
  READY_LINE=""
  rm -f "$fifo" # left by an earlier start in this run
  mkfifo "$fifo"
  exec {ready_fd}<>"$fifo"
  taskset -c "$PROXY_CPU" "$BATON_BIN" --config "$1" --ready-fd 3 \
    3>"$fifo" {ready_fd}<&- >"$WORK/baton/stdout.log" 2>&1 &
  PROXY_PID=$!
  PIDS+=("$PROXY_PID")
  deadline=$((SECONDS + READY_TIMEOUT))
  while ((SECONDS < deadline)); do
    if read -r -t 0.2 -u "$ready_fd" READY_LINE; then break; fi
    READY_LINE=""
    alive "$PROXY_PID" || break
  done
  exec {ready_fd}<&-
  if [[ $READY_LINE != *'"event":"ready"'* ]]; then
    if alive "$PROXY_PID"; then
      log "$LOG_TAG: SKIP baton: no ready line on --ready-fd within ${READY_TIMEOUT}s (got: '${READY_LINE}')"
    else
      wait "$PROXY_PID" 2>/dev/null && rc=0 || rc=$?
      log "$LOG_TAG: SKIP baton: exited (status $rc) before becoming ready"
    fi
    if [[ -s $WORK/baton/stdout.log ]]; then log "$(tail -n 20 "$WORK/baton/stdout.log")"; fi
    return 1
  fi
}

# "ticks rss_kb hwm_kb nprocs" for pid and its descendants.
proc_stat() { "$PY" "$BENCH_LIB/../e2e/report.py" proc "$@"; }

# Starts one proxy, checks it answers, runs the given scenarios (default: SCENARIOS) against it, stops it. A proxy
# that does not start or fails the sanity requests is added to SKIPPED and the run goes on.
bench_proxy() { # proxy [scenarios, default $SCENARIOS]
  local proxy=$1 scenarios=${2:-$SCENARIOS} rss_idle s
  PROXY_PID=""
  if ! "start_$proxy"; then
    [[ $proxy == baton ]] || log "$LOG_TAG: SKIP $proxy: failed to start"
    if [[ -n $PROXY_PID ]]; then stop_and_forget "$PROXY_PID"; fi
    SKIPPED+=("$proxy")
    return 0
  fi
  # Idle RSS: after start-up, before any request.
  read -r _ rss_idle _ _ < <(proc_stat "$PROXY_PID")
  if ! check_proxy "$proxy"; then
    log "$LOG_TAG: SKIP $proxy: sanity requests failed"
    if [[ -s $WORK/$proxy/stdout.log ]]; then log "$(tail -n 20 "$WORK/$proxy/stdout.log")"; fi
    stop_and_forget "$PROXY_PID"
    SKIPPED+=("$proxy")
    return 0
  fi
  for s in $scenarios; do measure "$proxy" "$s" "$rss_idle"; done
  stop_and_forget "$PROXY_PID"
}

# ---------------------------------------------------------------- e2e: the run's own set-up

# Checks the tools and CPUs, raises the descriptor limit, pins this shell to LOAD_CPU, applies NICE,
# makes WORK (/tmp/<prefix>.XXXXXX) and RESULTS with an empty results.jsonl.
prepare_run() { # work_prefix missing_tool_hint tool...
  local prefix=$1 hint=$2 tool
  shift 2
  for tool in "$@"; do
    command -v "$tool" >/dev/null || die "$tool not found ($hint)"
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
  WORK=$(mktemp -d "/tmp/$prefix.XXXXXX")
  chmod 755 "$WORK" # nginx workers run as an unprivileged user when we are root
  RESULTS=${RESULTS_DIR:-$WORK/results}
  mkdir -p "$RESULTS"
  : >"$RESULTS/results.jsonl"
  SKIPPED=()
}

# The report's first line: date, host, CPUs.
host_line() {
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); host: $(uname -srm); $(nproc --all) CPUs:" \
    "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)"
}

# Re-runs the script as the leader of a new session, so that NICE applies to its own scheduler
# autogroup and nothing else; forwards INT/TERM to its process group (a new session does not get the
# terminal's ^C), which stops the load generator at once and lets the script clean up.
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

# Runs main "$@", in a session of its own when NICE asks for one.
run_main() {
  if [[ $NICE != 0 && -z ${_BATON_E2E_SESSION:-} ]] && command -v setsid >/dev/null; then
    in_own_session "$@"
  fi
  main "$@"
}

BENCH_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
