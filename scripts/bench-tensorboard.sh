#!/usr/bin/env bash
# bench-tensorboard.sh — time the tensorboard collector against sha256sum
# over the same event files.
#
#   scripts/bench-tensorboard.sh [MB] [MIX]
#
# Writes (or reuses) about MB megabytes (default 200) of synthetic event
# files with tbbench (4 runs of 2 files; MIX "mixed", the default: scalars
# every step, a 4 KiB histogram every 10 steps and a 64 KiB image every
# 100; or "scalars": scalar events only, the worst case per byte) under
# $KSBFOLIO_BENCH_DIR (default ${TMPDIR:-/tmp}/ksbfolio-bench-tb), reads
# them once to warm the page cache, then runs three rounds, alternating:
#   (a) sha256sum over every event file
#   (b) one full Collect of the folder (every record framed, checked and
#       decoded; items built)
# and prints each one's median seconds and the ratio b/a (goal: at most 2).
set -euo pipefail

mb=${1:-200}
mix=${2:-mixed}
root=$(cd "$(dirname "$0")/.." && pwd)
work=${KSBFOLIO_BENCH_DIR:-${TMPDIR:-/tmp}/ksbfolio-bench-tb}
data=$work/$mix-$mb
mkdir -p "$work/bin"

calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }

cd "$root"
go build -o "$work/bin/tbbench" ./collectors/tensorboard/cmd/tbbench

if [ -d "$data" ]; then
	echo "reusing $data"
else
	echo "writing $mb MB of $mix event files in $data"
	"$work/bin/tbbench" -gen "$data" -mb "$mb" -mix "$mix"
fi
bytes=$(find "$data" -type f -name '*tfevents*' -printf '%s\n' | awk '{ s += $1 } END { print s }')
find "$data" -type f -name '*tfevents*' -exec cat {} + >/dev/null

a=() b=()
for round in 1 2 3; do
	start=$(date +%s.%N)
	find "$data" -type f -name '*tfevents*' -exec sha256sum {} + >/dev/null
	end=$(date +%s.%N)
	a+=("$(calc "$end - $start")")
	out=$("$work/bin/tbbench" -dir "$data")
	b+=("$(echo "$out" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p')")
	printf 'round %d: sha256sum %.3f s, Collect %.3f s\n' "$round" "${a[-1]}" "${b[-1]}"
done

median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
ma=$(median "${a[@]}") mb_=$(median "${b[@]}")
printf '\nmedian of 3 on %s bytes of %s event files:\n' "$bytes" "$mix"
printf '  (a) sha256sum         %8.3f s  (%.0f MB/s)\n' "$ma" "$(calc "$bytes / 1048576 / $ma")"
printf '  (b) Collect           %8.3f s  (%.0f MB/s)\n' "$mb_" "$(calc "$bytes / 1048576 / $mb_")"
printf '  Collect/sha256sum (b/a) %6.2f  (goal <= 2)\n' "$(calc "$mb_ / $ma")"
