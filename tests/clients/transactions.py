"""redis-py transactions: pipeline(transaction=True), WATCH with a conflicting writer, transaction()."""
import sys

import redis

port = int(sys.argv[1])
r = redis.Redis(port=port)
other = redis.Redis(port=port)
r.set("balance", 100)

p = r.pipeline()
p.incrby("balance", 5)
p.get("balance")
assert p.execute() == [105, b"105"]

# WATCH: a write by another client between WATCH and EXEC aborts the transaction.
with r.pipeline() as p:
    p.watch("balance")
    current = int(p.get("balance"))
    other.set("balance", 0)
    p.multi()
    p.set("balance", current + 1)
    try:
        p.execute()
    except redis.WatchError:
        pass
    else:
        raise AssertionError("EXEC ran despite a concurrent write")
assert r.get("balance") == b"0"

# transaction() retries until it wins.
def add_ten(pipe):
    value = int(pipe.get("balance"))
    pipe.multi()
    pipe.set("balance", value + 10)

r.transaction(add_ten, "balance")
assert r.get("balance") == b"10"
print("transactions: ok")
