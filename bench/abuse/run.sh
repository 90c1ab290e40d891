#!/usr/bin/env bash
# Slow and abusive clients (issue 5 item 5): does normal traffic keep its latency while baton holds
# 1,000 slowloris + 200 slow-body + 100 slow-read connections?
#
# One origin (nginx, 1 worker) serves /small (13 bytes) and /big (1 MiB). baton runs with one worker
# in front of it. wrk measures keep-alive GET /small twice: alone (baseline), then while three
# slowhttptest processes hold their connections open (slowloris: a header line every 10 s;
# slow body: a POST whose body comes 10 bytes every 10 s; slow read: pipelined GET /big read
# 32 bytes every 3 s with a 512-byte receive window). baton's head/body deadlines are raised for
# the run so the attack is really *held* for the whole measurement (at the defaults it would be cut
# after 10 s / 30 s, which only makes it easier). The attack generators run on the load core under
# SCHED_IDLE (`chrt --idle`: CPU only when wrk and the origin leave it idle; nice 19 still took
# time slices from them and showed up in wrk's p99), so what is measured is baton's reaction.
# Before that, the same attack is aimed at a decoy (a second instance of the proxy on the load core,
# under SCHED_IDLE) while wrk measures the real one: the attack's cost to this 2-core rig (the
# generators and the origin share the load core with wrk) with none of it handled by the measured
# proxy. Prints the four runs (baseline, decoy attacked, under attack, after), the ratios, the
# connections held and the proxy's RSS; the target is p99 under attack within 10% of the baseline.
#
# Needs: nginx, wrk, slowhttptest (Debian package `slowhttptest`; not with ATTACKER=quiet), ss.
# Loopback only, ports chosen at run time, every process started here is stopped by pid on exit.
#
# Environment (defaults in brackets):
#   ATTACKER [slowhttptest] or quiet: who generates the attack. slowhttptest (three processes, as
#   issue 5 names it) busy-polls and, even capped, costs this 2-core rig more than baton's handling
#   does; quiet is bench/abuse/slow_clients.py, one process holding the same three attacks with
#   the same parameters from an epoll loop that sleeps between trickles (well under 1 % of a core)
#   PROXY [baton] or haproxy (the same attack against HAProxy 2.6, timeouts raised alike: what
#   of the p99 change is this machine and the attack's own cost rather than the proxy)
#   BATON_BIN [build/main/baton]  DURATION [20] seconds per wrk run  CONNECTIONS [50] wrk -c
#   SLOWLORIS [1000] SLOWBODY [200] SLOWREAD [100]  RAMP_TIMEOUT [30] seconds to open the attack
#   PROXY_CPU [1] LOAD_CPU [0]  KEEP_WORK [0]  FORWARD_HEADERS [same] (bench/lib/proc.sh)
#   ATTACK_CPU_CAP [10] percent of a core for the attack generators (0: no cap)
#   PACE_MS [0] each wrk connection waits this long between requests (wrk's delay()): normal
#   traffic at a fixed, partial load instead of as fast as baton answers (0)
#   ROUNDS [1] rounds of baseline, decoy attacked, proxy attacked (then one last baseline); the
#   ratios use the medians of each kind, so more rounds read through this machine's noise
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
PROXY=${PROXY:-baton}
BATON_BIN=${BATON_BIN:-$ROOT/build/main/baton}
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-50}
SLOWLORIS=${SLOWLORIS:-1000}
SLOWBODY=${SLOWBODY:-200}
SLOWREAD=${SLOWREAD:-100}
RAMP_TIMEOUT=${RAMP_TIMEOUT:-30}
PROXY_CPU=${PROXY_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
KEEP_WORK=${KEEP_WORK:-0}
ROUNDS=${ROUNDS:-1}
PACE_MS=${PACE_MS:-0}
ATTACK_CPU_CAP=${ATTACK_CPU_CAP:-10}

PIDS=()
WORK=""
LOG_TAG=abuse
# shellcheck source=SCRIPTDIR/../lib/proc.sh
source "$ROOT/bench/lib/proc.sh" # log, die, cleanup, free_port, wait_port, spawn
cleanup_on_exit
ATTACKER=${ATTACKER:-slowhttptest}
TOOLS=(nginx wrk ss taskset chrt)
case $ATTACKER in
  slowhttptest) TOOLS+=(slowhttptest) ;;
  quiet) ;; # slow_clients.py needs only $PY
  *) die "ATTACKER must be slowhttptest or quiet" ;;
