#!/usr/bin/env bash
# bench-serve.sh — serve's refresh at a provider's scale (issue 13): stores
# APPRENTICES ledgers (default 1000; copies of one ledger made by a real
# run: items, blobs, cursors, run reports, coverage.json) in the real S3
# server (versitygw, started on loopback by storetest), then measures
#   - serve's refresh in the process (the Refresher serve builds), median
#     of ROUNDS (default 3), against a plain minio-go loop GETting the same
#     coverage.json objects with the same concurrency (8), as a ratio; peak
#     Go heap in use;
#   - a real `ksbfolio serve` process: from its start until /readyz answers
#     200 (the first refresh of all of them done), a scrape of /metrics,
#     and its peak RSS (VmHWM, Linux only);
# and prints them against the goals: under 5 s, under 100 MB.
#
#   scripts/bench-serve.sh [APPRENTICES] [ROUNDS]
set -euo pipefail
apprentices=${1:-1000}
rounds=${2:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
echo "load: $(uptime)"
KSBFOLIO_BENCH_APPRENTICES=$apprentices KSBFOLIO_BENCH_ROUNDS=$rounds KSBFOLIO_TEST_REQUIRE=s3,git \
	go test -tags bench -run '^$' -bench '^BenchmarkServeRefresh$' -benchtime 1x -timeout 60m ./cmd/ksbfolio/ |
	grep -v -e '^goos:' -e '^goarch:' -e '^pkg:' -e '^cpu:' -e '^PASS' -e '^ok '
