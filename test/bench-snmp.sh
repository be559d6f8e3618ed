#!/usr/bin/env bash
# test/bench-snmp.sh: figures for the standalone SNMP agent beside net-snmp's snmpd, in one invocation.
#
#   test/bench-snmp.sh
#
# Ours: snmp/internal/benchagent serves, on 127.0.0.1:$PORT, a synthetic footprint of the sandbox's large
# profile size (20 IBXs, 2,000 cages, 20,000 cabinets, 80,000 circuits, 10,000 assets, 100,000 tags) built
# directly in the model, so no poll runs during the measurement. The peer: snmpd on 127.0.0.1:$PEER_PORT
# serving a native 50,000-row table (nsExtendOutLine of 20 `extend` commands x 2,500 lines; warm: one
# untimed walk first, as net-snmp's caches expire). Both are walked RUNS times, round-robin, with the same
# client (snmpbulkwalk -Cr$REPS) over v2c and v3 authPriv (SHA-256/AES); then GET latency of ours under
# $POLLERS concurrent pollers. Then one SNMPv1 walk (snmpwalk -v1: GETNEXT) of each, one table.
#
# Timing snmpd: its table walks in 0.25-0.5 s, too short to time alone (a scheduling hiccup moves one walk's
# rate by 30 %, and a 10 ms tick is a tenth of its CPU figure). So each snmpd figure is a batch: the table
# walked again and again, each walk a new snmpbulkwalk as for ours, until PEER_SECONDS (default 3) have
# passed; varbinds, seconds and CPU are the batch's sums. (net-snmp does not let the table grow instead:
# an extend's output is cut at ~5,700 lines, and more extends make snmpd search a longer list per varbind.)
# Each walk includes one client start (process, MIB-less init; for v3 the key localization and the engine
# discovery): the script measures it (a walk of one scalar) and prints it, so the reader sees what it adds
# to snmpd's walks of 50,000 varbinds and to ours of 5,031,332. Each figure is the median over RUNS; the
# agents are walked round-robin in each run, so a change of load shows in all of them, in an order that
# alternates from run to run (ours, snmpd, base; then base, snmpd, ours): under load a fixed order
# showed as a ~15 % difference between two builds that ABBA walks put level. Use an even RUNS for a
# balanced before/after.
#
# SO_REUSEPORT (ours) lets another process bind the same port and take a share of the requests (another
# run of this script, a leftover agent): the script refuses to start when a port is in use.
#
# v2c: our agent runs with [snmp] v2c_max_bulk_size = 65000 (benchagent's default), as test/bench-scale.sh
# configures the gateway: the 1472-octet default (an amplification bound for a clear-text community) cuts
# each GETBULK answer at ~25 varbinds, snmpd has no such bound, and the walk would measure round trips.
#
# BASE=<git revision>: also build benchagent at that revision (git archive of the repository) and walk
# it on $BASE_PORT round-robin with the others, so before/after figures come from one invocation; a
# revision whose benchagent has no -v2c-max-bulk-size gets the same 65000 written into its Config.
#
# Prints, per walk: varbinds, seconds, varbinds/s and the agent's CPU seconds (user+sys, from /proc) per
# 100k varbinds (the steadier figure on a shared machine; the client uses CPU too), then the medians and
# the ratios ours/snmpd. Figures, not assertions. env: PORT=11170 PEER_PORT=11171 BASE_PORT=11172 RUNS=3
# REPS=50 POLLERS=8 DURATION=10s PEER_SECONDS=3 BASE=. Needs net-snmp's snmpd and snmpbulkwalk (test/run.sh
# installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-11170}; PEER_PORT=${PEER_PORT:-11171}; BASE_PORT=${BASE_PORT:-11172}; BASE=${BASE:-}; RUNS=${RUNS:-3}; REPS=${REPS:-50}; POLLERS=${POLLERS:-8}; DURATION=${DURATION:-10s}
PEER_SECONDS=${PEER_SECONDS:-3}
for p in "$PORT" "$PEER_PORT" ${BASE:+"$BASE_PORT"}; do   # a port held by another process would share our walks
  python3 -c 'import socket, sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(("127.0.0.1", int(sys.argv[1])))' "$p" 2>/dev/null ||
    { echo "bench-snmp: UDP port $p on 127.0.0.1 is in use (set PORT, PEER_PORT, BASE_PORT)" >&2; exit 1; }
