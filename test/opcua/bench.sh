#!/usr/bin/env bash
# test/opcua/bench.sh: svgateway's OPC UA server side by side with a node-opcua server serving the same tree
# (peer-server.js instantiates nodeset/SmartView.NodeSet2.xml for the same synthetic footprint), measured with
# the same node-opcua clients (crawl.js, subscribe.js). Figures, not assertions; prints markdown tables.
#
#   RUNS=3 SUBRUNS=3 SUBSECS=20 ITEMS="1000 6000 10000" LARGE=1 test/opcua/bench.sh
#   RUNS=5 SUBRUNS=0 TREES=B LARGE=0 test/opcua/bench.sh        # the crawl of tree B only (issue 14's figures)
#
# Trees (synthetic footprints, model/modeltest Shape.Assorted):
#   A      1 IBX, 10 cages x 10 cabinets x 4 circuits, 200 assets x 10 tags   (~23k nodes)
#   B      2 IBX, 20 cages x 10 cabinets x 4 circuits, 200 assets x 10 tags   (~72k nodes; the peer bench's footprint)
#   LARGE  20 IBX, 100 cages x 10 cabinets x 4 circuits, 500 assets x 10 tags (the sandbox's large profile: 2,000 cages,
#          20,000 cabinets, 80,000 circuits, 10,000 assets, 100,000 tags; ~2.5M nodes; svgateway only)
# Crawl: browse everything under SmartView (100 nodes per Browse, 100 references per node, BrowseNext), then Read Value
# and DataType of every variable in chunks of the server's MaxNodesPerRead. Subscriptions: tree B with every reading
# updated each second (± 50 %), one subscription, N monitored items on changing readings, publishing interval 100 ms,
# sampling 0, queue 1; latency = client receive time - SourceTimestamp (same host). RSS: the server's VmHWM (peak).
# CPU s per crawl: the server's utime+stime from /proc over one crawl (browse and read), median of RUNS. The ratios
# are node-opcua's figure over svgateway's (above 1: svgateway is faster / cheaper). SUBRUNS=0 skips the subscriptions.
# Every server is started here, tracked by PID, bounded by --max-seconds, and stopped by PID.
set -u
cd "$(dirname "$0")"
RUNS=${RUNS:-3}; SUBRUNS=${SUBRUNS:-3}; SUBSECS=${SUBSECS:-20}; ITEMS=${ITEMS:-1000 6000 10000}; LARGE=${LARGE:-1}
TREES=${TREES:-A B}
TMP=$(mktemp -d /tmp/svgateway-opcua-bench.XXXXXX); LOG=$TMP/bench.log
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$TMP/pki" "$TMP/benchserver"' EXIT
go build -o "$TMP/benchserver" ./benchserver || exit 1
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

A="ibx 1 cages 10 cabinets 10 circuits 4 assets 200 tags 10"
B="ibx 2 cages 20 cabinets 10 circuits 4 assets 200 tags 10"
L="ibx 20 cages 100 cabinets 10 circuits 4 assets 500 tags 10"

flags() { # kind "k v ..." -> flags in that server's style
  local dash=--; [ "$1" = go ] && dash=-
  set -- $2; local out=""; while [ $# -gt 1 ]; do out="$out $dash$1 $2"; shift 2; done; echo "$out"
}
start() { # kind port shape tick_ms -> SPID, URL, START
  local kind=$1 port=$2 shape=$3 tick=$4 log=$TMP/server-$1-$2.log
  : > "$log"
  if [ "$kind" = go ]; then
    "$TMP/benchserver" -port "$port" $(flags go "$shape") -tick "${tick}ms" -max-seconds 1800 > "$log" 2>&1 &
    START="ns=2;s=SmartView"
  else
    node --max-old-space-size=8000 peer-server.js --port "$port" $(flags node "$shape") --tick "$tick" --max-seconds 1800 > "$log" 2>&1 &
    START="ns=3;s=SmartView"
  fi
  SPID=$!; PIDS+=("$SPID")
  for _ in $(seq 1 600); do grep -q listening "$log" && break; kill -0 "$SPID" 2>/dev/null || break; sleep 0.5; done
  grep -q listening "$log" || { echo "server $kind did not start, see $log"; exit 1; }
  URL=opc.tcp://127.0.0.1:$port
}
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
hwm_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
field() { node -e 'const l=require("fs").readFileSync(0,"utf8").trim().split("\n").pop();try{const v=JSON.parse(l)[process.argv[1]];console.log(v===undefined?"n/a":v)}catch{console.log("n/a")}' "$1"; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else print a[int((NR+1)/2)]}'; }

declare -A R
crawl() { # kind tree shape
  local kind=$1 tree=$2 port=$((48800 + RANDOM % 1000)) b="" r="" c="" last="" c0 c1
  start "$kind" $port "$3" 0
  for i in $(seq 1 "$RUNS"); do
    c0=$(cpu_ticks $SPID)
    last=$(timeout 1500 node --max-old-space-size=8000 crawl.js --url "$URL" --start "$START" --pki "$TMP/pki" --max-seconds 1400 2>/dev/null | tail -1)
    c1=$(cpu_ticks $SPID)
    echo "crawl $kind $tree run$i: $last cpu_ticks=$((c1 - c0)) load=$(cut -d' ' -f1 /proc/loadavg)" >> "$LOG"
    b="$b$(echo "$last" | field browse_s)"$'\n'; r="$r$(echo "$last" | field read_s)"$'\n'
    c="$c$(echo "$c0 $c1 $(getconf CLK_TCK)" | awk '{printf "%.2f", ($2-$1)/$3}')"$'\n'
  done
  R[$kind,$tree,cpu]=$(echo -n "$c" | median)
  R[$kind,$tree,nodes]=$(echo "$last" | field nodes); R[$kind,$tree,vars]=$(echo "$last" | field variables)
  R[$kind,$tree,bad]=$(( $(echo "$last" | field badBrowse) + $(echo "$last" | field badValues) ))
  R[$kind,$tree,browse]=$(echo -n "$b" | median); R[$kind,$tree,read]=$(echo -n "$r" | median)
  R[$kind,$tree,rss]=$(hwm_mb $SPID)
  stop $SPID
}
subscribe() { # kind tree shape runs
  local kind=$1 tree=$2 port=$((48800 + RANDOM % 1000))
  start "$kind" $port "$3" 1000
  for n in $ITEMS; do
    local lines=""
    for i in $(seq 1 "$4"); do
      c0=$(cpu_ticks $SPID); t0=$(date +%s.%N)
      l=$(timeout $((SUBSECS + 600)) node --max-old-space-size=8000 subscribe.js --url "$URL" --start "$START" --pki "$TMP/pki" \
        --items "$n" --seconds "$SUBSECS" --interval 100 --max-seconds $((SUBSECS + 550)) 2>/dev/null | tail -1)
      c1=$(cpu_ticks $SPID); t1=$(date +%s.%N)
      cpu=$(echo "$c0 $c1 $t0 $t1 $(getconf CLK_TCK)" | awk '{printf "%.0f", 100*($2-$1)/$5/($4-$3)}')
      echo "subscribe $kind $tree items=$n run$i: $l cpu=$cpu" >> "$LOG"
      lines="$lines$l"$'\n'; R[$kind,$tree,$n,cpu]="${R[$kind,$tree,$n,cpu]:-} $cpu"
    done
    for f in created_ok rate_per_s lat_p50_ms lat_p99_ms lat_max_ms; do
      R[$kind,$tree,$n,$f]=$(echo -n "$lines" | while read -r x; do echo "$x" | field $f; done | median)
    done
    R[$kind,$tree,$n,cpu]=$(echo ${R[$kind,$tree,$n,cpu]} | tr ' ' '\n' | median)
  done
  R[$kind,$tree,subrss]=$(hwm_mb $SPID)
  stop $SPID
}

for kind in go node; do
  for tree in $TREES; do
    case $tree in A) crawl $kind A "$A" ;; B) crawl $kind B "$B" ;; esac
  done
  [ "$SUBRUNS" -gt 0 ] && subscribe $kind B "$B" "$SUBRUNS"
