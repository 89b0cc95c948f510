#!/usr/bin/env bash
# Redis 7.0.15's Tcl suite in normal mode: the suite starts its own servers as `src/redis-server <config>` from
# the tree it runs in, here a scratch copy whose src/redis-server is ferredis (the other src/ tools are the
# installed Redis ones). It waits for ` PID: ` and `Ready to accept connections` in the server's stdout.
#
#   tests/redis-suite/run-normal.sh --ci                        the units of normal-units.txt, checked as CI does:
#                                                               fails on a test normal-baseline.txt lists that
#                                                               ferredis fails and normal-expected-failures.txt
#                                                               does not list
#   tests/redis-suite/run-normal.sh --ci --write-expected       the same, rewriting normal-expected-failures.txt
#   tests/redis-suite/run-normal.sh --server redis --ci --write-baseline
#                                                               refresh normal-baseline.txt from redis-server
#   tests/redis-suite/run-normal.sh unit/type/list unit/expire  chosen units, reported (not checked)
#   tests/redis-suite/run-normal.sh --tls [--ci] ...            the same over TLS (the suite's --tls: every client
#                                                               and server port is TLS; needs tcl-tls); --ci
#                                                               then runs tls-units.txt against tls-baseline.txt
#                                                               and tls-expected-failures.txt
#
# Prints the same per-unit summary as run.sh; results and logs go to target/redis-suite/normal-<server>/.
# A test making no progress for TEST_TIMEOUT s (120) ends its unit, and each unit runs under a wall-clock limit
# (UNIT_TIMEOUT, default 600 s).
set -euo pipefail
source "$(dirname "$0")/common.sh"

server=ferredis
units=()
ci=0
write_expected=0
write_baseline=0
tls=0
while [ $# -gt 0 ]; do
  case "$1" in
    --server) server="$2"; shift 2 ;;
    --ci) ci=1; shift ;;
    --tls) tls=1; shift ;;
    --write-expected) write_expected=1; shift ;;
    --write-baseline) write_baseline=1; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) units+=("${1%.tcl}"); shift ;;
  esac
done
# The lists --ci checks against: normal-*.txt, or tls-*.txt with --tls.
lists=normal
mode=normal
tls_flag=()
if [ "$tls" -eq 1 ]; then
  lists=tls
  mode="normal mode over TLS"
  tls_flag=(--tls)
fi
if [ "$ci" -eq 1 ]; then
  mapfile -t units < <(grep -v '^#' "$HERE/$lists-units.txt" | grep .)
fi
UNIT_TIMEOUT="${UNIT_TIMEOUT:-600}"
TEST_TIMEOUT="${TEST_TIMEOUT:-120}"
if [ ${#units[@]} -eq 0 ]; then
  units=(unit/type/string unit/type/incr unit/type/list unit/type/list-2 unit/type/list-3 unit/type/set
    unit/type/zset unit/type/hash unit/type/stream unit/type/stream-cgroups unit/keyspace unit/expire
    unit/multi unit/other)
fi

binary="$(server_binary "$server")"

out="$CACHE/$lists-$server"
scratch="$CACHE/scratch-$lists-$server"
make_scratch "$scratch" "$binary"
if [ "$tls" -eq 1 ]; then
  tls_scratch "$scratch"
fi
rm -rf "$out" && mkdir -p "$out/logs"
results="$out/results.tsv"
: >"$results"

started=$(date +%s)
for unit in "${units[@]}"; do
  log="$out/logs/${unit//\//_}.log"
  rc=0
  echo "# test timeout $TEST_TIMEOUT" >"$log"
  # Tests listed as hanging on ferredis are skipped (as run.sh does), so the rest of their unit still runs.
  skipfile="$out/logs/${unit//\//_}.skip"
  : >"$skipfile"
  if [ "$server" != redis ]; then
    python3 "$HERE/results.py" hangs "$HERE/$lists-expected-failures.txt" "$unit" >"$skipfile"
  fi
  (cd "$scratch" && TERM=dumb timeout -k 10 "$UNIT_TIMEOUT" ./runtest $(suite_ports) "${tls_flag[@]}" --durable \
    --clients 1 --timeout "$TEST_TIMEOUT" --tags "-needs:repl" --skipfile "$skipfile" --single "$unit") >>"$log" 2>&1 || rc=$?
  python3 "$HERE/results.py" parse "$unit" "$log" >>"$results"
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    printf '%s\ttimeout\t(unit timed out after %ss)\t\n' "$unit" "$UNIT_TIMEOUT" >>"$results"
  fi
  echo "$unit: exit $rc" >>"$out/times.txt"
done

echo "--- Redis $REDIS_VERSION test suite, $mode, on $server ($(( $(date +%s) - started ))s)"
python3 "$HERE/results.py" summary "$results"
if [ "$ci" -eq 0 ]; then
  exit 0
fi
if [ "$server" = redis ]; then
  if [ "$write_baseline" -eq 1 ]; then
    # Lines of units not run here are kept.
    touch "$HERE/$lists-baseline.txt"
    python3 "$HERE/results.py" baseline "$results" "$HERE/$lists-baseline.txt" "$lists" >"$HERE/$lists-baseline.txt.new"
    mv "$HERE/$lists-baseline.txt.new" "$HERE/$lists-baseline.txt"
    echo "$lists-baseline.txt: $(grep -cv '^#' "$HERE/$lists-baseline.txt") tests redis-server passes"
  fi
  exit 0
fi
if [ "$write_expected" -eq 1 ]; then
  python3 "$HERE/results.py" write-expected "$results" "$HERE/$lists-baseline.txt" \
    "$HERE/$lists-expected-failures.txt" "$lists"
fi
python3 "$HERE/results.py" check "$results" "$HERE/$lists-baseline.txt" "$HERE/$lists-expected-failures.txt"
