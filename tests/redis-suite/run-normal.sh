#!/usr/bin/env bash
# Redis 7.0.15's Tcl suite in normal mode: the suite starts its own servers as `src/redis-server <config>` from
# the tree it runs in, here a scratch copy whose src/redis-server is ferredis (the other src/ tools are the
# installed Redis ones). It waits for ` PID: ` and `Ready to accept connections` in the server's stdout.
#
#   tests/redis-suite/run-normal.sh unit/type/list unit/expire     chosen units (default: the data-type units,
#                                                                  keyspace, expire, multi, other)
#   tests/redis-suite/run-normal.sh --server redis unit/multi      the same against the installed redis-server
#
# Prints the same per-unit summary as run.sh; results and logs go to target/redis-suite/normal-<server>/.
# Not a CI gate yet: it reports. A test making no progress for TEST_TIMEOUT s (120) ends its unit, and each
# unit runs under a wall-clock limit (UNIT_TIMEOUT, default 600 s).
set -euo pipefail
source "$(dirname "$0")/common.sh"

server=ferredis
units=()
while [ $# -gt 0 ]; do
  case "$1" in
    --server) server="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) units+=("${1%.tcl}"); shift ;;
  esac
done
UNIT_TIMEOUT="${UNIT_TIMEOUT:-600}"
TEST_TIMEOUT="${TEST_TIMEOUT:-120}"
if [ ${#units[@]} -eq 0 ]; then
  units=(unit/type/string unit/type/incr unit/type/list unit/type/list-2 unit/type/list-3 unit/type/set
    unit/type/zset unit/type/hash unit/type/stream unit/type/stream-cgroups unit/keyspace unit/expire
    unit/multi unit/other)
fi

binary="$(server_binary "$server")"

out="$CACHE/normal-$server"
scratch="$CACHE/scratch-normal-$server"
make_scratch "$scratch" "$binary"
rm -rf "$out" && mkdir -p "$out/logs"
results="$out/results.tsv"
: >"$results"

started=$(date +%s)
for unit in "${units[@]}"; do
  log="$out/logs/${unit//\//_}.log"
  rc=0
  echo "# test timeout $TEST_TIMEOUT" >"$log"
  # `save ""`: tests/assets/default.conf sets `save 900 1`, and ferredis cannot save yet, so with save points
  # it refuses to exit on SIGTERM (as Redis does when its save fails) and every server stop would wait for the
  # suite's 10 s timeout. A test's own `save` override still wins. Both servers get the same setting.
  (cd "$scratch" && TERM=dumb timeout -k 10 "$UNIT_TIMEOUT" ./runtest $(suite_ports) --durable --clients 1 \
    --timeout "$TEST_TIMEOUT" --tags "-needs:repl" --config save '""' --single "$unit") >>"$log" 2>&1 || rc=$?
  python3 "$HERE/results.py" parse "$unit" "$log" >>"$results"
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    printf '%s\ttimeout\t(unit timed out after %ss)\t\n' "$unit" "$UNIT_TIMEOUT" >>"$results"
  fi
  echo "$unit: exit $rc" >>"$out/times.txt"
done

echo "--- Redis $REDIS_VERSION test suite, normal mode, on $server ($(( $(date +%s) - started ))s)"
python3 "$HERE/results.py" summary "$results"
