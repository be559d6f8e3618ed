#!/usr/bin/env bash
# test/bench-agentx.sh: walk figures for svgateway on the large profile, standalone and as an AgentX subagent of
# net-snmp's snmpd, beside snmpd's native tables and net-snmp's own subagent through the same master, in one run
# (the peer setup follows bench-peers.sh of the project's shared SNMP recipes, carried here so the project needs
# nothing outside it).
#
#   test/bench-agentx.sh [RESULTS.tsv]
#
# Starts: one snmpd as AgentX master (private config, unix socket, IF-MIB's ifTable/ifXTable left to a subagent;
# natively it serves a 50,000-row nsExtendOutLine table); net-snmp's `snmpd -X` serving ifTable for IFACES bridges
# in a private network namespace as its subagent, and a plain snmpd serving the same ifTable natively there (NETNS=0
# or no `ip netns`: both skipped); the svgateway binary on the sandbox's large profile, registered with the master and
# also serving standalone. Then walks every target RUNS times round-robin with snmpbulkwalk -Cr$REPS and prints,
# per target: varbinds, median seconds, median and min-max varbinds/s, and CPU seconds (user+sys from /proc) per
# 100k varbinds of the serving processes, master and subagent together and the subagent alone. "warm" targets get
# an untimed walk before each timed one (net-snmp's caches expire after seconds). Everything on 127.0.0.1; every
# process is stopped by PID at exit, the namespace deleted. ~15 min. env: RUNS=3 REPS=50 IFACES=5000 NETNS=1.
set -uo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}; REPS=${REPS:-50}; IFACES=${IFACES:-5000}
WORK=$(mktemp -d /tmp/bench-agentx.XXXXXX); OUT=${1:-$WORK/results.tsv}
PIDS=(); NS=""
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for _ in $(seq 60); do alive=0; for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break; sleep 0.5; done
  [ -n "$NS" ] && ip netns del "$NS"
  echo "stopped: ${PIDS[*]}${NS:+; netns $NS deleted}" >&2
}
trap cleanup EXIT
port() { python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1]=="udp" else socket.SOCK_STREAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"; }

# start_snmpd DIR UDP_PORT [ARGS...]: snmpd with a private config as AgentX master on DIR/agentx.sock.
start_snmpd() {
  local dir=$1 udp=$2; shift 2
  mkdir -p "$dir/persist"
  cat > "$dir/snmpd.conf" <<CONF
agentAddress udp:127.0.0.1:$udp
rocommunity public 127.0.0.1
master agentx
agentXSocket $dir/agentx.sock
agentXPerms 0660 0750
agentXTimeout 5
dontLogTCPWrappersConnects yes
CONF
  [ -n "${EXTRA_CONF:-}" ] && cat "$EXTRA_CONF" >> "$dir/snmpd.conf"
  SNMP_PERSISTENT_DIR=$dir/persist MIBS= /usr/sbin/snmpd -f -C -c "$dir/snmpd.conf" -Lf "$dir/snmpd.log" "$@" </dev/null >/dev/null 2>&1 &
  SNMPD_PID=$!
  for _ in $(seq 600); do   # bounded: 60 s
    MIBS= snmpget -v2c -c public -t 1 -r 0 "127.0.0.1:$udp" .1.3.6.1.2.1.1.5.0 >/dev/null 2>&1 && [ -S "$dir/agentx.sock" ] && return 0
    kill -0 $SNMPD_PID 2>/dev/null || break; sleep 0.1
  done
  echo "snmpd did not start:" >&2; cat "$dir/snmpd.log" >&2; exit 1
}

# 1. the master, leaving IF-MIB's tables to a subagent; it also serves a native 50,000-row table
#    (nsExtendOutLine: 20 extends x 2,500 lines, each output well under 64 KB)
MPORT=$(port udp)
seq -f 'line%05.0f-abcdefg' 1 2500 > "$WORK/lines.txt"
for i in $(seq -w 0 19); do echo "extend t$i /bin/cat $WORK/lines.txt"; done > "$WORK/extend.conf"
EXTRA_CONF=$WORK/extend.conf start_snmpd "$WORK/master" "$MPORT" -I -ifTable,ifXTable
MASTER=$SNMPD_PID; PIDS+=("$MASTER"); SOCK=$WORK/master/agentx.sock
TARGETS=("snmpd native: nsExtendOutLine 50,000 rows|$MASTER|$MASTER|127.0.0.1:$MPORT|.1.3.6.1.4.1.8072.1.3.2.4.1.2|warm|")

