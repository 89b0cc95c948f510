#!/usr/bin/env bash
# Redis 7.0.15's own Tcl test suite in external mode (`runtest --host --port`) against ferredis.
#
#   tests/redis-suite/run.sh                      every unit; fails on a test redis-server passes that ferredis
#                                                 fails and expected-failures.txt does not list
#   tests/redis-suite/run.sh unit/type/list ...   just those units
#   tests/redis-suite/run.sh --write-expected     rewrite expected-failures.txt from this run (reasons kept)
#   tests/redis-suite/run.sh --server redis       run the same units against the installed redis-server
#                                                 (what baseline.sh does)
#
# Each unit gets a fresh server on a free port. A test that makes no progress for TEST_TIMEOUT seconds (default
# 120; the suite's own --timeout) ends its unit with [TIMEOUT], and the unit as a whole has a wall-clock limit
# (UNIT_TIMEOUT, default 600: unit/geo takes 214 s under redis-server on a loaded 2-core machine), so a hang
# fails that unit instead of stalling CI. Logs and results go to target/redis-suite/<server>/.
set -euo pipefail
source "$(dirname "$0")/common.sh"

server=ferredis
write_expected=0
units=()
while [ $# -gt 0 ]; do
  case "$1" in
    --server) server="$2"; shift 2 ;;
    --write-expected) write_expected=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) units+=("${1%.tcl}"); shift ;;
  esac
done
UNIT_TIMEOUT="${UNIT_TIMEOUT:-600}"
TEST_TIMEOUT="${TEST_TIMEOUT:-120}"

binary="$(server_binary "$server")"

out="$CACHE/$server"
scratch="$CACHE/scratch-external-$server"
make_scratch "$scratch" "$binary"

if [ ${#units[@]} -eq 0 ]; then
  # Every unit external mode can run; list-common.tcl is a helper the list units source, not a unit.
  for f in "$scratch"/tests/unit/*.tcl "$scratch"/tests/unit/type/*.tcl; do
    unit="${f#"$scratch/tests/"}"
    unit="${unit%.tcl}"
    [ "$unit" = unit/type/list-common ] || units+=("$unit")
  done
fi

rm -rf "$out" && mkdir -p "$out/logs"
results="$out/results.tsv"
: >"$results"
server_pid=
stop_server() {
  if [ -n "$server_pid" ]; then
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
trap stop_server EXIT

started=$(date +%s)
for unit in "${units[@]}"; do
  log="$out/logs/${unit//\//_}.log"
  # Another process can take the port between the probe and the bind: then try another one.
  for _ in 1 2 3; do
    port="$(free_port)"
    # As Redis's own external CI starts its server: no snapshots, DEBUG and protected configs allowed.
    "$binary" --port "$port" --save '' --dir "$scratch/tests/tmp" --logfile "$log.server" \
      --enable-debug-command yes --enable-protected-configs yes --enable-module-command yes &
    server_pid=$!
    if wait_ping "$port" "$server_pid"; then
      break
    fi
    stop_server
  done
  if [ -z "$server_pid" ]; then
    echo "$unit: the server did not start" | tee -a "$log"
    printf '%s\texception\t(unit aborted)\tserver did not start\n' "$unit" >>"$results"
    continue
  fi
  t0=$(date +%s)
  rc=0
  # Tests expected-failures.txt says hang are skipped, so the rest of their unit still runs.
  skipfile="$out/logs/${unit//\//_}.skip"
  python3 "$HERE/results.py" hangs "$HERE/expected-failures.txt" "$unit" >"$skipfile"
  echo "# test timeout $TEST_TIMEOUT" >"$log"
  (cd "$scratch" && TERM=dumb timeout -k 10 "$UNIT_TIMEOUT" ./runtest --host 127.0.0.1 --port "$port" $(suite_ports) \
    --singledb --durable --clients 1 --timeout "$TEST_TIMEOUT" --tags "-needs:repl" --skipfile "$skipfile" \
    --single "$unit") >>"$log" 2>&1 || rc=$?
  stop_server
  python3 "$HERE/results.py" parse "$unit" "$log" >>"$results"
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    printf '%s\ttimeout\t(unit timed out after %ss)\t\n' "$unit" "$UNIT_TIMEOUT" >>"$results"
  fi
  echo "$unit: exit $rc in $(( $(date +%s) - t0 ))s" >>"$out/times.txt"
done

echo "--- Redis $REDIS_VERSION test suite, external mode, against $server ($(( $(date +%s) - started ))s)"
python3 "$HERE/results.py" summary "$results"
if [ "$server" = redis ]; then
  exit 0
fi
if [ "$write_expected" -eq 1 ]; then
  python3 "$HERE/results.py" write-expected "$results" "$HERE/baseline.txt" "$HERE/expected-failures.txt"
fi
python3 "$HERE/results.py" check "$results" "$HERE/baseline.txt" "$HERE/expected-failures.txt"