done
if [ "$LARGE" = 1 ]; then
  RUNS=1 crawl go LARGE "$L"
  ITEMS=1000 subscribe go LARGE "$L" 1
fi

name() { [ "$1" = go ] && echo "svgateway" || echo "node-opcua peer"; }
echo "| server | tree | nodes | variables | not Good | browse s | read s | server CPU s per crawl | server peak RSS MB |"
echo "|---|---|---|---|---|---|---|---|---|"
for key in "go A" "node A" "go B" "node B" "go LARGE"; do
  set -- $key; [ -n "${R[$1,$2,nodes]:-}" ] || continue
  echo "| $(name $1) | $2 | ${R[$1,$2,nodes]} | ${R[$1,$2,vars]} | ${R[$1,$2,bad]} | ${R[$1,$2,browse]} | ${R[$1,$2,read]} | ${R[$1,$2,cpu]} | ${R[$1,$2,rss]} |"
done
echo
ratio() { awk -v n="$1" -v g="$2" 'BEGIN { if (n + 0 > 0 && g + 0 > 0) printf "%.2f", n / g; else print "n/a" }'; }
echo "| tree | browse node-opcua / svgateway | read node-opcua / svgateway | CPU per crawl node-opcua / svgateway | load at start, end |"
echo "|---|---|---|---|---|"
for tree in A B; do
  [ -n "${R[go,$tree,nodes]:-}" ] && [ -n "${R[node,$tree,nodes]:-}" ] || continue
  echo "| $tree | $(ratio "${R[node,$tree,browse]}" "${R[go,$tree,browse]}")× | $(ratio "${R[node,$tree,read]}" "${R[go,$tree,read]}")× | $(ratio "${R[node,$tree,cpu]}" "${R[go,$tree,cpu]}")× | $LOAD0, $(cut -d' ' -f1-3 /proc/loadavg) |"
done
echo
[ "$SUBRUNS" -gt 0 ] && echo "| server | tree | items | created | updates/s | latency p50 ms | p99 ms | max ms | server CPU % | server peak RSS MB |" &&
  echo "|---|---|---|---|---|---|---|---|---|---|"
for key in "go B" "node B" "go LARGE"; do
  set -- $key
  for n in $(echo $ITEMS 1000 | tr ' ' '\n' | sort -un); do
    [ -n "${R[$1,$2,$n,created_ok]:-}" ] || continue
    echo "| $(name $1) | $2 | $n | ${R[$1,$2,$n,created_ok]} | ${R[$1,$2,$n,rate_per_s]} | ${R[$1,$2,$n,lat_p50_ms]} | ${R[$1,$2,$n,lat_p99_ms]} | ${R[$1,$2,$n,lat_max_ms]} | ${R[$1,$2,$n,cpu]} | ${R[$1,$2,subrss]} |"
  done
done
echo "(medians of $RUNS crawls / $SUBRUNS subscription runs of ${SUBSECS}s; raw lines in $LOG;"
echo " load average at the start: $LOAD0, at the end: $(cut -d' ' -f1-3 /proc/loadavg), on $(nproc) CPUs)"
