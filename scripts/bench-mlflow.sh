#!/bin/sh
# Times one full collection of a synthetic MLflow file store (10,000 runs
# with 100-point metric histories, issue 9) against reading every one of
# its files once (find … -type f -exec cat {} +), with a warm page cache
# for both, and prints the ratio (goal: at most 3).
#
#   scripts/bench-mlflow.sh [DIR]   (default: a temporary folder, removed after)
set -eu
cd "$(dirname "$0")/.."
dir=${1:-}
tmp=""
if [ -z "$dir" ]; then
	tmp=$(mktemp -d)
	dir=$tmp/mlruns
fi
trap '[ -n "$tmp" ] && rm -rf "$tmp"' EXIT
bin=$(mktemp)
go build -o "$bin" ./collectors/mlflow/cmd/mlflowbench
[ -d "$dir" ] || "$bin" -gen "$dir" -runs "${RUNS:-10000}" -points "${POINTS:-100}"
files=$(find "$dir" -type f | wc -l)
find "$dir" -type f -exec cat {} + >/dev/null # warm the cache
t0=$(date +%s.%N)
find "$dir" -type f -exec cat {} + >/dev/null
t1=$(date +%s.%N)
out=$("$bin" -store "$dir")
rm -f "$bin"
cat_s=$(echo "$t1 - $t0" | bc -l)
col_s=$(echo "$out" | sed 's/.*seconds=\([0-9.]*\).*/\1/')
echo "files=$files cat_seconds=$cat_s $out"
echo "ratio=$(echo "$col_s / $cat_s" | bc -l | cut -c1-5) (goal <= 3)"
