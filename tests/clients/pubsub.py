"""redis-py pub/sub: subscribe confirmations, messages and pattern messages through get_message (RESP3 push
frames by default, RESP2 arrays with protocol=2)."""
import sys
import time

import redis

port = int(sys.argv[1])


def next_message(p, timeout=2.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = p.get_message(timeout=0.1)
        if m is not None:
            return m
    raise AssertionError("no message")


for protocol in (3, 2):
    r = redis.Redis(port=port, protocol=protocol)
    p = r.pubsub()
    p.subscribe("news")
    assert next_message(p)["type"] == "subscribe"
    p.psubscribe("n*")
    assert next_message(p)["type"] == "psubscribe"
    assert r.publish("news", "hello") == 2
    m = next_message(p)
    assert m["type"] == "message" and m["data"] == b"hello", m
    m = next_message(p)
    assert m["type"] == "pmessage" and m["pattern"] == b"n*", m
    p.unsubscribe("news")
    assert next_message(p)["type"] == "unsubscribe"
    p.close()
print("pubsub: ok")
