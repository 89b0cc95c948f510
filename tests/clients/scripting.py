"""redis-py scripting: Lock (acquire, extend, release, contention between threads) and register_script."""
import sys
import threading
import time

import redis
from redis.exceptions import LockError, NoScriptError, ResponseError

port = int(sys.argv[1])
r = redis.Redis(port=port)

# register_script: EVALSHA first, EVAL on NOSCRIPT, then EVALSHA from the cache.
r.script_flush()
incr_by = r.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
assert incr_by(keys=["counter"], args=[5]) == 5
assert incr_by(keys=["counter"], args=[2]) == 7
assert r.script_exists(incr_by.sha) == [True]
r.script_flush()
assert r.script_exists(incr_by.sha) == [False]
assert incr_by(keys=["counter"], args=[1]) == 8
try:
    r.evalsha("0" * 40, 0)
except NoScriptError:
    pass
else:
    raise AssertionError("EVALSHA of an unknown script succeeded")
try:
    r.eval("return redis.call('INCR', KEYS[1])", 1, "greeting") if r.set("greeting", "hi") else None
except ResponseError as e:
    assert "not an integer" in str(e), e
else:
    raise AssertionError("a failing redis.call did not raise")
assert r.eval("return {1, 'two', {3}}", 0) == [1, b"two", [3]]

# Lock: acquire, extend, release; a second holder must wait; a stale token cannot release.
lock = r.lock("resource", timeout=5)
assert lock.acquire(blocking=False)
assert not r.lock("resource", timeout=5).acquire(blocking=False)
assert lock.extend(10)
assert 5000 < r.pttl("resource") <= 15000, r.pttl("resource")
assert lock.reacquire()
lock.release()
try:
    lock.release()
except LockError:
    pass
else:
    raise AssertionError("releasing a lock not held succeeded")

# Contention: threads increment a plain counter only while holding the lock; no update may be lost.
r.set("shared", 0)
errors = []


def worker():
    try:
        client = redis.Redis(port=port)
        for _ in range(25):
            with client.lock("counter-lock", timeout=5, blocking_timeout=10, sleep=0.001):
                value = int(client.get("shared"))
                time.sleep(0.0005)
                client.set("shared", value + 1)
    except Exception as e:  # noqa: BLE001 - reported below
        errors.append(e)


threads = [threading.Thread(target=worker) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert not errors, errors
assert int(r.get("shared")) == 100, r.get("shared")
print("ok")
