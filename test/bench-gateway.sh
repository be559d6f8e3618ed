#!/usr/bin/env bash
# test/bench-gateway.sh: figures for the data path on the large sandbox profile, from the real binary.
#
#   test/bench-gateway.sh [RUNS=3]
#
# For each run: start `svgateway` on a fresh state_dir with the large sandbox profile, measure the time
# from start to /readyz, the API calls made by then (one full refresh: structure, readings, alarms), the
# calls and time of the links pass that follows (one affected-assets call per asset), the peak RSS
# (VmHWM) after the links, and the size and time of GET /api/model; then stop it. Prints one line per run
# and a median line. Everything on loopback; the process is stopped at the end of each run.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
WORK=$(mktemp -d /tmp/svgateway-bench.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$WORK"' EXIT
go build -o "$WORK/svgateway" ./cmd/svgateway

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
calls() { curl -s "$1/metrics" | awk '/^svgateway_api_requests_total/ {s+=$2} END {print s+0}'; }

printf 'run\tready_s\tcalls_at_ready\tlinks_calls\tlinks_s\tpeak_rss_MB\tapi_model_MB\tapi_model_s\n'
: > "$WORK/results.tsv"
for run in $(seq "$RUNS"); do
  STATUS=$(port)
  rm -rf "$WORK/state"
  cat > "$WORK/gateway.toml" <<EOF
state_dir = "$WORK/state"
[sandbox]
enabled = true
profile = "large"
[sync]
values_interval = "60s"
[status]
listen = "127.0.0.1:$STATUS"
EOF
  URL=http://127.0.0.1:$STATUS
  t0=$(date +%s.%N)
  "$WORK/svgateway" -config "$WORK/gateway.toml" >"$WORK/log" 2>&1 &
  PID=$!
  for _ in $(seq 1200); do curl -sf "$URL/readyz" >/dev/null && break; sleep 0.1; done   # bounded: 120 s
  t1=$(date +%s.%N)
  curl -sf "$URL/readyz" >/dev/null || { echo "not ready after 120 s" >&2; cat "$WORK/log" >&2; exit 1; }
  ready_calls=$(calls "$URL")
  for _ in $(seq 300); do grep -q "asset links read" "$WORK/log" && break; sleep 1; done  # bounded: 300 s
  links=$(grep -o 'asset links read.*' "$WORK/log" | head -1)
  links_calls=$(echo "$links" | sed -n 's/.*calls=\([0-9]*\).*/\1/p')
  links_s=$(echo "$links" | sed -n 's/.*duration=\([0-9.]*\)\(m\?s\).*/\1 \2/p' | awk '{ print ($2=="ms") ? $1/1000 : $1 }')
  rss=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' /proc/$PID/status)
  read -r size secs < <(curl -s -o /dev/null -w '%{size_download} %{time_total}\n' "$URL/api/model")
  kill $PID; wait $PID 2>/dev/null || true
  PID=
  printf '%d\t%.2f\t%d\t%s\t%s\t%s\t%.0f\t%.2f\n' "$run" "$(echo "$t1 - $t0" | bc)" "$ready_calls" "$links_calls" "$links_s" "$rss" "$(echo "$size / 1000000" | bc -l)" "$secs" | tee -a "$WORK/results.tsv"
done
python3 - "$WORK/results.tsv" <<'PY'
import statistics, sys
rows = [line.split('\t') for line in open(sys.argv[1]) if line.strip()]
print('median\t' + '\t'.join(f'{statistics.median(float(r[i]) for r in rows):g}' for i in range(1, 8)))
PY