done
ROOT=1.3.6.1.4.1.32473
WORK=$(mktemp -d /tmp/bench-snmp.XXXXXX)
PID=""
PEER=""
BPID=""
cleanup() {
  for p in $PID $BPID $PEER; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# start_agent BINARY PORT: starts a benchagent and waits until it serves; prints its pid.
start_agent() {
  local bin=$1 port=$2 pid
  "$bin" -listen "127.0.0.1:$port" >"$bin.out" 2>"$bin.log" &
  pid=$!
  for _ in $(seq 600); do   # building the footprint takes seconds; bounded: 60 s
    grep -q '^READY' "$bin.out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { echo "benchagent died:" >&2; cat "$bin.log" >&2; exit 1; }
    sleep 0.1
  done
  grep -q '^READY' "$bin.out" || { echo "benchagent not ready" >&2; exit 1; }
  echo "$pid"
}
go build -o "$WORK/benchagent" ./snmp/internal/benchagent
PID=$(start_agent "$WORK/benchagent" "$PORT")
if [ -n "$BASE" ]; then
  mkdir "$WORK/base"
  git archive "$BASE" | tar -x -C "$WORK/base"
  grep -q v2c-max-bulk-size "$WORK/base/snmp/internal/benchagent/main.go" ||
    sed -i 's/cfg := snmp.Config{/cfg := snmp.Config{V2cMaxBulkSize: 65000, /' "$WORK/base/snmp/internal/benchagent/main.go"
  (cd "$WORK/base" && go build -o "$WORK/benchagent-base" ./snmp/internal/benchagent)
  BPID=$(start_agent "$WORK/benchagent-base" "$BASE_PORT")
  echo "base: $BASE ($(git rev-parse --short "$BASE")) on 127.0.0.1:$BASE_PORT"
fi

# The peer: snmpd, private config, loopback only, no MIB files loaded (MIBS=).
seq -f 'line%05.0f-abcdefg' 1 2500 > "$WORK/lines.txt"
{
  echo "agentAddress udp:127.0.0.1:$PEER_PORT"
  echo "rocommunity public 127.0.0.1"
  echo "createUser bench SHA-256 benchauthpass AES benchprivpass"
  echo "rouser bench priv"
  echo "dontLogTCPWrappersConnects yes"
  for i in $(seq -w 0 19); do echo "extend t$i /bin/cat $WORK/lines.txt"; done
} > "$WORK/snmpd.conf"
MIBS= /usr/sbin/snmpd -f -C -c "$WORK/snmpd.conf" -Lf "$WORK/snmpd.log" &
PEER=$!
for i in $(seq 100); do   # bounded: 10 s
  MIBS= snmpget -v2c -c public -t 1 -r 0 "127.0.0.1:$PEER_PORT" .1.3.6.1.2.1.1.3.0 >/dev/null 2>&1 && break
  [ "$i" = 100 ] && { echo "snmpd not answering:"; cat "$WORK/snmpd.log"; exit 1; }
  sleep 0.1
done

HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
echo
echo "| agent | walk (snmpbulkwalk -Cr$REPS) | run | varbinds | seconds | varbinds/s | agent CPU s/100k vb |"
echo "|---|---|---|---|---|---|---|"
# walk LABEL RUN PID ADDR OID ARGS...: one timed walk (with MIN_SECONDS set: walks again until that many
# seconds have passed, one figure for the batch); prints a table row and appends it to results.tsv.
walk() {
  local label=$1 run=$2 pid=$3 addr=$4 oid=$5; shift 5
  local c0 t0 n=0 k=0 m t1 c1
  c0=$(cpu_ticks "$pid"); t0=$(date +%s.%N)
  while :; do
    # -On -Oq -OU: numeric and terse; MIBS= loads no MIB: the same client cost for both agents
    m=$(MIBS= snmpbulkwalk "$@" -On -Oq -OU -Cr"$REPS" -t 10 -r 0 "$addr" "$oid" 2>"$WORK/walk.err" \
          | grep -cv 'No more variables left')
    if [ -s "$WORK/walk.err" ]; then echo "snmpbulkwalk failed:"; head -5 "$WORK/walk.err"; exit 1; fi
    n=$((n + m)); k=$((k + 1))
    awk -v a="$t0" -v b="$(date +%s.%N)" -v min="${MIN_SECONDS:-0}" 'BEGIN { exit !(b - a < min) }' || break
  done
  t1=$(date +%s.%N); c1=$(cpu_ticks "$pid")
  [ "$k" -gt 1 ] && label="$label ($k walks)"
  awk -v l="$label" -v r="$run" -v n="$n" -v a="$t0" -v b="$t1" -v c="$c0" -v d="$c1" -v hz="$HZ" \
    'BEGIN { s = b - a; printf "%s\t%d\t%d\t%.2f\t%.0f\t%.3f\n", l, r, n, s, n / s, (d - c) / hz * 100000 / n }' \
    | tee -a "$WORK/results.tsv" | awk -F'\t' '{ split($1, k, "::"); printf "| %s | %s | %s | %s | %s | %s | %s |\n", k[1], k[2], $2, $3, $4, $5, $6 }'
}
# clientstart ARGS...: the median, over 5, of the seconds snmpbulkwalk takes for one scalar of snmpd (its
# start, init and exit; for v3 also key localization and engine discovery): what each walk pays once.
clientstart() {
  for _ in 1 2 3 4 5; do
    local t0 t1
    t0=$(date +%s.%N)
    MIBS= snmpbulkwalk "$@" -On -Oq -OU -t 10 -r 0 "127.0.0.1:$PEER_PORT" .1.3.6.1.2.1.1.3 >/dev/null 2>&1
    t1=$(date +%s.%N)
    echo "$t0 $t1"
  done | awk '{ printf "%.1f\n", ($2 - $1) * 1000 }' | sort -n | sed -n 3p
}
V3=(-v3 -l authPriv -u bench -a SHA-256 -A benchauthpass -x AES -X benchprivpass)
EXT=.1.3.6.1.4.1.8072.1.3.2.4.1.2   # NET-SNMP-EXTEND-MIB::nsExtendOutLine
: > "$WORK/results.tsv"
walk "svgateway::warm-up" 0 "$PID" "127.0.0.1:$PORT" "$ROOT" -v2c -c public >/dev/null
[ -n "$BPID" ] && walk "svgateway@base::warm-up" 0 "$BPID" "127.0.0.1:$BASE_PORT" "$ROOT" -v2c -c public >/dev/null
# step WHO RUN PROTO ARGS...: one figure of ours, the base build or snmpd (warmed first) for a protocol.
step() {
  local who=$1 run=$2 proto=$3; shift 3
  case $who in
    ours) walk "svgateway::whole SVGATEWAY-MIB, $proto" "$run" "$PID" "127.0.0.1:$PORT" "$ROOT" "$@" ;;
    base) [ -z "$BPID" ] || walk "svgateway@base::whole SVGATEWAY-MIB, $proto" "$run" "$BPID" "127.0.0.1:$BASE_PORT" "$ROOT" "$@" ;;
    peer)
      walk "snmpd::warm-up" "$run" "$PEER" "127.0.0.1:$PEER_PORT" "$EXT" -v2c -c public >/dev/null
      MIN_SECONDS=$PEER_SECONDS walk "snmpd::nsExtendOutLine 50,000 rows (native), $proto" "$run" "$PEER" "127.0.0.1:$PEER_PORT" "$EXT" "$@" ;;
  esac
}
# The order alternates from run to run, ours - snmpd - base, then base - snmpd - ours: whichever walks first
# after the other protocol's walks (or last) does so as often as the other, and snmpd sits between them.
for run in $(seq "$RUNS"); do
  order=(ours peer base)
  [ $((run % 2)) = 0 ] && order=(base peer ours)
  for who in "${order[@]}"; do step "$who" "$run" v2c -v2c -c public; done
  for who in "${order[@]}"; do step "$who" "$run" "v3 authPriv SHA-256/AES" "${V3[@]}"; done