# 2. net-snmp's own subagent: snmpd -X serving ifTable for IFACES bridges of a private namespace
if [ "${NETNS:-1}" = 1 ] && ip netns add "axbench$$" 2>/dev/null; then
  NS=axbench$$
  ip -n "$NS" link set lo up
  for i in $(seq 1 "$IFACES"); do echo "link add br$i type bridge"; done | ip -n "$NS" -batch - || exit 1
  mkdir -p "$WORK/sub"; echo "agentXSocket $SOCK" > "$WORK/sub/sub.conf"
  ip netns exec "$NS" env SNMP_PERSISTENT_DIR="$WORK/sub" MIBS= /usr/sbin/snmpd -f -C -c "$WORK/sub/sub.conf" \
    -X -I ifTable,ifXTable -Lf "$WORK/sub/sub.log" </dev/null >/dev/null 2>&1 &
  SUB=$!; PIDS+=("$SUB")
  for _ in $(seq 180); do   # bounded: 180 s
    MIBS= snmpget -v2c -c public -On -Oqv -t 2 -r 0 "127.0.0.1:$MPORT" ".1.3.6.1.2.1.2.2.1.1.$IFACES" 2>/dev/null \
      | grep -qx "$IFACES" && break; sleep 1; done
  TARGETS+=("net-snmp snmpd -X subagent: ifTable $IFACES x 22 via the master|$MASTER $SUB|$SUB|127.0.0.1:$MPORT|.1.3.6.1.2.1.2.2|warm|")
  # the same ifTable served natively by a plain snmpd in the namespace (walked from inside it)
  mkdir -p "$WORK/native"
  printf 'agentAddress udp:127.0.0.1:11161\nrocommunity public 127.0.0.1\ndontLogTCPWrappersConnects yes\n' > "$WORK/native/snmpd.conf"
  ip netns exec "$NS" env SNMP_PERSISTENT_DIR="$WORK/native" MIBS= /usr/sbin/snmpd -f -C -c "$WORK/native/snmpd.conf" \
    -Lf "$WORK/native/snmpd.log" </dev/null >/dev/null 2>&1 &
  NATIVE=$!; PIDS+=("$NATIVE")
  for _ in $(seq 180); do   # bounded: 180 s
    ip netns exec "$NS" env MIBS= snmpget -v2c -c public -On -Oqv -t 2 -r 0 127.0.0.1:11161 ".1.3.6.1.2.1.2.2.1.1.$IFACES" 2>/dev/null \
      | grep -qx "$IFACES" && break; sleep 1; done
  TARGETS+=("snmpd native: ifTable $IFACES x 22|$NATIVE|$NATIVE|127.0.0.1:11161|.1.3.6.1.2.1.2.2|warm,netns|")
else
  echo "netns unavailable or NETNS=0: net-snmp's subagent skipped" >&2
fi

# 3. svgateway on the large profile: subagent of the master, and standalone
go build -o "$WORK/svgateway" ./cmd/svgateway || exit 1
APORT=$(port udp); STATUS=$(port tcp)
cat > "$WORK/gateway.toml" <<EOF
state_dir = "$WORK/state"
log_level = "info"
[sandbox]
enabled = true
profile = "large"
tick = "1h"
[sync]
structure_interval = "1h"
values_interval = "1h"
stale_after = "2h"
[status]
listen = "127.0.0.1:$STATUS"
[snmp]
listen = "127.0.0.1:$APORT"
[[snmp.communities]]
name = "public"
sources = ["127.0.0.1/32"]
[snmp.agentx]
enabled = true
socket = "unix:$SOCK"
EOF
"$WORK/svgateway" -config "$WORK/gateway.toml" >"$WORK/gateway.log" 2>&1 &
GW=$!; PIDS+=("$GW")
for _ in $(seq 1200); do curl -sf "http://127.0.0.1:$STATUS/readyz" >/dev/null && break; sleep 0.1; done   # bounded: 120 s
registered() { [[ $(curl -s "http://127.0.0.1:$STATUS/metrics") == *$'\nsvgateway_snmp_agentx_connected 1'* ]]; }
for _ in $(seq 300); do   # the asset links pass follows readiness; bounded: 300 s
  registered && grep -q "asset links read" "$WORK/gateway.log" && break; sleep 1; done
