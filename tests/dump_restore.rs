//! DUMP and RESTORE against redis-server 7.0: payloads travel both ways for every type and encoding and read back
//! the same; corrupt payloads get Redis's exact errors and leave the server serving.

mod common;
mod rdb_support;

use common::{Client, Server};
use ferredis::persist::rdb::crc64;
use rdb_support::{dump, fixtures, restore, run};

/// Builds every fixture on `from`, moves it with DUMP/RESTORE to `to`, and compares the read-backs.
fn transfer(from: &Server, to: &Server, direction: &str) {
    let (mut src, mut dst) = (from.client(), to.client());
    for f in fixtures() {
        for c in &f.setup {
            run(&mut src, c);
        }
        let keys: Vec<&str> = if f.key == "x" {
            vec!["x", "xlong"]
        } else {
            vec![f.key]
        };
        for k in keys {
            let payload = dump(&mut src, k);
            assert_eq!(
                restore(&mut dst, k, "0", &payload, &[]),
                "+OK\r\n",
                "{direction}: RESTORE {k}"
            );
        }
        for c in &f.check {
            assert_eq!(run(&mut dst, c), run(&mut src, c), "{direction}: {c:?}");
        }
    }
}

#[test]
fn redis_dumps_restore_in_ferredis() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    transfer(&redis, &Server::start(), "redis -> ferredis");
}

#[test]
fn ferredis_dumps_restore_in_redis() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    transfer(&Server::start(), &redis, "ferredis -> redis");
}

/// Where the format leaves no choice (no hash-table order, no compressor difference), the bytes are Redis's.
#[test]
fn payloads_are_byte_for_byte_redis_s() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let (mut a, mut b) = (ours.client(), redis.client());
    let setups: &[&[&str]] = &[
        &["SET", "k1", "hello"],
        &["SET", "k2", "123"],
        &["RPUSH", "k3", "a", "1", "-300", "70000"],
        &["SADD", "k4", "5", "-2", "40000"],
        &["HSET", "k5", "f", "v", "n", "7"],
        &["ZADD", "k6", "1", "a", "2.5", "b"],
        &["XADD", "k7", "5-1", "f", "v"],
    ];
    for s in setups {
        a.cmd(s);
        b.cmd(s);
        assert_eq!(dump(&mut a, s[1]), dump(&mut b, s[1]), "DUMP {}", s[1]);
    }
    // Quicklist nodes split where Redis splits a list pushed in order, by size and by count.
    let items: Vec<String> = (0..3000)
        .map(|i| format!("{i}-{}", "y".repeat(i % 40)))
        .collect();
    let lzf_text: String = (0..200).map(|i| format!("word{} ", i % 17)).collect();
    for fill in ["-2", "-1", "5", "-5"] {
        for c in [&mut a, &mut b] {
            c.cmd(&["CONFIG", "SET", "list-max-listpack-size", fill]);
            c.cmd(&["DEL", "big"]);
            for chunk in items.chunks(500) {
                let mut args = vec!["RPUSH", "big"];
                args.extend(chunk.iter().map(String::as_str));
                c.cmd(&args);
            }
            c.cmd(&["SET", "text", &lzf_text]);
        }
        assert_eq!(
            dump(&mut a, "big"),
            dump(&mut b, "big"),
            "list-max-listpack-size {fill}"
        );
    }
    assert_eq!(dump(&mut a, "text"), dump(&mut b, "text"), "LZF");
}

