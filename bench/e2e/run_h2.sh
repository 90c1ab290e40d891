#!/usr/bin/env bash
# End-to-end benchmark of the TLS and HTTP/2 front end (issue 6): baton vs HAProxy vs nginx.
#
# Same set-up as run.sh: one origin (nginx, 1 worker, plain HTTP/1.1 keep-alive) serves /small
# (13 bytes); each proxy in turn runs with ONE worker thread/process, pinned to its own core, with
# two listeners: TLS (self-signed EC P-256 certificate made here, ALPN h2,http/1.1) and plain h2c
# (prior knowledge). Scenarios:
#   tls-m1 / tls-m100    h2load over TLS (ALPN h2), -c CONNECTIONS, 1 / 100 streams per connection
#   h2c-m1 / h2c-m100    the same over plain TCP (h2load's h2c = prior knowledge)
#   tls-handshake        a full TLS handshake per request: curl --no-sessionid --http1.1
#                        --parallel (CONNECTIONS at once), 'Connection: close' (see bench/README.md)
# For each proxy x scenario: req/s (handshakes/s), p50/p99, proxy CPU per request (/proc), RSS, and
# the ratios baton/HAProxy and baton/nginx.
#
# Everything binds 127.0.0.1 on ports chosen at run time; every process started here is stopped by
# pid on exit. See bench/README.md ("HTTP/2 and TLS end-to-end benchmark").
#
# Environment (defaults in brackets):
#   BATON_BIN    [/work/build-lead/main/baton if present, else build/main/baton]
#   DURATION     [10]    seconds of measured load per run
#   WARMUP       [2]     seconds of unmeasured load before each run (a separate client run)
#   CONNECTIONS  [10]    h2load -c, and curl --parallel-max for tls-handshake
#   PROXIES      [baton haproxy nginx]
#   SCENARIOS    [tls-m1 tls-m100 h2c-m1 h2c-m100 tls-handshake]
#   TLS13_CIPHER [TLS_AES_128_GCM_SHA256]  the one TLS 1.3 suite the clients offer, so that every
#                        proxy runs the same cipher (HAProxy prefers its own order, nginx the
#                        client's); "" = the clients' defaults
#   PROXY_CPU    [1]  LOAD_CPU [0]   cores for the proxy / for the clients + origin + this script
#   READY_TIMEOUT [10]   seconds to wait for a proxy to come up
#   NICE         [-10 as root, else 0] as run.sh
#   ROUNDS       [1]     rounds; each measures every scenario with every proxy back to back (a
#                        proxy started afresh per scenario), the proxies' order reversed every other
#                        round; the ratios are then medians of each round's own ratios. This VM's
#                        speed drifts by up to 2x within minutes: only proxies measured minutes
#                        apart in the same order would otherwise be compared
#   RESULTS_DIR  []      if set, keep raw client outputs and results.jsonl there
#   KEEP_WORK    [0]     1 = keep the temporary work dir (configs, logs, certificate)
#   FORWARD_HEADERS [same]  or minimal: the request fields HAProxy and nginx add (bench/lib/proc.sh)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
REPORT="$HERE/report.py"
REPORT_H2="$HERE/report_h2.py"

if [[ -z ${BATON_BIN:-} ]]; then
  if [[ -x /work/build-lead/main/baton ]]; then BATON_BIN=/work/build-lead/main/baton; else
    BATON_BIN=$ROOT/build/main/baton; fi
