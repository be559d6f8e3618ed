# test/sandbox-gateway.sh: sourced by the scripts that measure the gateway in live mode against
# `svgateway sandbox` in its own process (bench-scale.sh, bench-values-cycle.sh), so that both start
# the simulated API and configure the gateway the same way. The caller runs from the repository's root
# and sets WORK (a scratch directory).

# port prints a free loopback TCP port.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_sandbox BIN PROFILE MAX_WAIT: start the simulated API of PROFILE on a free port (SB: its PID,
# SBPORT), wait at most MAX_WAIT seconds for it (its stats in $WORK/stats.json), and set IBXS to its
# IBX codes as the items of a TOML list.
start_sandbox() {
  SBPORT=$(port)
  rm -rf "$WORK/sbstate"
  cat > "$WORK/sandbox.toml" <<EOF
state_dir = "$WORK/sbstate"
[sandbox]
enabled = true
profile = "$2"
listen = "127.0.0.1:$SBPORT"
EOF
  "$1" -config "$WORK/sandbox.toml" sandbox >"$WORK/sandbox.out" 2>"$WORK/sandbox.log" &
  SB=$!
  : > "$WORK/stats.json"
  for _ in $(seq $(($3 * 5))); do
    curl -sf "http://127.0.0.1:$SBPORT/_sandbox/stats" >"$WORK/stats.json" 2>/dev/null && break
    kill -0 $SB 2>/dev/null || break; sleep 0.2
  done
  IBXS=$(sed -n 's/.*IBXs \[\(.*\)\],.*/\1/p' "$WORK/sandbox.out" | awk '{for (i = 1; i <= NF; i++) printf "%s\"%s\"", (i > 1 ? ", " : ""), $i}')
  [ -s "$WORK/stats.json" ] && [ -n "$IBXS" ] || { echo "sandbox $2 did not start:" >&2; cat "$WORK/sandbox.log" >&2; exit 1; }
}

# write_gateway_toml SNMP_EXTRA TABLES_EXTRA: $WORK/gateway.toml for the gateway in live mode against
# the sandbox (no client-side rate limit: the sandbox has none, and the live default of 10/s would
# measure the limiter), values every VALUES_INTERVAL, with the status listener (pprof), SNMP and OPC UA
# on loopback (STATUS, SNMPPORT, UAPORT). SNMP_EXTRA is added to [snmp], TABLES_EXTRA after the rest.
write_gateway_toml() {
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
ibxs = [$IBXS]
rate_limit = -1
[sync]
values_interval = "$VALUES_INTERVAL"
stale_after = "10m"
[status]
listen = "127.0.0.1:$STATUS"
pprof = true
[snmp]
listen = "127.0.0.1:$SNMPPORT"
$1
[[snmp.communities]]
name = "public"
sources = ["127.0.0.1/32"]
[opcua]
endpoint = "opc.tcp://127.0.0.1:$UAPORT"
security = ["Basic256Sha256:Sign"]
allow_anonymous = true
auto_accept_clients = true
$2
EOF
}
