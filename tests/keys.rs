//! Generic key commands: every option and error, compared byte for byte with redis-server where the sequence is
//! deterministic; keyspace events; binary-safe keys. Expiry is in `expire.rs`, KEYS/SCAN/RANDOMKEY in `scan.rs`.

mod common;

use std::time::Duration;

use common::{assert_same_as_redis, Client, Server};

#[test]
fn del_unlink_exists_type_match_redis() {
    assert_same_as_redis(&[
        &["MSET", "a", "1", "b", "2", "c", "3"],
        &["EXISTS", "a"],
        &["EXISTS", "a", "a", "b", "nope"],
        &["TYPE", "a"],
        &["TYPE", "nope"],
        &["DEL", "a", "nope", "a"],
        &["EXISTS", "a"],
        &["UNLINK", "b", "c", "d"],
        &["EXISTS", "b", "c"],
        &["DEL"],
        &["UNLINK"],
        &["EXISTS"],
        &["TYPE"],
        &["TYPE", "a", "b"],
        &["TOUCH", "a", "x"],
        &["SET", "x", "1"],
        &["TOUCH", "x", "x", "y"],
        &["TOUCH"],
    ]);
}

#[test]
fn rename_and_renamenx_match_redis() {
    assert_same_as_redis(&[
        &["RENAME", "nope", "x"],
        &["RENAMENX", "nope", "x"],
        &["RENAME", "nope", "nope"],
        &["SET", "a", "1", "EX", "100"],
        &["RENAME", "a", "b"],
        &["EXISTS", "a"],
        &["GET", "b"],
        &["TTL", "b"],
        &["RENAME", "b", "b"],
        &["RENAMENX", "b", "b"],
        &["SET", "c", "3"],
        &["RENAMENX", "b", "c"],
        &["GET", "b"],
        &["RENAMENX", "b", "d"],
        &["TTL", "d"],
        &["SET", "e", "5", "EX", "50"],
        &["RENAME", "c", "e"],
        &["GET", "e"],
        &["TTL", "e"],
        &["RENAME", "a"],
        &["RENAMENX", "a", "b", "c"],
    ]);
}

#[test]
fn copy_move_swapdb_match_redis() {
    assert_same_as_redis(&[
        &["SET", "a", "1", "EX", "100"],
        &["COPY", "a", "b"],
        &["GET", "b"],
        &["TTL", "b"],
        &["COPY", "a", "b"],
        &["SET", "a", "2"],
        &["COPY", "a", "b", "REPLACE"],
        &["GET", "b"],
        &["TTL", "b"],
        &["COPY", "a", "a"],
        &["COPY", "nope", "x"],
        &["COPY", "a", "a", "DB", "1"],
        &["COPY", "a", "b", "DB", "16"],
        &["COPY", "a", "b", "DB", "-1"],
        &["COPY", "a", "b", "DB", "x"],
        &["COPY", "a", "b", "DB", "99999999999"],
        &["COPY", "a", "b", "DB"],
        &["COPY", "a", "b", "FOO"],
        &["COPY", "a", "b", "REPLACE", "REPLACE", "DB", "2", "DB", "3"],
        &["SELECT", "3"],
        &["GET", "b"],
        &["GET", "a"],
        &["SELECT", "0"],
        &["COPY", "a"],
        &["MOVE", "a", "1"],
        &["EXISTS", "a"],
        &["MOVE", "a", "1"],
        &["MOVE", "b", "0"],
        &["MOVE", "b", "16"],
        &["MOVE", "b", "-1"],
        &["MOVE", "b", "x"],
        &["MOVE", "b", "99999999999"],
        &["MOVE", "b", "99999999999999999999"],
        &["COPY", "a", "b", "DB", "99999999999999999999"],
        &["SWAPDB", "99999999999", "0"],
        &["MOVE", "nope", "1"],
        &["SET", "a", "new"],
        &["MOVE", "a", "1"],
        &["SELECT", "1"],
        &["GET", "a"],
        &["SET", "t", "v", "EX", "100"],
        &["MOVE", "t", "2"],
        &["SELECT", "2"],
        &["TTL", "t"],
        &["SWAPDB", "0", "2"],
        &["EXISTS", "t"],
        &["SELECT", "0"],
        &["TTL", "t"],
        &["DBSIZE"],
        &["SWAPDB", "0", "0"],
        &["SWAPDB", "0", "16"],
        &["SWAPDB", "-1", "0"],
        &["SWAPDB", "x", "0"],
        &["SWAPDB", "0", "y"],
        &["SWAPDB", "x", "y"],
        &["SWAPDB", "0"],
        &["MOVE", "a"],
    ]);
}

