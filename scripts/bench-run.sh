#!/usr/bin/env bash
# bench-run.sh — the whole pipeline against its collection alone, side by
# side on the same generated repository:
#   (a) collection alone: the git collector's full Collect into a sink that
#       only counts (gitbench)
#   (b) `ksbfolio collect` into an empty folder store: collection plus
#       redaction, tagging and storing
#   (c) `ksbfolio run` into an empty folder store: (b) plus coverage
#   (d) `ksbfolio run` again: nothing new
# ROUNDS rounds (default 3; odd), alternating; prints each one's median wall time and the
# ratios b/a (the issue asks for at most 1.25 at 50,000 commits), c/a, and
# d/c (at most 0.10), and the CPU seconds of (a) and (b).
#
#   scripts/bench-run.sh [COMMITS] [REPO]
#
# The repository is built once (or reused) at REPO, default
# $KSBFOLIO_BENCH_DIR/repo-COMMITS, shared with bench-git.sh
# (KSBFOLIO_BENCH_DIR defaults to ${TMPDIR:-/tmp}/ksbfolio-bench-git).
# The stores go under TMPDIR: TMPDIR=/dev/shm (with KSBFOLIO_BENCH_DIR
# kept on disk) measures the pipeline without the filesystem's cost of
# creating 20,000 files, which on ext4 without a journal grows with the
# files deleted in the last minutes (so leave a few minutes between runs).
set -euo pipefail
commits=${1:-50000}
root=$(cd "$(dirname "$0")/.." && pwd)
bench=${KSBFOLIO_BENCH_DIR:-${TMPDIR:-/tmp}/ksbfolio-bench-git}
repo=${2:-$bench/repo-$commits}
email=jane@corp.example
work=$(mktemp -d "${TMPDIR:-/tmp}/ksbfolio-bench-run.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$bench"

cd "$root"
go build -o "$work/gitgen" ./pipeline/demo/demorepo/cmd/gitgen
go build -o "$work/gitbench" ./collectors/gitlog/cmd/gitbench
go build -o "$work/ksbfolio" ./cmd/ksbfolio
if [ -d "$repo/.git" ]; then
	echo "reusing $repo"
else
	echo "building $commits commits in $repo"
	"$work/gitgen" -commits "$commits" -o "$repo" >/dev/null
fi
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

# Every run gets a store of its own, removed only at the end: ext4 is slow
# to allocate inodes next to many it freed seconds ago, which would charge
# an earlier round's clean-up to the next one.
config() { # config writing into store $1
	cat >"$work/$1.yaml" <<YAML
apprentice: {id: jane, emails: [$email]}
store: $work/$1
sources:
  - {name: repo, type: git, path: $repo}
YAML
	echo "$work/$1.yaml"
}

calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
# timed CMD...: runs CMD (stdout to $work/out.txt) and prints its wall
# seconds; its CPU seconds (user + system) go to $work/cpu.txt, and the
# system part alone (the kernel's: creating the store's files) to
# $work/sys.txt. On a
# loaded machine wall time is mostly waiting for a core, so CPU time says
# better what the pipeline adds. Everything written before is flushed
# first (sync): a run makes its items durable with syncfs(2), which would
# otherwise also wait for the writeback of the rounds before it.
timed() {
	local TIMEFORMAT='%R %U %S' t
	sync
	t=$({ time "$@" >"$work/out.txt" 2>/dev/null; } 2>&1)
	set -- $t
	calc "$2 + $3" >"$work/cpu.txt"
	echo "$3" >"$work/sys.txt"
	echo "$1"
}
ksb() { local cfg=$1; shift; "$work/ksbfolio" --no-progress -c "$cfg" "$@"; }

a=() b=() c=() d=() ca=() cb=() sa=() sb=() rb=() rc=()
rounds=${ROUNDS:-3}
for round in $(seq "$rounds"); do
	a+=("$(timed "$work/gitbench" -repo "$repo" -email "$email")")
	ca+=("$(cat "$work/cpu.txt")") sa+=("$(cat "$work/sys.txt")")
	items=$(sed -n 's/.*items=\([0-9]*\).*/\1/p' "$work/out.txt")

	cfg=$(config "collect-$round")
	b+=("$(timed ksb "$cfg" collect)")
	cb+=("$(cat "$work/cpu.txt")") sb+=("$(cat "$work/sys.txt")")
	stored=$(sed -n 's/.*: [a-z]*, \([0-9,]*\) items\{0,1\} stored.*/\1/p' "$work/out.txt" | head -1)

	cfg=$(config "run-$round")
	c+=("$(timed ksb "$cfg" run)")
	d+=("$(timed ksb "$cfg" run)")
	rb+=("$(calc "${b[-1]} / ${a[-1]}")") rc+=("$(calc "${c[-1]} / ${a[-1]}")")
	printf 'round %d: collection %.3f s (%s items; CPU %.3f s), collect %.3f s (%s stored; CPU %.3f s), run %.3f s, second run %.3f s\n' \
		"$round" "${a[-1]}" "$items" "${ca[-1]}" "${b[-1]}" "$stored" "${cb[-1]}" "${c[-1]}" "${d[-1]}"
done

median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
ma=$(median "${a[@]}") mb=$(median "${b[@]}") mc=$(median "${c[@]}") md=$(median "${d[@]}")
mca=$(median "${ca[@]}") mcb=$(median "${cb[@]}") msa=$(median "${sa[@]}") msb=$(median "${sb[@]}")
printf '\nmedian of %s on %s commits:\n' "$rounds" "$commits"
printf '  (a) collection alone (gitbench)     %8.3f s\n' "$ma"
printf '  (b) ksbfolio collect, empty store   %8.3f s\n' "$mb"
printf '  (c) ksbfolio run, empty store       %8.3f s\n' "$mc"
printf '  (d) ksbfolio run, nothing new       %8.3f s\n' "$md"
printf '  collect/collection (b/a) %8.3f   (limit 1.25)\n' "$(calc "$mb / $ma")"
printf '  CPU seconds: collection %.3f, collect %.3f, ratio %.3f\n' "$mca" "$mcb" "$(calc "$mcb / $mca")"
printf '    of which the kernel (system): collection %.3f, collect %.3f\n' "$msa" "$msb"
printf '  run/collection     (c/a) %8.3f\n' "$(calc "$mc / $ma")"
# The machine's speed drifts between rounds; a ratio within one round
# compares runs a few seconds apart.
printf '  median of the rounds'"'"' own ratios: b/a %.3f, c/a %.3f\n' "$(median "${rb[@]}")" "$(median "${rc[@]}")"
printf '  second/first       (d/c) %8.4f   (limit 0.10)\n' "$(calc "$md / $mc")"