fi
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-10}
ROUNDS=${ROUNDS:-1}
ROUND=1
PROXIES=${PROXIES:-"baton haproxy nginx"}
SCENARIOS=${SCENARIOS:-"tls-m1 tls-m100 h2c-m1 h2c-m100 tls-handshake"}
PROXY_CPU=${PROXY_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
READY_TIMEOUT=${READY_TIMEOUT:-10}
KEEP_WORK=${KEEP_WORK:-0}
TLS13_CIPHER=${TLS13_CIPHER-TLS_AES_128_GCM_SHA256}
if ((EUID == 0)); then NICE=${NICE:--10}; else NICE=${NICE:-0}; fi

SMALL_BODY=$'hello, world\n'
# Idle upstream connections each proxy may keep: at -m 100 up to CONNECTIONS*100 requests are in
# flight, each on its own HTTP/1.1 origin connection; a smaller pool would measure connection churn
# to the origin instead of the HTTP/2 front end.
UPSTREAM_POOL=1024

PIDS=() # every process we started, stopped in cleanup by pid
ORIGIN_PID=""
ORIGIN_PORT=""
WORK=""
LOG_TAG=e2e-h2
# shellcheck source=SCRIPTDIR/../lib/proc.sh
source "$ROOT/bench/lib/proc.sh" # log, die, PIDS handling, start_*/bench_proxy helpers
cleanup_on_exit

# ---------------------------------------------------------------- certificate and configs

# Self-signed EC P-256 certificate for "localhost" / 127.0.0.1; HAProxy wants cert + key in one file.
make_cert() {
  mkdir -p "$WORK/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" 2>"$WORK/tls/openssl.log" ||
    die "openssl could not make a certificate: $(cat "$WORK/tls/openssl.log")"
  cat "$WORK/tls/cert.pem" "$WORK/tls/key.pem" >"$WORK/tls/combined.pem"
  chmod 644 "$WORK"/tls/*.pem # nginx reads them as root, but keep the dir readable anyway
}

write_origin_conf() {
  mkdir -p "$WORK/www" "$WORK/origin"
  printf '%s' "$SMALL_BODY" >"$WORK/www/small"
  chmod -R a+rX "$WORK/www"
  origin_nginx_conf 8192 >"$WORK/origin/nginx.conf"
}

write_haproxy_conf() { # tls_port h2c_port
  mkdir -p "$WORK/haproxy"
  cat >"$WORK/haproxy/haproxy.cfg" <<EOF
$(haproxy_conf_head "stats socket $WORK/haproxy/stats.sock mode 600 level user")

frontend fe
  bind 127.0.0.1:$1 ssl crt $WORK/tls/combined.pem alpn h2,http/1.1
  bind 127.0.0.1:$2 proto h2
  default_backend origin

$(haproxy_conf_backend)
EOF
}

# nginx 1.22 defaults to TLSv1 TLSv1.1 TLSv1.2: name 1.2 and 1.3 as baton and HAProxy offer.
# keepalive_requests also bounds requests per HTTP/2 connection (default 1000, then GOAWAY, which
# h2load does not recover from): raised like every other per-connection limit here.
write_nginx_proxy_conf() { # tls_port h2c_port
  mkdir -p "$WORK/nginx"
  cat >"$WORK/nginx/nginx.conf" <<EOF
$(nginx_conf_head "$WORK/nginx" 8192)
http {
  access_log off;
  keepalive_timeout 60s;
  keepalive_requests 10000000;
  ssl_protocols TLSv1.2 TLSv1.3;
$(nginx_temp_paths "$WORK/nginx")
$(nginx_proxy_upstream "$UPSTREAM_POOL")
  server {
    listen 127.0.0.1:$1 ssl http2 backlog=4096;
    listen 127.0.0.1:$2 http2 backlog=4096;
    ssl_certificate $WORK/tls/cert.pem;
    ssl_certificate_key $WORK/tls/key.pem;
$(nginx_proxy_location)
  }
}
EOF
}

write_baton_conf() { # tls_port h2c_port
  mkdir -p "$WORK/baton"
  baton_conf_tls_h2c "$1" "$2" "$WORK/tls" "$UPSTREAM_POOL" >"$WORK/baton/baton.toml"
}

# ---------------------------------------------------------------- starting things
# Each start_* sets PROXY_PID, TLS_PORT and H2C_PORT, or returns non-zero with a message.

start_origin() {
  ORIGIN_PORT=$(free_port)
  write_origin_conf
  start_origin_nginx
}

pick_ports() {
  TLS_PORT=$(free_port)
  H2C_PORT=$(free_port)
  while [[ $H2C_PORT == "$TLS_PORT" ]]; do H2C_PORT=$(free_port); done
}

start_haproxy() {
  pick_ports
  write_haproxy_conf "$TLS_PORT" "$H2C_PORT"
  start_peer haproxy "$WORK/haproxy/stdout.log" "$TLS_PORT $H2C_PORT" \
    haproxy -f "$WORK/haproxy/haproxy.cfg" -db
}

start_nginx() {
  pick_ports
  write_nginx_proxy_conf "$TLS_PORT" "$H2C_PORT"
  start_peer nginx "$WORK/nginx/error.log" "$TLS_PORT $H2C_PORT" \
    nginx -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf"
}

# Both listeners have fixed ports: the ready line only says when.
start_baton() {
  pick_ports
  write_baton_conf "$TLS_PORT" "$H2C_PORT"
  start_baton_ready "$WORK/baton/baton.toml"
}

# Before any load: /small must come back 200 with the exact body over h2 on TLS (ALPN), h2c prior
# knowledge, and HTTP/1.1 on TLS (the handshake scenario's protocol). Also records what the TLS
# listener negotiates (protocol, cipher, key exchange, ALPN) for the report.
check_proxy() { # proxy
  local got want="200 ${#SMALL_BODY}" tls
  got=$(curl -sk --http2 -o /dev/null -w '%{http_code} %{size_download} %{http_version}' \
    --max-time 5 "https://127.0.0.1:$TLS_PORT/small") || true
  [[ $got == "$want 2" ]] || { log "e2e-h2: GET /small over TLS h2 gave '$got'"; return 1; }
  got=$(curl -s --http2-prior-knowledge -o /dev/null \
    -w '%{http_code} %{size_download} %{http_version}' --max-time 5 \
    "http://127.0.0.1:$H2C_PORT/small") || true
  [[ $got == "$want 2" ]] || { log "e2e-h2: GET /small over h2c gave '$got'"; return 1; }
  got=$(curl -sk --http1.1 -o /dev/null -w '%{http_code} %{size_download} %{http_version}' \
    --max-time 5 "https://127.0.0.1:$TLS_PORT/small") || true
  [[ $got == "$want 1.1" ]] || { log "e2e-h2: GET /small over TLS HTTP/1.1 gave '$got'"; return 1; }
  tls=$(openssl s_client -connect "127.0.0.1:$TLS_PORT" -servername localhost -alpn h2,http/1.1 \
    ${TLS13_CIPHER:+-ciphersuites "$TLS13_CIPHER"} -brief </dev/null 2>&1 |
    sed -n 's/^\(Protocol version\|Ciphersuite\|Server Temp Key\): */\1=/p' | paste -sd ';' -) ||
    true
  [[ " ${TLS_INFO[*]} " == *" $1: "* ]] || TLS_INFO+=("$1: ${tls:-unknown}.")
}

# ---------------------------------------------------------------- one measured run

# Runs the client of one scenario for $1 seconds, raw output to $2 (h2load: and per-request log $3).
run_client() { # scenario seconds out log
  local scenario=$1 secs=$2 out=$3 lg=$4 url m
  case $scenario in
  tls-m* | h2c-m*)
    m=${scenario#*-m}
    if [[ $scenario == tls-* ]]; then url="https://127.0.0.1:$TLS_PORT/small"; else
      url="http://127.0.0.1:$H2C_PORT/small"; fi
    rm -f "$lg" # h2load appends to an existing log file
    taskset -c "$LOAD_CPU" h2load -c "$CONNECTIONS" -m "$m" -D "$secs" --log-file="$lg" \
      ${TLS13_CIPHER:+"--tls13-ciphers=$TLS13_CIPHER"} "$url" >"$out" 2>&1 || true
    ;;
  tls-handshake)
    # --no-sessionid: curl neither offers a session ID nor a ticket, so every connection is a full
    # handshake whatever the server's session cache / ticket settings. 'Connection: close' makes
    # the server close after each response, so curl opens a new connection for every URL. The
    # glob is far more URLs than can complete; timeout ends the run (transfers cut short print
    # nothing, so they are not counted). stdbuf -oL: curl's -w lines go to a file, block-buffered,
    # and the buffer is lost when timeout kills curl — the count would be rounded down to 4 KiB.
    taskset -c "$LOAD_CPU" timeout "$secs" stdbuf -oL curl -sk --no-progress-meter --http1.1 --no-sessionid \
      --parallel --parallel-immediate --parallel-max "$CONNECTIONS" -H 'Connection: close' \
      ${TLS13_CIPHER:+--tls13-ciphers "$TLS13_CIPHER"} \
      -o /dev/null -w '%{http_code} %{time_total} %{num_connects}\n' \
      "https://127.0.0.1:$TLS_PORT/small?[1-100000000]" >"$out" 2>"$out.stderr" || true
    ;;
  *) die "unknown scenario '$scenario'" ;;
  esac
}

