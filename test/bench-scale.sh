#!/usr/bin/env bash
# test/bench-scale.sh: the scale curve of the whole gateway (issue 14), small → large → xlarge, in one run.
#
#   PROFILES="small large xlarge" CYCLES=2 VALUES_INTERVAL=30s HEAP=large OUT=/tmp/bench-scale test/bench-scale.sh
#
# Per profile: start `svgateway sandbox` (the simulated API) in its own process, so that the figures are
# the gateway's own; then start `svgateway` in live mode against it with SNMP, OPC UA and the status
# listener on loopback ([status] pprof = true), and measure
#   - cold start to ready: exec → /readyz 200 (the first full refresh: structure, readings, alarms);
#   - peak RSS: the gateway's VmHWM from start through readiness, the links pass, and a whole-MIB SNMP
#     walk and a whole-tree OPC UA crawl run together (the walk and the crawl start at the same moment);
#   - walk rate: snmpbulkwalk -v2c -Cr50 of the whole SVGATEWAY-MIB, varbinds/s. v2c with
#     [snmp] v2c_max_bulk_size raised to 65000 here (the default of 1472 octets, a security bound, caps
#     one GETBULK answer at a few dozen varbinds and would measure round trips, not the agent);
#   - crawl rate: test/opcua/crawl.js (node-opcua: Browse/BrowseNext of everything under SmartView, then
#     Read of Value and DataType of every variable), nodes/s of browse and variables/s of read. Over
#     Basic256Sha256 Sign: a gateway in live mode refuses SecurityPolicy None, so these rates are not
#     comparable with test/opcua/bench.sh's (None);
#   - values cycle: after the walk and the crawl, CYCLES values cycles ([sync] values_interval): the
#     gateway's CPU-seconds per cycle (utime+stime from /proc across whole cycles: a cycle boundary is
#     a change of svgateway_sync_cycles_total{kind="values"}), its wall time (svgateway_sync_duration_seconds)
#     and the API calls per cycle (svgateway_api_requests_total);
#   - steady RSS: VmRSS at the end of those cycles; goroutines at readiness (/debug/pprof/goroutine);
#   - for the profiles in HEAP: the heap profile at the end, after a GC (OUT/heap-PROFILE.pb.gz, for go tool
#     pprof; OUT/memstats-PROFILE.txt), printed by owner and kind (test/heap-by-structure.py).
# The gateway's client-side rate limit is off ([smartview] rate_limit = -1), as with the embedded sandbox:
# the live default (10 requests/s) would make the start and the links pass measure the limiter.
# Then it prints one markdown table, and the cost per 100,000 tags (peak RSS, steady RSS, CPU per cycle).
# Figures, not assertions. Every process started here is tracked by PID and stopped; every wait is
# bounded (MAX_READY seconds to ready, MAX_PASS seconds for the walk + crawl). Needs snmpbulkwalk (snmp),
# node and test/node_modules (node-opcua), curl.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILES=${PROFILES:-small large}; CYCLES=${CYCLES:-2}; VALUES_INTERVAL=${VALUES_INTERVAL:-30s}
HEAP=${HEAP:-large}; MAX_READY=${MAX_READY:-600}; MAX_PASS=${MAX_PASS:-1800}
OUT=${OUT:-$(mktemp -d /tmp/bench-scale.XXXXXX)}; mkdir -p "$OUT"
ROOT=1.3.6.1.4.1.32473
WORK=$(mktemp -d /tmp/bench-scale-work.XXXXXX)
SB=""; GW=""; WALK=""; CRAWL=""
cleanup() {
  for p in $WALK $CRAWL $GW $SB; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
go build -o "$WORK/svgateway" ./cmd/svgateway
for tool in snmpbulkwalk node curl; do command -v $tool >/dev/null || { echo "bench-scale: $tool is missing" >&2; exit 1; }; done
[ -d test/node_modules/node-opcua ] || { echo "bench-scale: test/node_modules (node-opcua) is missing" >&2; exit 1; }

HZ=$(getconf CLK_TCK)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_s() { awk -v hz="$HZ" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }
kb() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
metric() { # URL NAME [LABEL-FILTER]: the sum of a metric's series (whose labels match the filter)
  curl -s "$1/metrics" | awk -v n="$2" -v f="${3:-}" '$1 ~ "^"n"({|$)" && index($1, f) {s += $2} END {printf "%.6f\n", s + 0}'
}
now() { date +%s.%N; }

printf 'profile\ttags\tready_s\tgoroutines\tpeak_MB\tsteady_MB\twalk_vb\twalk_s\tcrawl_nodes\tbrowse_s\tcrawl_vars\tread_s\tcycle_cpu_s\tcycle_wall_s\tcalls_per_cycle\tsandbox_MB\tload\n' > "$OUT/results.tsv"
for profile in $PROFILES; do
  echo "== $profile" >&2
  SBPORT=$(port); STATUS=$(port); SNMPPORT=$(port); UAPORT=$(port)
  rm -rf "$WORK/state" "$WORK/sbstate" "$WORK/pki"
  cat > "$WORK/sandbox.toml" <<EOF
state_dir = "$WORK/sbstate"
[sandbox]
enabled = true
profile = "$profile"
listen = "127.0.0.1:$SBPORT"
EOF
  "$WORK/svgateway" -config "$WORK/sandbox.toml" sandbox >"$WORK/sandbox.out" 2>"$WORK/sandbox.log" &
  SB=$!
  for _ in $(seq $((MAX_READY * 5))); do
    curl -sf "http://127.0.0.1:$SBPORT/_sandbox/stats" >"$WORK/stats.json" 2>/dev/null && break
    kill -0 $SB 2>/dev/null || break; sleep 0.2
  done
  [ -s "$WORK/stats.json" ] || { echo "sandbox $profile did not start:" >&2; cat "$WORK/sandbox.log" >&2; exit 1; }
  tags=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["footprint"]["tags"])' "$WORK/stats.json")
  ibxs=$(sed -n 's/.*IBXs \[\(.*\)\],.*/\1/p' "$WORK/sandbox.out" | awk '{for (i = 1; i <= NF; i++) printf "%s\"%s\"", (i > 1 ? ", " : ""), $i}')

  cat > "$WORK/gateway.toml" <<EOF