#[test]
fn restore_options_ttl_and_errors_match_redis() {
    let payload_cmds = |c: &mut Client| {
        c.cmd(&["SET", "src", "value"]);
        dump(c, "src")
    };
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let (mut a, mut b) = (ours.client(), redis.client());
    let p = payload_cmds(&mut a);
    assert_eq!(p, payload_cmds(&mut b));
    let cases: &[(&str, &str, &[&str])] = &[
        ("k", "0", &[]),
        ("k", "0", &[]),
        ("k", "0", &["REPLACE"]),
        ("k", "-1", &["REPLACE"]),
        ("k", "abc", &["REPLACE"]),
        ("k2", "100000", &[]),
        ("k3", "1", &["ABSTTL"]),
        ("k4", "0", &["IDLETIME", "-1"]),
        ("k4", "0", &["IDLETIME", "x"]),
        ("k4", "0", &["FREQ", "256"]),
        ("k4", "0", &["FREQ", "-1"]),
        ("k4", "0", &["IDLETIME", "10", "FREQ", "1"]),
        ("k4", "0", &["FREQ", "1", "IDLETIME", "10"]),
        ("k4", "0", &["IDLETIME"]),
        ("k4", "0", &["BOGUS"]),
        ("k5", "0", &["IDLETIME", "1000"]),
    ];
    for (key, ttl, extra) in cases {
        assert_eq!(
            restore(&mut a, key, ttl, &p, extra),
            restore(&mut b, key, ttl, &p, extra),
            "RESTORE {key} {ttl} {extra:?}"
        );
    }
    for c in [
        &["EXISTS", "k3"][..],
        &["GET", "k"],
        &["OBJECT", "IDLETIME", "k5"],
        &["DUMP", "nokey"],
        &["DUMP"],
        &["RESTORE", "k"],
        &["RESTORE", "k", "0"],
    ] {
        assert_eq!(a.cmd(c), b.cmd(c), "{c:?}");
    }
    let ttl_a: i64 = a.cmd(&["PTTL", "k2"])[1..].trim().parse().unwrap();
    assert!((99_000..=100_000).contains(&ttl_a), "PTTL {ttl_a}");
}

/// Payload damage: each answers Redis's exact error, and the server keeps serving.
#[test]
fn corrupt_payloads_get_redis_s_errors() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let (mut a, mut b) = (ours.client(), redis.client());
    a.cmd(&["RPUSH", "l", "a", "b", "c"]);
    let good = dump(&mut a, "l");
    let mut flipped = good.clone();
    flipped[3] ^= 0x40;
    let truncated = good[..good.len() - 3].to_vec();
    let mut wrong_version = good.clone();
    let n = wrong_version.len();
    wrong_version[n - 10] = 11;
    let with_crc = |body: &[u8]| {
        let mut p = body.to_vec();
        p.extend_from_slice(&10u16.to_le_bytes());
        let crc = crc64(&p);
        p.extend_from_slice(&crc.to_le_bytes());
        p
    };
    let cases: Vec<Vec<u8>> = vec![
        flipped,
        truncated,
        wrong_version,
        b"short".to_vec(),
        Vec::new(),
        with_crc(b"\x00\x81\xff\xff\xff\xff\xff\xff\xff\xff"),
        with_crc(b"\x12\x01\x02\x05hello"),
        with_crc(b"\x02\x00"),
        with_crc(b"\x02\x02\x01a\x01a"),
        with_crc(b"\xfe\x00"),
        with_crc(b"\x06\x00"),
        with_crc(b"\x0b\x0c\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x02\x00"),
        with_crc(b"\x00\xc3\x05\x80\x00\x10\x00\x00\x00\x01\x02\x03\x04"),
        with_crc(&good[..good.len() - 10][..5]),
    ];
    for (i, p) in cases.iter().enumerate() {
        let want = restore(&mut b, "t", "0", p, &["REPLACE"]);
        assert!(want.starts_with('-'), "case {i}: redis accepted it: {want}");
        assert_eq!(restore(&mut a, "t", "0", p, &["REPLACE"]), want, "case {i}");
    }
    assert_eq!(
        a.cmd(&["LRANGE", "l", "0", "-1"]),
        "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
    );
}