sleep 5
registered || { echo "subagent not registered" >&2; cat "$WORK/gateway.log" >&2; exit 1; }
ROOT=.1.3.6.1.4.1.32473
# svgateway keeps no caches to warm. Its whole MIB on the large profile is ~4.9 million varbinds: a walk through
# the master takes minutes.
TARGETS+=(
  "svgateway via AgentX (snmpd master), whole MIB, v2c|$MASTER $GW|$GW|127.0.0.1:$MPORT|$ROOT||"
  "svgateway standalone, whole MIB, v2c (same process)|$GW|$GW|127.0.0.1:$APORT|$ROOT||"
)

# walk TARGET OID [args]: prints "varbinds seconds"; exit 1 on any client error. In the namespace when INNS is set.
walk() {
  local target=$1 oid=$2; shift 2
  local t0 t1 n rc in=()
  [ -n "${INNS:-}" ] && in=(ip netns exec "$NS")
  t0=$(date +%s.%N)
  n=$("${in[@]}" env MIBS= snmpbulkwalk -v2c -c public -On -Oq -OU -Cr"$REPS" -t 10 -r 1 "$@" "$target" "$oid" 2>"$WORK/walk.err" \
        | grep '^\.[0-9]' | grep -Evc 'No more variables left in this MIB View|No Such (Object|Instance)')
  rc=${PIPESTATUS[0]}; t1=$(date +%s.%N)
  if [ -s "$WORK/walk.err" ] || [ "$rc" -ne 0 ]; then echo "snmpbulkwalk rc=$rc:" >&2; head -5 "$WORK/walk.err" >&2; return 1; fi
  awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%d %.3f\n", n, b - a }'
}
cpu_ticks() { local t=0 p; for p in $1; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo $t; }
HZ=$(getconf CLK_TCK)
printf 'label\trun\tvarbinds\tseconds\trate\tcpu_s\tsub_cpu_s\n' > "$OUT"
for run in $(seq 1 "$RUNS"); do
  for t in "${TARGETS[@]}"; do
    IFS='|' read -r label pids sub target oid flags extra <<< "$t"
    INNS=""; [[ $flags == *netns* ]] && INNS=1
    # shellcheck disable=SC2086
    [[ $flags == *warm* ]] && { walk "$target" "$oid" $extra >/dev/null || exit 1; }
    c0=$(cpu_ticks "$pids"); s0=$(cpu_ticks "$sub")
    # shellcheck disable=SC2086
    read -r n secs < <(walk "$target" "$oid" $extra) || exit 1
    c1=$(cpu_ticks "$pids"); s1=$(cpu_ticks "$sub")
    printf '%s\t%d\t%s\t%s\t%.0f\t%.2f\t%.2f\n' "$label" "$run" "$n" "$secs" "$(awk -v n="$n" -v s="$secs" 'BEGIN{print n/s}')" \
      "$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" 'BEGIN{print (b-a)/hz}')" "$(awk -v a="$s0" -v b="$s1" -v hz="$HZ" 'BEGIN{print (b-a)/hz}')" >> "$OUT"
    echo "run $run: $label: $n varbinds in $secs s" >&2
  done
done

# summary: median (min-max) per label, in first-seen order
awk -F'\t' 'NR > 1 { if (!(($1) in n)) order[++k] = $1; i = ++n[$1]; vb[$1] = $3; s[$1, i] = $4; r[$1, i] = $5; c[$1, i] = $6; sc[$1, i] = $7 }
function med(a, l, m,   i, j, t, v) { for (i = 1; i <= m; i++) v[i] = a[l, i] + 0
  for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
  lo = v[1]; hi = v[m]; return (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2 }
END { printf "| target | varbinds | walk s (median) | varbinds/s median | min-max | CPU s/100k vb, serving processes | of which the subagent |\n|---|---|---|---|---|---|---|\n"
  for (q = 1; q <= k; q++) { l = order[q]; m = n[l]
    ms = med(s, l, m); mr = med(r, l, m); rlo = lo; rhi = hi; mc = med(c, l, m); msc = med(sc, l, m)
    printf "| %s | %d | %.2f | %.0f | %.0f-%.0f | %.2f | %.2f |\n", l, vb[l], ms, mr, rlo, rhi, (vb[l] ? mc * 100000 / vb[l] : 0), (vb[l] ? msc * 100000 / vb[l] : 0) } }' "$OUT"
echo "raw results: $OUT" >&2
