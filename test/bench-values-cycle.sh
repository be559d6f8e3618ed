#!/usr/bin/env bash
# test/bench-values-cycle.sh: what a values cycle costs the gateway in CPU, before and after a change, back
# to back in one run (issue 14), and where that CPU goes.
#
#   BEFORE=main AFTER=HEAD PROFILE=large CYCLES=2 VALUES_INTERVAL=20s test/bench-values-cycle.sh
#
# For each of the two revisions (BEFORE, AFTER: anything `git archive` takes; AFTER=. is the work tree as
# it is): build the binary, start `svgateway sandbox` (the simulated API, PROFILE) in its own process and
# `svgateway` in live mode against it with SNMP, OPC UA, the history recorder and the status listener
# ([status] pprof = true) on loopback, as test/bench-scale.sh does, but without the walk and the crawl and
# with the history backfill off (it reads trending for minutes after a start and would be counted in the
# cycles). Then measure
#   - CPU to ready: the gateway's utime+stime from exec to /readyz 200, and the wall time;
#   - CPU per values cycle: utime+stime across CYCLES whole cycles once the links pass is done (a cycle
#     boundary is a change of svgateway_sync_cycles_total{kind="values"}, polled once a second: each
#     scrape costs the gateway a few milliseconds);
#   - a CPU profile over the same cycles (OUT/cpu-REV.pb.gz), printed by stage (HTTP and decoding per
#     endpoint, model apply and ageing, the history recorder, SNMP, OPC UA, GC). A cycle's period is
#     VALUES_INTERVAL plus the cycle's own wall time (the poller waits the interval after a cycle ends),
#     and a cycle's work comes at the end of its period: a profile of CYCLES x VALUES_INTERVAL started
#     at a cycle's end missed the last cycle's work (a third of the stages with CYCLES=3). So the
#     profile starts at a cycle's end and lasts CYCLES periods (measured on the cycle before) plus 10 s,
#     the cycles that end within it are counted, and each stage is printed as its total and per cycle,
#     beside the gateway's utime+stime over the profile's own window.
# CPU-seconds, unlike wall time, are roughly what a loaded machine does not distort. Figures, not
# assertions. Every process started here is tracked by PID and stopped; every wait is bounded. Needs curl,
# bc, go.
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE=${BEFORE:-main}; AFTER=${AFTER:-.}; PROFILE=${PROFILE:-large}; CYCLES=${CYCLES:-2}
VALUES_INTERVAL=${VALUES_INTERVAL:-20s}  # in seconds ("20s")
MAX_WAIT=${MAX_WAIT:-600}
OUT=${OUT:-$(mktemp -d /tmp/bench-values-cycle.XXXXXX)}; mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/bench-values-cycle-work.XXXXXX)
SB=""; GW=""; PROF=""
cleanup() {
  for p in $PROF $GW $SB; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
for tool in curl bc go; do command -v $tool >/dev/null || { echo "bench-values-cycle: $tool is missing" >&2; exit 1; }; done

HZ=$(getconf CLK_TCK)
. test/sandbox-gateway.sh   # start_sandbox, write_gateway_toml, port
cpu_s() { awk -v hz="$HZ" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }
metric() { # URL NAME [LABEL-FILTER]
  curl -s "$1/metrics" | awk -v n="$2" -v f="${3:-}" '$1 ~ "^"n"({|$)" && index($1, f) {s += $2} END {printf "%.6f\n", s + 0}'
}
build() { # REV NAME
  if [ "$1" = . ]; then go build -o "$WORK/$2" ./cmd/svgateway; return; fi
  mkdir -p "$WORK/src-$2"; git archive "$1" | tar -x -C "$WORK/src-$2"
  (cd "$WORK/src-$2" && go build -o "$WORK/$2" ./cmd/svgateway)
}
build "$BEFORE" before
build "$AFTER" after

# stages BINARY PROFILE: CPU-seconds of each stage over the profile ("label|focus|ignore": the samples
# whose stack matches focus and not ignore; the stages below do not overlap).
stages() {
  local bin=$1 prof=$2 n=$3
  for s in "HTTP+decode power_list|smartview\.\(\*Client\)\.PowerList" \
           "HTTP+decode environment|smartview\.\(\*Client\)\.Environment" \
           "HTTP+decode asset_list|smartview\.\(\*Client\)\.AssetList" \
           "HTTP+decode asset_details|smartview\.\(\*Client\)\.AssetDetailsBatch" \
           "HTTP+decode alarms, alerts|smartview\.\(\*Client\)\.(Alarms|Alerts)" \
           "model apply (Store.Update from the poll)|poll\.\(\*cycle\)\.apply" \
           "model ageing (Tx.Age)|model\.\(\*Tx\)\.Age" \
           "history: recording (last-sample map, keys)|history\.\(\*Recorder\)\.record|history\.\(\*Recorder\)\.flush" \
           "history: writing (bbolt)|history\.\(\*Recorder\)\.flush" \
           "history: pruning|history\.\(\*Recorder\)\.prune" \
           "history: merging the log into the rows|history\.\(\*Store\)\.Merge" \
           "SNMP|svgateway/snmp" "OPC UA|svgateway/opcua" \
           "metrics scrapes (this script's polling)|prometheus" \
           "GC (background mark workers)|runtime\.gcBgMarkWorker"; do
    IFS='|' read -r label focus ignore <<<"$s"
    v=$(go tool pprof -top -cum -nodecount=1 -focus="$focus" ${ignore:+-ignore="$ignore"} "$bin" "$prof" 2>/dev/null | awk 'f {print $4; exit} /flat%/ {f=1}' || true)
    per_cycle "$label" "${v:-0s}" "$n"
  done
  per_cycle "all samples" "$(go tool pprof -top -nodecount=1 "$bin" "$prof" 2>/dev/null | sed -n 's/.*Total samples = \([0-9.]*m\?s\).*/\1/p' || true)" "$n"
}

# per_cycle LABEL DURATION N: a pprof duration (1.2s, 610ms, 0) in seconds, in all and per cycle.
per_cycle() {
  awk -v l="$1" -v d="$2" -v n="$3" 'BEGIN {
    v = d + 0; if (d ~ /ms$/) v /= 1000; else if (d ~ /(us|µs)$/) v /= 1e6
    printf "  %-46s %6.2f s  %6.3f s per cycle\n", l, v, (n > 0 ? v / n : 0) }'
}