measure() { # proxy scenario rss_idle_kb
  local proxy=$1 scenario=$2 rss_idle=$3 out lg t0 o0 c0 w0 t1 o1 c1 w1 rss hwm n s0 s1 reuse=""
  local alive_after=true
  out="$RESULTS/$proxy-$scenario-r$ROUND.out"
  lg="$RESULTS/$proxy-$scenario-r$ROUND.log"
  log "e2e-h2: $proxy / $scenario: warm-up ${WARMUP}s, then ${DURATION}s"
  ((WARMUP > 0)) && run_client "$scenario" "$WARMUP" "$out.warmup" "$lg.warmup"
  rm -f "$lg.warmup"
  read -r t0 _ _ _ < <(proc_stat "$PROXY_PID")
  read -r o0 _ _ _ < <(proc_stat "$ORIGIN_PID")
  read -r c0 w0 < <("$PY" "$REPORT" busy "$PROXY_CPU")
  s0=$EPOCHREALTIME
  run_client "$scenario" "$DURATION" "$out" "$lg"
  s1=$EPOCHREALTIME
  read -r c1 w1 < <("$PY" "$REPORT" busy "$PROXY_CPU")
  read -r t1 rss hwm n < <(proc_stat "$PROXY_PID")
  read -r o1 _ _ _ < <(proc_stat "$ORIGIN_PID")
  alive "$PROXY_PID" || alive_after=false
  # HAProxy's own view of the handshake run: share of TLS sessions resumed over the last second.
  if [[ $proxy == haproxy && $scenario == tls-handshake ]]; then
    reuse=$("$PY" "$REPORT_H2" haproxy-reuse "$WORK/haproxy/stats.sock" || true)
  fi
  {
    printf '{"proxy":"%s","scenario":"%s","out":"%s","log":"%s","ticks":%d,"origin_ticks":%d,' \
      "$proxy" "$scenario" "$out" "$lg" $((t1 - t0)) $((o1 - o0))
    printf '"cpu_busy_ticks":%d,"busy_wall_s":%s,"client_wall_s":%s,' $((c1 - c0)) \
      "$("$PY" -c "print(round($w1 - $w0, 3))")" "$("$PY" -c "print(round($s1 - $s0, 3))")"
    printf '"connections":%d,"haproxy_reuse_pct":"%s",' "$CONNECTIONS" "$reuse"
    printf '"rss_idle_kb":%d,"rss_after_kb":%d,"hwm_kb":%d,' "$rss_idle" "${rss:-0}" "${hwm:-0}"
    printf '"nprocs":%d,"alive_after":%s,"round":%d}\n' "${n:-0}" "$alive_after" "$ROUND"
  } >>"$RESULTS/results.jsonl"
}

