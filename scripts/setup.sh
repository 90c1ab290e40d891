#!/usr/bin/env bash
# Installs everything baton needs to build, test and benchmark, from Debian 12
# packages only. Idempotent: safe to run on every invocation.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang-format
  # libraries baton links
  libevent-dev libssl-dev libnghttp2-dev node-llhttp libjemalloc-dev
  libboost-dev libsimdjson-dev libtomlplusplus-dev
  # unit tests and micro-benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # integration tests: real clients
  curl nghttp2-client python3 python3-h2 python3-pytest openssl
  # admin: /metrics parsed by Prometheus' own parser, the dashboard driven in a real browser
  # (playwright-core from npm, pinned in tests/dashboard/package-lock.json), unit-file checks
  python3-prometheus-client chromium nodejs systemd
  # end-to-end benchmark peers and load generators
  haproxy nginx-light wrk slowhttptest
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The haproxy and nginx packages start system services; baton's benchmarks run
# their own instances on ephemeral ports, so stop the packaged ones if running.
for svc in haproxy nginx; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  fi
done
pkill -x haproxy 2>/dev/null || true
pkill -x nginx 2>/dev/null || true
# npm: Debian's package on a stock Debian 12; a Node.js from elsewhere (NodeSource) ships its own npm
# and its nodejs package conflicts with Debian's npm, so install it only when missing.
if ! command -v npm >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
# The dashboard test's node modules (playwright-core only: it drives Debian's chromium).
if [[ -f tests/dashboard/package-lock.json && ! -d tests/dashboard/node_modules/playwright-core ]]; then
  (cd tests/dashboard && npm ci --no-audit --no-fund --loglevel=error)
fi
