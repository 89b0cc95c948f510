#!/usr/bin/env bash
# Loads the same keys (default 1,000,000 keys with 16-byte values) into ferredis and redis-server and reports
# the resident memory each needs per key, and the ratio.
#
#   bench/memory.sh [--keys N] [--value-size N]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
KEYS=1000000
SIZE=16
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) KEYS="$2"; shift 2 ;;
    --value-size) SIZE="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
require_tools redis-server redis-cli python3
cargo build --release --quiet --bin ferredis

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

FP=$(free_port); RP=$(free_port)
./target/release/ferredis --port "$FP" --save "" --loglevel warning >/dev/null 2>&1 & FPID=$!
start_redis "$RP"; RPID=$!
trap 'kill $FPID $RPID 2>/dev/null || true' EXIT
wait_port "$FP"; wait_port "$RP"

# The same RESP stream for both: SET key:<n> <SIZE bytes>.
DATA=$(mktemp)
python3 - "$KEYS" "$SIZE" > "$DATA" <<'PY'
import sys
n, size = int(sys.argv[1]), int(sys.argv[2])
out = sys.stdout.buffer
for i in range(n):
    k = b"key:%d" % i
    v = (b"%d" % i).rjust(size, b"x")[:size]
    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
PY

report() {
  local name=$1 port=$2 pid=$3
  local before after
  before=$(rss_kb "$pid")
  redis-cli -p "$port" --pipe < "$DATA" >/dev/null
  sleep 1
  after=$(rss_kb "$pid")
  local keys
  keys=$(redis-cli -p "$port" dbsize)
  echo "$name $before $after $keys"
}
F=$(report ferredis "$FP" "$FPID")
R=$(report redis-server "$RP" "$RPID")
rm -f "$DATA"
python3 - "$F" "$R" <<'PY'
import sys
rows = [a.split() for a in sys.argv[1:]]
print("| server | keys | RSS before (KiB) | RSS after (KiB) | bytes per key |")
print("|---|---:|---:|---:|---:|")
per = {}
for name, before, after, keys in rows:
    per[name] = (int(after) - int(before)) * 1024 / max(int(keys), 1)
    print(f"| {name} | {keys} | {before} | {after} | {per[name]:.1f} |")
print(f"\nferredis/redis memory per key: {per['ferredis'] / per['redis-server']:.2f}")
PY