done

# SNMPv1 (RFC 3584): GETNEXT, one varbind per request, one run. Ours: the svgTagId column (100,000 rows);
# snmpd: the same nsExtendOutLine table as above.
echo
echo "| agent | walk (snmpwalk -v1, GETNEXT) | varbinds | seconds | varbinds/s | agent CPU s/100k vb |"
echo "|---|---|---|---|---|---|"
# walk1 LABEL PID ADDR OID: one timed v1 walk.
walk1() {
  local label=$1 pid=$2 addr=$3 oid=$4
  local c0 t0 n t1 c1
  c0=$(cpu_ticks "$pid"); t0=$(date +%s.%N)
  n=$(MIBS= snmpwalk -v1 -c public -On -Oq -OU -t 10 -r 0 "$addr" "$oid" 2>"$WORK/walk.err" | grep -cv 'End of MIB')
  t1=$(date +%s.%N); c1=$(cpu_ticks "$pid")
  if [ -s "$WORK/walk.err" ]; then echo "snmpwalk -v1 failed:"; head -5 "$WORK/walk.err"; exit 1; fi
  awk -v l="$label" -v n="$n" -v a="$t0" -v b="$t1" -v c="$c0" -v d="$c1" -v hz="$HZ" \
    'BEGIN { s = b - a; printf "| %s | %d | %.2f | %.0f | %.3f |\n", l, n, s, n / s, (d - c) / hz * 100000 / n }'
}
walk1 "svgateway | svgTagId (100,000 rows), v1" "$PID" "127.0.0.1:$PORT" "$ROOT.1.11.1.2"
[ -n "$BPID" ] && walk1 "svgateway@base | svgTagId (100,000 rows), v1" "$BPID" "127.0.0.1:$BASE_PORT" "$ROOT.1.11.1.2"
walk "snmpd::warm-up" 0 "$PEER" "127.0.0.1:$PEER_PORT" "$EXT" -v2c -c public >/dev/null
walk1 "snmpd | nsExtendOutLine (50,000 rows, native), v1" "$PEER" "127.0.0.1:$PEER_PORT" "$EXT"
START_V2C=$(clientstart -v2c -c public); START_V3=$(clientstart "${V3[@]}")
kill "$PEER"; wait "$PEER" 2>/dev/null || true; PEER=""
if [ -n "$BPID" ]; then kill "$BPID"; wait "$BPID" 2>/dev/null || true; BPID=""; fi