#[test]
fn dump_respects_rdbcompression() {
    let ours = Server::start();
    let mut c = ours.client();
    let v = "abcdefgh".repeat(40);
    c.cmd(&["SET", "k", &v]);
    assert_eq!(dump(&mut c, "k")[1], 0xC3, "LZF by default");
    c.cmd(&["CONFIG", "SET", "rdbcompression", "no"]);
    let raw = dump(&mut c, "k");
    assert_eq!(raw.len(), 1 + 2 + 320 + 10, "raw with compression off");
    assert_eq!(restore(&mut c, "k2", "0", &raw, &[]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "k2"]), format!("${}\r\n{v}\r\n", v.len()));
    assert_eq!(c.cmd(&["SET", "n", "1"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["LPUSH", "n", "1"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
}

/// RESTORE fires `restore` (and, replacing with a TTL already past, `del`), and invalidates WATCH, as in Redis.
#[test]
fn restore_notifies_and_touches_watched_keys() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let mut seen = Vec::new();
    for server in [&ours, &redis] {
        let mut c = server.client();
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
        c.cmd(&["SET", "src", "v"]);
        let p = dump(&mut c, "src");
        let mut sub = server.client();
        sub.cmd(&["PSUBSCRIBE", "__keyevent@0__:*"]);
        let mut watcher = server.client();
        watcher.cmd(&["WATCH", "k"]);
        restore(&mut c, "k", "0", &p, &[]);
        watcher.cmd(&["MULTI"]);
        watcher.cmd(&["GET", "k"]);
        let exec = watcher.cmd(&["EXEC"]);
        restore(&mut c, "k", "1", &p, &["REPLACE", "ABSTTL"]);
        let events = [sub.read_reply(), sub.read_reply()];
        seen.push((exec, events));
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0].0, "*-1\r\n", "EXEC aborted by the RESTORE");
}

/// A stream keeps the node layout it was dumped with (node size settings of the source, deleted heads), so
/// XINFO's radix-tree counts and later appends match Redis after the restore.
#[test]
fn stream_node_layout_survives_restore() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let source = Server::start_redis().expect("a second redis-server");
    let mut src = source.client();
    src.cmd(&["CONFIG", "SET", "stream-node-max-entries", "3"]);
    for i in 1..=10 {
        src.cmd(&["XADD", "s", &format!("{i}-0"), "f", &i.to_string()]);
    }
    src.cmd(&["XDEL", "s", "1-0", "5-0", "6-0"]);
    let p = dump(&mut src, "s");
    let (mut a, mut b) = (ours.client(), redis.client());
    for c in [&mut a, &mut b] {
        assert_eq!(restore(c, "s", "0", &p, &[]), "+OK\r\n");
    }
    let info: &[&str] = &["XINFO", "STREAM", "s", "FULL"];
    assert_eq!(a.cmd(info), b.cmd(info));
    for i in 11..=15 {
        let id = format!("{i}-0");
        let add: &[&str] = &["XADD", "s", &id, "f", "v"];
        assert_eq!(a.cmd(add), b.cmd(add));
    }
    assert_eq!(a.cmd(info), b.cmd(info), "appends after the restore");
    let trim: &[&str] = &["XTRIM", "s", "MAXLEN", "~", "4"];
    assert_eq!(a.cmd(trim), b.cmd(trim));
    assert_eq!(
        a.cmd(info),
        b.cmd(info),
        "approximate trim by the restored nodes"
    );
}

/// Under an LFU policy RESTORE ... FREQ sets the counter (and IDLETIME is ignored); under LRU the reverse.
#[test]
fn restore_freq_under_lfu_matches_redis() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let (mut a, mut b) = (ours.client(), redis.client());
    for c in [&mut a, &mut b] {
        c.cmd(&["SET", "src", "v"]);
        c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
    }
    let p = dump(&mut a, "src");
    for (key, extra) in [("f", &["FREQ", "100"][..]), ("i", &["IDLETIME", "100"])] {
        assert_eq!(
            restore(&mut a, key, "0", &p, extra),
            restore(&mut b, key, "0", &p, extra)
        );
        let freq: &[&str] = &["OBJECT", "FREQ", key];
        assert_eq!(a.cmd(freq), b.cmd(freq), "{key}");
    }
}

