//! Streams: XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID and XREAD against the real redis-server, node
//! boundaries, `*` ids, keyspace events and statistics.

mod common;
mod stream_support;

use common::{Client, Server};
use std::time::{Duration, Instant};
use stream_support::*;
#[test]
fn xadd_ids_and_errors_match_redis() {
    same(
        "xadd s 1-1 f v
         xadd s 1-1 f v
         xadd s 1-* a b c d a x
         xadd s 0-0 a b
         xadd s 0-* a b
         xadd s 5 a b
         xadd s 5-* a b
         xadd s 18446744073709551615-18446744073709551614 a b
         xadd s 18446744073709551615-* a b
         xadd s 18446744073709551615-* a b
         xadd s * a b
         xadd s 18446744073709551616-1 a b
         xadd s 1-18446744073709551616 a b
         xadd s -1 a b
         xadd s 1-x a b
         xadd s - a b
         xadd s + a b
         xadd s 1-2-3 a b
         xlen s
         xrange s - +
         xadd t a
         xadd t * a
         xadd t * a b c
         xadd t nomkstream * a b
         xadd t nomkstream maxlen 1 * a b
         exists t
         xadd t maxlen -1 * a b
         xadd t maxlen x * a b
         xadd t maxlen 1 minid 1 * a b
         xadd t minid 1 maxlen 1 * a b
         xadd t minid x * a b
         xadd t limit 5 * a b
         xadd t limit 0 * a b
         xadd t maxlen 5 limit 5 * a b
         xadd t maxlen ~ 5 limit -1 * a b
         xadd t maxlen ~ 5 limit x * a b
         xadd t foo bar
         xadd t
         xlen t
         xlen nokey
         xadd str2 1-1 a b
         xadd str2 nomkstream 2-1 a b",
    );
}

#[test]
fn wrong_type_everywhere_matches_redis() {
    same(
        "set str x
         xadd str 1-1 a b
         xadd str nomkstream 1-1 a b
         xlen str
         xrange str - +
         xrevrange str + -
         xdel str 1-1
         xtrim str maxlen 1
         xsetid str 1-1
         xread streams str 0
         xreadgroup group g c streams str >
         xgroup create str g $
         xgroup create str g $ mkstream
         xgroup setid str g 0
         xgroup destroy str g
         xgroup createconsumer str g c
         xgroup delconsumer str g c
         xack str g 1-1
         xpending str g
         xpending str g - + 10
         xclaim str g c 0 1-1
         xautoclaim str g c 0 0
         xinfo stream str
         xinfo groups str
         xinfo consumers str g
         get str",
    );
}

