#!/usr/bin/env bash
# PUBLISH fan-out: messages per second delivered to N subscribers of one channel, ferredis beside redis-server
# (examples/pubsub_fanout.rs drives both the same way). Short by default; the ratio is the result.
#
#   bench/pubsub.sh [--subscribers N] [--messages M] [--size BYTES]
set -euo pipefail
cd "$(dirname "$0")/.."

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

for tool in redis-server redis-cli python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool is required" >&2; exit 1; }
done

echo "building ferredis and the load generator (release)..." >&2
cargo build --release --quiet --bin ferredis --example pubsub_fanout

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
  for _ in $(seq 1 100); do
    redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "server on port $1 did not start" >&2
  return 1
}

FERREDIS_PORT=$(free_port); REDIS_PORT=$(free_port)
./target/release/ferredis --port "$FERREDIS_PORT" --loglevel warning >/dev/null 2>&1 &
FERREDIS_PID=$!
redis-server --port "$REDIS_PORT" --save '' --appendonly no --bind 127.0.0.1 --loglevel warning >/dev/null 2>&1 &
REDIS_PID=$!
trap 'kill $FERREDIS_PID $REDIS_PID 2>/dev/null || true' EXIT
wait_port "$FERREDIS_PORT"; wait_port "$REDIS_PORT"

ARGS=(--subscribers "$SUBSCRIBERS" --messages "$MESSAGES" --size "$SIZE")
for name in redis-server ferredis; do
  port=$REDIS_PORT; [ "$name" = ferredis ] && port=$FERREDIS_PORT
  printf '%-13s ' "$name"
  ./target/release/examples/pubsub_fanout --port "$port" "${ARGS[@]}"
done