#[test]
fn flushdb_and_flushall_match_redis() {
    assert_same_as_redis(&[
        &["MSET", "a", "1", "b", "2"],
        &["SELECT", "1"],
        &["SET", "c", "3"],
        &["FLUSHDB"],
        &["DBSIZE"],
        &["SET", "c", "3"],
        &["FLUSHDB", "ASYNC"],
        &["DBSIZE"],
        &["FLUSHDB", "sync"],
        &["FLUSHDB", "FOO"],
        &["FLUSHDB", "ASYNC", "SYNC"],
        &["SET", "c", "3"],
        &["SELECT", "0"],
        &["DBSIZE"],
        &["FLUSHALL", "FOO"],
        &["FLUSHALL"],
        &["DBSIZE"],
        &["SELECT", "1"],
        &["DBSIZE"],
        &["SET", "x", "1"],
        &["FLUSHALL", "ASYNC"],
        &["DBSIZE"],
        &["FLUSHALL", "SYNC"],
        &["FLUSHALL", "SYNC", "x"],
    ]);
}

#[test]
fn object_subcommands_match_redis() {
    let long = "x".repeat(45);
    assert_same_as_redis(&[
        &["SET", "int", "12345"],
        &["SET", "neg", "-12"],
        &["SET", "emb", "hello"],
        &["SET", "raw", &long],
        &["SET", "notint", "012"],
        &["SET", "bigint", "99999999999999999999"],
        &["OBJECT", "ENCODING", "int"],
        &["OBJECT", "ENCODING", "neg"],
        &["OBJECT", "ENCODING", "emb"],
        &["OBJECT", "ENCODING", "raw"],
        &["OBJECT", "ENCODING", "notint"],
        &["OBJECT", "ENCODING", "bigint"],
        &["OBJECT", "ENCODING", "nope"],
        &["OBJECT", "REFCOUNT", "int"],
        &["OBJECT", "REFCOUNT", "emb"],
        &["OBJECT", "REFCOUNT", "nope"],
        &["OBJECT", "IDLETIME", "nope"],
        &["OBJECT", "FREQ", "emb"],
        &["OBJECT", "FREQ", "nope"],
        &["OBJECT", "HELP"],
        &["object", "help"],
        &["OBJECT", "HELP", "x"],
        &["OBJECT"],
        &["OBJECT", "FOO"],
        &["OBJECT", "FOO", "bar"],
        &["OBJECT", "ENCODING"],
        &["OBJECT", "ENCODING", "a", "b"],
    ]);
}

#[test]
fn binary_safe_key_commands() {
    let s = Server::start();
    let mut c = s.client();
    let key: &[u8] = b"a\0b\r\n\xff";
    let other: &[u8] = b"a\0c";
    assert_eq!(c.cmd_bytes(&[b"SET", key, b"v"]), b"+OK\r\n");
    assert_eq!(c.cmd_bytes(&[b"EXISTS", key, b"a"]), b":1\r\n");
    assert_eq!(c.cmd_bytes(&[b"EXPIRE", key, b"100"]), b":1\r\n");
    assert_eq!(c.cmd_bytes(&[b"RENAME", key, other]), b"+OK\r\n");
    assert_eq!(c.cmd_bytes(&[b"TTL", other]), b":100\r\n");
    assert_eq!(c.cmd_bytes(&[b"KEYS", b"a?c"]), b"*1\r\n$3\r\na\0c\r\n");
    assert_eq!(
        c.cmd_bytes(&[b"SCAN", b"0", b"COUNT", b"1000"]),
        b"*2\r\n$1\r\n0\r\n*1\r\n$3\r\na\0c\r\n"
    );
    assert_eq!(c.cmd_bytes(&[b"DEL", other]), b":1\r\n");
}

