#!/usr/bin/env bash
# test/bench-brownout.sh: readiness under an upstream brownout, from the real binary (issue 9).
#
#   test/bench-brownout.sh [RUNS=10] [PROFILE=small]
#
# Each run starts `svgateway` on a fresh state_dir against its built-in sandbox with faults on from
# the first request: 20 % of requests answered 429 (Retry-After 1 s), 20 % answered 503, 50 ms of
# latency on every request, and access tokens that live 5 s. It prints the time from start to
# /readyz answering 200, and the API requests the sandbox received by then (token requests and
# failed attempts included: the load the gateway put on upstream), then stops the gateway. The goal:
# ready within 30 s in every run, with the request count bounded (no retry storm). A run that is
# not ready after 120 s is reported as such and the script exits 1 at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-10}
PROFILE=${2:-small}
WORK=$(mktemp -d /tmp/svgateway-brownout.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$WORK"' EXIT
go build -o "$WORK/svgateway" ./cmd/svgateway

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
requests() {  # API requests the sandbox answered (admin endpoints are not counted)
  curl -sf "$1/_sandbox/stats" | python3 -c 'import json,sys; print(sum(sum(v.values()) for v in json.load(sys.stdin)["requests"].values()))'
}

printf 'run\tready_s\trequests_at_ready\n'
: > "$WORK/results.tsv"
failed=0
for run in $(seq "$RUNS"); do
  STATUS=$(port)
  SANDBOX=$(port)
  rm -rf "$WORK/state"
  cat > "$WORK/gateway.toml" <<EOF
state_dir = "$WORK/state"
log_level = "warn"
[sandbox]
enabled = true
profile = "$PROFILE"
listen = "127.0.0.1:$SANDBOX"
[sandbox.faults]
rate_limit = 0.2
retry_after = "1s"
unavailable = 0.2
latency = "50ms"
token_ttl = "5s"
[status]
listen = "127.0.0.1:$STATUS"
EOF
  URL=http://127.0.0.1:$STATUS
  t0=$(date +%s.%N)
  "$WORK/svgateway" -config "$WORK/gateway.toml" >"$WORK/log.$run" 2>&1 &
  PID=$!
  ready=0
  for _ in $(seq 1200); do   # bounded: 120 s
    if curl -sf "$URL/readyz" >/dev/null 2>&1; then ready=1; break; fi
    sleep 0.1
  done
  t1=$(date +%s.%N)
  n=$(requests "http://127.0.0.1:$SANDBOX" || echo 0)
  kill $PID; wait $PID 2>/dev/null || true
  PID=
  if [ "$ready" = 1 ]; then
    printf '%d\t%.2f\t%d\n' "$run" "$(echo "$t1 - $t0" | bc)" "$n" | tee -a "$WORK/results.tsv"
  else
    failed=1
    printf '%d\tnot ready after 120 s\t%d\n' "$run" "$n"
    tail -5 "$WORK/log.$run" >&2
  fi
done
python3 - "$WORK/results.tsv" <<'PY'
import statistics, sys
rows = [line.split('\t') for line in open(sys.argv[1]) if line.strip()]
if rows:
    t = [float(r[1]) for r in rows]; n = [int(r[2]) for r in rows]
    print(f'median\t{statistics.median(t):.2f}\t{statistics.median(n):g}')
    print(f'max\t{max(t):.2f}\t{max(n)}')
    print(f'ready within 30 s: {sum(x <= 30 for x in t)} of {len(t)}')
PY
exit $failed
