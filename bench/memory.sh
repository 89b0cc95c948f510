#!/usr/bin/env bash
# Memory per key (or per element) of ferredis beside redis-server, one row per value type: for each row both
# servers start fresh, the same RESP stream is piped into each, and the RSS growth is divided by the number of
# keys (small values) or elements (one big value). Prints a Markdown table with the ratio per row and their
# geometric mean.
#
#   bench/memory.sh [--keys N] [--big N] [--rows a,b,...] [--bin PATH]
#
# Rows: string hash set_int set_str zset list big_hash big_zset big_list big_list_compressed (default: all). --keys (default 200000)
# small values, --big (default 1000000) elements of the big ones. --bin: the ferredis binary to measure (default:
# target/release/ferredis, built first).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
KEYS=200000
BIG=1000000
ROWS="string,hash,set_int,set_str,zset,list,big_hash,big_zset,big_list,big_list_compressed"
BIN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) KEYS="$2"; shift 2 ;;
    --big) BIG="$2"; shift 2 ;;
    --rows) ROWS="$2"; shift 2 ;;
    --bin) BIN="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
require_tools redis-server redis-cli python3
if [ -z "$BIN" ]; then
  cargo build --release --quiet --bin ferredis
  BIN=./target/release/ferredis
fi

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# The RESP stream of one row on stdout; its label and element count on stderr ("label|count").
gen() {
  python3 - "$1" "$KEYS" "$BIG" <<'PY'
import sys
row, keys, big = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = sys.stdout.buffer

def cmd(*args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    out.write(b"".join(parts))

def small(label, make):
    for i in range(keys):
        cmd(*make(b"key:%d" % i, i))
    sys.stderr.write(f"{label}|{keys}\n")

def large(label, name, make, per=100):
    for start in range(0, big, per):
        cmd(*make(b"big", range(start, min(start + per, big))))
    sys.stderr.write(f"{label}|{big}\n")

if row == "string":
    small("string, 16 bytes", lambda k, i: (b"SET", k, (b"%d" % i).rjust(16, b"x")))
elif row == "hash":
    small("hash, 10 fields", lambda k, i: [b"HSET", k] + sum(([b"field:%d" % j, b"value:%d" % (i + j)] for j in range(10)), []))
elif row == "set_int":
    small("set of 10 integers", lambda k, i: [b"SADD", k] + [b"%d" % (i * 10 + j) for j in range(10)])
elif row == "set_str":
    small("set of 10 strings", lambda k, i: [b"SADD", k] + [b"member:%d" % (i + j) for j in range(10)])
elif row == "zset":
    small("sorted set, 10 members", lambda k, i: [b"ZADD", k] + sum(([b"%d" % (i + j), b"member:%d" % j] for j in range(10)), []))
elif row == "list":
    small("list, 10 items", lambda k, i: [b"RPUSH", k] + [b"item:%d" % (i + j) for j in range(10)])
elif row == "big_hash":
    large("one hash of N fields (per field)", "big", lambda k, r: [b"HSET", k] + sum(([b"field:%d" % j, b"value:%d" % j] for j in r), []))
elif row == "big_zset":
    large("one sorted set of N members (per member)", "big", lambda k, r: [b"ZADD", k] + sum(([b"%d" % j, b"member:%d" % j] for j in r), []))
elif row == "big_list":
    large("one list of N items (per item)", "big", lambda k, r: [b"RPUSH", k] + [b"item:%d" % j for j in r])
elif row == "big_list_compressed":
    cmd(b"CONFIG", b"SET", b"list-compress-depth", b"1")
    large("one list of N items, list-compress-depth 1 (per item)", "big", lambda k, r: [b"RPUSH", k] + [b"item:%d" % j for j in r])
else:
    sys.exit(f"unknown row {row}")
PY
}

# Starts one server ("ferredis" or "redis"), pipes DATA into it, prints the RSS growth in KiB.
measure() {
  local which=$1 port pid before after
  # Another process may take the port between the probe and the bind: then our server exits, and we retry.
  for _ in 1 2 3; do
    port=$(free_port)
    if [ "$which" = ferredis ]; then
      "$BIN" --port "$port" --save "" --loglevel warning >/dev/null 2>&1 &
    else
      start_redis "$port"
    fi
    pid=$!
    wait_port "$port" && [ "$(redis-cli -p "$port" info server | tr -d '\r' | awk -F: '/^process_id/ {print $2}')" = "$pid" ] && break
    kill "$pid" 2>/dev/null || true
  done
  before=$(rss_kb "$pid")
  redis-cli -p "$port" --pipe < "$DATA" >/dev/null
  redis-cli -p "$port" ping >/dev/null
  after=$(rss_kb "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo $((after - before))
}

DATA=$(mktemp); META=$(mktemp); RESULTS=$(mktemp)
trap 'rm -f "$DATA" "$META" "$RESULTS"' EXIT
for row in ${ROWS//,/ }; do
  gen "$row" > "$DATA" 2> "$META"
  f=$(measure ferredis); r=$(measure redis)
  echo "$(cat "$META")|$f|$r" >> "$RESULTS"
  echo "  $row done" >&2
done
python3 - "$RESULTS" <<'PY'
import math, sys
print("| value per key | ferredis | redis-server | ratio |")
print("|---|---:|---:|---:|")
ratios = []
for line in open(sys.argv[1]):
    label, count, f, r = line.strip().split("|")
    count = int(count)
    label = label.replace("N", f"{count:,}")
    fb, rb = int(f) * 1024 / count, int(r) * 1024 / count
    ratio = fb / rb if rb > 0 else float("nan")
    ratios.append(ratio)
    print(f"| {label} | {fb:,.0f} B | {rb:,.0f} B | {ratio:.2f} |")
good = [x for x in ratios if x > 0 and math.isfinite(x)]
if good:
    print(f"\ngeometric mean of the ratios: {math.exp(sum(map(math.log, good)) / len(good)):.2f}")
PY
