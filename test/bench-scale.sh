#!/usr/bin/env bash
# test/bench-scale.sh: the scale curve of the whole gateway (issue 14), small → large → xlarge, in one run.
#
#   PROFILES="small large xlarge" SOAK=10m VALUES_INTERVAL=30s HEAP=large OUT=/tmp/bench-scale test/bench-scale.sh
#
# With no variables set it produces the issue's whole table: small, large and xlarge, a 10-minute soak each.
#
# Per profile: start `svgateway sandbox` (the simulated API) in its own process, so that the figures are
# the gateway's own; then start `svgateway` in live mode against it with SNMP, OPC UA and the status
# listener on loopback ([status] pprof = true), and measure
#   - cold start to ready: exec → /readyz 200 (the first full refresh: structure, readings, alarms);
#   - peak RSS: the gateway's VmHWM from start through readiness, the links pass, and a whole-MIB SNMP
#     walk and a whole-tree OPC UA crawl run together (the walk and the crawl start at the same moment);
#     VmHWM counts file-backed pages too (the history database is mmapped by bbolt), so RssAnon and
#     RssFile are also sampled every second from start to stop and printed in a table of their own
#     (the samples: OUT/mem-PROFILE.txt);
#   - walk rate: snmpbulkwalk -v2c -Cr50 of the whole SVGATEWAY-MIB, varbinds/s. v2c with
#     [snmp] v2c_max_bulk_size raised to 65000 here (the default of 1472 octets, a security bound, caps
#     one GETBULK answer at a few dozen varbinds and would measure round trips, not the agent);
#   - crawl rate: test/opcua/crawl.js (node-opcua: Browse/BrowseNext of everything under SmartView, then
#     Read of Value and DataType of every variable), nodes/s of browse and variables/s of read. Over
#     Basic256Sha256 Sign: a gateway in live mode refuses SecurityPolicy None, so these rates are not
#     comparable with test/opcua/bench.sh's (None). The browse stops once CRAWL_MAX_NODES nodes are known
#     (default 4,000,000: the whole tree of large, ~3.1 M nodes; a bounded part of xlarge's ~15 M, which
#     would take most of an hour) and the variables found so far are read: the rates stay rates, and the
#     table says "bounded" where the bound was hit;
#   - the soak: after the walk and the crawl, SOAK (default 10m; s or m suffix) of values cycles every
#     VALUES_INTERVAL (default 30s), at least MIN_CYCLES (default 2) whole cycles. VmRSS is sampled every
#     SAMPLE seconds (default 5) from the first cycle boundary on; steady RSS is their maximum and median
#     (OUT/soak-PROFILE.txt keeps each sample with its anonymous and file-backed parts);
#     Per cycle: the gateway's CPU-seconds (utime+stime from /proc between the first and the last cycle
#     boundary seen, divided by the cycles: a boundary is a change of svgateway_sync_cycles_total{kind="values"}),
#     the garbage collections (go_gc_duration_seconds_count; the runtime's own GC CPU figure is an estimate
#     from wall time that a loaded machine inflates, so the count is reported instead), the wall
#     time (svgateway_sync_duration_seconds) and the API calls (svgateway_api_requests_total; those of the
#     history backfill, the *_trending endpoints, are counted apart: they are paced by time, not by the cycle);
#   - GET /api/model after the soak: its size, time, and the growth of the gateway's VmRSS while serving it
#     (sampled every 0.1 s; the answer streams, so it should not grow with the profile);
#   - goroutines at readiness (/debug/pprof/goroutine); the runtime's memory limit and GC percent in force
#     (go_gc_gomemlimit_bytes, go_gc_gogc_percent: the gateway's [runtime] defaults, or GW_ENV);
#   - for the profiles in HEAP: the heap profile at the end, after a GC (OUT/heap-PROFILE.pb.gz, for go tool
#     pprof; OUT/memstats-PROFILE.txt), printed by owner and kind (test/heap-by-structure.py).
# The gateway's client-side rate limit is off ([smartview] rate_limit = -1), as with the embedded sandbox:
# the live default (10 requests/s) would make the start and the links pass measure the limiter.
# BIN is a gateway binary to measure instead of building this tree's (a before/after pair).
# APPEND=1 adds the rows to OUT/results.tsv of an earlier run (a profile measured again) and prints the
# table of them all.
# GW_ENV (e.g. "GOGC=50 GOMEMLIMIT=450MiB") is the gateway process's extra environment, to compare runtime
# settings; GW_TOML is TOML added at the end of the gateway's configuration (e.g. $'[history.backfill]\nenabled = false':
# the values cycle without the start's backfill, which fills 7 days of history for hours after a first
# start); PASS=0 skips the walk and the crawl (peak RSS is then through readiness and the links pass).
# Then it prints one markdown table, and the cost per 100,000 tags, average and marginal (peak RSS, steady
# RSS, values-cycle CPU, cold start), computed here.
# Figures, not assertions. Every process started here is tracked by PID and stopped; every wait is
# bounded (MAX_READY seconds to ready, MAX_PASS seconds for the walk + crawl). Needs snmpbulkwalk (snmp),
# node and test/node_modules (node-opcua), curl.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILES=${PROFILES:-small large xlarge}; SOAK=${SOAK:-10m}; MIN_CYCLES=${MIN_CYCLES:-2}; SAMPLE=${SAMPLE:-5}
VALUES_INTERVAL=${VALUES_INTERVAL:-30s}; HEAP=${HEAP:-large}; MAX_READY=${MAX_READY:-600}; MAX_PASS=${MAX_PASS:-1800}
CRAWL_MAX_NODES=${CRAWL_MAX_NODES:-4000000}; GW_ENV=${GW_ENV:-}; GW_TOML=${GW_TOML:-}; PASS=${PASS:-1}
case $SOAK in *m) SOAK_S=$((${SOAK%m} * 60));; *s) SOAK_S=${SOAK%s};; *) SOAK_S=$SOAK;; esac
OUT=${OUT:-$(mktemp -d /tmp/bench-scale.XXXXXX)}; mkdir -p "$OUT"
ROOT=1.3.6.1.4.1.32473
WORK=$(mktemp -d /tmp/bench-scale-work.XXXXXX)
SB=""; GW=""; WALK=""; CRAWL=""; MODEL=""; MEMS=""
cleanup() {
  for p in $MEMS $MODEL $WALK $CRAWL $GW $SB; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
if [ -n "${BIN:-}" ]; then cp "$BIN" "$WORK/svgateway"; else go build -o "$WORK/svgateway" ./cmd/svgateway; fi
for tool in snmpbulkwalk node curl; do command -v $tool >/dev/null || { echo "bench-scale: $tool is missing" >&2; exit 1; }; done
[ -d test/node_modules/node-opcua ] || { echo "bench-scale: test/node_modules (node-opcua) is missing" >&2; exit 1; }

HZ=$(getconf CLK_TCK)
. test/sandbox-gateway.sh   # start_sandbox, write_gateway_toml, port
cpu_s() { awk -v hz="$HZ" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }
kb() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
metric() { # URL|FILE NAME [LABEL-FILTER]: the sum of a metric's series (whose labels match the filter)
  { if [ -f "$1" ]; then cat "$1"; else curl -s "$1/metrics"; fi; } | awk -v n="$2" -v f="${3:-}" '$1 ~ "^"n"({|$)" && index($1, f) {s += $2} END {printf "%.6f\n", s + 0}'
}
now() { date +%s.%N; }

[ "${APPEND:-0}" = 1 ] && [ -s "$OUT/results.tsv" ] || printf 'profile\ttags\tready_s\tgoroutines\tpeak_MB\tsteady_max_MB\tsteady_median_MB\tsoak_s\tcycles\twalk_vb\twalk_s\tcrawl_nodes\tbrowse_s\tcrawl_vars\tread_s\tcrawl_bounded\tcycle_cpu_s\tcycle_gcs\tcycle_wall_s\tcalls_per_cycle\tbackfill_calls_per_cycle\tmemlimit_MB\tgogc\tmodel_MB\tmodel_s\tmodel_rss_MB\tsandbox_MB\tload\n' > "$OUT/results.tsv"
for profile in $PROFILES; do
  echo "== $profile" >&2
  STATUS=$(port); SNMPPORT=$(port); UAPORT=$(port)
  rm -rf "$WORK/state" "$WORK/pki"
  start_sandbox "$WORK/svgateway" "$profile" "$MAX_READY"
  tags=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["footprint"]["tags"])' "$WORK/stats.json")

  write_gateway_toml "v2c_max_bulk_size = 65000  # the 1472-octet default would measure round trips" "$GW_TOML"
  URL=http://127.0.0.1:$STATUS
  t0=$(now)
  # shellcheck disable=SC2086 # GW_ENV is a list of NAME=value words
  env $GW_ENV "$WORK/svgateway" -config "$WORK/gateway.toml" >"$WORK/gateway.log" 2>&1 &
  GW=$!
  # RSS by kind, every second from start to stop: anonymous (the Go heap, stacks) and file-backed (the
  # pages of the history database's mmap the gateway touched: the kernel's cache, reclaimable, which
  # VmHWM counts as well).
  ( while kill -0 $GW 2>/dev/null; do echo "$(kb $GW RssAnon) $(kb $GW RssFile)"; sleep 1; done > "$WORK/mem.samples" 2>/dev/null ) &
  MEMS=$!
  for _ in $(seq $((MAX_READY * 10))); do
    curl -sf "$URL/readyz" >/dev/null 2>&1 && break; kill -0 $GW 2>/dev/null || break; sleep 0.1
  done
  t1=$(now)
  curl -sf "$URL/readyz" >/dev/null || { echo "gateway $profile not ready:" >&2; tail -20 "$WORK/gateway.log" >&2; exit 1; }
  ready_s=$(echo "$t1 - $t0" | bc)
  goroutines=$(curl -s "$URL/debug/pprof/goroutine?debug=1" | sed -n '1s/.*total \([0-9]*\).*/\1/p')
  for _ in $(seq "$MAX_READY"); do grep -q "asset links read" "$WORK/gateway.log" && break; sleep 1; done

  # The walk and the crawl, together.
  echo "0 0" > "$WORK/walk.res"; : > "$WORK/crawl.res"; : > "$WORK/walk.err"; : > "$WORK/crawl.err"
  if [ "$PASS" != 0 ]; then
  ( s=$(now); n=$(MIBS= timeout "$MAX_PASS" snmpbulkwalk -v2c -c public -On -Oq -OU -Cr50 -t 10 -r 1 "127.0.0.1:$SNMPPORT" "$ROOT" 2>"$WORK/walk.err" | grep -cv 'No more variables left' || true)
    echo "$n $(echo "$(now) - $s" | bc)" > "$WORK/walk.res" ) &
  WALK=$!
  # node-opcua asks for answers of at most 800,000 bytes (hard-coded in its CreateSession): a Browse of 100
  # nodes × 100 references of the xlarge tree's longer names is 818,118 bytes, so xlarge browses 50 at a time.
  batch=100; [ "$profile" = xlarge ] && batch=50
  ( cd test/opcua && timeout "$MAX_PASS" node --max-old-space-size=8000 crawl.js --url "opc.tcp://127.0.0.1:$UAPORT" --pki "$WORK/pki" \
      --security Basic256Sha256:Sign --max-seconds $((MAX_PASS - 10)) --max-nodes "$CRAWL_MAX_NODES" --browse-batch "$batch" 2>"$WORK/crawl.err" | tail -1 > "$WORK/crawl.res" ) &
  CRAWL=$!
  wait $WALK || true; WALK=""
  wait $CRAWL || true; CRAWL=""
  fi
  read -r walk_vb walk_s < "$WORK/walk.res"
  [ -s "$WORK/walk.err" ] && { echo "walk ($profile):" >&2; head -3 "$WORK/walk.err" >&2; }
  read -r crawl_nodes browse_s crawl_vars read_s crawl_bounded < <(python3 -c '
import json, sys
try: s = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
except Exception: s = {}
print(s.get("nodes", 0), s.get("browse_s", 0), s.get("variables", 0), s.get("read_s", 0), int(bool(s.get("bounded"))))' "$WORK/crawl.res")
  [ "$PASS" != 0 ] && [ "$crawl_nodes" = 0 ] && { echo "crawl ($profile) failed:" >&2; tail -n 3 "$WORK/crawl.err" "$WORK/crawl.res" >&2 || true; }
  peak=$(kb $GW VmHWM)

  # The soak: from one values-cycle boundary on, SOAK seconds and at least MIN_CYCLES whole cycles; VmRSS
  # sampled every SAMPLE seconds; the counters read at each boundary.
  # One scrape per sample (the gateway's CPU includes serving it): $WORK/metrics.
  scrape() { curl -s "$URL/metrics" -o "$WORK/metrics"; }
  cyc() { metric "$WORK/metrics" svgateway_sync_cycles_total 'kind="values"'; }
  counters() { echo "$(cpu_s $GW) $(metric "$WORK/metrics" go_gc_duration_seconds_count) $(metric "$WORK/metrics" svgateway_api_requests_total) $(metric "$WORK/metrics" svgateway_sync_duration_seconds_sum 'kind="values"') $(metric "$WORK/metrics" svgateway_api_requests_total '_trending"')"; }
  scrape; c=$(cyc); for _ in $(seq 1200); do scrape; [ "$(cyc)" != "$c" ] && break; sleep 0.5; done
  [ "$(cyc)" != "$c" ] || { echo "no values cycle in 10 min ($profile)" >&2; exit 1; }
  read -r c0 g0 a0 d0 t0 < <(counters); c1=$c0; g1=$g0; a1=$a0; d1=$d0; t1=$t0
  cycles=0; last=$(cyc); s0=$(now); : > "$WORK/rss.samples"
  while :; do
    echo "$(kb $GW VmRSS) $(kb $GW RssAnon) $(kb $GW RssFile)" >> "$WORK/rss.samples"
    el=$(echo "$(now) - $s0" | bc)
    scrape; cur=$(cyc)
    if [ "$cur" != "$last" ]; then
      read -r c1 g1 a1 d1 t1 < <(counters); cycles=$((cycles + 1)); last=$cur
    fi
    [ "$(echo "$el >= $SOAK_S" | bc)" = 1 ] && [ "$cycles" -ge "$MIN_CYCLES" ] && break
    [ "$(echo "$el >= $SOAK_S + 1200" | bc)" = 1 ] && { echo "the soak of $profile saw $cycles cycles in $el s" >&2; break; }
    sleep "$SAMPLE"
  done
  [ "$cycles" -gt 0 ] || cycles=1
  read -r steady_max steady_med < <(sort -n "$WORK/rss.samples" | awk '{v[NR] = $1} END {print v[NR], v[int((NR + 1) / 2)]}')
  memlimit=$(metric "$WORK/metrics" go_gc_gomemlimit_bytes); gogc=$(metric "$WORK/metrics" go_gc_gogc_percent)

  # GET /api/model, whole: its size, and the gateway's RSS while serving it (VmRSS sampled every 0.1 s)
  # over VmRSS before: the answer streams, so this should not grow with the profile.
  rss0=$(kb $GW VmRSS); rssmax=$rss0
  curl -s "$URL/api/model" -o /dev/null -w '%{size_download} %{time_total}\n' > "$WORK/model.res" &
  MODEL=$!
  while kill -0 $MODEL 2>/dev/null; do r=$(kb $GW VmRSS); [ "$r" -gt "$rssmax" ] && rssmax=$r; sleep 0.1; done
  wait $MODEL || true; MODEL=""
  read -r model_bytes model_s < "$WORK/model.res"
  case " $HEAP " in *" $profile "*)
    curl -s "$URL/debug/pprof/heap?gc=1" -o "$OUT/heap-$profile.pb.gz"
    curl -s "$URL/debug/pprof/heap?debug=1" | sed -n '/^# runtime.MemStats/,$p' > "$OUT/memstats-$profile.txt";;
  esac
  sbrss=$(kb $SB VmHWM)
  kill $GW; wait $GW 2>/dev/null || true; GW=""
  wait $MEMS 2>/dev/null || true; MEMS=""
  read -r anon_max anon_med < <(awk 'NF == 2 {print $1}' "$WORK/mem.samples" | sort -n | awk '{v[NR] = $1} END {print v[NR] + 0, v[int((NR + 1) / 2)] + 0}')
  file_max=$(awk 'NF == 2 && $2 > m {m = $2} END {print m + 0}' "$WORK/mem.samples")
  printf '%s\t%.0f\t%.0f\t%.0f\n' "$profile" "$(echo "$anon_max / 1024" | bc -l)" "$(echo "$anon_med / 1024" | bc -l)" "$(echo "$file_max / 1024" | bc -l)" >> "$OUT/memsplit.tsv"
  kill $SB; wait $SB 2>/dev/null || true; SB=""
  cp "$WORK/gateway.log" "$OUT/gateway-$profile.log"
  { echo "# VmRSS RssAnon RssFile (kB), every $SAMPLE s of the soak"; cat "$WORK/rss.samples"; } > "$OUT/soak-$profile.txt"
  { echo "# RssAnon RssFile (kB), every second from start to stop"; cat "$WORK/mem.samples"; } > "$OUT/mem-$profile.txt"
  printf '%s\t%d\t%.2f\t%s\t%.0f\t%.0f\t%.0f\t%.0f\t%d\t%d\t%.2f\t%d\t%.2f\t%d\t%.2f\t%d\t%.2f\t%.2f\t%.2f\t%.0f\t%.0f\t%.0f\t%.0f\t%.1f\t%.2f\t%.1f\t%.0f\t%s\n' \
    "$profile" "$tags" "$ready_s" "${goroutines:-0}" "$(echo "$peak / 1024" | bc -l)" \
    "$(echo "$steady_max / 1024" | bc -l)" "$(echo "$steady_med / 1024" | bc -l)" "$(echo "$(now) - $s0" | bc)" "$cycles" \
    "$walk_vb" "$walk_s" "$crawl_nodes" "$browse_s" "$crawl_vars" "$read_s" "$crawl_bounded" \
    "$(echo "($c1 - $c0) / $cycles" | bc -l)" "$(echo "($g1 - $g0) / $cycles" | bc -l)" "$(echo "($d1 - $d0) / $cycles" | bc -l)" \
    "$(echo "($a1 - $a0 - ($t1 - $t0)) / $cycles" | bc -l)" "$(echo "($t1 - $t0) / $cycles" | bc -l)" "$(echo "$memlimit / 1048576" | bc -l)" "$gogc" \
    "$(echo "$model_bytes / 1000000" | bc -l)" "$model_s" "$(echo "($rssmax - $rss0) / 1024" | bc -l)" \
    "$(echo "$sbrss / 1024" | bc -l)" "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /)" >> "$OUT/results.tsv"
done

[ -z "$GW_TOML" ] || printf 'Gateway configuration added: %s\n' "$(echo "$GW_TOML" | paste -sd' ')"
python3 - "$OUT/results.tsv" "$GW_ENV" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
f = lambda r, k: float(r[k])
rate = lambda n, s: f"{n / s:,.0f}" if s > 0 else "n/a"
def runtime(r):
    lim = f(r, "memlimit_MB")
    return ("no limit" if lim > 1e9 else f"limit {lim:,.0f} MiB") + f", GOGC {f(r, 'gogc'):.0f}"
print(f"Gateway environment: {sys.argv[2] or '(none: the [runtime] defaults)'}")
print()
print("| profile | tags | cold start to ready | goroutines at ready | peak RSS (start → walk + crawl) | steady RSS max / median (soak) | "
      "walk: varbinds, s, varbinds/s | crawl browse: nodes, s, nodes/s | crawl read: variables, s, variables/s | "
      "values cycle CPU-s (GCs per cycle) | values cycle wall s | API calls per refresh (+ history backfill's) | runtime | /api/model: MB, s, RSS growth serving it | sandbox RSS (own process) | load 1/5/15 min |")
print("|---" * 16 + "|")
for r in rows:
    walk = "not run" if f(r, "walk_s") == 0 else f"{int(r['walk_vb']):,}, {f(r, 'walk_s'):.1f}, {rate(f(r, 'walk_vb'), f(r, 'walk_s'))}"
    crawl = "not run" if f(r, "browse_s") == 0 else (f"{int(r['crawl_nodes']):,}, {f(r, 'browse_s'):.1f}, {rate(f(r, 'crawl_nodes'), f(r, 'browse_s'))}"
                                                     + (" (bounded)" if r["crawl_bounded"] == "1" else ""))
    read = "not run" if f(r, "read_s") == 0 else f"{int(r['crawl_vars']):,}, {f(r, 'read_s'):.1f}, {rate(f(r, 'crawl_vars'), f(r, 'read_s'))}"
    print(f"| {r['profile']} | {int(r['tags']):,} | {f(r, 'ready_s'):.1f} s | {r['goroutines']} | {f(r, 'peak_MB'):,.0f} MB | "
          f"{f(r, 'steady_max_MB'):,.0f} / {f(r, 'steady_median_MB'):,.0f} MB ({f(r, 'soak_s') / 60:.1f} min, {r['cycles']} cycles) | "
          f"{walk} | {crawl} | {read} | {f(r, 'cycle_cpu_s'):.2f} ({f(r, 'cycle_gcs'):.1f}) | {f(r, 'cycle_wall_s'):.2f} | "
          f"{f(r, 'calls_per_cycle'):.0f} (+{f(r, 'backfill_calls_per_cycle'):.0f}) | {runtime(r)} | {f(r, 'model_MB'):,.1f}, {f(r, 'model_s'):.1f}, {f(r, 'model_rss_MB'):+.1f} MB | "
          f"{f(r, 'sandbox_MB'):,.0f} MB | {r['load']} |")
print()
print("Cost per 100,000 tags: average (the profile's figure / its tags), and marginal (the step from the previous")
print("profile: the difference of the figures / the difference of the tags; what growth costs, without the fixed base):")
print()
print("| profile | peak RSS avg / marginal | steady RSS (max) avg / marginal | values-cycle CPU-s avg / marginal | cold start s avg / marginal |")
print("|---|---|---|---|---|")
prev = None
for r in rows:
    k = 100000 / f(r, "tags")
    if f(r, "tags") < 10000:  # the fixed base dominates: a per-tag figure would say nothing
        print(f"| {r['profile']} | (fixed base: {f(r, 'peak_MB'):,.0f} MB peak, {f(r, 'cycle_cpu_s'):.2f} CPU-s a cycle for {int(r['tags']):,} tags) | | | |")
        prev = r
        continue
    cells = []
    for key, fmt in (("peak_MB", "{:,.0f} MB"), ("steady_max_MB", "{:,.0f} MB"), ("cycle_cpu_s", "{:.2f}"), ("ready_s", "{:.1f} s")):
        m = "n/a"
        if prev is not None and f(r, "tags") > f(prev, "tags"):
            m = fmt.format((f(r, key) - f(prev, key)) * 100000 / (f(r, "tags") - f(prev, "tags")))
        cells.append(fmt.format(f(r, key) * k) + " / " + m)
    print(f"| {r['profile']} | " + " | ".join(cells) + " |")
    prev = r
PY
if [ -s "$OUT/memsplit.tsv" ]; then
  echo; echo "RSS by kind, sampled every second from start to stop (VmHWM above counts both):"; echo
  echo "| profile | anonymous (Go heap, stacks): max / median | file-backed (history database pages mapped): max |"
  echo "|---|---|---|"
  awk -F'\t' '{printf "| %s | %s / %s MB | %s MB |\n", $1, $2, $3, $4}' "$OUT/memsplit.tsv"
fi
for profile in $HEAP; do
  [ -s "$OUT/heap-$profile.pb.gz" ] || continue
  echo; echo "Heap of the $profile profile at the end (after a GC), by structure:"; echo
  python3 test/heap-by-structure.py "$WORK/svgateway" "$OUT/heap-$profile.pb.gz" 20 | tail -n +3
  cp "$WORK/svgateway" "$OUT/svgateway"   # the binary the profiles symbolize against
done
echo "results: $OUT/results.tsv; heap profiles, memstats, gateway logs and the binary: $OUT" >&2
