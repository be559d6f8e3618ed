#!/usr/bin/env bash
# test/fuzz-campaign.sh: the fuzzing campaign, a benchmark rather than a test. Runs every native Go
# fuzz target of the repository (func FuzzX(f *testing.F): the SNMP BER/PDU decoder, USM, the whole
# agent, AgentX PDUs and sessions, OPC UA chunks, requests and channels, SmartView answers, scalars
# and feed events, the feed's decode-and-apply, the TOML loader) for a stated time each, and prints
# a table: target, time, executions, new corpus entries, crashes.
#
#   test/fuzz-campaign.sh            60 s per target, one fuzzing worker each
#   test/fuzz-campaign.sh 20s        20 s per target
#   FUZZ_WORKERS=2 test/fuzz-campaign.sh 5m
#   FUZZ_MATCH=Snmp|ParsePDU test/fuzz-campaign.sh   only the targets whose name matches (grep -E)
#
# A crash leaves its input in the package's testdata/fuzz/<target>/: commit it, and plain `go test`
# runs it from then on as a regression input; fix the code until it passes. The interesting inputs
# found along the way stay in the Go build cache (go env GOCACHE)/fuzz and make the next campaign
# start where this one ended. The exit status is 1 when anything crashed.
# Figures: BENCHMARKS.md ("Fuzzing campaign").
set -uo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${1:-60s}
WORKERS=${FUZZ_WORKERS:-1}
MATCH=${FUZZ_MATCH:-.}
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# package directory and target name of every fuzz target, sorted
mapfile -t targets < <(grep -rEo --include='*_test.go' '^func (Fuzz[A-Za-z0-9_]+)\(f \*testing\.F\)' . |
  grep -v '/node_modules/' | sed -E 's|^\./(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]+).*|\1 \2|' | sort -u | grep -E "$MATCH")

printf '%s\n' "fuzzing ${#targets[@]} targets for $FUZZTIME each with $WORKERS worker(s), $(go version | cut -d' ' -f3), $(nproc) CPUs" >&2
printf '| target | time | executions | new corpus entries | crashes |\n| --- | --- | ---: | ---: | ---: |\n'
crashed=0
for t in "${targets[@]}"; do
  pkg=${t% *} name=${t#* }
  out=$log/$name.txt
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -parallel "$WORKERS" "./$pkg" >"$out" 2>&1
  rc=$?
  last=$(grep -E '^fuzz: elapsed: .*execs: [0-9]+' "$out" | tail -1)
  execs=$(sed -E 's/.*execs: ([0-9]+).*/\1/' <<<"$last")
  interesting=$(sed -nE 's/.*new interesting: ([0-9]+).*/\1/p' <<<"$last")
  crashes=0
  if [ $rc -ne 0 ]; then
    crashes=1
    crashed=1
    echo "--- $pkg $name failed:" >&2
    grep -E 'Failing input written to|^\s+\S+\.go:[0-9]+:|panic:' "$out" | head -5 >&2
  fi
  printf '| `%s` %s | %s | %s | %s | %s |\n' "$name" "$pkg" "$FUZZTIME" "${execs:-0}" "${interesting:-0}" "$crashes"
done
exit $crashed
