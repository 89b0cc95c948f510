//! MEMORY, INFO memory, maxmemory and eviction: replies compared with redis-server byte for byte where they
//! must match, eviction policies checked on what they keep and what they drop.

mod common;

use common::{Client, Server};

/// One field of one INFO section.
fn info(c: &mut Client, section: &str, field: &str) -> String {
    let reply = c.cmd(&["INFO", section]);
    let prefix = format!("{field}:");
    reply
        .split("\r\n")
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("INFO {section} has no {field}: {reply}"))
        .to_string()
}

fn info_u64(c: &mut Client, section: &str, field: &str) -> u64 {
    info(c, section, field).parse().expect("a number")
}

/// The field names of an INFO section, in order.
fn info_names(c: &mut Client, section: &str) -> Vec<String> {
    c.cmd(&["INFO", section])
        .split("\r\n")
        .filter_map(|l| l.split_once(':').map(|(k, _)| k.to_string()))
        .collect()
}

#[test]
fn memory_replies_and_errors_match_redis() {
    common::assert_same_as_redis(&[
        &["SET", "k", "v"],
        &["MEMORY", "HELP"],
        &["MEMORY", "help", "extra"],
        &["MEMORY"],
        &["MEMORY", "FOO"],
        &["MEMORY", "USAGE"],
        &["MEMORY", "USAGE", "nokey"],
        &["MEMORY", "USAGE", "k", "SAMPLES"],
        &["MEMORY", "USAGE", "k", "SAMPLES", "-1"],
        &["MEMORY", "USAGE", "k", "SAMPLES", "x"],
        &["MEMORY", "USAGE", "k", "BAR", "1"],
        &["MEMORY", "USAGE", "nokey", "SAMPLES", "0"],
        &["MEMORY", "PURGE"],
        &["MEMORY", "PURGE", "now"],
        &["MEMORY", "STATS", "x"],
        &["MEMORY", "DOCTOR"],
        &["MEMORY", "DOCTOR", "x"],
        &["MEMORY", "MALLOC-STATS", "x"],
        &["COMMAND", "GETKEYS", "MEMORY", "USAGE", "k"],
        &["CONFIG", "SET", "maxmemory-clients", "200%"],
        &[
            "CONFIG",
            "SET",
            "maxmemory",
            "10000001",
            "maxmemory-clients",
            "200%",
            "client-query-buffer-limit",
            "invalid",
        ],
        &["CONFIG", "GET", "maxmemory"],
        &["CONFIG", "SET", "maxmemory-clients", "10%"],
        &["CONFIG", "GET", "maxmemory-clients"],
        &["CONFIG", "SET", "maxmemory-clients", "0"],
    ]);
}

#[test]
fn memory_stats_and_info_memory_have_redis_fields_in_order() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let (mut a, mut b) = (ours.client(), redis.client());
    for c in [&mut a, &mut b] {
        assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    }
    assert_eq!(info_names(&mut a, "memory"), info_names(&mut b, "memory"));
    let names = |c: &mut Client| -> Vec<String> {
        let reply = c.cmd(&["MEMORY", "STATS"]);
        // The map's keys (db.0's inner map's too): the bulk strings that are not RESP2 doubles.
        common::bulks(&reply)
            .into_iter()
            .filter(|b| b.parse::<f64>().is_err())
            .collect()
    };
    assert_eq!(names(&mut a), names(&mut b));
    assert_eq!(
        info(&mut a, "memory", "mem_allocator"),
        "libc",
        "MALLOC-STATS and the defrag tests depend on it"
    );
    assert_eq!(
        a.cmd(&["MEMORY", "MALLOC-STATS"]),
        "$45\r\nStats not supported for the current allocator\r\n"
    );
}

