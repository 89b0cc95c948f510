#!/usr/bin/env bash
# Persistence figures, ferredis beside redis-server 7.0 on the same data (default 1,000,000 keys):
#   - SAVE time and load-at-start-up time (the "DB loaded from disk" log line) and the file size;
#   - SET/GET throughput (redis-benchmark) without a save, and with BGSAVE running in a loop;
#   - the peak extra memory of a BGSAVE: ferredis has no child, so its RSS above the level before the save;
#     redis-server's forked child shares pages, so its copy-on-write size (INFO rdb_last_cow_size) plus any
#     growth of the parent.
#
#   bench/persist.sh [--keys N] [--requests N] [--clients N] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
KEYS=1000000
REQUESTS=200000
CLIENTS=50
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) KEYS="$2"; shift 2 ;;
    --requests) REQUESTS="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
require_tools redis-server redis-cli redis-benchmark python3
[ "$BUILD" = 1 ] && cargo build --release --quiet --bin ferredis

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
field() { redis-cli -p "$1" info persistence | tr -d '\r' | awk -F: -v k="$2" '$1 == k {print $2}'; }
wait_bgsave() { while [ "$(field "$1" rdb_bgsave_in_progress)" = 1 ]; do sleep 0.01; done; }
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.3f}')"; }

PIDS=()
DIRS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for d in "${DIRS[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT

# start NAME PORT DIR: a server with its files in DIR, no save points, DEBUG allowed; prints its pid.
start() {
  local args=(--port "$2" --dir "$3" --save '' --logfile "$3/log" --enable-debug-command yes)
  if [ "$1" = ferredis ]; then
    ./target/release/ferredis "${args[@]}" >/dev/null 2>&1 &
  else
    redis-server "${args[@]}" --appendonly no --bind 127.0.0.1 >/dev/null 2>&1 &
  fi
  echo $!
}

# bench PORT TESTS: requests per second of each test, "SET=... GET=...".
bench() {
  redis-benchmark -p "$1" -t "$2" -n "$REQUESTS" -r "$KEYS" -c "$CLIENTS" -q 2>/dev/null | tr '\r' '\n' |
    awk -F'[: ]+' '/requests per second/ {printf "%s=%s ", $1, $2}'
}

# The peak RSS (kB) of PID while a BGSAVE runs on PORT.
bgsave_peak() {
  local peak=0 r
  redis-cli -p "$1" bgsave >/dev/null
  while [ "$(field "$1" rdb_bgsave_in_progress)" = 1 ]; do
    r=$(rss_kb "$2"); [ "$r" -gt "$peak" ] && peak=$r
    sleep 0.005
  done
  echo "$peak"
}

# best_of PORT TESTS: the better of two runs of each test (the machine may be shared).
best_of() {
  python3 - "$(bench "$1" "$2")" "$(bench "$1" "$2")" <<'PY'
import sys
best = {}
for run in sys.argv[1:]:
    for item in run.split():
        k, v = item.split("=")
        best[k] = max(best.get(k, 0.0), float(v))
print(" ".join(f"{k}={v:.0f}" for k, v in best.items()))
PY
}

for name in ferredis redis-server; do
  dir=$(mktemp -d); DIRS+=("$dir")
  port=$(free_port)
  pid=$(start "$name" "$port" "$dir"); PIDS+=("$pid")
  wait_port "$port"
  redis-cli -p "$port" debug populate "$KEYS" >/dev/null
  t0=$(now); redis-cli -p "$port" save >/dev/null; t1=$(now)
  save_s=$(secs "$t0" "$t1")
  size=$(stat -c %s "$dir/dump.rdb")
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  # Load at start-up: the server's own "DB loaded from disk: N seconds" line.
  : > "$dir/log"
  pid=$(start "$name" "$port" "$dir"); PIDS+=("$pid")
  wait_port "$port"
  while [ "$(field "$port" loading)" = 1 ]; do sleep 0.05; done
  load_s=$(grep -o 'DB loaded from disk: [0-9.]* seconds' "$dir/log" | awk '{print $5}')
  loaded=$(redis-cli -p "$port" dbsize)
  base=$(rss_kb "$pid")
  peak=$(bgsave_peak "$port" "$pid")
  cow=$(field "$port" rdb_last_cow_size)
  extra_mb=$(python3 -c "print(f'{(max($peak - $base, 0) * 1024 + $cow) / 1048576:.1f}')")
  quiet=$(best_of "$port" set,get)
  # BGSAVE in a loop while the benchmark runs.
  ( while true; do redis-cli -p "$port" bgsave >/dev/null 2>&1; wait_bgsave "$port"; done ) &
  loop=$!
  saving=$(best_of "$port" set,get)
  kill "$loop" 2>/dev/null || true; wait "$loop" 2>/dev/null || true
  wait_bgsave "$port"
  saves=$(field "$port" rdb_saves)
  snapshot=$(grep -o 'Snapshot of .*' "$dir/log" | tail -1 || true)
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  echo "$name: keys=$KEYS file=$((size / 1048576))MB save=${save_s}s load=${load_s}s (keys loaded: $loaded)"
  echo "$name:   bgsave peak extra memory=${extra_mb}MB (rss before ${base}kB, peak ${peak}kB, cow ${cow}B)"
  echo "$name:   SET/GET req/s, no save:     $quiet"
  echo "$name:   SET/GET req/s, BGSAVE loop: $saving (rdb_saves=$saves)"
  [ -n "$snapshot" ] && echo "$name:   last $snapshot"
done