state_dir = "$WORK/state"
log_level = "info"
[sandbox]
enabled = false
[smartview]
base_url = "http://127.0.0.1:$SBPORT"
client_id = "sandbox"
client_secret = "sandbox-secret"
account_no = "1"
ibxs = [$ibxs]
rate_limit = -1   # the sandbox has no rate limit; the live default (10/s) would measure the limiter
[sync]
values_interval = "$VALUES_INTERVAL"
stale_after = "10m"
[status]
listen = "127.0.0.1:$STATUS"
pprof = true
[snmp]
listen = "127.0.0.1:$SNMPPORT"
v2c_max_bulk_size = 65000
[[snmp.communities]]
name = "public"
sources = ["127.0.0.1/32"]
[opcua]
endpoint = "opc.tcp://127.0.0.1:$UAPORT"
security = ["Basic256Sha256:Sign"]
allow_anonymous = true
auto_accept_clients = true
EOF
  URL=http://127.0.0.1:$STATUS
  t0=$(now)
  "$WORK/svgateway" -config "$WORK/gateway.toml" >"$WORK/gateway.log" 2>&1 &
  GW=$!
  for _ in $(seq $((MAX_READY * 10))); do
    curl -sf "$URL/readyz" >/dev/null 2>&1 && break; kill -0 $GW 2>/dev/null || break; sleep 0.1
  done
  t1=$(now)
  curl -sf "$URL/readyz" >/dev/null || { echo "gateway $profile not ready:" >&2; tail -20 "$WORK/gateway.log" >&2; exit 1; }
  ready_s=$(echo "$t1 - $t0" | bc)
  goroutines=$(curl -s "$URL/debug/pprof/goroutine?debug=1" | sed -n '1s/.*total \([0-9]*\).*/\1/p')
  for _ in $(seq "$MAX_READY"); do grep -q "asset links read" "$WORK/gateway.log" && break; sleep 1; done

  # The walk and the crawl, together.
  ( s=$(now); n=$(MIBS= timeout "$MAX_PASS" snmpbulkwalk -v2c -c public -On -Oq -OU -Cr50 -t 10 -r 1 "127.0.0.1:$SNMPPORT" "$ROOT" 2>"$WORK/walk.err" | grep -cv 'No more variables left' || true)
    echo "$n $(echo "$(now) - $s" | bc)" > "$WORK/walk.res" ) &
  WALK=$!
  ( cd test/opcua && timeout "$MAX_PASS" node --max-old-space-size=8000 crawl.js --url "opc.tcp://127.0.0.1:$UAPORT" --pki "$WORK/pki" \
      --security Basic256Sha256:Sign --max-seconds $((MAX_PASS - 10)) 2>"$WORK/crawl.err" | tail -1 > "$WORK/crawl.res" ) &
  CRAWL=$!
  wait $WALK || true; WALK=""
  wait $CRAWL || true; CRAWL=""
  read -r walk_vb walk_s < "$WORK/walk.res"
  [ -s "$WORK/walk.err" ] && { echo "walk ($profile):" >&2; head -3 "$WORK/walk.err" >&2; }
  read -r crawl_nodes browse_s crawl_vars read_s < <(python3 -c '
import json, sys
try: s = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
except Exception: s = {}
print(s.get("nodes", 0), s.get("browse_s", 0), s.get("variables", 0), s.get("read_s", 0))' "$WORK/crawl.res")
  [ "$crawl_nodes" = 0 ] && { echo "crawl ($profile) failed:" >&2; tail -3 "$WORK/crawl.err" >&2; }
  peak=$(kb $GW VmHWM)

  # Values cycles: from one cycle boundary across CYCLES more.
  cyc() { metric "$URL" svgateway_sync_cycles_total 'kind="values"'; }
  wait_cycle() { local c; c=$(cyc); for _ in $(seq 1200); do [ "$(cyc)" != "$c" ] && return 0; sleep 0.5; done; echo "no values cycle in 10 min" >&2; return 1; }
  wait_cycle
  c0=$(cpu_s $GW); a0=$(metric "$URL" svgateway_api_requests_total); d0=$(metric "$URL" svgateway_sync_duration_seconds_sum 'kind="values"')
  for _ in $(seq "$CYCLES"); do wait_cycle; done
  c1=$(cpu_s $GW); a1=$(metric "$URL" svgateway_api_requests_total); d1=$(metric "$URL" svgateway_sync_duration_seconds_sum 'kind="values"')
  steady=$(kb $GW VmRSS)
  case " $HEAP " in *" $profile "*)
    curl -s "$URL/debug/pprof/heap?gc=1" -o "$OUT/heap-$profile.pb.gz"
    curl -s "$URL/debug/pprof/heap?debug=1" | sed -n '/^# runtime.MemStats/,$p' > "$OUT/memstats-$profile.txt";;
  esac
  sbrss=$(kb $SB VmHWM)
  kill $GW; wait $GW 2>/dev/null || true; GW=""
  kill $SB; wait $SB 2>/dev/null || true; SB=""
  cp "$WORK/gateway.log" "$OUT/gateway-$profile.log"
  printf '%s\t%d\t%.2f\t%s\t%.0f\t%.0f\t%d\t%.2f\t%d\t%.2f\t%d\t%.2f\t%.2f\t%.2f\t%.0f\t%.0f\t%s\n' "$profile" "$tags" "$ready_s" "${goroutines:-0}" \
    "$(echo "$peak / 1024" | bc -l)" "$(echo "$steady / 1024" | bc -l)" "$walk_vb" "$walk_s" "$crawl_nodes" "$browse_s" "$crawl_vars" "$read_s" \
    "$(echo "($c1 - $c0) / $CYCLES" | bc -l)" "$(echo "($d1 - $d0) / $CYCLES" | bc -l)" "$(echo "($a1 - $a0) / $CYCLES" | bc -l)" \
    "$(echo "$sbrss / 1024" | bc -l)" "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /)" >> "$OUT/results.tsv"