esac
for tool in "${TOOLS[@]}"; do
  command -v "$tool" >/dev/null || die "$tool not found (slowhttptest: apt-get install slowhttptest)"
done
case $PROXY in
  baton) [[ -x $BATON_BIN ]] || die "baton binary '$BATON_BIN' missing (set BATON_BIN)" ;;
  haproxy) command -v haproxy >/dev/null || die "haproxy not found" ;;
  *) die "PROXY must be baton or haproxy" ;;
esac

# 1,300 attack sockets on each side of loopback plus wrk: well over the usual 1024.
HARD_NOFILE=$(ulimit -Hn)
if [[ $HARD_NOFILE == unlimited ]] || ((HARD_NOFILE > 65536)); then HARD_NOFILE=65536; fi
ulimit -n "$HARD_NOFILE"

established() { ss -Htn state established "( sport = :$1 )" | wc -l; }
# utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# p99 (ms) and req/s from `wrk --latency` output.
wrk_figures() {
  "$PY" - "$1" <<'PYEOF'
import re, sys
text = open(sys.argv[1]).read()
unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}
p = {m.group(1): float(m.group(2)) * unit[m.group(3)]
     for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)}
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
sock = re.search(r"Socket errors: (.*)", text)
print(f"{p['50']:.3f} {p['99']:.3f} {rps:.0f} {errors.group(1) if errors else 0} "
      f"{(sock.group(1).replace(' ', '') if sock else 'none')}")
PYEOF
}

WORK=$(mktemp -d /tmp/baton-abuse.XXXXXX)
PACE_ARGS=()
if ((PACE_MS > 0)); then
  printf 'function delay() return %d end\n' "$PACE_MS" >"$WORK/pace.lua"
  PACE_ARGS=(-s "$WORK/pace.lua")
fi
mkdir -p "$WORK/www" "$WORK/origin"
printf 'hello, world\n' >"$WORK/www/small"
head -c $((1 << 20)) /dev/zero | tr '\0' 'x' >"$WORK/www/big"
chmod -R a+rX "$WORK"

ORIGIN_PORT=$(free_port)
origin_nginx_upload_conf 8192 300s >"$WORK/origin/nginx.conf"
start_origin_nginx

# Writes the config of an instance of $PROXY listening on port $1 into dir $2; prints the command.
proxy_command() { # port dir
  mkdir -p "$2"
  if [[ $PROXY == haproxy ]]; then
    {
      haproxy_conf_head ""
      printf '%s\n' "" "frontend edge" "  bind 127.0.0.1:$1" "  timeout client 300s" \
        "  timeout http-request 300s" "  default_backend origin" ""
      haproxy_conf_backend
      printf '%s\n' "  timeout server 300s"
    } | sed "s|$WORK/haproxy/haproxy.pid|$2/haproxy.pid|" >"$2/haproxy.cfg"
    echo "haproxy -f $2/haproxy.cfg -db"
  else
    cat >"$2/baton.toml" <<CONF
[server]
workers = 1
[timeouts]
request_head = "300s"
body_idle = "300s"
keepalive_idle = "300s"
[[listener]]
name = "http"
address = "127.0.0.1:$1"
$(baton_conf_origin 1024)
CONF
    echo "$BATON_BIN --config $2/baton.toml"
  fi
}

PORT=$(free_port)
# shellcheck disable=SC2046 # the command is words
spawn "$PROXY_CPU" "$WORK/proxy.log" $(proxy_command "$PORT" "$WORK/proxy")
PROXY_PID=$SPAWNED_PID
wait_port "$PROXY_PID" "$PORT" || die "$PROXY did not start: $(cat "$WORK/proxy.log")"
URL="http://127.0.0.1:$PORT"
# The decoy: a second instance of the same proxy on the load core under SCHED_IDLE, attacked
# first while wrk measures the real one. What wrk's p99 does then is the attack's cost to this
# 2-core rig (the generators share the load core with wrk and the origin, the origin serves the
# slow bodies and slow reads) without the measured proxy doing any of the attack's work: the
# figure to read the real attack's p99 against.
DECOY_PORT=$(free_port)
# shellcheck disable=SC2046
spawn "$LOAD_CPU" "$WORK/decoy.log" chrt --idle 0 $(proxy_command "$DECOY_PORT" "$WORK/decoy")
DECOY_PID=$SPAWNED_PID
wait_port "$DECOY_PID" "$DECOY_PORT" || die "decoy $PROXY did not start: $(cat "$WORK/decoy.log")"

