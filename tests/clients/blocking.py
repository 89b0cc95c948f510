"""redis-py blocking pops: BLPOP served by a push from another thread; timeouts return None."""
import sys
import threading
import time

import redis

port = int(sys.argv[1])
r = redis.Redis(port=port)
r.delete("queue")
assert r.blpop("queue", timeout=0.1) is None


def pusher():
    time.sleep(0.2)
    redis.Redis(port=port).rpush("queue", "job-1")


t = threading.Thread(target=pusher)
t.start()
start = time.time()
assert r.blpop("queue", timeout=5) == (b"queue", b"job-1")
assert time.time() - start < 4
t.join()
print("blocking: ok")
