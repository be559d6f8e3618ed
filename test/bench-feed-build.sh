#!/usr/bin/env bash
# test/bench-feed-build.sh: what each feed provider SDK costs in build time and binary size.
#
#   test/bench-feed-build.sh [cold]
#   ONLY="all providers,without oracle" test/bench-feed-build.sh cold     # just those builds
#
# Builds cmd/svgateway with every provider (the default), and with each provider left out by its
# build tag (svgateway_nogoogle, svgateway_noaws, svgateway_noazure, svgateway_nooracle,
# svgateway_noawsiot), and with all five left out.
# Prints the binary size (plain and with -ldflags "-s -w") and the build time; with "cold", each
# build starts from an empty GOCACHE (the module cache stays warm), as a fresh CI machine would,
# otherwise from the current cache. The cost of a provider is the default build minus the build
# without it.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-warm}
WORK=$(mktemp -d /tmp/svgateway-feedbuild.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
go mod download

printf 'build\ttags\tbuild_s\tbinary_MB\tstripped_MB\n'
for spec in "all providers:" "without google:svgateway_nogoogle" "without aws:svgateway_noaws" \
            "without azure:svgateway_noazure" "without oracle:svgateway_nooracle" "without awsiot:svgateway_noawsiot" \
            "no provider SDK:svgateway_nogoogle,svgateway_noaws,svgateway_noazure,svgateway_nooracle,svgateway_noawsiot"; do
  name=${spec%%:*}; tags=${spec#*:}
  if [ -n "${ONLY:-}" ] && [[ ",$ONLY," != *",$name,"* ]]; then continue; fi
  cache=$(go env GOCACHE)
  if [ "$MODE" = cold ]; then cache=$WORK/cache; rm -rf "$cache"; fi
  t0=$(date +%s.%N)
  GOCACHE=$cache go build -tags "$tags" -o "$WORK/bin" ./cmd/svgateway
  t1=$(date +%s.%N)
  GOCACHE=$cache go build -tags "$tags" -ldflags "-s -w" -o "$WORK/bin-stripped" ./cmd/svgateway
  printf '%s\t%s\t%.1f\t%.1f\t%.1f\n' "$name" "${tags:--}" "$(echo "$t1 - $t0" | bc)" \
    "$(echo "$(stat -c %s "$WORK/bin") / 1048576" | bc -l)" "$(echo "$(stat -c %s "$WORK/bin-stripped") / 1048576" | bc -l)"
done
