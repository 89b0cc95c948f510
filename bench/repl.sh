#!/usr/bin/env bash
# Replication figures, ferredis beside redis-server, each as the master of a redis-server replica:
#  - full sync of KEYS keys (DEBUG POPULATE): seconds from REPLICAOF to master_link_status:up;
#  - SET throughput on the master (redis-benchmark -c 50) while that sync runs;
#  - replication lag under redis-benchmark -c 50: how long a probe SET takes to be readable on the replica.
#
#   bench/repl.sh [--keys N] [--rounds N]      (needs target/release/ferredis)
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS=1000000
ROUNDS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) KEYS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
FERREDIS="$PWD/target/release/ferredis"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start() { # name binary port
  mkdir -p "$work/$1"
  (cd "$work/$1" && exec "$2" --port "$3" --save "" --enable-debug-command yes --repl-diskless-sync-delay 0 \
    >"$work/$1.log" 2>&1) &
  pids+=($!)
  for _ in $(seq 100); do redis-cli -p "$3" ping >/dev/null 2>&1 && return; sleep 0.05; done
  echo "$1 did not start" >&2; exit 1
}
field() { redis-cli -p "$1" info "$2" | tr -d '\r' | sed -n "s/^$3://p"; }

one_round() { # master-kind binary
  local mp rp t0 t1 bench
  mp=$(port); rp=$(port)
  start "m-$1-$RANDOM" "$2" "$mp"
  start "r-$1-$RANDOM" /usr/bin/redis-server "$rp"
  redis-cli -p "$mp" debug populate "$KEYS" >/dev/null
  redis-benchmark -p "$mp" -t set -c 50 -n 300000 -r 100000 -q >"$work/bench.txt" 2>/dev/null &
  local bp=$!
  t0=$(date +%s.%N)
  redis-cli -p "$rp" replicaof 127.0.0.1 "$mp" >/dev/null
  until [ "$(field "$rp" replication master_link_status)" = up ]; do sleep 0.02; done
  t1=$(date +%s.%N)
  wait "$bp" || true
  bench=$(tr '\r' '\n' <"$work/bench.txt" | grep -o 'SET: [0-9.]*' | tail -1 | cut -d' ' -f2)
  # Lag: while redis-benchmark writes, how long a probe written on the master takes to be readable on the replica
  # (ms, polled with redis-cli, so a few ms is the floor); the largest of 10 probes.
  redis-benchmark -p "$mp" -t set -c 50 -n 300000 -r 100000 -q >/dev/null 2>&1 &
  bp=$!
  sleep 0.5
  local max=0 i p0 t2 ms
  for i in $(seq 10); do
    p0=$(date +%s%N)
    redis-cli -p "$mp" set lagprobe "$i" >/dev/null
    until [ "$(redis-cli -p "$rp" get lagprobe)" = "$i" ]; do :; done
    t2=$(date +%s%N)
    ms=$(( (t2 - p0) / 1000000 ))
    [ "$ms" -gt "$max" ] && max=$ms
    sleep 0.1
  done
  wait "$bp" || true
  printf '%s\t%.2f\t%s\t%s\n' "$1" "$(echo "$t1 - $t0" | bc)" "${bench:-?}" "$max"
  redis-cli -p "$rp" shutdown nosave >/dev/null 2>&1 || true
  redis-cli -p "$mp" shutdown nosave >/dev/null 2>&1 || true
}

printf 'master\tfull sync of %s keys (s)\tSET/s on the master during the sync\treplication lag under redis-benchmark -c 50, max of 10 probes (ms)\n' "$KEYS"
for _ in $(seq "$ROUNDS"); do
  one_round ferredis "$FERREDIS"
  one_round redis-server /usr/bin/redis-server
done
