#!/usr/bin/env bash
# PUBLISH fan-out: messages per second delivered to N subscribers of one channel, ferredis beside redis-server
# (examples/pubsub_fanout.rs drives both the same way). Short by default; the ratio is the result.
#
#   bench/pubsub.sh [--subscribers N] [--messages M] [--size BYTES]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

SUBSCRIBERS=50
MESSAGES=20000
SIZE=64
while [ $# -gt 0 ]; do
  case "$1" in
    --subscribers) SUBSCRIBERS="$2"; shift 2 ;;
    --messages) MESSAGES="$2"; shift 2 ;;
    --size) SIZE="$2"; shift 2 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

require_tools redis-server redis-cli python3

echo "building ferredis and the load generator (release)..." >&2
cargo build --release --quiet --bin ferredis --example pubsub_fanout


FERREDIS_PORT=$(free_port); REDIS_PORT=$(free_port)
./target/release/ferredis --port "$FERREDIS_PORT" --save "" --loglevel warning >/dev/null 2>&1 &
FERREDIS_PID=$!
start_redis "$REDIS_PORT"
REDIS_PID=$!
trap 'kill $FERREDIS_PID $REDIS_PID 2>/dev/null || true' EXIT
wait_port "$FERREDIS_PORT"; wait_port "$REDIS_PORT"

ARGS=(--subscribers "$SUBSCRIBERS" --messages "$MESSAGES" --size "$SIZE")
for name in redis-server ferredis; do
  port=$REDIS_PORT; [ "$name" = ferredis ] && port=$FERREDIS_PORT
  printf '%-13s ' "$name"
  ./target/release/examples/pubsub_fanout --port "$port" "${ARGS[@]}"
done