/// A restored list, sorted set or stream serves the clients blocked on its key, as Redis's dbAdd signals it.
#[test]
fn restore_serves_blocked_clients() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let mut replies = Vec::new();
    for server in [&ours, &redis] {
        let mut c = server.client();
        c.cmd(&["RPUSH", "l", "a", "b"]);
        c.cmd(&["ZADD", "z", "1", "m"]);
        c.cmd(&["XADD", "x", "1-1", "f", "v"]);
        let payloads: Vec<Vec<u8>> = ["l", "z", "x"].iter().map(|k| dump(&mut c, k)).collect();
        let mut blocked = [
            server.blocked_client(&["BLPOP", "l2", "0"]),
            server.blocked_client(&["BZPOPMIN", "z2", "0"]),
            server.blocked_client(&["XREAD", "BLOCK", "0", "STREAMS", "x2", "$"]),
        ];
        for (key, p) in ["l2", "z2", "x2"].iter().zip(&payloads) {
            assert_eq!(restore(&mut c, key, "0", p, &[]), "+OK\r\n");
        }
        replies.push(
            blocked
                .iter_mut()
                .map(|b| b.read_reply())
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(replies[0], replies[1]);
    assert_eq!(replies[0][0], "*2\r\n$2\r\nl2\r\n$1\r\na\r\n");
}

/// Counters and times from a payload are taken as Redis takes them, and commands working on extreme ones wrap
/// as Redis's C does instead of failing (found by fuzzing RESTORE and then the stream commands).
#[test]
fn extreme_stream_counters_from_a_payload_do_not_break_commands() {
    use ferredis::db::Value;
    use ferredis::persist::rdb::payload;
    use ferredis::persist::rdb::value::{Encoder, Limits};
    use ferredis::types::stream::{Consumer, Group, Nack, NodeLimits, Stream, StreamId};

    let mut s = Stream::default();
    for i in 1..=5u64 {
        let fields: Box<[Vec<u8>]> = vec![b"f".to_vec(), i.to_string().into_bytes()].into();
        s.append(StreamId::new(i, 0), fields, NodeLimits::default());
    }
    s.entries_added = 2; // fewer than the entries: Redis's unsigned counters wrap
    let mut g = Group::new(StreamId::new(1, 0), Some(u64::MAX - 1));
    for (i, time) in [(1u64, i64::MIN), (2, i64::MAX)] {
        let id = StreamId::new(i, 0);
        g.pel.insert(
            id,
            Nack {
                consumer: b"c".to_vec(),
                delivery_time: time,
                delivery_count: u64::MAX,
            },
        );
    }
    let pel = g.pel.keys().copied().collect();
    g.consumers.insert(
        b"c".to_vec(),
        Consumer {
            seen_time: i64::MIN,
            pel,
        },
    );
    s.groups.insert(b"g".to_vec(), g);
    let enc = Encoder {
        compress: true,
        limits: Limits::default(),
    };
    let p = payload::dump(&Value::Stream(Box::new(s)), &enc);
    let ours = Server::start();
    let mut c = ours.client();
    assert_eq!(restore(&mut c, "k", "0", &p, &[]), "+OK\r\n");
    let commands: &[&[&str]] = &[
        &["XPENDING", "k", "g", "-", "+", "10"],
        &["XPENDING", "k", "g", "IDLE", "5", "-", "+", "10"],
        &["XCLAIM", "k", "g", "d", "0", "1-0", "2-0"],
        &["XAUTOCLAIM", "k", "g", "d", "0", "0"],
        &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "k", ">"],
        &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "k", "0"],
        &["XINFO", "STREAM", "k", "FULL"],
        &["XINFO", "CONSUMERS", "k", "g"],
        &["XINFO", "GROUPS", "k"],
    ];
    for cmd in commands {
        let reply = c.cmd(cmd);
        assert!(!reply.starts_with('-'), "{cmd:?}: {reply}");
    }
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
}
