# Shared by run.sh, baseline.sh and run-normal.sh: where the suite comes from, the scratch tree it runs in,
# free ports, and starting/stopping the server under test. Sourced, not run.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/redis-suite"
# Everything downloaded or generated lives under target/, so nothing of it is ever committed.
CACHE="${REDIS_SUITE_CACHE:-$ROOT/target/redis-suite}"
REDIS_VERSION=7.0.15

# Prints the directory of Redis 7.0.15's source tree, fetching Debian's source package on first use.
# REDIS_SUITE_SRC points at an already unpacked tree (a developer machine) and skips the download.
suite_source() {
  if [ -n "${REDIS_SUITE_SRC:-}" ]; then
    echo "$REDIS_SUITE_SRC"
    return
  fi
  local src="$CACHE/src/redis-$REDIS_VERSION"
  if [ ! -f "$src/tests/test_helper.tcl" ]; then
    echo "--- fetching Redis $REDIS_VERSION's test suite (Debian source package) into $CACHE/src" >&2
    local sources=/etc/apt/sources.list.d/debian.sources
    if [ -f "$sources" ] && ! grep -q '^Types:.*deb-src' "$sources"; then
      sed -i 's/^Types: deb$/Types: deb deb-src/' "$sources"
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq dpkg-dev tcl >/dev/null
    rm -rf "$CACHE/src" && mkdir -p "$CACHE/src"
    # The source of the installed redis-server when there is one (its suite matches the reference server),
    # otherwise the newest Debian has.
    local version
    version="$(dpkg-query -W -f='${Version}' redis-server 2>/dev/null || true)"
    (cd "$CACHE/src" && apt-get source -qq "redis${version:+=$version}" >&2)
    if [ ! -f "$src/tests/test_helper.tcl" ]; then
      echo "could not obtain redis-$REDIS_VERSION's source package" >&2
      exit 2
    fi
  fi
  echo "$src"
}

# Copies the suite (tests/ and runtest) to a fresh scratch tree $1, with src/ holding the programs the suite
# starts: src/redis-server is $2 (the server under test), the other tools are the installed Redis ones.
make_scratch() {
  local dest="$1" server="$2" src
  src="$(suite_source)"
  rm -rf "$dest" && mkdir -p "$dest/src"
  cp -r "$src/tests" "$src/runtest" "$dest/"
  ln -s "$server" "$dest/src/redis-server"
  local tool
  for tool in redis-cli redis-benchmark redis-check-aof redis-check-rdb redis-sentinel; do
    if command -v "$tool" >/dev/null 2>&1; then
      ln -s "$(command -v "$tool")" "$dest/src/$tool"
    fi
  done
}

# `--tls` runs: checks that Tcl has its `tls` package (Debian's tcl-tls) and gives scratch tree $1 the suite's
# test certificates in tests/tls, generated once by Redis's utils/gen-test-certs.sh and kept under $CACHE/tls.
tls_scratch() {
  if ! echo 'puts [package require tls]' | tclsh8.6 >/dev/null 2>&1; then
    echo "--tls needs Tcl's tls package (apt-get install tcl-tls)" >&2
    exit 2
  fi
  local certs="$CACHE/tls" src
  if [ ! -f "$certs/tests/tls/redis.dh" ]; then
    src="$(suite_source)"
    echo "--- generating the suite's test certificates into $certs" >&2
    rm -rf "$certs" && mkdir -p "$certs"
    (cd "$certs" && bash "$src/utils/gen-test-certs.sh") >"$CACHE/tls-certs.log" 2>&1
  fi
  cp -r "$certs/tests/tls" "$1/tests/"
}

# A TCP port nobody listens on, drawn at random so parallel runs rarely collide, below Linux's ephemeral range
# (32768-60999), where a client connection's local port cannot be seen by a probe but still blocks a bind.
free_port() {
  local p
  while :; do
    p=$((30000 + RANDOM % 2700))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
}

# `--baseport B --portcount 100` for runtest: its test server listens just below B and normal mode's servers
# from B up. Redis's default (21111) is shared by every suite run on the machine, and two runs at once collide;
# a random block in 12000-19999 (ports +10000 must be free too) rarely does.
suite_ports() {
  echo "--baseport $((12000 + (RANDOM % 79) * 100 + 40)) --portcount 60"
}

# Waits up to 30 s (a loaded CI machine can be slow) for a server on port $1 to answer PING; gives up at once
# if process $2 (when given) has exited.
wait_ping() {
  local i
  for i in $(seq 300); do
    if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then
      return 1
    fi
    if [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ]; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# The program behind `--server ferredis|redis`.
server_binary() {
  case "$1" in
    ferredis) ferredis_binary ;;
    redis) command -v redis-server ;;
    *) echo "--server is ferredis or redis" >&2; exit 2 ;;
  esac
}

# The release binary, built once (CI builds it before calling us; a local run builds it here).
ferredis_binary() {
  if [ -z "${FERREDIS_BIN:-}" ]; then
    (cd "$ROOT" && cargo build --release -q) >&2
    FERREDIS_BIN="$ROOT/target/release/ferredis"
  fi
  echo "$FERREDIS_BIN"
}
