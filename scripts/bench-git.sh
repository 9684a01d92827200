#!/usr/bin/env bash
# bench-git.sh — time the git collector against git itself on a generated
# history.
#
#   scripts/bench-git.sh [COMMITS] [REPO]
#
# Builds (or reuses) a repository of COMMITS commits (default 50000) with
# pipeline/demo/demorepo (cmd/gitgen), at REPO (default $KSBFOLIO_BENCH_DIR/repo-COMMITS, where
# KSBFOLIO_BENCH_DIR defaults to ${TMPDIR:-/tmp}/ksbfolio-bench-git), then
# runs three rounds, alternating:
#   (a) git log --all --no-renames --numstat --author=EMAIL >/dev/null
#   (b) the collector's first, full Collect
#   (c) the collector's second Collect from (b)'s cursor (nothing new)
# and prints each one's median seconds and the ratios collector/git and
# second/first. EMAIL is the generated apprentice (jane@corp.example).
set -euo pipefail

commits=${1:-50000}
root=$(cd "$(dirname "$0")/.." && pwd)
work=${KSBFOLIO_BENCH_DIR:-${TMPDIR:-/tmp}/ksbfolio-bench-git}
repo=${2:-$work/repo-$commits}
email=jane@corp.example
mkdir -p "$work/bin"

calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }

cd "$root"
go build -o "$work/bin/gitgen" ./pipeline/demo/demorepo/cmd/gitgen
go build -o "$work/bin/gitbench" ./collectors/gitlog/cmd/gitbench

if [ -d "$repo/.git" ]; then
	echo "reusing $repo"
else
	echo "building $commits commits in $repo"
	start=$(date +%s.%N)
	"$work/bin/gitgen" -commits "$commits" -o "$repo" >"$work/gitgen.json"
	end=$(date +%s.%N)
	printf 'built in %.1f s\n' "$(calc "$end - $start")"
fi

# git without the user's or the system's configuration
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

seconds_of() { sed -n 's/.*seconds=\([0-9.]*\).*/\1/p'; }

a=() b=() c=()
for round in 1 2 3; do
	start=$(date +%s.%N)
	git -C "$repo" log --all --no-renames --numstat --author="$email" >/dev/null
	end=$(date +%s.%N)
	a+=("$(calc "$end - $start")")

	out=$("$work/bin/gitbench" -repo "$repo" -email "$email" -cursor-out "$work/cursor.json")
	b+=("$(echo "$out" | seconds_of)")
	items=$(echo "$out" | sed -n 's/.*items=\([0-9]*\).*/\1/p')

	out=$("$work/bin/gitbench" -repo "$repo" -email "$email" -cursor-in "$work/cursor.json")
	c+=("$(echo "$out" | seconds_of)")
	printf 'round %d: git log %.3f s, first Collect %.3f s (%s items), second Collect %.3f s\n' \
		"$round" "${a[-1]}" "${b[-1]}" "$items" "${c[-1]}"
done

median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
ma=$(median "${a[@]}") mb=$(median "${b[@]}") mc=$(median "${c[@]}")
printf '\nmedian of 3 on %s commits:\n' "$commits"
printf '  (a) git log --numstat --author   %8.3f s\n' "$ma"
printf '  (b) first Collect (full)         %8.3f s\n' "$mb"
printf '  (c) second Collect (nothing new) %8.3f s\n' "$mc"
printf '  collector/git    (b/a) %8.2f\n' "$(calc "$mb / $ma")"
printf '  second/first     (c/b) %8.4f\n' "$(calc "$mc / $mb")"
