#!/usr/bin/env bash
# The workbook benchmark (issue 12): builds the assessor workbook for N
# synthetic items (default 100,000) and, in another process, a plain
# excelize stream writer writing the same cells, and prints the time and
# peak memory (VmHWM) of both and their ratio. Linux only (reads /proc).
set -euo pipefail
cd "$(dirname "$0")/.."
KSBFOLIO_BENCH_WORKBOOK="${1:-100000}" go test ./evidence/workbook -run '^TestWorkbookBench$' -count=1 -v -timeout 30m |
  grep -v -e '^=== RUN' -e '^--- ' -e '^PASS' -e '^ok '
