#!/usr/bin/env bash
# PGO training run (issue 6): drives a baton built with -DBATON_PGO=generate through the hot paths
# of bench/e2e/run_h2.sh and run.sh, then stops it with SIGTERM so that it writes its profile
# (.gcda files under the build's BATON_PGO_DIR). See the BATON_LTO / BATON_PGO notes in
# CMakeLists.txt for the whole build sequence.
#
# Load, each for SECONDS_EACH seconds against one worker before an nginx origin serving /small:
#   h2load -c10 -m1 over TLS (ALPN h2) and over h2c, h2load -c10 -m100 over h2c, wrk -c10 HTTP/1.1.
# The profile weighs what it sees: a mix closer to production (other methods, bodies, many vhosts)
# would move hot/cold decisions towards it.
#
# Usage: BATON_BIN=build-pgo/gen/main/baton bench/pgo/train.sh (bench/pgo/build.sh runs it)
# Environment: BATON_BIN (required), SECONDS_EACH [10], PROXY_CPU [1], LOAD_CPU [0],
#              READY_TIMEOUT [10], KEEP_WORK [0].
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
BATON_BIN=${BATON_BIN:?set BATON_BIN to a baton built with -DBATON_PGO=generate}
SECONDS_EACH=${SECONDS_EACH:-10}
PROXY_CPU=${PROXY_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
READY_TIMEOUT=${READY_TIMEOUT:-10}
KEEP_WORK=${KEEP_WORK:-0}
NICE=0
PIDS=()
WORK=""
ORIGIN_PORT=""
LOG_TAG=pgo-train
# shellcheck source=SCRIPTDIR/../lib/proc.sh
source "$ROOT/bench/lib/proc.sh"
cleanup_on_exit

write_configs() { # tls_port h2c_port
  mkdir -p "$WORK/www" "$WORK/origin" "$WORK/baton" "$WORK/tls"
  printf 'hello, world\n' >"$WORK/www/small"
  chmod -R a+rX "$WORK/www"
  origin_nginx_conf 8192 >"$WORK/origin/nginx.conf"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" 2>"$WORK/tls/openssl.log" ||
    die "openssl could not make a certificate: $(cat "$WORK/tls/openssl.log")"
  baton_conf_tls_h2c "$1" "$2" "$WORK/tls" 1024 >"$WORK/baton/baton.toml"
}

# One load run; a client failure fails the training (a profile of error paths would mislead).
load() { # what command...
  local what=$1
  shift
  log "$LOG_TAG: $what"
  taskset -c "$LOAD_CPU" "$@" >"$WORK/load.log" 2>&1 || die "$what failed: $(tail -n 5 "$WORK/load.log")"
  grep -E '^requests:|requests in' "$WORK/load.log" >&2 || true
  # h2load and wrk exit 0 when requests fail or are answered 4xx/5xx: read their reports.
  if grep -qE '^requests:' "$WORK/load.log"; then
    if ! grep -qE ' 0 failed, 0 errored, 0 timeout' "$WORK/load.log" ||
      ! grep -qE '^status codes: [0-9]+ 2xx, [0-9]+ 3xx, 0 4xx, 0 5xx' "$WORK/load.log"; then
      die "$what: requests failed: $(grep -E '^requests:|^status codes:' "$WORK/load.log")"
    fi
  elif grep -qE 'Non-2xx|Socket errors' "$WORK/load.log"; then
    die "$what: requests failed: $(grep -E 'Non-2xx|Socket errors' "$WORK/load.log")"
  fi
}

main() {
  prepare_run pgo-train "install nghttp2-client, wrk, nginx" h2load wrk nginx openssl
  ORIGIN_PORT=$(free_port)
  local tls_port h2c_port rc
  tls_port=$(free_port)
  h2c_port=$(free_port)
  write_configs "$tls_port" "$h2c_port"
  start_origin_nginx
  start_baton_ready "$WORK/baton/baton.toml" || die "baton did not start"
  local h2=(h2load --tls13-ciphers=TLS_AES_128_GCM_SHA256 -c10 -D"$SECONDS_EACH")
  load "h2c, 1 stream per connection" "${h2[@]}" -m1 "http://127.0.0.1:$h2c_port/small"
  load "TLS h2, 1 stream per connection" "${h2[@]}" -m1 "https://127.0.0.1:$tls_port/small"
  load "h2c, 100 streams per connection" "${h2[@]}" -m100 "http://127.0.0.1:$h2c_port/small"
  load "HTTP/1.1 keep-alive" wrk -t1 -c10 -d"${SECONDS_EACH}s" "http://127.0.0.1:$h2c_port/small"
  # The profile is written by exit handlers: SIGTERM and a clean exit, never SIGKILL.
  kill -TERM "$PROXY_PID"
  wait "$PROXY_PID" && rc=0 || rc=$?
  forget_pid "$PROXY_PID"
  ((rc == 0)) || die "baton exited with status $rc: no complete profile"
  log "$LOG_TAG: done; rebuild with -DBATON_PGO=use -DBATON_LTO=ON"
}

run_main "$@"