for rev in before after; do
  STATUS=$(port); SNMPPORT=$(port); UAPORT=$(port)
  rm -rf "$WORK/state"
  start_sandbox "$WORK/$rev" "$PROFILE" "$MAX_WAIT"
  write_gateway_toml "" "[history.backfill]
enabled = false   # it reads trending for minutes after a start: not part of a values cycle"
  URL=http://127.0.0.1:$STATUS
  load0=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /)
  t0=$(date +%s.%N)
  "$WORK/$rev" -config "$WORK/gateway.toml" >"$WORK/gateway.log" 2>&1 &
  GW=$!
  for _ in $(seq $((MAX_WAIT * 20))); do
    curl -sf "$URL/readyz" >/dev/null 2>&1 && break; kill -0 $GW 2>/dev/null || break; sleep 0.05
  done
  t1=$(date +%s.%N); ready_cpu=$(cpu_s $GW)
  curl -sf "$URL/readyz" >/dev/null || { echo "gateway ($rev) not ready:" >&2; tail -20 "$WORK/gateway.log" >&2; exit 1; }
  for _ in $(seq "$MAX_WAIT"); do grep -q "asset links read" "$WORK/gateway.log" && break; sleep 1; done
  cyc() { metric "$URL" svgateway_sync_cycles_total 'kind="values"'; }
  wait_cycle() { local c; c=$(cyc); for _ in $(seq "$MAX_WAIT"); do [ "$(cyc)" != "$c" ] && return 0; sleep 1; done; echo "no values cycle" >&2; return 1; }
  wait_cycle; ta=$(date +%s.%N)
  wait_cycle
  c0=$(cpu_s $GW); tb=$(date +%s.%N)
  period=$(echo "$tb - $ta" | bc)
  secs=$(printf '%.0f' "$(echo "$period * $CYCLES + 10" | bc)")
  n0=$(cyc)
  (curl -s "$URL/debug/pprof/profile?seconds=$secs" -o "$OUT/cpu-$rev.pb.gz"
   echo "$(cpu_s $GW) $(date +%s.%N) $(cyc)" >"$WORK/profile-end") &
  PROF=$!
  for _ in $(seq "$CYCLES"); do wait_cycle; done
  c1=$(cpu_s $GW); tc=$(date +%s.%N)
  wait $PROF || true; PROF=""
  read -r cp_ tp n1 <"$WORK/profile-end"
  ncyc=$(printf '%.0f' "$(echo "$n1 - $n0" | bc)")
  kill $GW; wait $GW 2>/dev/null || true; GW=""
  kill $SB; wait $SB 2>/dev/null || true; SB=""
  cp "$WORK/gateway.log" "$OUT/gateway-$rev.log"
  printf '%s (%s): ready %.1f s wall, %.2f CPU-s to ready; values cycle %.2f CPU-s (mean of %d, %.1f s each); load %s\n' \
    "$rev" "$([ $rev = before ] && echo "$BEFORE" || echo "$AFTER")" "$(echo "$t1 - $t0" | bc)" "$ready_cpu" \
    "$(echo "($c1 - $c0) / $CYCLES" | bc -l)" "$CYCLES" "$(echo "($tc - $tb) / $CYCLES" | bc -l)" "$load0" | tee -a "$OUT/results.txt"
  echo "  CPU profile over ${secs} s ($ncyc cycles ended in it; the gateway's utime+stime over it $(echo "$cp_ - $c0" | bc) s), cumulative per stage, total and per cycle:" | tee -a "$OUT/results.txt"
  stages "$WORK/$rev" "$OUT/cpu-$rev.pb.gz" "$ncyc" | tee -a "$OUT/results.txt"
done
echo "figures and profiles in $OUT" >&2
