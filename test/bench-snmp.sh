#!/usr/bin/env bash
# test/bench-snmp.sh: figures for the standalone SNMP agent over a footprint of the sandbox's large size
# (synthetic until the sandbox's `large` profile lands: 20 IBXs, 2,000 cages, 20,000 cabinets, 80,000 circuits,
# 10,000 assets, 100,000 tags), served by snmp/internal/benchagent on 127.0.0.1:$PORT.
#
#   test/bench-snmp.sh            RUNS walks of the whole MIB with snmpbulkwalk -Cr$REPS over v2c and over v3
#                                 authPriv (SHA-256/AES), then GET latency under $POLLERS concurrent pollers.
#
# Prints, per walk: varbinds, seconds, varbinds/s and the agent's CPU seconds (user+sys, from /proc) per 100k
# varbinds (the steadier figure on a shared machine; the client, snmpbulkwalk, uses CPU too). Figures, not
# assertions. env: PORT=11170 RUNS=3 REPS=50 POLLERS=8 DURATION=10s. Needs net-snmp's snmpbulkwalk (test/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-11170}; RUNS=${RUNS:-3}; REPS=${REPS:-50}; POLLERS=${POLLERS:-8}; DURATION=${DURATION:-10s}
ROOT=1.3.6.1.4.1.32473
WORK=$(mktemp -d /tmp/bench-snmp.XXXXXX)
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

go build -o "$WORK/benchagent" ./snmp/internal/benchagent
"$WORK/benchagent" -listen "127.0.0.1:$PORT" >"$WORK/agent.out" 2>"$WORK/agent.log" &
PID=$!
for _ in $(seq 600); do   # building the footprint takes seconds; bounded: 60 s
  grep -q '^READY' "$WORK/agent.out" 2>/dev/null && break
  kill -0 "$PID" 2>/dev/null || { echo "benchagent died:"; cat "$WORK/agent.log"; exit 1; }
  sleep 0.1
done
grep '^READY' "$WORK/agent.out" || { echo "benchagent not ready"; exit 1; }

HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
echo
echo "| walk (snmpbulkwalk -Cr$REPS, whole SVGATEWAY-MIB) | run | varbinds | seconds | varbinds/s | agent CPU s/100k vb |"
echo "|---|---|---|---|---|---|"
walk() {
  local label=$1 run=$2; shift 2
  local c0 t0 n t1 c1
  c0=$(cpu_ticks); t0=$(date +%s.%N)
  # -On -Oq -OU: numeric and terse; MIBS= loads no MIB (same parsing cost as the peers' baselines)
  n=$(MIBS= snmpbulkwalk "$@" -On -Oq -OU -Cr"$REPS" -t 10 -r 0 "127.0.0.1:$PORT" "$ROOT" 2>"$WORK/walk.err" \
        | grep -cv 'No more variables left')
  t1=$(date +%s.%N); c1=$(cpu_ticks)
  if [ -s "$WORK/walk.err" ]; then echo "snmpbulkwalk failed:"; head -5 "$WORK/walk.err"; exit 1; fi
  awk -v l="$label" -v r="$run" -v n="$n" -v a="$t0" -v b="$t1" -v c="$c0" -v d="$c1" -v hz="$HZ" \
    'BEGIN { s = b - a; printf "| %s | %d | %d | %.2f | %.0f | %.3f |\n", l, r, n, s, n / s, (d - c) / hz * 100000 / n }'
}
walk "warm-up v2c" 0 -v2c -c public >/dev/null
for run in $(seq "$RUNS"); do
  walk "v2c" "$run" -v2c -c public
  walk "v3 authPriv SHA-256/AES" "$run" -v3 -l authPriv -u bench -a SHA-256 -A benchauthpass -x AES -X benchprivpass
done

echo
echo "GET latency, $POLLERS concurrent pollers, each GET = 4 columns of a random svgPowerTable row:"
c0=$(cpu_ticks)
"$WORK/benchagent" -latency -target "127.0.0.1:$PORT" -pollers "$POLLERS" -duration "$DURATION"
c1=$(cpu_ticks)
awk -v c="$c0" -v d="$c1" -v hz="$HZ" 'BEGIN { printf "agent CPU during polling: %.2f s\n", (d - c) / hz }'
