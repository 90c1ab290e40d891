#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine, builds baton and runs every test:
# GoogleTest unit tests and the integration suite (real binary, real backends, real clients).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$BUILD_DIR"
cd "$BUILD_DIR"
ctest --output-on-failure -j2 --timeout 300
