#!/usr/bin/env bash
# Resilience under load (issue 8): what wrk sees while Marathon churns, a backend dies, the
# binary is upgraded, and a circuit breaker overflows. See bench/resilience/README.md.
#
#   bench/resilience/run.sh [marathon|kill|upgrade|overflow|all]...   (default: all)
#   QUICK=1 bench/resilience/run.sh all                                 smoke run, seconds each
#
# Each scenario is one python script in this directory (it starts and stops its own processes,
# by pid); this script checks the tools, runs the scenarios one after another, collects their
# result lines and prints one table. Loopback only, ports chosen at run time.
#
# Environment (defaults in brackets; QUICK=1 values after the slash):
#   BATON_BIN [build/main/baton]  BATONCTL_BIN [next to BATON_BIN]
#   WORKERS [2] baton workers; CONNECTIONS [64] THREADS [2] wrk -c / -t
#   marathon: MARATHON_DURATION [60/5] s, CHANGES_PER_SECOND [50], APPS [5], POOL [20] backends,
#             KILL_GRACE [1] s from TASK_KILLING to TASK_KILLED, SEED [8]
#   kill:     KILL_BEFORE [5/2] s of load before the SIGKILL, KILL_AFTER [15/3] s after it,
#             KILL_OUTLIER [] "off" = the cluster turns passive outlier ejection off,
#             KILL_PATH [/] "/slow64k" = 64 KiB responses at 1 MiB/s (requests die mid-response)
#   upgrade:  UPGRADES [5/2], UPGRADE_GAP [2/1] s between two
#   overflow: CB_MAX [4] (max_requests), OVERFLOW_REQUESTS [2000/300], OVERFLOW_WRK [5/1] s
#   NICE [0]  e.g. -10 (root): the run's own session gets priority over other jobs
#   RESULTS_DIR []  keep results.jsonl there;  KEEP_WORK [0]  1 = keep each scenario's temp dir
# Exit status: 0 every scenario passed or was skipped, 3 one failed, 1 a scenario could not run.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
LOG_TAG=resilience
PIDS=()
WORK=""
KEEP_WORK=${KEEP_WORK:-0}
NICE=${NICE:-0}
INTERRUPTED=0
# shellcheck source=SCRIPTDIR/../lib/proc.sh
source "$ROOT/bench/lib/proc.sh" # log, die, alive, run_main (own session for NICE)

export BATON_BIN=${BATON_BIN:-$ROOT/build/main/baton}
export BATONCTL_BIN=${BATONCTL_BIN:-$(dirname "$BATON_BIN")/batonctl}

scenarios() {
  local s out=()
  (($#)) || set -- all
  for s in "$@"; do
    case $s in
    all) out+=(marathon kill upgrade overflow) ;;
    marathon | kill | upgrade | overflow) out+=("$s") ;;
    *) die "unknown scenario '$s' (marathon, kill, upgrade, overflow or all)" ;;
    esac
  done
  echo "${out[@]}"
}

script_of() {
  case $1 in
  marathon) echo marathon_churn.py ;;
  kill) echo kill_backend.py ;;
  upgrade) echo upgrade_loop.py ;;
  overflow) echo overflow.py ;;
  esac
}

main() {
  local list s tool rc=0 results
  list=$(scenarios "$@")
  # ^C / SIGTERM reach the running scenario too (same process group): it cleans up by pid and
  # ends, then we stop instead of starting the next one.
  trap cleanup EXIT
  trap 'INTERRUPTED=130' INT
  trap 'INTERRUPTED=143' TERM
  for tool in wrk nginx; do command -v "$tool" >/dev/null || die "$tool not found (run scripts/setup.sh)"; done
  [[ -x $PY ]] || die "$PY not found"
  [[ -x $BATON_BIN ]] || die "baton binary '$BATON_BIN' missing (set BATON_BIN)"
  [[ -x $BATONCTL_BIN ]] || die "batonctl binary '$BATONCTL_BIN' missing (set BATONCTL_BIN)"
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  if [[ $NICE != 0 ]]; then
    renice -n "$NICE" -p $$ >/dev/null || die "cannot renice to $NICE (negative needs root)"
    if [[ -w /proc/$$/autogroup ]]; then echo "$NICE" >"/proc/$$/autogroup" || true; fi
  fi
  if [[ -n ${RESULTS_DIR:-} ]]; then
    mkdir -p "$RESULTS_DIR"
    results=$RESULTS_DIR/results.jsonl
  else
    WORK=$(mktemp -d /tmp/baton-resilience.XXXXXX)
    results=$WORK/results.jsonl
  fi
  : >"$results"
  for s in $list; do
    log "resilience: $s ($(uptime | sed 's/.*load/load/'))"
    RESULTS=$results "$PY" "$HERE/$(script_of "$s")" >/dev/null || {
      log "resilience: $s failed to run (exit $?)"
      rc=1
    }
    if ((INTERRUPTED)); then
      log "resilience: interrupted"
      exit "$INTERRUPTED"
    fi
  done
  echo "## baton resilience under load"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); host: $(uname -srm); $(nproc --all) CPUs; baton: $BATON_BIN" \
    "(workers ${WORKERS:-2}); ${QUICK:+QUICK=1 (smoke durations); }niceness $(ps -o ni= -p $$ | tr -d ' ')"
  echo "- everything on 127.0.0.1 and unpinned: wrk, baton, backends and the fake Marathon share the" \
    "CPUs with whatever else runs; the load column is /proc/loadavg before → after each scenario" \
    "(it counts this run's own processes too: wrk's threads, baton's workers, the backends)"
  echo
  "$PY" "$HERE/table.py" "$results"
  if ((rc == 0)) && grep -q '"pass": false' "$results"; then rc=3; fi
  return "$rc"
}

run_main "$@"