#[test]
fn memory_usage_follows_what_the_key_holds() {
    let s = Server::start();
    let mut c = s.client();
    let usage = |c: &mut Client, args: &[&str]| -> i64 {
        let r = c.cmd(args);
        r.trim_start_matches(':')
            .trim_end()
            .parse()
            .unwrap_or_else(|_| panic!("{r}"))
    };
    c.cmd(&["SET", "short", "v"]);
    c.cmd(&["SET", "long", &"x".repeat(10_000)]);
    let short = usage(&mut c, &["MEMORY", "USAGE", "short"]);
    let long = usage(&mut c, &["MEMORY", "USAGE", "long"]);
    assert!((32..200).contains(&short), "{short}");
    assert!((10_000..10_400).contains(&long), "{long}");
    for i in 0..1000 {
        c.cmd(&["HSET", "h", &format!("field:{i}"), &"v".repeat(100)]);
        c.cmd(&["RPUSH", "l", &"e".repeat(50)]);
        c.cmd(&["SADD", "s", &format!("member:{i}")]);
        c.cmd(&["ZADD", "z", &i.to_string(), &format!("m{i}")]);
    }
    c.cmd(&["XADD", "x", "*", "f", "v"]);
    let all = usage(&mut c, &["MEMORY", "USAGE", "h", "SAMPLES", "0"]);
    let sampled = usage(&mut c, &["MEMORY", "USAGE", "h"]);
    assert!(all > 1000 * 100, "{all}");
    // Every field is the same size: the estimate from 5 samples is the whole count.
    assert!((sampled - all).abs() < all / 10, "{sampled} vs {all}");
    for key in ["l", "s", "z"] {
        let n = usage(&mut c, &["MEMORY", "USAGE", key]);
        assert!(n > 1000 * 8, "{key}: {n}");
    }
    assert!(usage(&mut c, &["MEMORY", "USAGE", "x"]) > 0);
    // A key of another database is not there.
    assert_eq!(c.cmd(&["SELECT", "1"]), "+OK\r\n");
    assert_eq!(c.cmd(&["MEMORY", "USAGE", "h"]), "$-1\r\n");
}

#[test]
fn used_memory_counts_what_is_stored_and_freed() {
    let s = Server::start();
    let mut c = s.client();
    let before = info_u64(&mut c, "memory", "used_memory");
    let value = "x".repeat(100_000);
    for i in 0..50 {
        c.cmd(&["SET", &format!("k{i}"), &value]);
    }
    let full = info_u64(&mut c, "memory", "used_memory");
    assert!(full >= before + 5_000_000, "{before} -> {full}");
    assert!(full < before + 6_000_000, "{before} -> {full}");
    assert_eq!(c.cmd(&["FLUSHALL"]), "+OK\r\n");
    let after = info_u64(&mut c, "memory", "used_memory");
    assert!(after < before + 500_000, "{before} -> {after}");
    assert!(info_u64(&mut c, "memory", "used_memory_peak") >= full);
}

/// The same exchange on ferredis and redis-server, on two connections each (`1` and `2` in `steps`); the
/// replies must match byte for byte.
fn same_exchange_as_redis(setup: &[&str], steps: &[(u8, &[&str])]) {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let mut replies = Vec::new();
    for server in [&ours, &redis] {
        let (mut one, mut two) = (server.client(), server.client());
        for kv in setup.chunks(2) {
            assert_eq!(one.cmd(&["CONFIG", "SET", kv[0], kv[1]]), "+OK\r\n");
        }
        let got: Vec<String> = steps
            .iter()
            .map(|(who, cmd)| {
                if *who == 1 {
                    one.cmd(cmd)
                } else {
                    two.cmd(cmd)
                }
            })
            .collect();
        replies.push(got);
    }
    for (i, (got, want)) in replies[0].iter().zip(&replies[1]).enumerate() {
        assert_eq!(
            got, want,
            "reply to {:?} differs from redis-server",
            steps[i]
        );
    }
}

