#!/usr/bin/env bash
# Refreshes baseline.txt: the tests the installed redis-server 7.0.15 passes in external mode, run exactly as
# run.sh runs them on ferredis (same flags, a fresh server per unit). CI reads this file instead of running the
# suite twice: it halves the suite step and keeps the bar fixed (a timing-sensitive test that happens to fail on
# a loaded CI machine under Redis would otherwise silently drop out of the check).
#
#   tests/redis-suite/baseline.sh                    every unit
#   tests/redis-suite/baseline.sh unit/type/set      just these units (their lines are replaced, others kept)
#   RUNS=3 tests/redis-suite/baseline.sh             a test counts as passing if it passed in any of 3 runs
set -euo pipefail
source "$(dirname "$0")/common.sh"

runs="${RUNS:-1}"
all="$CACHE/baseline-results.tsv"
: >"$all"
for i in $(seq "$runs"); do
  echo "--- baseline run $i of $runs"
  "$HERE/run.sh" --server redis "$@"
  cat "$CACHE/redis/results.tsv" >>"$all"
done
python3 "$HERE/results.py" baseline "$all" "$HERE/baseline.txt" >"$HERE/baseline.txt.new"
mv "$HERE/baseline.txt.new" "$HERE/baseline.txt"
echo "baseline.txt: $(grep -cv '^#' "$HERE/baseline.txt") tests redis-server passes"