#[test]
fn object_idletime_and_touch() {
    let s = Server::start();
    let mut c = s.client();
    c.cmd(&["SET", "k", "v"]);
    std::thread::sleep(Duration::from_millis(2100));
    let idle: i64 = c.cmd(&["OBJECT", "IDLETIME", "k"])[1..]
        .trim()
        .parse()
        .unwrap();
    assert!((1..=3).contains(&idle), "{idle}");
    assert_eq!(c.cmd(&["TOUCH", "k", "nope"]), ":1\r\n");
    assert_eq!(c.cmd(&["OBJECT", "IDLETIME", "k"]), ":0\r\n");
}

#[test]
fn swapdb_moves_contents_and_ttls() {
    let s = Server::start();
    let mut c = s.client();
    c.cmd(&["SET", "a", "0", "EX", "100"]);
    c.cmd(&["SELECT", "5"]);
    c.cmd(&["MSET", "b", "5", "c", "5"]);
    assert_eq!(c.cmd(&["SWAPDB", "5", "0"]), "+OK\r\n");
    assert_eq!(c.cmd(&["DBSIZE"]), ":1\r\n");
    assert_eq!(c.cmd(&["TTL", "a"]), ":100\r\n");
    c.cmd(&["SELECT", "0"]);
    assert_eq!(
        c.cmd(&["MGET", "a", "b", "c"]),
        "*3\r\n$-1\r\n$1\r\n5\r\n$1\r\n5\r\n"
    );
}

#[test]
fn key_commands_on_other_types_match_redis() {
    assert_same_as_redis(&[
        &["RPUSH", "l", "a", "b"],
        &["TYPE", "l"],
        &["EXISTS", "l"],
        &["COPY", "l", "l2"],
        &["LRANGE", "l2", "0", "-1"],
        &["RPUSH", "l2", "c"],
        &["LRANGE", "l", "0", "-1"],
        &["RENAME", "l2", "l3"],
        &["TYPE", "l3"],
        &["OBJECT", "ENCODING", "l"],
        &["SCAN", "0", "TYPE", "list", "MATCH", "l"],
        &["SCAN", "0", "TYPE", "LIST", "MATCH", "l3"],
        &["EXPIRE", "l", "100"],
        &["TTL", "l"],
        &["MOVE", "l", "1"],
        &["SELECT", "1"],
        &["TTL", "l"],
        &["DEL", "l"],
    ]);
}

/// Runs `commands` on a server with every keyspace event on (`KEA`) and returns the event messages a
/// PSUBSCRIBE client received, in order.
fn keyspace_events(port: u16, commands: &[&[&str]]) -> Vec<String> {
    let mut c = Client::connect(port);
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]),
        "+OK\r\n"
    );
    let mut sub = Client::connect(port);
    sub.cmd(&["PSUBSCRIBE", "__key*__:*"]);
    for cmd in commands {
        c.cmd(cmd);
    }
    c.cmd(&["SET", "end-marker", "x"]);
    let mut events = Vec::new();
    loop {
        let msg = sub.read_reply();
        let done = msg.contains("__keyevent@0__:set") && msg.contains("end-marker");
        events.push(msg);
        if done {
            return events;
        }
    }
}

