#!/usr/bin/env bash
# bench-read.sh — the read seam against a plain minio-go loop on the real
# S3 server (versitygw, started on loopback by storetest): a ledger
# Snapshot of ITEMS items (default 20000) must take at most 1.5× a loop
# doing the same List and GETs with the same concurrency. Prints both
# medians and the ratio.
#
#   scripts/bench-read.sh [ITEMS] [ROUNDS]
set -euo pipefail
items=${1:-20000}
rounds=${2:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
KSBFOLIO_BENCH_ITEMS=$items KSBFOLIO_BENCH_ROUNDS=$rounds KSBFOLIO_TEST_REQUIRE=s3 \
	go test -tags bench -run '^$' -bench '^BenchmarkSnapshotS3$' -benchtime 1x -timeout 60m ./evidence/ledger/
