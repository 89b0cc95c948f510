//! MIGRATE between servers: the same scenario runs with every pairing of ferredis and redis-server as source and
//! target, and every pairing must answer exactly what redis-server → redis-server answers (the payloads are
//! Redis's DUMP format both ways).
mod common;

use common::{free_port, Server};

/// The replies of one MIGRATE session from `src` to `dst` (and to `locked`, a target with `requirepass pw`).
fn scenario(src: &Server, dst: &Server, locked: &Server) -> Vec<String> {
    let (mut s, mut d) = (src.client(), dst.client());
    let (host, port, locked_port) = ("127.0.0.1", dst.port.to_string(), locked.port.to_string());
    let mut out = Vec::new();
    let mut log = |reply: String| out.push(reply);
    s.cmd(&["flushall"]);
    d.cmd(&["flushall"]);
    let mut l = locked.client();
    l.cmd(&["auth", "pw"]);
    l.cmd(&["flushall"]);
    s.cmd(&["set", "str", "value", "PX", "100000"]);
    s.cmd(&["rpush", "list", "a", "b", "c"]);
    s.cmd(&["hset", "hash", "f", "v"]);
    s.cmd(&["zadd", "zset", "1", "m"]);
    // One key, with its TTL; the source loses it.
    log(s.cmd(&["migrate", host, &port, "str", "9", "5000"]));
    log(s.cmd(&["exists", "str"]));
    d.cmd(&["select", "9"]);
    log(d.cmd(&["get", "str"]));
    let ttl: i64 = d.cmd(&["pttl", "str"])[1..].trim().parse().unwrap_or(-3);
    log(format!("ttl kept: {}", (90_000..=100_000).contains(&ttl)));
    // Nothing to move; then an existing target key, without and with REPLACE; COPY keeps the source's key.
    log(s.cmd(&["migrate", host, &port, "nosuchkey", "9", "5000"]));
    s.cmd(&["set", "str", "again"]);
    log(s.cmd(&["migrate", host, &port, "str", "9", "5000"]));
    log(s.cmd(&["exists", "str"]));
    log(s.cmd(&[
        "migrate", host, &port, "str", "9", "5000", "REPLACE", "COPY",
    ]));
    log(s.cmd(&["exists", "str"]));
    log(d.cmd(&["get", "str"]));
    // Several keys at once, some missing; the types arrive intact.
    log(s.cmd(&[
        "migrate", host, &port, "", "9", "5000", "KEYS", "list", "gone", "hash", "zset",
    ]));
    log(s.cmd(&["dbsize"]));
    log(d.cmd(&["lrange", "list", "0", "-1"]));
    log(d.cmd(&["hgetall", "hash"]));
    log(d.cmd(&["zrange", "zset", "0", "-1", "WITHSCORES"]));
    // Errors: argument checks, authentication, an unreachable target.
    s.cmd(&["set", "k", "v"]);
    log(s.cmd(&["migrate", host, &port, "k", "9", "5000", "KEYS", "k"]));
    log(s.cmd(&["migrate", host, &port, "k", "9", "5000", "bogus"]));
    log(s.cmd(&["migrate", host, &port, "k", "x", "5000"]));
    log(s.cmd(&["migrate", host, &port, "k", "9", "5000", "AUTH"]));
    log(s.cmd(&["migrate", host, &locked_port, "k", "0", "5000"]));
    log(s.cmd(&[
        "migrate",
        host,
        &locked_port,
        "k",
        "0",
        "5000",
        "AUTH",
        "wrong",
    ]));
    log(s.cmd(&[
        "migrate",
        host,
        &locked_port,
        "k",
        "0",
        "5000",
        "AUTH2",
        "default",
        "pw",
    ]));
    log(s.cmd(&["exists", "k"]));
    s.cmd(&["set", "k", "v"]);
    let closed = free_port().to_string();
    log(s.cmd(&["migrate", host, &closed, "k", "0", "1000"]));
    log(s.cmd(&["exists", "k"]));
    out
}

/// Two servers and a third that requires a password (`pw`), all started by `start`.
fn trio(start: impl Fn(&[&str]) -> Option<Server>) -> Option<(Server, Server, Server)> {
    Some((start(&[])?, start(&[])?, start(&["--requirepass", "pw"])?))
}

#[test]
fn migrate_matches_redis_in_every_pairing() {
    let Some((r1, r2, r_locked)) = trio(Server::start_redis_with) else {
        return;
    };
    let expected = scenario(&r1, &r2, &r_locked);
    assert!(expected[0] == "+OK\r\n", "{expected:?}");
    let (f1, f2, f_locked) = trio(|args| Some(Server::start_with(args))).expect("ferredis starts");
    assert_eq!(
        scenario(&f1, &f2, &f_locked),
        expected,
        "ferredis -> ferredis"
    );
    assert_eq!(
        scenario(&f1, &r2, &r_locked),
        expected,
        "ferredis -> redis-server"
    );
    assert_eq!(
        scenario(&r1, &f2, &f_locked),
        expected,
        "redis-server -> ferredis"
    );
}

/// A target that answers nothing within the timeout: IOERR, the key stays; the cached connection is dropped and
/// INFO counts the cache.
#[test]
fn a_silent_target_times_out_and_keeps_the_key() {
    let src = Server::start();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port().to_string();
    let mut s = src.client();
    s.cmd(&["set", "k", "v"]);
    let started = std::time::Instant::now();
    assert_eq!(
        s.cmd(&["migrate", "127.0.0.1", &port, "k", "0", "300"]),
        "-IOERR error or timeout reading to target instance\r\n"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    assert_eq!(s.cmd(&["exists", "k"]), ":1\r\n");
    let info = s.cmd(&["info", "stats"]);
    assert!(info.contains("migrate_cached_sockets:0\r\n"), "{info}");
}