#[test]
fn out_of_memory_refusals_match_redis() {
    same_exchange_as_redis(
        &["maxmemory-policy", "noeviction"],
        &[
            (1, &["SET", "a", "1"]),
            (1, &["MULTI"]),
            (1, &["SET", "queued", "1"]),
            (1, &["GET", "a"]),
            (2, &["CONFIG", "SET", "maxmemory", "1"]),
            // EXEC of a transaction holding a denyoom command is refused.
            (1, &["EXEC"]),
            (1, &["SET", "b", "2"]),
            (1, &["APPEND", "a", "x"]),
            (1, &["GET", "a"]),
            (1, &["DEL", "a"]),
            (1, &["SET", "a", "1"]),
            // Inside MULTI everything but EXEC, DISCARD, QUIT and RESET is refused.
            (1, &["MULTI"]),
            (1, &["GET", "a"]),
            (1, &["EXEC"]),
            (1, &["MULTI"]),
            (1, &["PING"]),
            (1, &["DISCARD"]),
            (1, &["INFO", "errorstats"]),
            // Scripts: the first denyoom call is refused, reads go on; flags decide for shebang scripts.
            (1, &["EVAL", "redis.call('set','x',1)", "0"]),
            (1, &["EVAL", "return redis.call('get','nokey')", "0"]),
            (1, &["EVAL", "#!lua\nreturn 1", "0"]),
            (
                1,
                &[
                    "EVAL",
                    "#!lua flags=allow-oom\nreturn redis.call('set','x',1)",
                    "0",
                ],
            ),
            (
                1,
                &[
                    "EVAL",
                    "#!lua flags=no-writes\nreturn redis.call('get','x')",
                    "0",
                ],
            ),
            (2, &["CONFIG", "SET", "maxmemory", "0"]),
            (1, &["SET", "b", "2"]),
        ],
    );
}

/// What the EXEC of a transaction of reads answers when out of memory.
#[test]
fn exec_of_reads_runs_when_out_of_memory() {
    same_exchange_as_redis(
        &[],
        &[
            (1, &["SET", "x", "value"]),
            (1, &["MULTI"]),
            (1, &["GET", "x"]),
            (1, &["PING"]),
            (2, &["CONFIG", "SET", "maxmemory", "1"]),
            (1, &["EXEC"]),
            (2, &["CONFIG", "SET", "maxmemory", "0"]),
        ],
    );
}

/// Sets maxmemory to what the server holds now plus `room` bytes, under `policy`; returns the limit.
fn limit_memory(c: &mut Client, room: u64, policy: &str) -> u64 {
    let limit = info_u64(c, "memory", "used_memory") + room;
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]),
        "+OK\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory-policy", policy]),
        "+OK\r\n"
    );
    limit
}

/// Writes `n` keys `prefix:i` of `size` bytes, pipelined, each with `extra` arguments (EX 1000); every reply
/// must be `+OK`.
fn write_keys(c: &mut Client, prefix: &str, n: usize, size: usize, extra: &[&str]) {
    let value = "v".repeat(size);
    for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
        for i in chunk {
            let key = format!("{prefix}:{i}");
            let mut args = vec!["SET", key.as_str(), value.as_str()];
            args.extend_from_slice(extra);
            c.send(&args);
        }
        for _ in chunk {
            assert_eq!(c.read_reply(), "+OK\r\n");
        }
    }
}

fn exists(c: &mut Client, key: &str) -> bool {
    c.cmd(&["EXISTS", key]) == ":1\r\n"
}

#[test]
fn eviction_keeps_used_memory_near_the_limit_under_every_allkeys_policy() {
    let s = Server::start();
    let mut c = s.client();
    for policy in ["allkeys-lru", "allkeys-lfu", "allkeys-random"] {
        assert_eq!(c.cmd(&["FLUSHALL"]), "+OK\r\n");
        c.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
        c.cmd(&["CONFIG", "RESETSTAT"]);
        let limit = limit_memory(&mut c, 2 << 20, policy);
        // Five times what fits.
        write_keys(&mut c, "k", 10_000, 1000, &[]);
        let used = info_u64(&mut c, "memory", "used_memory");
        assert!(
            used <= limit + 64 * 1024,
            "{policy}: used {used} > limit {limit}"
        );
        // The background eviction may take a key between two reads: read until the count holds still.
        let (keys, evicted) = loop {
            let before = info_u64(&mut c, "stats", "evicted_keys");
            let keys: u64 = c
                .cmd(&["DBSIZE"])
                .trim_start_matches(':')
                .trim()
                .parse()
                .unwrap();
            if info_u64(&mut c, "stats", "evicted_keys") == before {
                break (keys, before);
            }
        };
        assert!(evicted > 5000, "{policy}: evicted {evicted}");
        assert_eq!(keys + evicted, 10_000, "{policy}");
        assert!(keys > 500, "{policy}: only {keys} keys left for 2 MB");
    }
}

