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

# The reference server, persistence off, on loopback; arguments after the port are passed on.
start_redis() {
  local port=$1; shift
  redis-server --port "$port" --save '' --appendonly no --bind 127.0.0.1 --loglevel warning "$@" >/dev/null 2>&1 &
}

# A CA and a server certificate for localhost in directory $1 (ca.crt, server.crt, server.key), for the TLS runs.
make_tls_certs() {
  local d=$1
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 -subj "/CN=bench CA" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$d/ext.cnf"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
    -out "$d/server.crt" -days 2 -extfile "$d/ext.cnf" 2>/dev/null
}

# A RESP3 client on port $1 that tracks every key (CLIENT TRACKING on BCAST) and reads its invalidations until
# killed; in the background.
start_tracker() {
  python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"HELLO 3\r\nCLIENT TRACKING on BCAST\r\n")
while s.recv(1 << 16):
    pass
' "$1" &
}

# Server arguments for TLS on port $1 with the certificates of directory $2 (no client certificates asked).
tls_args() {
  echo "--tls-port $1 --tls-cert-file $2/server.crt --tls-key-file $2/server.key --tls-ca-cert-file $2/ca.crt --tls-auth-clients no"
}
