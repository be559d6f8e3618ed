#!/usr/bin/env bash
# test/opcua/bench-history.sh: HistoryRead of one day of one tag (2,880 raw values, one per 30 s) from svgateway
# (its bbolt history, filled through history.Backfill by benchserver -history-hours) beside node-opcua's own
# in-memory historian (peer-history.js), measured in the same invocation with the same node-opcua client
# (history-bench.js): p50/p99 per read, and the ratio. Figures, not assertions; prints a markdown table.
#
#   RUNS=200 HOURS=24 test/opcua/bench-history.sh
#
# Every server is started here, tracked by PID, bounded by --max-seconds, and stopped by PID.
set -u
cd "$(dirname "$0")"
RUNS=${RUNS:-200}; HOURS=${HOURS:-24}
TMP=$(mktemp -d /tmp/svgateway-history-bench.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT
go build -o "$TMP/benchserver" ./benchserver || exit 1

wait_listening() { # log pid
  for _ in $(seq 1 240); do grep -q listening "$1" && return 0; kill -0 "$2" 2>/dev/null || break; sleep 0.5; done
  echo "server did not start, see $1:"; cat "$1"; exit 1
}
field() { node -e 'const l=require("fs").readFileSync(0,"utf8").trim().split("\n").pop();try{const v=JSON.parse(l)[process.argv[1]];console.log(v===undefined?"n/a":v)}catch{console.log("n/a")}' "$1"; }

GPORT=$((49100 + RANDOM % 400)); PPORT=$((49600 + RANDOM % 400))
"$TMP/benchserver" -port "$GPORT" -ibx 1 -cages 2 -cabinets 2 -circuits 2 -assets 2 -tags 3 -history-hours "$HOURS" -max-seconds 900 > "$TMP/go.log" 2>&1 &
GPID=$!; PIDS+=("$GPID")
node peer-history.js --port "$PPORT" --hours "$HOURS" --max-seconds 900 > "$TMP/peer.log" 2>&1 &
PPID_=$!; PIDS+=("$PPID_")
wait_listening "$TMP/go.log" "$GPID"; wait_listening "$TMP/peer.log" "$PPID_"
GNODE=$(sed -n 's/.*history=\([^ ]*\).*/\1/p' "$TMP/go.log" | head -1)
PNODE=$(sed -n 's/.*history=\([^ ]*\).*/\1/p' "$TMP/peer.log" | head -1)

G=$(node history-bench.js --url "opc.tcp://127.0.0.1:$GPORT" --node "$GNODE" --hours "$HOURS" --runs "$RUNS" 2>/dev/null | grep "^{" | tail -1)
P=$(node history-bench.js --url "opc.tcp://127.0.0.1:$PPORT" --node "$PNODE" --hours "$HOURS" --runs "$RUNS" 2>/dev/null | grep "^{" | tail -1)
for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; PIDS=()

echo "HistoryRead raw, ${HOURS} h of one tag, $RUNS reads one after the other, node-opcua client, same host ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| server | values per read | p50 ms | p99 ms | max ms |"
echo "| --- | --- | --- | --- | --- |"
echo "| svgateway (bbolt, on disk) | $(echo "$G" | field values) | $(echo "$G" | field p50) | $(echo "$G" | field p99) | $(echo "$G" | field max) |"
echo "| node-opcua (in memory) | $(echo "$P" | field values) | $(echo "$P" | field p50) | $(echo "$P" | field p99) | $(echo "$P" | field max) |"
echo
node -e 'const [g,p]=process.argv.slice(1).map(JSON.parse);if(g.p50&&p.p50)console.log(`ratio svgateway/node-opcua: p50 ${(g.p50/p.p50).toFixed(2)}, p99 ${(g.p99/p.p99).toFixed(2)}`)' "$G" "$P" 2>/dev/null || echo "ratio: n/a ($G / $P)"