done

python3 - "$OUT/results.tsv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
f = lambda r, k: float(r[k])
rate = lambda n, s: f"{n / s:,.0f}" if s > 0 else "n/a"
print("| profile | tags | cold start to ready | goroutines at ready | peak RSS (walk + crawl) | steady RSS | "
      "walk: varbinds, s, varbinds/s | crawl: nodes, browse s, nodes/s | read: variables, s, variables/s | "
      "values cycle CPU-s | values cycle wall s | API calls per cycle | sandbox RSS (own process) | load 1/5/15 min |")
print("|---" * 14 + "|")
for r in rows:
    print(f"| {r['profile']} | {int(r['tags']):,} | {f(r, 'ready_s'):.1f} s | {r['goroutines']} | {f(r, 'peak_MB'):,.0f} MB | {f(r, 'steady_MB'):,.0f} MB | "
          f"{int(r['walk_vb']):,}, {f(r, 'walk_s'):.1f}, {rate(f(r, 'walk_vb'), f(r, 'walk_s'))} | "
          f"{int(r['crawl_nodes']):,}, {f(r, 'browse_s'):.1f}, {rate(f(r, 'crawl_nodes'), f(r, 'browse_s'))} | "
          f"{int(r['crawl_vars']):,}, {f(r, 'read_s'):.1f}, {rate(f(r, 'crawl_vars'), f(r, 'read_s'))} | "
          f"{f(r, 'cycle_cpu_s'):.2f} | {f(r, 'cycle_wall_s'):.2f} | {f(r, 'calls_per_cycle'):.0f} | {f(r, 'sandbox_MB'):,.0f} MB | {r['load']} |")
