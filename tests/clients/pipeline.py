"""redis-py pipelines (without a transaction): many commands in one write, replies in order, errors in place."""
import sys

import redis

port = int(sys.argv[1])
for protocol in (3, 2):
    r = redis.Redis(port=port, protocol=protocol)
    p = r.pipeline(transaction=False)
    for i in range(1000):
        p.set(f"p{protocol}:{i}", i)
    for i in range(1000):
        p.execute_command("INCR", f"p{protocol}:{i}")
    results = p.execute()
    assert results[:1000] == [True] * 1000
    assert results[1000:] == list(range(1, 1001)), results[1000:1010]
    p = r.pipeline(transaction=False)
    p.get(f"p{protocol}:999")
    p.execute_command("NOSUCHCOMMAND")
    p.get("missing")
    got = p.execute(raise_on_error=False)
    assert got[0] == b"1000", got
    assert isinstance(got[1], redis.ResponseError), got
    assert got[2] is None, got
print("pipeline: ok")
