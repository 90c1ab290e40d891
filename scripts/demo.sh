#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine, builds baton and runs it on its demo: baton
# driven by a Marathon app list in a file (conf/examples/demo_apps.json, the JSON of Marathon's
# GET /v2/apps?embed=apps.tasks), in front of two demo backends: app /demo/blue (task on
# 127.0.0.1:8081, serves /) and app /demo/green (task on 127.0.0.1:8082, serves /green).
# Edit the app list while it runs: routing follows at once. Ctrl-C stops everything.
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

baton demo (apps from conf/examples/demo_apps.json, marathon-lb labels): try
  curl -i http://127.0.0.1:8080/                  (HAPROXY_0_VHOST 127.0.0.1 -> /demo/blue)
  curl -i http://127.0.0.1:8080/green/hello       (HAPROXY_0_PATH /green -> /demo/green)
  curl -i http://127.0.0.1:10001/                 (/demo/blue's own service-port listener)
  curl -i -H 'X-Marathon-App-Id: /demo/green' http://127.0.0.1:9091/
  curl 'http://127.0.0.1:9090/haproxy?stats;csv'  (marathon-lb's admin endpoints; also
  curl http://127.0.0.1:9090/_haproxy_getconfig    the effective routing table)
  curl -i --request-target '/中文/路径?q=搜索' http://127.0.0.1:8080/   (raw UTF-8: accepted, forwarded as sent)
  curl -i 'http://127.0.0.1:8080/a%20b/../green'                  (dot segments resolved: routed to green)
  Edit conf/examples/demo_apps.json (e.g. add a task, change a VHOST): applied at once, no reload.

MSG
"$BUILD_DIR/main/baton" --config conf/examples/demo.toml &
pids+=($!)
wait "${pids[-1]}"
