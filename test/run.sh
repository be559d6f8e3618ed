#!/usr/bin/env bash
# test/run.sh: install everything the tests need on a fresh Debian 12 machine, then run every test.
#
#   test/run.sh            install + vet + gofmt check + all Go tests (unit and end-to-end, with -race),
#                          then every benchmark once (-benchtime=1x)
#   test/run.sh -short     the same without the slow end-to-end tests (for a quick local loop)
#
# What it installs (idempotent; skipped when already present):
#   - Debian packages: snmp snmpd snmptrapd smitools libxml2-utils, snmptt (classifies the gateway's
#     traps with mibs/snmptt.conf) and prometheus-snmp-exporter (its generator and exporter run
#     mibs/snmp_exporter/generator.yml)
#   - kcat (librdkafka: produces the records of the oracle feed tests to the kfake broker they start)
#   - mosquitto (the MQTT broker, TLS with client certificates, of the v2 aws_iot_core feed tests)
#     and curl (posts the v2 webhook deliveries over TLS)
#   - etcd-server (the gateway-pair tests start a three-member etcd cluster on loopback)
#   - for the operations tests: chromium (renders the status page), prometheus (promtool checks the
#     alert rules), lintian (checks the .deb), systemd (systemd-analyze verifies the unit), bsdutils
#     (script: a pseudo-terminal), curl (the status listener over TLS with basic auth; the sandbox's curl examples)
#   - the IETF base MIBs (SNMPv2-SMI, -TC, -CONF, SNMPv2-MIB, ...): Debian's snmp packages ship none;
#     Debian main's erlang-snmp .deb carries them as text. Unpacked (not installed) into test/.cache.
#   - npm ci in test/: node-opcua (OPC UA client), local-aws-sqs (SQS server), rhea (AMQP 1.0)
# The Google Pub/Sub emulator (google-cloud-cli-pubsub-emulator, with a Java runtime) is not in
# Debian's archive but in Google's apt repository; when it is missing this script installs it from
# there if that repository is configured, and otherwise stops, printing the commands that add it.
#
# End-to-end tests live in test/ and start the real components on loopback themselves. They run
# only with SVGATEWAY_E2E=1 (set here); with it set, a missing tool fails the test instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CACHE=$ROOT/test/.cache
SHORT=""
[ "${1:-}" = "-short" ] && SHORT="-short"

log() { printf '\n=== %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- Debian packages -------------------------------------------------------------------------------
need=()
for p in snmp snmpd snmptrapd smitools libxml2-utils snmptt prometheus-snmp-exporter kcat mosquitto curl etcd-server chromium prometheus lintian systemd bsdutils; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  log "apt-get install ${need[*]}"
  as_root apt-get update -qq
  # a first install attempt has been seen to fail with a vanished /tmp/apt-dpkg-install-* archive;
  # a second attempt succeeds. Bounded: two tries.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null ||
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# --- base MIBs from erlang-snmp (downloaded, unpacked, never installed) --------------------------
BASE_MIBS=$CACHE/base-mibs
if [ ! -f "$BASE_MIBS/SNMPv2-SMI.txt" ]; then
  log "base MIBs from Debian's erlang-snmp into $BASE_MIBS"
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download erlang-snmp >/dev/null 2>&1 ||
    { as_root apt-get update -qq && apt-get download erlang-snmp >/dev/null; })
  (cd "$tmp" && dpkg -x erlang-snmp_*.deb x)
  mkdir -p "$BASE_MIBS"
  for f in "$tmp"/x/usr/lib/erlang/lib/snmp-*/mibs/*.mib "$tmp"/x/usr/lib/erlang/lib/snmp-*/mibs/v1/*.mib; do
    case $(basename "$f") in OTP-*) continue ;; esac
    cp "$f" "$BASE_MIBS/$(basename "$f" .mib).txt"
  done
  rm -rf "$tmp"
fi
export SVGATEWAY_BASE_MIBS=$BASE_MIBS

# --- node peers ------------------------------------------------------------------------------------
if [ ! -d test/node_modules/node-opcua ] || [ test/package-lock.json -nt test/node_modules/.package-lock.json ]; then
  log "npm ci in test/"
  (cd test && npm ci --no-audit --no-fund --loglevel=error)
fi

# --- Pub/Sub emulator (machine image) --------------------------------------------------------------
if ! command -v gcloud >/dev/null || [ ! -d /usr/lib/google-cloud-sdk/platform/pubsub-emulator ]; then
  if grep -rqs packages.cloud.google.com /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; then
    log "apt-get install google-cloud-cli-pubsub-emulator (Google's apt repository)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq google-cloud-cli google-cloud-cli-pubsub-emulator default-jre-headless >/dev/null
  else
    cat >&2 <<'EOF'
test/run.sh: the Google Pub/Sub emulator is not on this machine, and Google's apt repository is not
configured. Add it and run test/run.sh again (it then installs the emulator):
  curl -fsSL https://packages.cloud.google.com/apt/doc/apt-key.gpg | sudo gpg --dearmor -o /usr/share/keyrings/cloud.google.gpg
  echo "deb [signed-by=/usr/share/keyrings/cloud.google.gpg] https://packages.cloud.google.com/apt cloud-sdk main" |
    sudo tee /etc/apt/sources.list.d/google-cloud-sdk.list
EOF
    exit 1
  fi
fi

# --- static checks ---------------------------------------------------------------------------------
log "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi
log "go vet ./..."
go vet ./...
# The feed provider SDKs can each be left out with a build tag (README "Feed providers in the binary"): keep that building.
go vet -tags svgateway_nogoogle,svgateway_noaws,svgateway_noazure,svgateway_nooracle,svgateway_noawsiot ./cmd/svgateway

# --- tests -----------------------------------------------------------------------------------------
export SVGATEWAY_E2E=1
log "go test -race ./... $SHORT"
go test -race -count=1 -timeout 20m $SHORT ./...
# Every benchmark once, so none rots (a benchmark is code the tests never run otherwise). -short: the
# heavy ones (the large sandbox sync, the SNMP walks of the large footprint) take a smaller size.
# About 2 to 3 minutes on 2 cores, most of it compiling without -race. Figures: BENCHMARKS.md.
log "every benchmark once (-benchtime=1x -short)"
go test -count=1 -run '^$' -bench . -benchtime=1x -short -timeout 10m ./...
log "all tests passed"
