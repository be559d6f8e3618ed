#!/usr/bin/env bash
# test/bench-crashloop.sh: alarm notifications across crashes, from the real binary to a real snmptrapd.
#
#   test/bench-crashloop.sh [CRASHES=30]
#
# A standalone sandbox (`svgateway sandbox`, the simulated API, which outlives every gateway) raises,
# acknowledges and clears alarms: the script steps its simulation every 0.2 s. A gateway in live mode
# against it (poll mode, values every second) sends every notification to a v2c trap and a v2c inform
# target at one snmptrapd. The gateway is killed with SIGKILL at a random moment 0.3-6 s after each
# start (before it is ready, mid-poll, mid-send, mid-save), CRASHES times, on the same state_dir. Then
# the simulation is stopped, a last gateway runs until its queues are drained and is stopped cleanly.
#
# The truth is the sandbox's alarm list (status and ack of every alarm it ever raised) read through the
# REST API, matched to the gateway's alarm ids by key. Per target it prints:
#   lost        transitions the API proves (raise; ack when ack is true; clear when status is false)
#               that never reached snmptrapd; alarms cleared before the gateway's first poll are
#               recorded without notification by design and not counted;
#   duplicated  notifications received again without a transition in between (a raise after a raise
#               with no clear, an ack after an ack, a clear after a clear): at-least-once delivery;
#   reused_ids  alarm ids received for two different alarms (tag, condition, trigger time).
# lost and reused_ids must be 0. Everything on loopback; every process is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
CRASHES=${1:-30}
WORK=$(mktemp -d /tmp/svgateway-crashloop.XXXXXX)
GW= SB= TRAPD= STEPPER=
cleanup() {
  for p in $GW $STEPPER $SB $TRAPD; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
go build -o "$WORK/svgateway" ./cmd/svgateway
command -v snmptrapd >/dev/null || { echo "snmptrapd not installed (Debian package snmptrapd)" >&2; exit 1; }

port() { python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1]=="udp" else socket.SOCK_STREAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"; }
SBPORT=$(port tcp) STATUS=$(port tcp) TRAPPORT=$(port udp)
SBURL=http://127.0.0.1:$SBPORT URL=http://127.0.0.1:$STATUS

# snmptrapd: numeric OIDs, one line per notification.
mkdir -p "$WORK/trapd"
printf 'snmpTrapdAddr udp:127.0.0.1:%s\nauthCommunity log public\n' "$TRAPPORT" > "$WORK/trapd/snmptrapd.conf"
MIBS= SNMP_PERSISTENT_DIR="$WORK/trapd" snmptrapd -f -C -c "$WORK/trapd/snmptrapd.conf" -n -On -Lf "$WORK/traps.log" \
  -F 'NOTIF\t%P\t%V\t%v\n' >/dev/null 2>&1 &
TRAPD=$!

# The sandbox: its own clock, stepped by this script only.
cat > "$WORK/sandbox.toml" <<EOF
state_dir = "$WORK/sandbox-state"
[sandbox]
enabled = true
listen = "127.0.0.1:$SBPORT"
tick = "1h"
EOF
"$WORK/svgateway" -config "$WORK/sandbox.toml" sandbox >"$WORK/sandbox.log" 2>&1 &
SB=$!
for _ in $(seq 100); do curl -sf "$SBURL/_sandbox/stats" >/dev/null && break; sleep 0.1; done   # bounded: 10 s
( while true; do curl -sf -X POST "$SBURL/_sandbox/step?n=1" >/dev/null || true; sleep 0.2; done ) &
STEPPER=$!

cat > "$WORK/gateway.toml" <<EOF
state_dir = "$WORK/state"
[sandbox]
enabled = false
[smartview]
base_url = "$SBURL"
client_id = "sandbox"
client_secret = "sandbox-secret"
account_no = "1"
ibxs = ["CH1", "SV4", "CH3", "DC5"]
[sync]
values_interval = "1s"
stale_after = "10s"
[status]
listen = "127.0.0.1:$STATUS"
[opcua]
endpoint = "off"
[snmp]
listen = "off"
[[snmp.targets]]
address = "127.0.0.1:$TRAPPORT"
version = "v2c"
community = "public"
kind = "trap"
[[snmp.targets]]
address = "127.0.0.1:$TRAPPORT"
version = "v2c"
community = "public"
kind = "inform"
timeout = "1s"
EOF
start() { "$WORK/svgateway" -config "$WORK/gateway.toml" >>"$WORK/gateway.log" 2>&1 & GW=$!; }

t0=$(date +%s)
for i in $(seq "$CRASHES"); do
  start
  sleep "$(python3 -c 'import random; print(round(random.uniform(0.3, 6), 2))')"
  kill -9 "$GW"; wait "$GW" 2>/dev/null || true
  GW=
done
kill "$STEPPER"; wait "$STEPPER" 2>/dev/null || true
STEPPER=
start
for _ in $(seq 600); do curl -sf "$URL/readyz" >/dev/null && break; sleep 0.1; done   # bounded: 60 s
curl -sf "$URL/readyz" >/dev/null || { echo "final gateway not ready" >&2; tail -50 "$WORK/gateway.log" >&2; exit 1; }
sleep 5   # several polls of the frozen upstream
for _ in $(seq 120); do   # bounded: 60 s
  depth=$(curl -s "$URL/metrics" | awk '/^svgateway_snmp_notification_queue_depth/ {s+=$2} END {print s+0}')
  [ "$depth" = 0 ] && break; sleep 0.5
done
curl -sf "$URL/api/model" > "$WORK/model.json"
kill "$GW"; wait "$GW" 2>/dev/null || true
GW=
elapsed=$(( $(date +%s) - t0 ))

# The truth: the sandbox's alarm list, read as a client would.
TOKEN=$(curl -sf -H 'Content-Type: application/json' -d '{"grant_type":"client_credentials","client_id":"sandbox","client_secret":"sandbox-secret"}' \
  "$SBURL/oauth2/v1/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
curl -sf -H "Authorization: Bearer $TOKEN" "$SBURL/alarms/v1/smartview/alarms?accountNo=1" > "$WORK/upstream.json"
sleep 1; kill "$TRAPD"; wait "$TRAPD" 2>/dev/null || true
TRAPD=

python3 - "$WORK" "$CRASHES" "$elapsed" <<'PY'
import collections, json, sys
work, crashes, elapsed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ROOT = '.1.3.6.1.4.1.32473'
KIND = {ROOT + '.0.1': 'raised', ROOT + '.0.2': 'acknowledged', ROOT + '.0.3': 'cleared'}
COL = {'2': 'id', '12': 'tag', '13': 'condition', '19': 'triggered', '42': 'inferred'}
TARGETS = {'TRAP2': 'trap', 'INFORM': 'inform'}

received = collections.defaultdict(list)   # (target, id) -> [kind, ...] in arrival order
identity = collections.defaultdict(set)    # id -> {(tag, condition, triggered)}
inferred = total = 0
for line in open(f'{work}/traps.log', errors='replace'):
    if not line.startswith('NOTIF\t'):
        continue
    _, pdu, rest = line.rstrip('\n').split('\t', 2)
    vbs = {}
    for vb in rest.split('\t'):
        name, _, value = vb.partition(' = ')
        vbs[name] = value
    kind = KIND.get(vbs.get('.1.3.6.1.6.3.1.1.4.1.0', '').removeprefix('OID: '))
    if not kind:
        continue
    total += 1
    f = {}
    for name, value in vbs.items():
        if name.startswith(ROOT + '.1.12.1.'):
            col = name[len(ROOT + '.1.12.1.'):].split('.')[0]
            if col in COL:
                f[COL[col]] = value.split(': ', 1)[-1]
    target = TARGETS[pdu.split(',')[0]]
    received[(target, f['id'])].append(kind)
    identity[f['id']].add((f.get('tag'), f.get('condition'), f.get('triggered')))
    inferred += f.get('inferred') in ('1', 'true(1)')   # TruthValue, printed numerically without the MIB

model = {a['key']: a for a in json.load(open(f'{work}/model.json'))['alarms']}
upstream = json.load(open(f'{work}/upstream.json'))['alarms']
lost, missing = collections.Counter(), []
for u in upstream:
    key = '|'.join([u['ibx'], u['assetId'], u['tagId'], u['conditionName'], str(u['timeTrigerred'])])
    a = model.get(key)
    if a is None:
        missing.append(key)
        continue
    if a['seq'] == 0:
        continue   # cleared before the gateway's first poll: recorded, never notified, by design
    want = ['raised'] + (['acknowledged'] if u['ack'] else []) + ([] if u['status'] else ['cleared'])
    for target in TARGETS.values():
        got = received.get((target, str(a['id'])), [])
        for k in want:
            if k not in got:
                lost[target] += 1
                print(f'lost: {target} {k} of alarm {a["id"]} ({key}); received {got}', file=sys.stderr)

dup = collections.Counter()
resets = {'raised': 'cleared', 'acknowledged': 'raised', 'cleared': 'raised'}
for (target, _), kinds in received.items():
    last = {}
    for i, k in enumerate(kinds):
        if k in last and resets[k] not in kinds[last[k] + 1:i]:
            dup[target] += 1
        last[k] = i
reused = sum(1 for ids in identity.values() if len(ids) > 1)
for id_, ids in identity.items():
    if len(ids) > 1:
        print(f'reused: id {id_} names {sorted(ids)}', file=sys.stderr)

print(f'crashes\t{crashes}\nelapsed_s\t{elapsed}\nupstream_alarms\t{len(upstream)}\ngateway_alarms\t{len(model)}')
print(f'alarm_notifications_received\t{total}\ninferred_received\t{inferred}\nalarms_missing_from_model\t{len(missing)}')
for target in TARGETS.values():
    print(f'{target}\tlost={lost[target]}\tduplicated={dup[target]}')
print(f'reused_ids\t{reused}')
ok = sum(lost.values()) == 0 and reused == 0 and not missing
print('result\t' + ('PASS: nothing lost, no id reused' if ok else 'FAIL'))
sys.exit(0 if ok else 1)
PY