# ---------------------------------------------------------------- main

main() {
  local p
  prepare_run baton-e2e-h2 "h2load: apt-get install nghttp2-client" \
    nginx haproxy h2load curl openssl taskset timeout stdbuf
  TLS_INFO=()

  local load_start
  load_start=$(cut -d' ' -f1-3 /proc/loadavg)
  make_cert
  start_origin
  local s order reversed=""
  for p in $PROXIES; do reversed="$p $reversed"; done
  for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
    order=$PROXIES
    ((ROUND % 2 == 0)) && order=$reversed
    for s in $SCENARIOS; do
      for p in $order; do
        [[ " ${SKIPPED[*]} " == *" $p "* ]] || bench_proxy "$p" "$s"
      done
    done
  done

  echo "## baton HTTP/2 and TLS end-to-end benchmark"
  echo
  host_line
  echo "- pinning: proxy under test on CPU $PROXY_CPU; the client (h2load or curl) AND the origin" \
    "share CPU $LOAD_CPU — req/s may be capped by CPU $LOAD_CPU, compare CPU ms/1k req"
  echo "- origin: $(nginx -v 2>&1 | sed 's/.*: //'), 1 worker, plain HTTP/1.1 keep-alive," \
    "/small = ${#SMALL_BODY} B"
  echo "- proxies: baton ($BATON_BIN), $(haproxy -v | head -n 1 | cut -d' ' -f1-3)" \
    "(nbthread 1, http-reuse always), nginx (1 worker, upstream keepalive $UPSTREAM_POOL); baton" \
    "max_idle_connections $UPSTREAM_POOL; one worker each; TLS: self-signed EC P-256 certificate," \
    "ALPN h2,http/1.1; h2c: prior knowledge on a second plain listener; HAProxy and nginx add" \
    "baton's request fields (FORWARD_HEADERS=${FORWARD_HEADERS:-same})"
  echo "- TLS as negotiated by openssl s_client: ${TLS_INFO[*]:-none}"
  echo "- load: $(h2load --version | head -n 1), -c$CONNECTIONS -m1 / -m100 -D${DURATION}s after" \
    "a ${WARMUP}s warm-up run; tls-handshake: $(curl -V | head -n 1 | cut -d' ' -f1-2)" \
    "--no-sessionid --http1.1 --parallel-max $CONNECTIONS, 'Connection: close' (a new TCP" \
    "connection and a full handshake per request), ${DURATION}s; TLS 1.3 suite offered:" \
    "${TLS13_CIPHER:-client defaults}"
  echo "- CPU ms/1k req = proxy utime+stime (all threads and processes, /proc/PID/stat) during" \
    "the measured run / requests completed (= µs per request; per handshake for tls-handshake);" \
    "RSS = VmRSS (idle: after start), peak = VmHWM"
  echo "- rounds: $ROUNDS (every scenario with every proxy back to back, a proxy started afresh" \
    "per scenario, the order reversed every other round)"
  echo "- niceness: $(ps -o ni= -p $$ | tr -d ' '); machine load average at start: $load_start;" \
    "at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  if ((${#SKIPPED[@]})); then echo "- skipped: ${SKIPPED[*]} (see messages on stderr)"; fi
  echo
  "$PY" "$REPORT_H2" table "$RESULTS/results.jsonl"
}

run_main "$@"
