#!/usr/bin/env bash
# bench-run.sh — the whole `ksbfolio run` on a large repository, twice:
# the second run must find nothing new and take a small fraction of the
# first's time (the issue asks for at most 10% at 50,000 commits).
#
#   scripts/bench-run.sh [COMMITS]
set -euo pipefail
commits=${1:-50000}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ksbfolio-bench-run.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$root"
go build -o "$work/gitgen" ./collectors/gitlog/gittest/cmd/gitgen
go build -o "$work/ksbfolio" ./cmd/ksbfolio
echo "building $commits commits"
"$work/gitgen" -commits "$commits" -o "$work/repo" >/dev/null
cat >"$work/ksbfolio.yaml" <<YAML
apprentice: {id: jane, emails: [jane@corp.example]}
sources:
  - {name: repo, type: git, path: ./repo}
YAML
t() { local s e; s=$(date +%s.%N); "$work/ksbfolio" --no-progress -c "$work/ksbfolio.yaml" run >"$work/out.txt"; e=$(date +%s.%N); awk "BEGIN { printf \"%.3f\", $e - $s }"; }
first=$(t); sed -n 2p "$work/out.txt"
second=$(t); sed -n 2p "$work/out.txt"
echo "first run:  $first s"
echo "second run: $second s"
awk "BEGIN { printf \"second/first: %.4f\n\", $second / $first }"
