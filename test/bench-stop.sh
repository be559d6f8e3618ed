#!/usr/bin/env bash
# How long the gateway takes to stop on SIGTERM while it records history, against `svgateway sandbox` in
# its own process (test/sandbox-gateway.sh). For each delay of AFTER (seconds after /readyz answers 200:
# 0 stops in the middle of recording the first full footprint, later ones during values cycles and the
# size cap's prune), one run: start, wait, SIGTERM, time to exit. Then the history file is opened again
# (a second start must pass /readyz) to show it is usable, and stopped at once (over the size cap, it
# prunes from its start: that stop lands in a prune); the alarm ledger must exist. Prints a table of
# figures; timings are not asserted.
#
#   PROFILE=large AFTER="0 20 60" HISTORY_MAX=64MiB BIN=/path/to/svgateway test/bench-stop.sh
#
# PROFILE (default large), AFTER (default "0 30"), HISTORY_MAX (the [history] max_size; a small one makes
# the size cap's prune run every minute; default the shipped 1GiB), VALUES_INTERVAL (default 30s), BIN (a
# gateway binary to measure instead of building this tree's: a before/after pair), MAX_READY (default
# 600 s) and MAX_STOP (default 300 s: then the gateway is killed and the run says so). One large process
# at a time: the large profile costs ~1.5 GB, xlarge several.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${PROFILE:-large}; AFTER=${AFTER:-0 30}; HISTORY_MAX=${HISTORY_MAX:-1GiB}
VALUES_INTERVAL=${VALUES_INTERVAL:-30s}; MAX_READY=${MAX_READY:-600}; MAX_STOP=${MAX_STOP:-300}
WORK=$(mktemp -d /tmp/bench-stop-work.XXXXXX)
SB=""; GW=""
cleanup() {
  for p in $GW $SB; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
if [ -n "${BIN:-}" ]; then cp "$BIN" "$WORK/svgateway"; else go build -o "$WORK/svgateway" ./cmd/svgateway; fi
. test/sandbox-gateway.sh   # start_sandbox, write_gateway_toml, port
now() { date +%s.%N; }

# ready waits for /readyz; it prints the seconds it took, or fails.
ready() {
  local t0; t0=$(now)
  for _ in $(seq $((MAX_READY * 10))); do
    curl -sf "http://127.0.0.1:$STATUS/readyz" >/dev/null 2>&1 && break; kill -0 $GW 2>/dev/null || break; sleep 0.1
  done
  curl -sf "http://127.0.0.1:$STATUS/readyz" >/dev/null || { echo "gateway not ready:" >&2; tail -20 "$WORK/gateway.log" >&2; return 1; }
  printf '%.1f\n' "$(echo "$(now) - $t0" | bc)"
}

start_sandbox "$WORK/svgateway" "$PROFILE" "$MAX_READY"
printf '| profile | history max_size | SIGTERM after ready | stop s | killed | history.db MB | restart: ready s | restart: stop s at ready | ledger | load 1 min |\n|---|---|---|---|---|---|---|---|---|---|\n'
for after in $AFTER; do
  STATUS=$(port); SNMPPORT=$(port); UAPORT=$(port)
  rm -rf "$WORK/state"
  write_gateway_toml "" "[history]
max_size = \"$HISTORY_MAX\""
  "$WORK/svgateway" -config "$WORK/gateway.toml" >"$WORK/gateway.log" 2>&1 &
  GW=$!
  ready >/dev/null
  sleep "$after"
  t0=$(now); kill -TERM $GW
  killed=no
  for _ in $(seq $((MAX_STOP * 10))); do kill -0 $GW 2>/dev/null || break; sleep 0.1; done
  if kill -0 $GW 2>/dev/null; then kill -KILL $GW; killed=yes; fi
  wait $GW 2>/dev/null || true; GW=""
  stop_s=$(echo "$(now) - $t0" | bc)
  db_mb=$(du -m "$WORK/state/history.db" | cut -f1)
  ledger=$([ -s "$WORK/state/alarms.json" ] && echo saved || echo missing)
  # the history file opens again: a second start gets ready
  "$WORK/svgateway" -config "$WORK/gateway.toml" >"$WORK/gateway2.log" 2>&1 &
  GW=$!
  again=$(ready || echo failed)
  # ... and stops: a file over the size cap is pruned from the start, so this stop lands in a prune
  t0=$(now); kill -TERM $GW
  for _ in $(seq $((MAX_STOP * 10))); do kill -0 $GW 2>/dev/null || break; sleep 0.1; done
  kill -0 $GW 2>/dev/null && { kill -KILL $GW; killed="$killed, restart killed"; }
  wait $GW 2>/dev/null || true; GW=""
  stop2_s=$(echo "$(now) - $t0" | bc)
  printf '| %s | %s | %s s | %.1f | %s | %s | %s | %.1f | %s | %s |\n' "$PROFILE" "$HISTORY_MAX" "$after" "$stop_s" "$killed" "$db_mb" "$again" "$stop2_s" "$ledger" "$(cut -d' ' -f1 /proc/loadavg)"
  for l in gateway gateway2; do
    echo "-- $l.log (after $after s)" >&2; grep -E "still stopping|stopped" "$WORK/$l.log" | tail -8 >&2 || true
  done
done
