#!/usr/bin/env bash
# bench-gitscale.sh — the git collector at workplace scale, against git
# itself, in one run (issue 8's goals in brackets):
#
#   scripts/bench-gitscale.sh [REPO EMAIL]
#
# Without arguments it builds (or reuses) a generated repository of
# $COMMITS commits (default 100000) by a team of 20 in which the apprentice
# (jane@corp.example) makes about 2% of the commits, over $FILES files
# (default 3000) with workplace-like edits, at
# $KSBFOLIO_BENCH_DIR/scale-COMMITS (default ${TMPDIR:-/tmp}/ksbfolio-bench-git).
# With REPO and EMAIL it measures that repository (this project's own, say)
# for that author instead.
#
# Three rounds, alternating, each measured with /usr/bin/time:
#   (a) git log --branches --no-renames --numstat --author=EMAIL >/dev/null
#   (b) the collector's first, full Collect              [b/a <= 2, goal 1]
#   (c) its second Collect from (b)'s cursor, nothing new [c/b <= 0.02]
#   (d) the whole `ksbfolio run` (collect, redact, tag, store) on a fresh
#       workspace                                         [d/a <= 2.5]
# and prints medians, the ratios and (b)'s peak RSS       [< 300 MB].
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=${KSBFOLIO_BENCH_DIR:-${TMPDIR:-/tmp}/ksbfolio-bench-git}
commits=${COMMITS:-100000}
files=${FILES:-3000}
mkdir -p "$work/bin"
[ -x /usr/bin/time ] || { echo "bench-gitscale: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }

cd "$root"
go build -o "$work/bin/gitgen" ./pipeline/demo/demorepo/cmd/gitgen
go build -o "$work/bin/gitbench" ./collectors/gitlog/cmd/gitbench
go build -o "$work/bin/ksbfolio" ./cmd/ksbfolio

if [ $# -ge 2 ]; then
	repo=$(cd "$1" && pwd) email=$2
else
	repo=$work/scale-$commits email=jane@corp.example
	if [ -e "$repo/.git" ]; then
		echo "reusing $repo"
	else
		echo "building $commits commits, 20 authors, $files files in $repo"
		start=$(date +%s.%N)
		"$work/bin/gitgen" -commits "$commits" -authors 20 -apprentice-share 2 -files "$files" -o "$repo" >"$work/gitgen.json"
		end=$(date +%s.%N)
		printf 'built in %.1f s\n' "$(calc "$end - $start")"
	fi
fi

# git without the user's or the system's configuration
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

# timed FILE CMD...: runs CMD, writes "seconds kilobytes" to FILE
timed() { local f=$1; shift; /usr/bin/time -f '%e %M' -o "$f" "$@"; }
field() { sed -n 's/.*'"$1"'=\([0-9.]*\).*/\1/p'; }

ws=$work/ws
a=() b=() c=() d=() rss=() drss=()
for round in 1 2 3; do
	timed "$work/t" git -C "$repo" log --branches --no-renames --numstat --author="$email" >/dev/null
	a+=("$(cut -d' ' -f1 "$work/t")")

	out=$(timed "$work/t" "$work/bin/gitbench" -repo "$repo" -email "$email" -cursor-out "$work/cursor.json")
	b+=("$(echo "$out" | field seconds)")
	rss+=("$(cut -d' ' -f2 "$work/t")")
	items=$(echo "$out" | field items)

	out=$("$work/bin/gitbench" -repo "$repo" -email "$email" -cursor-in "$work/cursor.json")
	c+=("$(echo "$out" | field seconds)")

	rm -rf "$ws" && mkdir -p "$ws"
	cat >"$ws/ksbfolio.yaml" <<YAML
apprentice: {id: bench, emails: [$email]}
sources:
  - {name: repo, type: git, path: $repo}
YAML
	timed "$work/t" "$work/bin/ksbfolio" --no-progress -c "$ws/ksbfolio.yaml" run >"$work/run.txt"
	d+=("$(cut -d' ' -f1 "$work/t")")
	drss+=("$(cut -d' ' -f2 "$work/t")")
	printf 'round %d: git log %ss, Collect %ss (%s items, %s KB), rerun %ss, ksbfolio run %ss (%s KB)\n' \
		"$round" "${a[-1]}" "${b[-1]}" "$items" "${rss[-1]}" "${c[-1]}" "${d[-1]}" "${drss[-1]}"
done

median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
ma=$(median "${a[@]}") mb=$(median "${b[@]}") mc=$(median "${c[@]}") md=$(median "${d[@]}")
mr=$(median "${rss[@]}") mdr=$(median "${drss[@]}")
printf '\nmedian of 3 on %s (%s):\n' "$repo" "$email"
printf '  (a) git log --numstat --author        %8.3f s\n' "$ma"
printf '  (b) first Collect (full)              %8.3f s   peak RSS %d MB\n' "$mb" "$((mr / 1024))"
printf '  (c) second Collect (nothing new)      %8.3f s\n' "$mc"
printf '  (d) ksbfolio run (fresh workspace)    %8.3f s   peak RSS %d MB\n' "$md" "$((mdr / 1024))"
printf '  collector/git     (b/a) %6.2f   [<= 2, goal 1]\n' "$(calc "$mb / $ma")"
printf '  rerun/first       (c/b) %6.4f [<= 0.02]\n' "$(calc "$mc / $mb")"
printf '  ksbfolio run/git  (d/a) %6.2f   [<= 2.5]\n' "$(calc "$md / $ma")"