#[test]
fn eviction_keeps_up_with_concurrent_writers() {
    let s = Server::start();
    let mut c = s.client();
    let limit = limit_memory(&mut c, 2 << 20, "allkeys-random");
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let mut w = s.client();
            std::thread::spawn(move || write_keys(&mut w, &format!("t{t}"), 3000, 1000, &[]))
        })
        .collect();
    for w in writers {
        w.join().expect("a writer saw a reply other than +OK");
    }
    let used = info_u64(&mut c, "memory", "used_memory");
    assert!(used <= limit + 64 * 1024, "used {used} > limit {limit}");
}

#[test]
fn allkeys_lru_keeps_the_recently_used_keys() {
    let s = Server::start();
    let mut c = s.client();
    c.cmd(&["SET", "template", &"c".repeat(1000)]);
    let dump = c.cmd_bytes(&[b"DUMP", b"template"]);
    let payload = &dump[dump.iter().position(|&b| b == b'\n').unwrap() + 1..dump.len() - 2];
    c.cmd(&["DEL", "template"]);
    // Cold keys, last used long ago; then the hot set, used now.
    for chunk in (0..4000).collect::<Vec<_>>().chunks(100) {
        for i in chunk {
            let key = format!("cold:{i}");
            c.send_bytes(&[
                b"RESTORE",
                key.as_bytes(),
                b"0",
                payload,
                b"IDLETIME",
                b"100000",
            ]);
        }
        for _ in chunk {
            assert_eq!(c.read_reply(), "+OK\r\n");
        }
    }
    write_keys(&mut c, "hot", 100, 1000, &[]);
    c.cmd(&["CONFIG", "SET", "maxmemory-samples", "10"]);
    limit_memory(&mut c, 0, "allkeys-lru");
    // New keys push out a quarter of the cold ones.
    write_keys(&mut c, "new", 1000, 1000, &[]);
    assert!(info_u64(&mut c, "stats", "evicted_keys") >= 900);
    for i in 0..100 {
        assert!(exists(&mut c, &format!("hot:{i}")), "hot:{i} was evicted");
    }
    let cold_left = (0..4000)
        .filter(|i| exists(&mut c, &format!("cold:{i}")))
        .count();
    assert!(cold_left < 3200, "{cold_left} cold keys left");
}

#[test]
fn volatile_policies_never_evict_keys_without_ttl() {
    let s = Server::start();
    let mut c = s.client();
    for policy in [
        "volatile-ttl",
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
    ] {
        assert_eq!(c.cmd(&["FLUSHALL"]), "+OK\r\n");
        c.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
        write_keys(&mut c, "keep", 500, 1000, &[]);
        let limit = limit_memory(&mut c, 1 << 20, policy);
        write_keys(&mut c, "ttl", 3000, 1000, &["EX", "1000"]);
        let used = info_u64(&mut c, "memory", "used_memory");
        assert!(
            used <= limit + 64 * 1024,
            "{policy}: used {used} > limit {limit}"
        );
        for i in 0..500 {
            assert!(
                exists(&mut c, &format!("keep:{i}")),
                "{policy} evicted keep:{i}"
            );
        }
        // Once no key has a TTL, nothing can go: writes are refused.
        c.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
        for i in 0..3000 {
            c.send(&["PERSIST", &format!("ttl:{i}")]);
        }
        for _ in 0..3000 {
            c.read_reply();
        }
        c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]);
        let value = "v".repeat(1000);
        let refused = (0..5000).find_map(|i| {
            let r = c.cmd(&["SET", &format!("more:{i}"), &value]);
            (r != "+OK\r\n").then_some(r)
        });
        assert_eq!(
            refused.as_deref(),
            Some("-OOM command not allowed when used memory > 'maxmemory'.\r\n"),
            "{policy}"
        );
        assert_eq!(
            c.cmd(&["GET", "keep:0"]).len(),
            1009,
            "{policy}: reads go on"
        );
    }
}

