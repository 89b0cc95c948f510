"""redis-py scan_iter: every key exactly as stored, MATCH and COUNT honoured."""
import sys

import redis

port = int(sys.argv[1])
r = redis.Redis(port=port)
p = r.pipeline(transaction=False)
for i in range(2000):
    p.set(f"scan:{i}", i)
p.set("other", 1)
p.execute()
seen = set(r.scan_iter(match="scan:*", count=100))
assert seen == {f"scan:{i}".encode() for i in range(2000)}, len(seen)
assert set(r.scan_iter(match="other")) == {b"other"}
assert len(set(r.scan_iter(count=7))) >= 2001
print("scan_iter: ok")