# Runs wrk into $1 and prints baton's CPU µs per request over the run (robust to a busy machine:
# it is what baton spent, whoever else competes for the cores).
run_wrk() {
  local t0 t1
  t0=$(cpu_ticks "$PROXY_PID")
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "${PACE_ARGS[@]}" "$URL/small" >"$1"
  t1=$(cpu_ticks "$PROXY_PID")
  "$PY" -c "import os,re,sys; t=open('$1').read(); n=int(re.search(r'(\d+) requests in', t).group(1)); \
print(f'{($t1-$t0)/os.sysconf(\"SC_CLK_TCK\")*1e6/n:.1f}')"
}

HOLD=$((DURATION + RAMP_TIMEOUT + 30))
WANT=$((SLOWLORIS + SLOWBODY + SLOWREAD))
ATTACK_PIDS=()
# slowhttptest busy-polls (-B and -X make ~5,500 poll() calls a second each, 60 % of the load
# core together even under SCHED_IDLE, against baton's 0.2 % to hold the attack): a CPU cgroup
# caps the attack generators at ATTACK_CPU_CAP percent of a core (cgroup v2 cpu.max, or v1
# cpu.cfs_quota_us), so that wrk and the origin keep their core. They still hold and trickle on
# every connection; the decoy run shows what is left of their cost. ATTACKER=quiet's generator
# gets the same treatment, though it stays far below the cap.
CAP_GROUP=""
if ((ATTACK_CPU_CAP > 0)); then
  if [[ -f /sys/fs/cgroup/cgroup.controllers ]] && grep -qw cpu /sys/fs/cgroup/cgroup.controllers; then
    CAP_GROUP=/sys/fs/cgroup/baton-abuse-$$
    echo +cpu >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
    mkdir -p "$CAP_GROUP" && echo "$((ATTACK_CPU_CAP * 1000)) 100000" >"$CAP_GROUP/cpu.max" || CAP_GROUP=""
  elif [[ -d /sys/fs/cgroup/cpu ]]; then
    CAP_GROUP=/sys/fs/cgroup/cpu/baton-abuse-$$
    mkdir -p "$CAP_GROUP" && echo 100000 >"$CAP_GROUP/cpu.cfs_period_us" &&
      echo "$((ATTACK_CPU_CAP * 1000))" >"$CAP_GROUP/cpu.cfs_quota_us" || CAP_GROUP=""
  fi
  [[ -n $CAP_GROUP ]] || log "abuse: no CPU cgroup available: the attack generators run uncapped"
fi
remove_cap_group() { [[ -z $CAP_GROUP ]] || rmdir "$CAP_GROUP" 2>/dev/null || true; }
capped() { [[ -z $CAP_GROUP ]] || echo "$1" >"$CAP_GROUP/cgroup.procs"; }
# slowhttptest's three processes against 127.0.0.1:$1, logs tagged $2; sets ATTACK_PIDS.
attack_slowhttptest() { # port tag
  local url="http://127.0.0.1:$1"
  chrt --idle 0 taskset -c "$LOAD_CPU" slowhttptest -H -c "$SLOWLORIS" -r 250 -i 10 -x 10 -p 10 -l "$HOLD" \
    -u "$url/small" >"$WORK/slowloris-$2.log" 2>&1 &
  PIDS+=($!)
  chrt --idle 0 taskset -c "$LOAD_CPU" slowhttptest -B -c "$SLOWBODY" -r 100 -i 10 -x 10 -s 10000000 -p 10 \
    -l "$HOLD" -t POST -u "$url/upload" >"$WORK/slowbody-$2.log" 2>&1 &
  PIDS+=($!)
  chrt --idle 0 taskset -c "$LOAD_CPU" slowhttptest -X -c "$SLOWREAD" -r 50 -w 512 -y 1024 -n 3 -z 32 -k 3 \
    -p 10 -l "$HOLD" -u "$url/big" >"$WORK/slowread-$2.log" 2>&1 &
  PIDS+=($!)
  ATTACK_PIDS=("${PIDS[@]: -3}")
}
# The same three attacks with the same parameters from slow_clients.py, one quiet process.
attack_quiet() { # port tag
  chrt --idle 0 taskset -c "$LOAD_CPU" "$PY" "$HERE/slow_clients.py" --port "$1" --hold "$HOLD" \
    --slowloris "$SLOWLORIS" --slowloris-rate 250 --slowbody "$SLOWBODY" --slowbody-rate 100 \
    --slowread "$SLOWREAD" --slowread-rate 50 --interval 10 --body-bytes 10 \
    --content-length 10000000 --rcvbuf-min 512 --rcvbuf-max 1024 --pipeline 3 --read-bytes 32 \
    --read-interval 3 >"$WORK/slow-clients-$2.log" 2>&1 &
  PIDS+=($!)
  ATTACK_PIDS=("${PIDS[@]: -1}")
}
# Opens the three attacks on 127.0.0.1:$1 (logs tagged $2) with ATTACKER's generator and waits
# until they are held; sets HELD to how many connections are.
attack_start() { # port tag
  local deadline p
  log "abuse: opening $SLOWLORIS slowloris + $SLOWBODY slow-body + $SLOWREAD slow-read connections ($2, $ATTACKER)"
  "attack_$ATTACKER" "$1" "$2"
  for p in "${ATTACK_PIDS[@]}"; do capped "$p"; done
  deadline=$((SECONDS + RAMP_TIMEOUT))
  while (($(established "$1") < WANT * 98 / 100)) && ((SECONDS < deadline)); do sleep 0.5; done
  HELD=$(established "$1")
}
attack_stop() { # port
  local p deadline=$((SECONDS + 20))
  for p in "${ATTACK_PIDS[@]}"; do stop_and_forget "$p"; done
  while (($(established "$1") > 0)) && ((SECONDS < deadline)); do sleep 0.5; done
}

