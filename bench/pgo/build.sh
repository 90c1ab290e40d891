#!/usr/bin/env bash
# A release baton built with profile-guided and link-time optimisation (issue 6; the measured
# effect and why LTO alone does not pay are in CMakeLists.txt next to BATON_LTO / BATON_PGO):
# an instrumented build, bench/pgo/train.sh on it, then the optimised build. Prints the path of
# the binary. The test and CI builds stay plain (two more builds of ~5 minutes each on 2 cores).
#
# Usage: bench/pgo/build.sh [OUT_DIR]   (default build-pgo; OUT_DIR/gen is the instrumented
# build, OUT_DIR/use the optimised one, OUT_DIR/profile the .gcda files)
# Needs what scripts/setup.sh installs plus h2load, wrk and nginx (the training load).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=$(realpath -m "${1:-$ROOT/build-pgo}")
PROFILE=$OUT/profile

configure() { # dir pgo-mode lto
  cmake -S "$ROOT" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBATON_TESTS=OFF \
    -DBATON_BENCH=OFF -DBATON_PGO="$2" -DBATON_LTO="$3" -DBATON_PGO_DIR="$PROFILE" >/dev/null
}

rm -rf "$PROFILE"  # a profile of an older tree would be rejected file by file
configure "$OUT/gen" generate OFF
ninja -C "$OUT/gen" baton >&2
BATON_BIN="$OUT/gen/main/baton" bash "$ROOT/bench/pgo/train.sh" >&2
rm -rf "$OUT/use"  # ninja does not track the profile: every object is rebuilt with the new one
configure "$OUT/use" use ON
ninja -C "$OUT/use" baton >&2
echo "$OUT/use/main/baton"