#[test]
fn ranges_match_redis() {
    same(
        "xadd s 1-1 f 1
         xadd s 1-2 f 2
         xadd s 2-0 f 3 g 4 f 5
         xadd s 3-7 f 6
         xadd s 18446744073709551615-0 f 7
         xrange s - +
         xrevrange s + -
         xrange s (1-1 +
         xrange s - (2-0
         xrange s 1 1
         xrange s 2 2
         xrange s 1 3 count 2
         xrange s 1 3 count 0
         xrange s 1 3 count -1
         xrange s 1 3 count x
         xrange s 1 3 foo
         xrange s 1 3 count
         xrange s 1 3 count 1 count 3
         xrange s (- +
         xrange s - (+
         xrange s (18446744073709551615-18446744073709551615 +
         xrange s - (0-0
         xrange s ( +
         xrange s abc +
         xrange s 1-x +
         xrange s -1 +
         xrange s 3 1
         xrange nokey - +
         xrevrange s (3-7 - count 1
         xrevrange s + (1-1
         xrevrange s 2 2
         xrevrange s - +
         xrevrange s + - count 0
         xrevrange nokey + -
         xrange s",
    );
}

#[test]
fn xdel_and_xsetid_match_redis() {
    same(
        "xadd m 1-1 a 1
         xadd m 1-2 a 2
         xadd m 1-3 a 3
         xdel m 1-1 1-2 99
         xdel m 1-1
         xdel m abc
         xdel m 1-3 abc
         xdel nokey 1
         xrange m - +
         xsetid m 1-1
         xsetid m 100-1
         xadd m 100-1 a b
         xadd m 100-* a b
         xsetid nokey 1-1
         xsetid m 200-0 entriesadded -1
         xsetid m 200-0 entriesadded x
         xsetid m 200-0 entriesadded 0
         xsetid m 200-0 maxdeletedid 300-0
         xsetid m 200-0 maxdeletedid abc
         xsetid m 200-0 maxdeletedid 1-0
         xsetid m 200-0 maxdeletedid 100-0
         xsetid m 200-0 foo
         xsetid m 200-0 entriesadded
         xsetid m 150-0
         xsetid m 300-0 entriesadded 50 maxdeletedid 250-0
         xsetid m abc
         xsetid m -
         xdel m 100-2
         xdel m 1-3
         xlen m
         xsetid m 1-1
         xadd e 1-1 a b
         xdel e 1-1
         xsetid e 0-5
         xinfo stream e
         xadd x 1-1 a b
         xadd x 1-2 a b
         xdel x 1-2
         xsetid x 1-1
         xinfo stream x",
    );
}

#[test]
fn trimming_matches_redis_node_boundaries() {
    let mut script = String::new();
    for i in 1..=350 {
        script += &format!("xadd a {i}-1 f v\n");
    }
    script += "xinfo stream a
               xtrim a maxlen ~ 300
               xtrim a maxlen ~ 240
               xlen a
               xinfo stream a
               xtrim a maxlen ~ 100 limit 50
               xtrim a maxlen ~ 100 limit 100
               xlen a\n";
    for i in 110..130 {
        script += &format!("xdel a {i}-1\n");
    }
    script += "xinfo stream a
               xtrim a minid ~ 210
               xtrim a minid ~ 250 limit 0
               xinfo stream a
               xtrim a minid = 255
               xtrim a minid 255
               xinfo stream a\n";
    for i in 301..=350 {
        script += &format!("xdel a {i}-1\n");
    }
    script += "xinfo stream a\n";
    for i in 400..420 {
        script += &format!("xadd a {i}-1 f v\n");
    }
    script += "xinfo stream a full
               xadd a maxlen ~ 10 500-1 f v
               xadd a maxlen 10 501-1 f v
               xadd a minid = 415 502-1 f v
               xinfo stream a
               xdel a 502-1
               xinfo stream a
               xadd b 1000000-1 f v
               xadd b 2000000-2 f v
               xadd b 4294967296-0 f v
               xadd b 18446744073709551615-3 f v
               xinfo stream b
               xtrim b maxlen 0
               xinfo stream b
               xtrim b maxlen 0
               xtrim b
               xtrim b foo 1
               xtrim b maxlen 1 limit 1
               xtrim b limit 1 maxlen ~ 1
               xtrim b maxlen 1 minid 1
               xtrim b maxlen ~ -1
               xtrim nokey maxlen 1
               xtrim nokey foo bar";
    same(&script);
}

#[test]
fn node_sizes_by_bytes_match_redis() {
    let mut script = String::new();
    for (key, vlen, n) in [
        ("p1", 40, 300),
        ("p2", 100, 200),
        ("p4", 300, 50),
        ("p6", 5000, 5),
    ] {
        let v = "x".repeat(vlen);
        for i in 1..=n {
            script += &format!("xadd {key} {i}-{} name {v} n {i} m {}\n", i % 3, i * 1000);
        }
        script += &format!("xinfo stream {key}\n");
    }
    for i in 1..200u64 {
        script += &match i % 3 {
            0 => format!(
                "xadd q {i}-0 a {} b {i}\n",
                "y".repeat((i % 50 + 1) as usize)
            ),
            1 => format!("xadd q {i}-0 a 1 b 2\n"),
            _ => format!(
                "xadd q {i}-0 z -{} c {}\n",
                i * 100000,
                "w".repeat(i as usize)
            ),
        };
    }
    script += "xinfo stream q\n";
    for i in 1..200u64 {
        script += &format!(
            "xadd r {}-{} f {}\n",
            i * 1_000_000_000,
            i * i,
            "v".repeat((i % 70) as usize)
        );
        if i % 3 == 2 && i < 60 {
            script += &format!("xdel r {}-{}\n", i * 1_000_000_000, i * i);
        }
    }
    script += "xinfo stream r
               xtrim r maxlen ~ 100
               xinfo stream r
               xtrim p2 maxlen ~ 150
               xtrim p2 minid ~ 100
               xinfo stream p2";
    same(&script);
}

#[test]
fn resp3_replies_match_redis() {
    same_after(
        "hello 3",
        "xadd s 1-1 a 1
         xadd s 1-2 a 2 b 3
         xrange s - +
         xrange s - + count 0
         xread streams s 0
         xread streams s 1-2
         xread streams s nokey 1-1 0
         xgroup create s g 0
         xgroup create s e $
         xinfo groups s
         xinfo stream s
         xinfo stream s full
         xpending s g
         xreadgroup group g c count 1 streams s >
         xpending s g
         xdel s 1-1
         xreadgroup group g c streams s 0
         xautoclaim s g d 0 0 justid
         xclaim s g d 0 1-2 justid
         xinfo stream nokey
         xgroup help
         xinfo stream e",
    );
}

#[test]
fn node_size_parameters_are_honoured_as_in_redis() {
    let mut script = String::new();
    for i in 1..=60 {
        script += &format!("xadd a {i}-0 f {}\n", "v".repeat(i));
    }
    script += "xinfo stream a
               xtrim a maxlen ~ 30
               xinfo stream a
               config set stream-node-max-entries 0
               config set stream-node-max-bytes 0\n";
    for i in 61..=200 {
        script += &format!("xadd a {i}-0 f v\n");
    }
    script += "xinfo stream a
               xtrim a maxlen ~ 10
               xlen a
               config set stream-node-max-bytes 100\n";
    for i in 1..=10_500 {
        script += &format!("xadd b {i}-0 f v\n");
    }
    script += "xinfo stream b
               xtrim b maxlen ~ 0
               xlen b";
    same_after(
        "config set stream-node-max-entries 7
         config set stream-node-max-bytes 500",
        &script,
    );
}

#[test]
fn auto_ids_are_monotonic_when_the_clock_is_behind() {
    let s = Server::start();
    let mut c = s.client();
    let first = c.cmd(&["XADD", "s", "*", "a", "b"]);
    let second = c.cmd(&["XADD", "s", "*", "a", "b"]);
    let id = |r: &str| -> (u64, u64) {
        let body = r.lines().nth(1).unwrap();
        let (ms, seq) = body.split_once('-').unwrap();
        (ms.parse().unwrap(), seq.parse().unwrap())
    };
    assert!(id(&second) > id(&first));
    // An id far in the future: `*` must continue from it rather than from the clock.
    assert_eq!(
        c.cmd(&["XADD", "s", "99999999999999-5", "a", "b"]),
        "$16\r\n99999999999999-5\r\n"
    );
    assert_eq!(
        c.cmd(&["XADD", "s", "*", "a", "b"]),
        "$16\r\n99999999999999-6\r\n"
    );
    assert_eq!(
        c.cmd(&["XADD", "s", "99999999999999-*", "a", "b"]),
        "$16\r\n99999999999999-7\r\n"
    );
    assert_eq!(
        c.cmd(&["XADD", "s", "*", "a", "b"]),
        "$16\r\n99999999999999-8\r\n"
    );
    // Field order and duplicates are kept as sent.
    c.cmd(&["XADD", "d", "1-1", "z", "1", "a", "2", "z", "3"]);
    assert_eq!(
        c.cmd(&["XRANGE", "d", "-", "+"]),
        "*1\r\n*2\r\n$3\r\n1-1\r\n*6\r\n$1\r\nz\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n"
    );
}

#[test]
fn xread_matches_redis() {
    same(
        "xadd r1 1-1 a 1
         xadd r1 1-2 a 2
         xadd r2 5-1 b 1
         xread streams r1 0
         xread count 1 streams r1 r2 0 0
         xread streams r1 r2 1-1 5-1
         xread streams r1 r2 1-2 5-1
         xread streams r1 $
         xread block 10 streams r1 0
         xread block 0 streams r1 1-1
         xread streams r1 nokey 1-1 0
         xread streams nokey 0
         xread streams r1 18446744073709551615-18446744073709551615
         xread streams r1
         xread streams r1 a b
         xread streams r1 r2 0
         xread foo streams r1 0
         xread count x streams r1 0
         xread count -5 streams r1 0
         xread block x streams r1 0
         xread block -1 streams r1 0
         xread count 1
         xread streams r1 abc
         xread streams r1 >
         xread noack streams r1 0
         xread group g c streams r1 0
         xread streams r1 -
         xread streams r1 +",
    );
}

#[test]
fn xread_locks_the_shards_of_many_keys() {
    let s = Server::start();
    let mut c = s.client();
    let keys: Vec<String> = (0..40).map(|i| format!("stream:{i}")).collect();
    for k in &keys {
        c.cmd(&["XADD", k, "1-1", "f", k]);
    }
    let mut args = vec!["XREAD", "COUNT", "5", "STREAMS"];
    args.extend(keys.iter().map(String::as_str));
    args.extend(std::iter::repeat_n("0", keys.len()));
    let R::Arr(reply) = parse(&c.cmd(&args)) else {
        panic!("XREAD did not answer an array");
    };
    assert_eq!(reply.len(), 40);
    let mut args = vec!["XREADGROUP", "GROUP", "g", "c", "STREAMS"];
    args.extend(keys.iter().map(String::as_str));
    args.extend(std::iter::repeat_n(">", keys.len()));
    let reply = c.cmd(&args);
    assert_eq!(
        reply,
        "-NOGROUP No such key 'stream:0' or consumer group 'g' in XREADGROUP with GROUP option\r\n"
    );
    for k in &keys {
        assert_eq!(c.cmd(&["XGROUP", "CREATE", k, "g", "0"]), "+OK\r\n");
    }
    let R::Arr(reply) = parse(&c.cmd(&args)) else {
        panic!("XREADGROUP did not answer an array");
    };
    assert_eq!(reply.len(), 40);
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn range_queries_stay_fast_on_a_big_stream() {
    let s = Server::start();
    let mut c = s.client();
    const N: usize = 50_000;
    let mut batch = Vec::new();
    for i in 1..=N {
        let id = format!("{i}-0");
        batch.extend_from_slice(&Client::encode(&[
            b"XADD",
            b"big",
            id.as_bytes(),
            b"f",
            b"v",
        ]));
        if i % 10_000 == 0 {
            c.send_raw(&batch);
            batch.clear();
            for _ in 0..10_000 {
                c.read_reply_bytes();
            }
        }
    }
    assert_eq!(c.cmd(&["XLEN", "big"]), format!(":{N}\r\n"));
    let start = Instant::now();
    for k in 0..200 {
        let from = format!("{}", 1 + k * 241);
        let r = c.cmd(&["XRANGE", "big", &from, "+", "COUNT", "3"]);
        assert!(r.starts_with("*3\r\n"), "{r}");
        let r = c.cmd(&["XREVRANGE", "big", &from, "-", "COUNT", "2"]);
        assert!(r.starts_with("*2\r\n") || k == 0, "{r}");
    }
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "400 small range queries took {:?}",
        start.elapsed()
    );
}

#[test]
fn keyspace_events_as_redis_sends_them() {
    let s = Server::start_with(&["--notify-keyspace-events", "Kt"]);
    let mut sub = s.client();
    sub.cmd(&["SUBSCRIBE", "__keyspace@0__:s"]);
    let mut c = s.client();
    for cmd in [
        "xadd s 1-1 a b",
        "xadd s maxlen 1 1-2 a b",
        "xadd s maxlen 5 1-3 a b",
        "xtrim s maxlen 1",
        "xtrim s maxlen 1",
        "xdel s 1-3",
        "xdel s 9-9",
        "xgroup create s g 0",
        "xgroup createconsumer s g c",
        "xgroup createconsumer s g c",
        "xreadgroup group g c2 streams s 0",
        "xgroup setid s g 0",
        "xclaim s g c3 0 1-3 force",
        "xautoclaim s g c4 0 0",
        "xgroup delconsumer s g c",
        "xgroup destroy s g",
        "xsetid s 5-5",
        "xack s g 1-1",
        "xgroup create s g 0",
        "xadd s 6-1 a b",
        "xreadgroup group g c5 streams s >",
        "xclaim s g c6 0 6-1",
    ] {
        let args: Vec<&str> = cmd.split(' ').collect();
        c.cmd(&args);
    }
    let expected = [
        "xadd",
        "xadd",
        "xtrim",
        "xadd",
        "xtrim",
        "xdel",
        "xgroup-create",
        "xgroup-createconsumer",
        "xgroup-createconsumer",
        "xgroup-setid",
        "xgroup-delconsumer",
        "xgroup-destroy",
        "xsetid",
        "xgroup-create",
        "xadd",
        "xgroup-createconsumer",
        "xgroup-createconsumer",
    ];
    for event in expected {
        let want = format!(
            "*3\r\n$7\r\nmessage\r\n$16\r\n__keyspace@0__:s\r\n${}\r\n{event}\r\n",
            event.len()
        );
        assert_eq!(sub.read_reply(), want);
    }
    assert_eq!(sub.cmd(&["PING"]), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
}

#[test]
fn keyspace_hits_and_misses_count_as_in_redis() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let script = "config resetstat
                  xadd s 1-1 a b
                  xlen s
                  xlen nokey
                  xrange s - +
                  xread streams s nokey 0 0
                  xgroup create s g 0
                  xreadgroup group g c streams s >
                  xreadgroup group g c streams s 0
                  xpending s g
                  xinfo stream s
                  xack s g 1-1
                  xclaim s g c 0 1-1
                  xautoclaim s g c 0 0
                  xtrim s maxlen 5
                  xdel s 5-5
                  xsetid s 9-9";
    let counters = |port: u16| {
        let mut c = Client::connect(port);
        for l in script.lines() {
            let args: Vec<&str> = l.split_whitespace().collect();
            c.cmd(&args);
        }
        let info = c.cmd(&["INFO", "stats"]);
        info.lines()
            .filter(|l| l.starts_with("keyspace_hits:") || l.starts_with("keyspace_misses:"))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let want = counters(redis.port);
    assert_eq!(want.len(), 2);
    assert_eq!(counters(ours.port), want);
}
