"""redis-py with a password: CONFIG SET requirepass, then HELLO 3 AUTH (default) and AUTH (protocol=2)."""
import sys

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

port = int(sys.argv[1])
admin = redis.Redis(port=port)
assert admin.config_set("requirepass", "s3cret") is True
try:
    for protocol in (3, 2):
        r = redis.Redis(port=port, password="s3cret", protocol=protocol)
        assert r.ping() is True
        assert str(r.client_info()["resp"]) == str(protocol)
        # No retries: a refused password is final.
        once = Retry(NoBackoff(), 0)
        bad_clients = (
            redis.Redis(port=port, password="wrong", protocol=protocol, retry=once),
            redis.Redis(port=port, protocol=protocol, retry=once),
        )
        for bad in bad_clients:
            try:
                bad.ping()
            except redis.AuthenticationError:
                pass
            else:
                raise AssertionError("connected without the right password")
    # The connection that set the password stays authenticated, as in Redis.
    assert admin.ping() is True
finally:
    admin.config_set("requirepass", "")
print("auth: ok")
