#!/usr/bin/env bash
# Builds baton's libFuzzer targets with clang (BATON_FUZZ=ON, ASan+UBSan) and runs each for a
# given time on its committed seed corpus (tests/fuzz/README.md).
#
#   bash scripts/fuzz.sh TARGET|all SECONDS [extra libFuzzer flags...]
#   TARGET: request_line server_codec client_codec chunked request_target config_loader
#           marathon_apps
#
# One target at a time, one job (the machines are shared). New coverage goes to a work corpus
# in the build directory, never into the repository; crashes go to
# $BUILD/fuzz-artifacts/<target>/crash-* and make the script exit 1. To keep a reproducer,
# copy it to tests/fuzz/corpus/<target>/crash-<what> once fixed: the replay test
# (fuzz_replay_test, every build) then runs it forever.
# Environment: BATON_FUZZ_BUILD (default build/fuzz), BATON_FUZZ_CXX / BATON_FUZZ_CC (default
# clang++-16 / clang-16), BATON_FUZZ_MAX_LEN (default 4096).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
all=(request_line server_codec client_codec chunked request_target config_loader marathon_apps)
target=${1:?usage: fuzz.sh TARGET|all SECONDS [libFuzzer flags]}
seconds=${2:?usage: fuzz.sh TARGET|all SECONDS [libFuzzer flags]}
shift 2
build=${BATON_FUZZ_BUILD:-$root/build/fuzz}
cxx=${BATON_FUZZ_CXX:-clang++-16}
cc=${BATON_FUZZ_CC:-clang-16}

if [[ $target == all ]]; then
  targets=("${all[@]}")
else
  [[ " ${all[*]} " == *" $target "* ]] || { echo "unknown target: $target" >&2; exit 2; }
  targets=("$target")
fi

# libFuzzer and a clang that can compile libstdc++'s <expected> (Debian 12: clang 16).
if ! command -v "$cxx" >/dev/null || [[ ! -e /usr/lib/llvm-16/lib/clang/16/lib/linux/libclang_rt.fuzzer-x86_64.a ]]; then
  if [[ $cxx == clang++-16 && $(id -u) == 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-16 libclang-rt-16-dev >/dev/null
  fi
fi
command -v "$cxx" >/dev/null || { echo "$cxx not found (apt-get install clang-16 libclang-rt-16-dev)" >&2; exit 2; }

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_C_COMPILER="$cc" \
  -DBATON_FUZZ=ON -DBATON_BENCH=OFF "${launcher[@]}" >/dev/null
ninja -C "$build" -j2 "${targets[@]/#/fuzz_}"

status=0
for t in "${targets[@]}"; do
  work="$build/fuzz-corpus/$t"
  artifacts="$build/fuzz-artifacts/$t"
  mkdir -p "$work" "$artifacts"
  log="$build/fuzz-$t.log"
  stamp="$build/fuzz-$t.stamp"
  touch "$stamp"  # artifacts newer than it are this run's
  echo "== $t: ${seconds}s" >&2
  set +e
  TIMEFORMAT='%U %S'  # the CPU time fuzzed, user + system, what README.md records
  { time "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" \
      -max_len="${BATON_FUZZ_MAX_LEN:-4096}" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$artifacts/" \
      "$@" "$work" "$root/tests/fuzz/corpus/$t" >"$log" 2>&1; } 2>"$build/fuzz-$t.time"
  rc=$?
  set -e
  cpu=$(awk '{printf "%.0f", $1 + $2}' "$build/fuzz-$t.time")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  corpus=$(find "$work" "$root/tests/fuzz/corpus/$t" -type f | wc -l)
  crashes=$(find "$artifacts" -type f -newer "$stamp" | wc -l)
  echo "$t: rc=$rc seconds=$seconds cpu_seconds=$cpu execs=${execs:-?} ${cov:-cov: ?} corpus_files=$corpus artifacts=$crashes log=$log"
  if [[ $rc != 0 ]]; then
    status=1
    grep -m5 -E 'ERROR|invariant failed|SUMMARY|Test unit written' "$log" >&2 || true
  fi
done
exit $status