#[test]
fn evicted_keys_are_announced_and_fail_watchers_even_with_no_command_running() {
    let s = Server::start();
    let mut c = s.client();
    let mut sub = s.client();
    let mut watcher = s.client();
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Ee"]);
    assert!(sub
        .cmd(&["SUBSCRIBE", "__keyevent@0__:evicted"])
        .starts_with("*3\r\n"));
    for k in ["asdf1", "asdf2", "asdf3"] {
        c.cmd(&["SET", k, "1"]);
    }
    assert_eq!(watcher.cmd(&["WATCH", "asdf2"]), "+OK\r\n");
    c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
    // The limit alone evicts: the periodic step does it, no write needed.
    c.cmd(&["CONFIG", "SET", "maxmemory", "1"]);
    let mut announced: Vec<String> = (0..3)
        .map(|_| common::bulks(&sub.read_reply())[2].clone())
        .collect();
    announced.sort();
    assert_eq!(announced, ["asdf1", "asdf2", "asdf3"]);
    assert_eq!(c.cmd(&["DBSIZE"]), ":0\r\n");
    assert_eq!(info(&mut c, "stats", "evicted_keys"), "3");
    c.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
    assert_eq!(watcher.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(watcher.cmd(&["SET", "asdf2", "x"]), "+QUEUED\r\n");
    assert_eq!(watcher.cmd(&["EXEC"]), "*-1\r\n");
}

#[test]
fn small_integers_are_not_shared_under_an_lru_or_lfu_limit_as_in_redis() {
    common::assert_same_as_redis(&[
        &["SET", "a", "1"],
        &["OBJECT", "REFCOUNT", "a"],
        &["CONFIG", "SET", "maxmemory", "1073741824"],
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-random"],
        &["SET", "a", "1"],
        &["OBJECT", "REFCOUNT", "a"],
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
        &["SET", "a", "1"],
        &["CONFIG", "SET", "maxmemory-policy", "volatile-lru"],
        &["SET", "b", "1"],
        &["OBJECT", "REFCOUNT", "a"],
        &["OBJECT", "REFCOUNT", "b"],
        &["INFO", "keyspace"],
        &["CONFIG", "SET", "maxmemory", "0"],
    ]);
}

#[test]
fn maxmemory_clients_closes_the_biggest_clients_first_and_spares_no_evict_ones() {
    let s = Server::start();
    let mut admin = s.client();
    assert_eq!(admin.cmd(&["CLIENT", "NO-EVICT", "on"]), "+OK\r\n");
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "maxmemory-clients", "2mb"]),
        "+OK\r\n"
    );
    admin.cmd(&["SET", "k", "v"]);
    // Ten clients each hold half a megabyte of a request they never finish; one small client holds nothing.
    let mut big: Vec<std::net::TcpStream> = (0..10)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap())
        .collect();
    for b in &mut big {
        use std::io::Write;
        b.write_all(b"*2\r\n$3\r\nSET\r\n$1000000\r\n").unwrap();
        b.write_all(&vec![b'x'; 500_000]).unwrap();
    }
    let mut small = s.client();
    assert_eq!(small.cmd(&["PING"]), "+PONG\r\n");
    // Poll until the server has read what they sent and the next command evicts them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while info_u64(&mut admin, "stats", "evicted_clients") == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no client was evicted"
        );
    }
    let list = admin.cmd(&["CLIENT", "LIST"]);
    // Twelve clients were connected: the admin, the ten big ones, the small one.
    let connected = list.lines().filter(|l| l.starts_with("id=")).count();
    assert!(connected < 12, "{list}");
    assert_eq!(
        small.cmd(&["PING"]),
        "+PONG\r\n",
        "the small client was spared"
    );
    assert_eq!(admin.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(info(&mut admin, "stats", "evicted_keys"), "0");
}
