#!/usr/bin/env bash
# bench-logs.sh — stream a generated log through the logs collector with
# redaction on (every item and excerpt through pipeline/redact's
# Redactor, as the pipeline's sink does), and time it against
# grep -c -E with the collector's own patterns on the same file.
#
#   scripts/bench-logs.sh [BYTES] [FILE]
#
# Generates (or reuses) FILE of BYTES bytes (default 1 GiB, at
# $KSBFOLIO_BENCH_DIR/logs-BYTES.log, KSBFOLIO_BENCH_DIR defaulting to
# ${TMPDIR:-/tmp}/ksbfolio-bench-logs), runs each side once after a warm-up
# read of the file, and prints wall and CPU seconds, the collector's peak
# heap and the ratios collector/grep. Goal: at most 3x.
#
# grep gets the collector's event patterns and incident signals (an error
# level, a traceback, a 5xx response) translated to POSIX extended
# expressions by the test binary (TestGrepPatterns: case folding as [xX],
# leading anchors dropped since grep sees lines, not messages). For
# comparison it is also timed with the words the patterns are
# prefiltered by (grep -i, the figure earlier versions reported).
set -euo pipefail

bytes=${1:-1073741824}
root=$(cd "$(dirname "$0")/.." && pwd)
work=${KSBFOLIO_BENCH_DIR:-${TMPDIR:-/tmp}/ksbfolio-bench-logs}
file=${2:-$work/logs-$bytes.log}
mkdir -p "$work"
cd "$root"
go test -c -o "$work/logs.test" ./collectors/logs
if [ ! -s "$file" ]; then
	KSBFOLIO_LOGS_GEN="$file" KSBFOLIO_LOGS_GEN_SIZE="$bytes" "$work/logs.test" -test.run '^TestGenerateBenchLog$' >/dev/null
fi
KSBFOLIO_LOGS_GREP="$work/patterns.ere" "$work/logs.test" -test.run '^TestGrepPatterns$' >/dev/null
# The words the built-in patterns are filtered by (patterns.go stems) and
# the error words incidents start from.
words='deploy|roll|model|version|scal|replica|serving|uvicorn|inference|transition|promot|alias|new size|revert|progressdeadline|loaded|registered|created|error|critical|fatal|traceback|HTTP/[0-9.]+" 5[0-9][0-9]'
cat "$file" >/dev/null # warm the page cache for both

timed() { # prints "wall user sys" seconds of a command, its output to $work/out
	local t0 t1
	t0=$(date +%s.%N)
	/usr/bin/env time -f "%U %S %M" -o "$work/time" "$@" >"$work/out" 2>&1 || { cat "$work/out"; exit 1; }
	t1=$(date +%s.%N)
	read -r user sys rss <"$work/time"
	echo "$(awk "BEGIN{print $t1-$t0}") $user $sys $rss"
}

read -r gw gu gs grss < <(timed grep -c -E -f "$work/patterns.ere" "$file")
matches=$(cat "$work/out")
read -r cw cu cs crss < <(KSBFOLIO_LOGS_BENCH="$file" timed "$work/logs.test" -test.run '^$' -test.bench '^BenchmarkStreamLog$' -test.benchtime 1x)
line=$(grep BenchmarkStreamLog "$work/out" || true)
read -r ww wu ws wrss < <(timed grep -c -i -E "$words" "$file")
echo "file: $file ($(stat -c %s "$file") bytes), grep -E -f matched $matches lines"
echo "grep -c -E -f:  wall ${gw}s, cpu $(awk "BEGIN{print $gu+$gs}")s, max RSS ${grss} KiB ($(wc -l <"$work/patterns.ere") expressions)"
echo "collector:      wall ${cw}s, cpu $(awk "BEGIN{print $cu+$cs}")s, max RSS ${crss} KiB"
echo "  $line"
echo "grep -c -i -E (words): wall ${ww}s, cpu $(awk "BEGIN{print $wu+$ws}")s"
echo "ratio collector/grep: wall $(awk "BEGIN{printf \"%.1f\", $cw/$gw}")x, cpu $(awk "BEGIN{printf \"%.1f\", ($cu+$cs)/($gu+$gs)}")x (goal <= 3x); against the words: wall $(awk "BEGIN{printf \"%.1f\", $cw/$ww}")x, cpu $(awk "BEGIN{printf \"%.1f\", ($cu+$cs)/($wu+$ws)}")x"
