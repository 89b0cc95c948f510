#!/usr/bin/env bash
# Write throughput while BGSAVE runs back to back, ferredis beside redis-server, each as a ratio to its own quiet
# rate: redis-benchmark SET (-c 50, random keys over the data set) without a save, then with a loop that starts a
# BGSAVE as soon as the last one ended. Rounds alternate the servers (the machine may be shared); the best of the
# rounds of each is kept.
#
#   bench/bgsave_writes.sh [--keys N] [--requests N] [--rounds N] [--no-build]   (FERREDIS_BIN: another binary)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
KEYS=1000000
REQUESTS=300000
ROUNDS=2
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) KEYS="$2"; shift 2 ;;
    --requests) REQUESTS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
require_tools redis-server redis-cli redis-benchmark python3
[ "$BUILD" = 1 ] && cargo build --release --quiet --bin ferredis

field() { redis-cli -p "$1" info persistence | tr -d '\r' | awk -F: -v k="$2" '$1 == k {print $2}'; }
wait_bgsave() { while [ "$(field "$1" rdb_bgsave_in_progress)" = 1 ]; do sleep 0.01; done; }
set_rate() {
  redis-benchmark -p "$1" -t set -n "$REQUESTS" -r "$KEYS" -c 50 -q 2>/dev/null | tr '\r' '\n' |
    awk -F'[: ]+' '/requests per second/ {print $2; exit}'
}

PIDS=() DIRS=() LOOP=""
cleanup() {
  [ -z "$LOOP" ] || kill "$LOOP" 2>/dev/null || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for d in "${DIRS[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT

declare -A PORT
for name in ferredis redis; do
  dir=$(mktemp -d); DIRS+=("$dir")
  port=$(free_port); PORT[$name]=$port
  args=(--port "$port" --dir "$dir" --save '' --logfile "$dir/log" --enable-debug-command yes)
  if [ $name = ferredis ]; then
    "${FERREDIS_BIN:-./target/release/ferredis}" "${args[@]}" >/dev/null 2>&1 &
  else
    redis-server "${args[@]}" --appendonly no --bind 127.0.0.1 >/dev/null 2>&1 &
  fi
  PIDS+=($!)
  wait_port "$port"
  redis-cli -p "$port" debug populate "$KEYS" >/dev/null
done

declare -A QUIET SAVING SAVES
for r in $(seq 1 "$ROUNDS"); do
  for name in ferredis redis; do
    port=${PORT[$name]}
    q=$(set_rate "$port")
    before=$(field "$port" rdb_saves)
    ( while true; do redis-cli -p "$port" bgsave >/dev/null 2>&1; wait_bgsave "$port"; done ) &
    LOOP=$!
    s=$(set_rate "$port")
    kill "$LOOP" 2>/dev/null || true; wait "$LOOP" 2>/dev/null || true; LOOP=""
    wait_bgsave "$port"
    after=$(field "$port" rdb_saves)
    echo "round $r $name: quiet $q SET/s, BGSAVE loop $s SET/s ($((after - before)) saves)" >&2
    QUIET[$name]=$(python3 -c "print(max(${QUIET[$name]:-0}, $q))")
    SAVING[$name]=$(python3 -c "print(max(${SAVING[$name]:-0}, $s))")
    SAVES[$name]=$((after - before))
  done
done
for name in ferredis redis; do
  python3 -c "print(f'$name: quiet {${QUIET[$name]}:.0f} SET/s, BGSAVE loop {${SAVING[$name]}:.0f} SET/s, ratio {${SAVING[$name]} / ${QUIET[$name]}:.2f}')"
done