print()
print("Cost per 100,000 tags: average (the profile's figure / its tags), and marginal (the step from the previous")
print("profile: the difference of the figures / the difference of the tags; what growth costs, without the fixed base):")
print("| profile | peak RSS avg / marginal | steady RSS avg / marginal | values-cycle CPU-s avg / marginal | cold start s avg / marginal |")
print("|---|---|---|---|---|")
prev = None
for r in rows:
    k = 100000 / f(r, "tags")
    cells = []
    for key, fmt in (("peak_MB", "{:,.0f} MB"), ("steady_MB", "{:,.0f} MB"), ("cycle_cpu_s", "{:.2f}"), ("ready_s", "{:.1f} s")):
        m = "n/a"
        if prev is not None and f(r, "tags") > f(prev, "tags"):
            m = fmt.format((f(r, key) - f(prev, key)) * 100000 / (f(r, "tags") - f(prev, "tags")))
        cells.append(fmt.format(f(r, key) * k) + " / " + m)
    print(f"| {r['profile']} | " + " | ".join(cells) + " |")
    prev = r
PY
for profile in $HEAP; do
  [ -s "$OUT/heap-$profile.pb.gz" ] || continue
  echo; echo "Heap of the $profile profile at the end (after a GC), by structure:"; echo
  python3 test/heap-by-structure.py "$WORK/svgateway" "$OUT/heap-$profile.pb.gz" 20 | tail -n +3
  cp "$WORK/svgateway" "$OUT/svgateway"   # the binary the profiles symbolize against
done
echo "results: $OUT/results.tsv; heap profiles, memstats, gateway logs and the binary: $OUT" >&2