#[test]
fn keyspace_events_match_redis() {
    let commands: &[&[&str]] = &[
        &["SET", "k", "v"],
        &["SET", "k", "v", "EX", "100"],
        &["SET", "k", "v", "NX"],
        &["SETEX", "k", "100", "v"],
        &["GETSET", "k", "w"],
        &["MSET", "a", "1", "b", "2"],
        &["MSETNX", "c", "1"],
        &["SETNX", "c", "2"],
        &["APPEND", "k", "x"],
        &["SETRANGE", "k", "1", "yy"],
        &["SETRANGE", "k", "1", ""],
        &["INCR", "a"],
        &["DECR", "a"],
        &["INCRBY", "a", "5"],
        &["DECRBY", "a", "5"],
        &["INCRBYFLOAT", "a", "1.5"],
        &["INCR", "k"],
        &["EXPIRE", "a", "100"],
        &["PEXPIRE", "a", "100000", "NX"],
        &["PERSIST", "a"],
        &["PERSIST", "a"],
        &["GETEX", "a", "EX", "100"],
        &["GETEX", "a", "PERSIST"],
        &["GETEX", "a"],
        &["EXPIRE", "a", "-1"],
        &["GETDEL", "b"],
        &["GETDEL", "b"],
        &["SET", "d", "1"],
        &["DEL", "d", "nope"],
        &["SET", "d", "1"],
        &["UNLINK", "d"],
        &["RENAME", "k", "k2"],
        &["RENAMENX", "k2", "c"],
        &["RENAMENX", "k2", "k3"],
        &["COPY", "k3", "k4"],
        &["COPY", "k3", "k4", "DB", "1"],
        &["MOVE", "k4", "2"],
        &["SET", "e", "1"],
        &["GETEX", "e", "PXAT", "1"],
        &["SET", "e", "1"],
        &["EXPIREAT", "e", "1"],
        &["SWAPDB", "0", "1"],
        &["SWAPDB", "0", "1"],
        &["FLUSHDB"],
    ];
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let got = keyspace_events(ours.port, commands);
    let want = keyspace_events(redis.port, commands);
    assert_eq!(got, want);
}