echo
echo "One client start per walk (snmpbulkwalk of one scalar of snmpd, median of 5): v2c $START_V2C ms, v3 authPriv $START_V3 ms"
echo
echo "Medians over $RUNS runs, and ours / snmpd (the last line: the rates without the client's starts):"
python3 - "$WORK/results.tsv" "$START_V2C" "$START_V3" <<'PY'
import re, statistics, sys
rows, net = {}, {}
for line in open(sys.argv[1]):
    label, run, n, s, rate, cpu = line.rstrip("\n").split("\t")
    if "warm-up" in label:
        continue
    agent, what = label.split("::", 1)
    walks = re.search(r" \((\d+) walks\)$", what)
    proto = re.sub(r" \(\d+ walks\)$", "", what).rsplit(", ", 1)[1]
    rows.setdefault((proto, agent), []).append((float(rate), float(cpu)))
    start = float(sys.argv[2] if proto == "v2c" else sys.argv[3]) / 1000
    net.setdefault((proto, agent), []).append(int(n) / (float(s) - start * (int(walks.group(1)) if walks else 1)))
print("| agent | protocol | varbinds/s | snmpd varbinds/s | ratio | CPU s/100k vb | snmpd CPU s/100k vb | ratio |")
print("|---|---|---|---|---|---|---|---|")
med = lambda xs, k: statistics.median(x[k] for x in xs)
for agent in sorted({a for _, a in rows if a != "snmpd"}, reverse=True):
    for proto in sorted({p for p, a in rows if a == agent}):
        ours, peer = rows[(proto, agent)], rows[(proto, "snmpd")]
        r1, r2, c1, c2 = med(ours, 0), med(peer, 0), med(ours, 1), med(peer, 1)
        print(f"| {agent} | {proto} | {r1:,.0f} | {r2:,.0f} | {r1 / r2:.2f} | {c1:.3f} | {c2:.3f} | {c1 / c2:.2f} |")
for proto in sorted({p for p, a in rows if a == "svgateway"}):
    r1, r2 = statistics.median(net[(proto, "svgateway")]), statistics.median(net[(proto, "snmpd")])
    print(f"\n{proto} without the client's starts: {r1:,.0f} vs snmpd {r2:,.0f} varbinds/s, ratio {r1 / r2:.2f}")
for proto in sorted({p for p, a in rows if a == "svgateway@base"}):
    new, old = rows[(proto, "svgateway")], rows[(proto, "svgateway@base")]
    print(f"\n{proto}: this build / base: rate {med(new, 0) / med(old, 0):.2f}x, CPU per varbind {med(new, 1) / med(old, 1):.2f}x")
PY

echo
echo "GET latency, $POLLERS concurrent pollers, each GET = 4 columns of a random svgPowerTable row:"
c0=$(cpu_ticks "$PID")
"$WORK/benchagent" -latency -target "127.0.0.1:$PORT" -pollers "$POLLERS" -duration "$DURATION"
c1=$(cpu_ticks "$PID")
awk -v c="$c0" -v d="$c1" -v hz="$HZ" 'BEGIN { printf "agent CPU during polling: %.2f s\n", (d - c) / hz }'
