"""redis-py against ferredis: the default RESP3 handshake, protocol=2, strings, binary values, server commands."""
import sys

import redis

port = int(sys.argv[1])

# The default connection: redis-py sends HELLO 3 (and CLIENT SETINFO) on connect and gives up if refused.
r = redis.Redis(port=port)
assert r.ping() is True
info = r.client_info()
assert str(info["resp"]) == "3", info
# Redis 7.0 itself has no CLIENT SETINFO; ferredis records it.
assert info.get("lib-name", "redis-py") == "redis-py", info
assert r.set("greeting", "hello") is True
assert r.get("greeting") == b"hello"
assert r.get("missing") is None
# INCR itself (redis-py's incr() sends INCRBY).
assert r.execute_command("INCR", "counter") == 1
assert r.set("counter", 41) is True
assert r.execute_command("INCR", "counter") == 42
assert r.exists("greeting", "counter", "missing") == 2
assert r.delete("greeting", "missing") == 1

# Binary-safe keys and values: every byte value, CR/LF and NUL included.
blob = bytes(range(256)) * 4
assert r.set(b"bin\x00\r\nkey", blob) is True
assert r.get(b"bin\x00\r\nkey") == blob

# Server commands as the client parses them.
assert r.config_get("maxmemory") == {"maxmemory": "0"} or r.config_get("maxmemory") == {b"maxmemory": b"0"}
server = r.info("server")
assert server["redis_version"].startswith("7.0"), server
assert r.info("keyspace")["db0"]["keys"] >= 2
assert r.client_setname("py-basic") is True
assert r.client_getname() in ("py-basic", b"py-basic")
assert any(c["name"] == "py-basic" for c in r.client_list())
assert isinstance(r.time()[0], int)
assert r.dbsize() >= 2

# protocol=2, and text decoding.
r2 = redis.Redis(port=port, protocol=2, decode_responses=True)
assert r2.ping() is True
assert r2.client_info()["resp"] == "2"
assert r2.get("counter") == "42"
assert r2.set("text", "héllo") is True
assert r2.get("text") == "héllo"
assert r2.config_get("hz") == {"hz": "10"}
hello = r.execute_command("HELLO", "3")
assert hello[b"proto"] == 3 and hello[b"version"].startswith(b"7.0"), hello

# Errors come back as exceptions with Redis's text.
try:
    r.execute_command("NOSUCHCOMMAND", "x")
except redis.ResponseError as e:
    assert str(e).startswith("unknown command 'NOSUCHCOMMAND'"), str(e)
else:
    raise AssertionError("no error for an unknown command")
print("basic: ok")