/// As in Redis, reading or writing a key makes it recently used (OBJECT IDLETIME 0); TYPE, EXISTS, TTL and OBJECT
/// only look at it (Redis's LOOKUP_NOTOUCH), and TOUCH touches.
#[test]
fn reads_and_writes_reset_idle_time_inspection_does_not() {
    let s = Server::start();
    let mut c = s.client();
    assert_eq!(c.cmd(&["SET", "read", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["RPUSH", "written", "a"]), ":1\r\n");
    assert_eq!(c.cmd(&["HSET", "hash", "f", "v"]), ":1\r\n");
    assert_eq!(c.cmd(&["SET", "inspected", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "touched", "v"]), "+OK\r\n");
    // The LRU clock counts whole seconds.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(c.cmd(&["GET", "read"]), "$1\r\nv\r\n");
    assert_eq!(c.cmd(&["RPUSH", "written", "b"]), ":2\r\n");
    assert_eq!(c.cmd(&["HGET", "hash", "f"]), "$1\r\nv\r\n");
    assert_eq!(c.cmd(&["TYPE", "inspected"]), "+string\r\n");
    assert_eq!(c.cmd(&["EXISTS", "inspected"]), ":1\r\n");
    assert_eq!(c.cmd(&["TTL", "inspected"]), ":-1\r\n");
    assert_eq!(
        c.cmd(&["OBJECT", "ENCODING", "inspected"]),
        "$6\r\nembstr\r\n"
    );
    assert_eq!(c.cmd(&["TOUCH", "touched"]), ":1\r\n");
    for key in ["read", "written", "hash", "touched"] {
        assert_eq!(c.cmd(&["OBJECT", "IDLETIME", key]), ":0\r\n", "{key}");
    }
    let idle = c.cmd(&["OBJECT", "IDLETIME", "inspected"]);
    assert!(idle == ":1\r\n" || idle == ":2\r\n", "inspected: {idle:?}");
}

/// Under an LFU policy OBJECT FREQ shows Redis's logarithmic access counter; with `lfu-log-factor 0` every use
/// adds one, so the counts are exact: a new key starts at 5, a new value keeps its key's count, inspection (TYPE,
/// EXISTS, TTL, OBJECT) is not a use, and each command counts as Redis counts it.
#[test]
fn lfu_access_counts_match_redis() {
    let mut commands: Vec<Vec<&str>> = vec![
        vec!["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
        vec!["CONFIG", "SET", "lfu-log-factor", "0"],
    ];
    let script = "set k v|object freq k|get k|get k|object freq k|set k v2|object freq k|exists k|type k|ttl k|\
        object freq k|touch k|object freq k|set k v3 ex 100|object freq k|copy k k2|object freq k2|rename k k3|\
        object freq k3|append k3 x|getset k3 y|setrange k3 0 z|object freq k3|hset h f v|hget h f|hset h f w|\
        object freq h|sadd s a|sadd s b|object freq s|zadd z 1 a|zincrby z 1 a|object freq z|rpush l a|\
        lrange l 0 -1|object freq l|expire k3 100|persist k3|object freq k3|object idletime k3|object freq nokey|\
        config set maxmemory-policy allkeys-lru|object freq l";
    commands.extend(script.split('|').map(|c| c.split_whitespace().collect()));
    let commands: Vec<&[&str]> = commands.iter().map(|c| c.as_slice()).collect();
    common::assert_same_as_redis(&commands);

    let s = Server::start();
    let mut c = s.client();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["CONFIG", "SET", "lfu-log-factor", "0"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["OBJECT", "FREQ", "k"]), ":5\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(c.cmd(&["TYPE", "k"]), "+string\r\n");
    assert_eq!(c.cmd(&["SET", "k", "w"]), "+OK\r\n");
    assert_eq!(c.cmd(&["OBJECT", "FREQ", "k"]), ":7\r\n");
}

/// CLIENT NO-TOUCH (Redis 7.2): the client's commands leave keys' access stamps alone, except TOUCH.
#[test]
fn client_no_touch_leaves_access_counts_alone() {
    let s = Server::start();
    let mut c = s.client();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["CONFIG", "SET", "lfu-log-factor", "0"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["CLIENT", "NO-TOUCH", "ON"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(c.cmd(&["APPEND", "k", "w"]), ":2\r\n");
    assert_eq!(c.cmd(&["SET", "k", "x"]), "+OK\r\n");
    assert_eq!(c.cmd(&["OBJECT", "FREQ", "k"]), ":5\r\n");
    assert_eq!(c.cmd(&["TOUCH", "k"]), ":1\r\n");
    assert_eq!(c.cmd(&["OBJECT", "FREQ", "k"]), ":6\r\n");
    assert_eq!(c.cmd(&["CLIENT", "NO-TOUCH", "OFF"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\nx\r\n");
    assert_eq!(c.cmd(&["OBJECT", "FREQ", "k"]), ":7\r\n");
}

/// UNLINK frees a big value on the lazy-free thread and a small one at once: INFO `lazyfreed_objects` counts the
/// first only, on both servers.
#[test]
fn unlink_frees_big_values_lazily() {
    let run = |s: &Server| {
        let mut c = s.client();
        c.cmd(&["config", "resetstat"]);
        let mut hset = vec!["hset", "big"];
        let fields: Vec<String> = (0..1000).map(|i| format!("f{i}")).collect();
        for f in &fields {
            hset.extend([f.as_str(), "v"]);
        }
        c.cmd(&hset);
        c.cmd(&["hset", "small", "f", "v"]);
        let mut out = vec![c.cmd(&["unlink", "big", "small", "nosuchkey"])];
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let field = |c: &mut common::Client, name: &str| {
            let info = c.cmd(&["info", "memory"]);
            info.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_owned))
                .unwrap_or_default()
        };
        while field(&mut c, "lazyfree_pending_objects") != "0"
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        out.push(field(&mut c, "lazyfreed_objects"));
        out.push(c.cmd(&["dbsize"]));
        out
    };
    let ours = run(&Server::start());
    assert_eq!(
        ours,
        vec![":2\r\n".to_string(), "1".into(), ":0\r\n".into()]
    );
    if let Some(redis) = Server::start_redis() {
        assert_eq!(ours, run(&redis));
    }
}
