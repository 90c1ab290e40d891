#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine, builds baton and runs it on its demo:
# baton on 127.0.0.1:8080 in front of two demo backends, "blue" (127.0.0.1:8081, serves /) and
# "green" (127.0.0.1:8082, serves /green). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$BUILD_DIR" baton

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
/usr/bin/python3 scripts/demo_backend.py blue 8081 & pids+=($!)
/usr/bin/python3 scripts/demo_backend.py green 8082 & pids+=($!)
# Wait (bounded) until both backends accept connections, so the first request is not a 503.
for port in 8081 8082; do
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.05
  done
done

cat <<'MSG'

baton demo: try
  curl -i http://127.0.0.1:8080/
  curl -i http://127.0.0.1:8080/green/hello
  curl -i --request-target '/中文/路径?q=搜索' http://127.0.0.1:8080/   (raw UTF-8 bytes: accepted, forwarded as sent)
  curl -i 'http://127.0.0.1:8080/中文'                               (curl percent-encodes it: same route)
  curl -i 'http://127.0.0.1:8080/a%20b/../green'                  (dot segments resolved: routed to green)
  kill -HUP <baton pid> after editing conf/examples/demo.toml      (reload without dropping a connection)

MSG
"$BUILD_DIR/main/baton" --config conf/examples/demo.toml &
pids+=($!)
wait "${pids[-1]}"
