#!/usr/bin/env bash
# test/bench-failover.sh: failover of a gateway pair on etcd, from the real binaries to a real snmptrapd.
#
#   test/bench-failover.sh [KILLS=20]
#
# Starts a three-member etcd cluster (Debian etcd-server) on loopback, a standalone sandbox
# (`svgateway sandbox`) shared by two gateways in live mode with [cluster] (lease TTL 3 s), and a
# snmptrapd receiving v2c informs. During a continuous alarm storm (an alarm raised every 150 ms,
# acknowledged and cleared after it), the leader is killed with SIGKILL KILLS times, the killed
# gateway restarted each time as the new standby. Prints the failover time (kill to the other
# gateway leading) p50/p99, and over every notification snmptrapd received: transitions lost,
# notifications duplicated (at-least-once across a crash), alarm ids reused (naming two alarms).
# lost and reused must be 0. Runs BenchmarkPairFailover (test/cluster_bench_test.go), which starts
# and stops every process itself.
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS=${1:-20}
export SVGATEWAY_E2E=1 SVGATEWAY_FAILOVER_KILLS=$KILLS
export SVGATEWAY_BASE_MIBS=${SVGATEWAY_BASE_MIBS:-$(pwd)/test/.cache/base-mibs}
go test -run '^$' -bench 'BenchmarkPairFailover$' -benchtime 1x -timeout 30m ./test