ROWS=""
# Runs wrk (phase $1, attack connections described by $2; with a port $3, the connections still
# held there at the end are added) and appends its row to ROWS and its p99 to $WORK/p99.$1.
measure() { # phase held [port]
  local cpu p50 p99 rps err sock held=$2
  cpu=$(run_wrk "$WORK/$1.txt")
  if [[ -n ${3:-} ]]; then held+=" / $(established "$3") of $WANT"; fi
  read -r p50 p99 rps err sock < <(wrk_figures "$WORK/$1.txt")
  echo "$p99" >>"$WORK/p99.$1"
  ROWS+="| $1 | $rps | $p50 | $p99 | $cpu | $err | $sock | $held | $(($(rss_kib "$PROXY_PID") / 1024)) |"$'\n'
  alive "$PROXY_PID" || die "$PROXY died: $(tail -20 "$WORK/proxy.log")"
}

log "abuse: warm-up (${CONNECTIONS} connections)"
taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d2s "$URL/small" >/dev/null
for ((round = 1; round <= ROUNDS; round++)); do
  log "abuse: round $round/$ROUNDS: baseline (${DURATION}s)"
  measure baseline 0
  attack_start "$DECOY_PORT" decoy
  log "abuse: $HELD connections held by the decoy; measuring $PROXY (${DURATION}s)"
  measure decoy "0 ($HELD at the decoy)"
  attack_stop "$DECOY_PORT"
  attack_start "$PORT" proxy
  log "abuse: $HELD connections held; measuring under attack (${DURATION}s)"
  measure attack "$HELD" "$PORT"
  attack_stop "$PORT"
done
remove_cap_group
# A last baseline once the attack is gone: the spread between the baselines is the noise of this
# machine, to read the attack's figure against.
log "abuse: attack stopped; baseline again (${DURATION}s)"
measure baseline 0

median() { sort -n "$WORK/p99.$1" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ratio() { "$PY" -c "print(f'{$1 / $2:.3f}')"; }
B99=$(median baseline)
D99=$(median decoy)
A99=$(median attack)
VERDICT=$("$PY" -c "print('PASS' if $A99 <= 1.10 * $B99 else 'FAIL')")
cat <<OUT
| run | req/s | p50 ms | p99 ms | $PROXY CPU µs/req | non-2xx | socket errors | attack conns held | $PROXY RSS MiB |
|---|--:|--:|--:|--:|--:|---|---|--:|
${ROWS}
attacker: $ATTACKER; attack generators capped at ${ATTACK_CPU_CAP}% of a core (0: uncapped)${CAP_GROUP:+ via $CAP_GROUP}
median p99: baseline $B99 ms, attack on the decoy $D99 ms, under attack $A99 ms
p99 under attack / baseline: $(ratio "$A99" "$B99")× (target ≤ 1.10×): $VERDICT
p99 under attack / attack on the decoy: $(ratio "$A99" "$D99")× (what $PROXY's own handling of the attack adds)
p99 attack on the decoy / baseline: $(ratio "$D99" "$B99")× (the attack's cost to the rig alone)
OUT
