# Shared by the bench scripts: ports, start-up waits, tools.

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

require_tools() {
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "error: $tool is required. On Debian/Ubuntu: apt-get install -y redis-server redis-tools python3" >&2
      exit 1
    fi
  done
}

# The reference server, persistence off, on loopback.
start_redis() {
  redis-server --port "$1" --save '' --appendonly no --bind 127.0.0.1 --loglevel warning >/dev/null 2>&1 &
}
