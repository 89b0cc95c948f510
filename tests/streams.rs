//! Streams and consumer groups: every command against the real redis-server where replies are deterministic, and
//! exact checks of delivery counts, the pending lists and `*` ids where they depend on the clock.

mod common;

use common::{assert_same_as_redis, Client, Server};
use std::time::{Duration, Instant};

/// Runs a script (one command a line, arguments split on spaces, `#` lines ignored) on both servers.
fn same(script: &str) {
    let lines: Vec<Vec<&str>> = script
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().collect())
        .collect();
    let cmds: Vec<&[&str]> = lines.iter().map(Vec::as_slice).collect();
    assert_same_as_redis(&cmds);
}

/// Like `same`, after running `setup` on both servers without comparing its replies (HELLO 3 carries the
/// client id and server version).
fn same_after(setup: &str, script: &str) {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let (mut a, mut b) = (ours.client(), redis.client());
    let lines = |text: &str| -> Vec<Vec<String>> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| l.split_whitespace().map(String::from).collect())
            .collect()
    };
    for cmd in lines(setup) {
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        a.cmd(&args);
        b.cmd(&args);
    }
    for cmd in lines(script) {
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        assert_eq!(
            a.cmd(&args),
            b.cmd(&args),
            "reply to {args:?} differs from redis-server"
        );
    }
}

fn run(c: &mut Client, script: &str) {
    for l in script.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let args: Vec<&str> = l.split_whitespace().collect();
        let reply = c.cmd(&args);
        assert!(!reply.starts_with('-'), "{l}: {reply}");
    }
}

/// A decoded reply, enough to pick fields out of XPENDING and XINFO answers.
#[derive(Debug, PartialEq)]
enum R {
    Int(i64),
    Str(String),
    Nil,
    Arr(Vec<R>),
}

fn parse(text: &str) -> R {
    fn one(lines: &mut std::str::Split<'_, &str>) -> R {
        let line = lines.next().expect("truncated reply");
        let (kind, body) = line.split_at(1);
        match kind {
            ":" => R::Int(body.parse().unwrap()),
            "+" => R::Str(body.to_string()),
            "$" if body == "-1" => R::Nil,
            "$" => R::Str(lines.next().unwrap().to_string()),
            "*" if body == "-1" => R::Nil,
            "*" => R::Arr(
                (0..body.parse::<usize>().unwrap())
                    .map(|_| one(lines))
                    .collect(),
            ),
            "%" => R::Arr(
                (0..2 * body.parse::<usize>().unwrap())
                    .map(|_| one(lines))
                    .collect(),
            ),
            "_" => R::Nil,
            _ => panic!("unexpected reply line {line:?}"),
        }
    }
    one(&mut text.split("\r\n"))
}

/// XPENDING's extended form as (id, consumer, delivery count), the idle times left out.
fn pending(c: &mut Client, key: &str, group: &str) -> Vec<(String, String, i64)> {
    let R::Arr(items) = parse(&c.cmd(&["XPENDING", key, group, "-", "+", "100"])) else {
        panic!("XPENDING did not answer an array");
    };
    items
        .into_iter()
        .map(|item| match item {
            R::Arr(f) => match &f[..] {
                [R::Str(id), R::Str(owner), R::Int(_), R::Int(n)] => {
                    (id.clone(), owner.clone(), *n)
                }
                other => panic!("bad XPENDING item {other:?}"),
            },
            other => panic!("bad XPENDING item {other:?}"),
        })
        .collect()
}

fn p(id: &str, owner: &str, n: i64) -> (String, String, i64) {
    (id.to_string(), owner.to_string(), n)
}

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
fn xgroup_matches_redis() {
    same(
        "xgroup create g1 grp $
         xgroup create g1 grp $ mkstream
         xgroup create g1 grp $ mkstream
         xgroup create g1 grp2 0 entriesread 5
         xgroup create g1 grp3 0 entriesread -2
         xgroup create g1 grp3 0 entriesread x
         xgroup create g1 grp3 0 foo
         xgroup create g1 grp3 abc
         xgroup create g1 grp3 -
         xgroup create g1 grp3 0 mkstream entriesread 1 foo
         xgroup create g1 grp3
         xgroup
         xgroup foo
         xgroup foo a b c
         xgroup setid g1 nogrp 0
         xgroup setid nokey nogrp 0
         xgroup setid g1 grp 0 mkstream
         xgroup setid g1 grp 0 entriesread 3
         xgroup setid g1 grp -
         xgroup setid g1 grp +
         xgroup setid g1 grp abc
         xgroup destroy g1 nogrp
         xgroup destroy g1 grp2
         xgroup destroy g1 grp2 x
         xgroup destroy nokey grp2
         xgroup createconsumer g1 grp c1
         xgroup createconsumer g1 grp c1
         xgroup createconsumer g1 nogrp c1
         xgroup createconsumer nokey nogrp c1
         xgroup delconsumer g1 grp nobody
         xgroup delconsumer g1 grp c1
         xgroup delconsumer g1 nogrp c1
         xgroup help
         xgroup help x
         xgroup create g1 zgrp 5-5 entriesread 3
         xgroup create g1 agrp 0
         xinfo groups g1",
    );
}

#[test]
fn xreadgroup_xack_xpending_match_redis() {
    same(
        "xadd g1 1-1 a 1
         xadd g1 1-2 a 2
         xadd g1 1-3 a 3
         xadd g1 1-4 a 4
         xadd g1 1-5 a 5
         xgroup create g1 grp 0
         xinfo groups g1
         xreadgroup group grp alice count 2 streams g1 >
         xinfo groups g1
         xreadgroup group grp bob streams g1 >
         xreadgroup group grp bob streams g1 >
         xreadgroup group grp bob block 10 streams g1 >
         xinfo groups g1
         xreadgroup group grp alice streams g1 0
         xreadgroup group grp alice streams g1 1-1
         xreadgroup group grp alice count 1 streams g1 0
         xreadgroup group grp nobody streams g1 0
         xpending g1 grp
         xpending g1 grp - + 0
         xpending g1 grp - + 10 nobody
         xpending g1 grp - + x
         xpending g1 grp idle x - + 10
         xpending g1 grp idle 10 - +
         xpending g1 grp foo
         xpending g1 grp - +
         xpending g1 nogrp
         xpending nokey grp
         xpending g1 grp abc + 10
         xpending g1 grp (- + 10
         xpending g1 grp - (0-0 10
         xpending g1 grp idle 100000000 - + 10
         xack g1 grp 1-1 1-9 1-2
         xack g1 grp 1-1
         xack g1 nogrp 1-1
         xack nokey grp 1-1
         xack g1 grp abc
         xack g1 grp 1-3 abc
         xpending g1 grp
         xdel g1 1-3
         xreadgroup group grp bob streams g1 0
         xinfo groups g1
         xinfo consumers g1 nogrp
         xinfo consumers nokey grp
         xreadgroup group grp alice streams g1 $
         xreadgroup group grp alice streams g1
         xreadgroup group grp alice streams g1 > >
         xreadgroup streams g1 >
         xreadgroup group grp alice noack foo streams g1 >
         xreadgroup group nogrp alice streams g1 >
         xreadgroup group grp alice streams nokey >
         xreadgroup group grp alice streams g1 abc
         xadd g1 2-1 z 1
         xadd g1 2-2 z 2
         xreadgroup group grp carol noack streams g1 >
         xpending g1 grp
         xinfo groups g1
         xgroup createconsumer g1 grp dave
         xgroup delconsumer g1 grp bob
         xpending g1 grp
         xgroup destroy g1 grp
         xinfo groups g1
         xreadgroup group grp alice streams g1 0",
    );
}

#[test]
fn xclaim_and_xautoclaim_match_redis() {
    same(
        "xadd c 1-1 a 1
         xadd c 1-2 a 2
         xadd c 1-3 a 3
         xadd c 1-4 a 4
         xadd c 1-5 a 5
         xgroup create c g 0
         xreadgroup group g alice streams c >
         xclaim c g bob 0 1-1 1-2 1-9
         xpending c g
         xclaim c g bob 0 1-3 justid
         xclaim c g bob 0 1-3 justid retrycount 7
         xclaim c g bob 0 1-4 time 1000 retrycount 2
         xclaim c g bob 0 1-6 force
         xclaim c g bob 0 1-5 1-6 force justid lastid 1-9
         xinfo groups c
         xclaim c g bob 1000000 1-1
         xclaim c g bob x 1-1
         xclaim c g bob -5 1-1 justid
         xclaim c g bob 0 1-1 idle x
         xclaim c g bob 0 1-1 time x
         xclaim c g bob 0 1-1 retrycount x
         xclaim c g bob 0 1-1 lastid x
         xclaim c g bob 0 1-1 foo
         xclaim c g bob 0 1-1 idle
         xclaim c g bob 0 foo
         xclaim c nog bob 0 1-1
         xclaim nokey g bob 0 1-1
         xdel c 1-2
         xclaim c g carol 0 1-2 1-1 justid
         xpending c g
         xadd c 1-6 a 6
         xadd c 1-7 a 7
         xgroup setid c g 1-5
         xreadgroup group g dave streams c >
         xdel c 1-6
         xautoclaim c g erin 0 0 count 2
         xautoclaim c g erin 0 0 count 2 justid
         xautoclaim c g erin 0 (1-5 justid
         xautoclaim c g erin 0 0-0 count 100
         xautoclaim c g erin 0 - count 1
         xautoclaim c g erin 10000000 - count 1
         xautoclaim c g erin 10000000 - count 3
         xautoclaim c g erin 0 - count 0
         xautoclaim c g erin 0 - count x
         xautoclaim c g erin 0 - foo
         xautoclaim c g erin x -
         xautoclaim c g erin 0 x
         xautoclaim c nog erin 0 0
         xautoclaim nokey g erin 0 0
         xautoclaim c g erin 0 (18446744073709551615-18446744073709551615
         xpending c g
         xgroup delconsumer c g erin
         xpending c g
         xinfo groups c",
    );
}

#[test]
fn lag_and_entries_read_match_redis() {
    same(
        "xadd l 1-1 a 1
         xadd l 1-2 a 2
         xadd l 1-3 a 3
         xgroup create l g 0
         xgroup create l dollar $
         xgroup create l mid 1-2
         xinfo groups l
         xreadgroup group g c count 1 streams l >
         xinfo groups l
         xdel l 1-2
         xinfo groups l
         xreadgroup group g c streams l >
         xinfo groups l
         xadd l 1-4 a 4
         xinfo groups l
         xsetid l 1-9 maxdeletedid 1-5 entriesadded 10
         xinfo groups l
         xgroup setid l g 0 entriesread 0
         xinfo groups l
         xgroup setid l g $
         xinfo groups l
         xtrim l maxlen 0
         xinfo groups l
         xinfo stream l
         xgroup create empty g $ mkstream
         xinfo groups empty
         xinfo stream empty",
    );
}

#[test]
fn xinfo_matches_redis() {
    same(
        "xinfo stream nokey
         xinfo groups nokey
         xinfo consumers nokey g
         xadd i 1-1 f v
         xadd i 2-1 f v g w
         xinfo stream i
         xinfo stream i full
         xinfo stream i full count 1
         xinfo stream i full count 0
         xinfo stream i full count -5
         xinfo stream i full count x
         xinfo stream i foo
         xinfo stream i full count
         xinfo stream i full cnt 5
         xinfo stream i full count 1 x
         xinfo help
         xinfo help x
         xinfo
         xinfo foo
         xinfo groups
         xinfo consumers i
         xgroup create i g 0
         xgroup create i a $
         xinfo groups i
         xinfo stream i
         xreadgroup group g c streams i >
         type i
         object encoding i
         copy i i2
         xinfo stream i2
         xinfo groups i2
         xpending i2 g
         xadd i2 3-3 c d
         xlen i
         xlen i2",
    );
}

#[test]
fn group_edge_cases_match_redis() {
    same(
        "xgroup create e g $ mkstream
         xreadgroup group g c streams e >
         xreadgroup group g c streams e 0
         xreadgroup group g c count 0 streams e 0
         xadd e 1-1 a b
         xadd e 1-2 a b
         xreadgroup group g c count 0 streams e >
         xreadgroup group g c count 0 streams e 0
         xclaim e g d 0 1-1 1-1 justid
         xclaim e g d 0 1-1 1-2 retrycount -3
         xclaim e g d 0 1-1 idle -5 justid
         xclaim e g d 0
         xclaim e g d 0 1-1 force force justid justid
         xgroup create e g2 0 entriesread 1
         xinfo groups e
         xreadgroup group g2 c streams e >
         xinfo groups e
         xgroup setid e g2 1-1 entriesread 1
         xinfo groups e
         xgroup setid e g2 1-1 entriesread -1
         xinfo groups e
         xadd e 1-3 a b
         xreadgroup group g2 c streams e e > >
         xreadgroup group g c noack streams e 0
         xread streams e e 0 1-2
         xinfo stream e
         xdel e 1-1 1-2 1-3
         xinfo stream e
         xinfo groups e
         xreadgroup group g c streams e 0
         xautoclaim e g z 0 0
         xautoclaim e g z 0 0
         xpending e g
         xadd e 2-1 a b
         xinfo groups e
         xtrim e maxlen 0
         xinfo stream e
         xinfo groups e
         xadd big 1-1 a b
         xgroup create big g 0
         xreadgroup group g c count 1 streams big >
         xsetid big 5-5 entriesadded 1
         xinfo groups big
         xsetid big 5-5 entriesadded 0",
    );
}

#[test]
fn duplicate_keys_and_trim_limits_match_redis() {
    same(
        "xadd s 1-1 a b
         xread streams s s 0 0
         xgroup create s g 0
         xreadgroup group g c streams s s > >
         xreadgroup group g c streams s s 0 0
         xadd s 1-2 a b
         xreadgroup group g c count 1 streams s s > >
         xinfo groups s
         xtrim s minid ~ 5 limit 1
         xtrim s minid ~ 5 limit 0
         xinfo stream s
         xadd s maxlen ~ 0 limit 0 5-5 c d
         xinfo stream s
         xadd s minid ~ 6 limit 10 6-6 c d
         xlen s
         xgroup create s g2 0 entriesread 0 entriesread 1
         xinfo groups s
         xclaim s g c 0 1-1 1-1 retrycount 5 justid
         xdel s 1-1 1-1
         xreadgroup group g c2 streams s 0",
    );
}

#[test]
fn delivery_counts_and_pending_lists_across_commands() {
    let s = Server::start();
    let mut c = s.client();
    run(
        &mut c,
        "XADD s 1-1 a 1
         XADD s 1-2 a 2
         XADD s 1-3 a 3
         XADD s 1-4 a 4
         XGROUP CREATE s g 0",
    );
    c.cmd(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "alice",
        "COUNT",
        "3",
        "STREAMS",
        "s",
        ">",
    ]);
    assert_eq!(
        pending(&mut c, "s", "g"),
        vec![
            p("1-1", "alice", 1),
            p("1-2", "alice", 1),
            p("1-3", "alice", 1)
        ]
    );
    // Re-reading history counts a delivery each time.
    c.cmd(&["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"]);
    c.cmd(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "alice",
        "COUNT",
        "1",
        "STREAMS",
        "s",
        "0",
    ]);
    assert_eq!(
        pending(&mut c, "s", "g"),
        vec![
            p("1-1", "alice", 3),
            p("1-2", "alice", 2),
            p("1-3", "alice", 2)
        ]
    );
    // XCLAIM moves ownership and counts a delivery; JUSTID does not count; RETRYCOUNT sets.
    c.cmd(&["XCLAIM", "s", "g", "bob", "0", "1-1"]);
    c.cmd(&["XCLAIM", "s", "g", "bob", "0", "1-2", "JUSTID"]);
    c.cmd(&["XCLAIM", "s", "g", "bob", "0", "1-3", "RETRYCOUNT", "9"]);
    assert_eq!(
        pending(&mut c, "s", "g"),
        vec![p("1-1", "bob", 4), p("1-2", "bob", 2), p("1-3", "bob", 9)]
    );
    assert_eq!(
        c.cmd(&["XPENDING", "s", "g"]),
        "*4\r\n:3\r\n$3\r\n1-1\r\n$3\r\n1-3\r\n*1\r\n*2\r\n$3\r\nbob\r\n$1\r\n3\r\n"
    );
    // A min-idle-time the entries have not reached claims nothing.
    assert_eq!(
        c.cmd(&["XCLAIM", "s", "g", "carol", "3600000", "1-1"]),
        "*0\r\n"
    );
    // XAUTOCLAIM takes them in id order and reports the cursor.
    assert_eq!(
        c.cmd(&[
            "XAUTOCLAIM",
            "s",
            "g",
            "carol",
            "0",
            "-",
            "COUNT",
            "2",
            "JUSTID"
        ]),
        "*3\r\n$3\r\n1-3\r\n*2\r\n$3\r\n1-1\r\n$3\r\n1-2\r\n*0\r\n"
    );
    c.cmd(&["XAUTOCLAIM", "s", "g", "carol", "0", "1-3"]);
    assert_eq!(
        pending(&mut c, "s", "g"),
        vec![
            p("1-1", "carol", 4),
            p("1-2", "carol", 2),
            p("1-3", "carol", 10)
        ]
    );
    // The fourth entry goes to dave; NOACK deliveries never enter the PEL.
    c.cmd(&["XREADGROUP", "GROUP", "g", "dave", "STREAMS", "s", ">"]);
    c.cmd(&["XADD", "s", "1-5", "a", "5"]);
    c.cmd(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "dave",
        "NOACK",
        "STREAMS",
        "s",
        ">",
    ]);
    assert_eq!(pending(&mut c, "s", "g").len(), 4);
    // A deleted entry stays pending until a claim drops it and reports it.
    c.cmd(&["XDEL", "s", "1-2"]);
    assert_eq!(
        c.cmd(&["XREADGROUP", "GROUP", "g", "carol", "STREAMS", "s", "0"]),
        "*1\r\n*2\r\n$1\r\ns\r\n*3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-2\r\n*-1\r\n*2\r\n$3\r\n1-3\r\n*2\r\n$1\r\na\r\n$1\r\n3\r\n"
    );
    assert_eq!(
        c.cmd(&["XAUTOCLAIM", "s", "g", "erin", "0", "-", "JUSTID"]),
        "*3\r\n$3\r\n0-0\r\n*3\r\n$3\r\n1-1\r\n$3\r\n1-3\r\n$3\r\n1-4\r\n*1\r\n$3\r\n1-2\r\n"
    );
    assert_eq!(
        pending(&mut c, "s", "g"),
        vec![
            p("1-1", "erin", 5),
            p("1-3", "erin", 11),
            p("1-4", "erin", 1)
        ]
    );
    // XACK clears both the group's and the consumer's lists.
    assert_eq!(c.cmd(&["XACK", "s", "g", "1-1", "1-3", "1-2"]), ":2\r\n");
    assert_eq!(pending(&mut c, "s", "g"), vec![p("1-4", "erin", 1)]);
    assert_eq!(
        c.cmd(&["XPENDING", "s", "g", "-", "+", "10", "carol"]),
        "*0\r\n"
    );
    assert_eq!(
        c.cmd(&["XGROUP", "DELCONSUMER", "s", "g", "erin"]),
        ":1\r\n"
    );
    assert_eq!(
        c.cmd(&["XPENDING", "s", "g"]),
        "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"
    );
}

#[test]
fn xpending_idle_filter_and_xclaim_idle() {
    let s = Server::start();
    let mut c = s.client();
    run(
        &mut c,
        "XADD s 1-1 a 1\nXADD s 1-2 a 2\nXGROUP CREATE s g 0",
    );
    c.cmd(&["XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">"]);
    // IDLE sets the delivery time in the past; the IDLE filter of XPENDING then sees it.
    c.cmd(&["XCLAIM", "s", "g", "b", "0", "1-1", "IDLE", "500000"]);
    let R::Arr(items) = parse(&c.cmd(&["XPENDING", "s", "g", "IDLE", "400000", "-", "+", "10"]))
    else {
        panic!()
    };
    assert_eq!(items.len(), 1);
    let R::Arr(f) = &items[0] else { panic!() };
    assert_eq!(f[0], R::Str("1-1".into()));
    assert_eq!(f[1], R::Str("b".into()));
    let R::Int(idle) = f[2] else { panic!() };
    assert!((500000..510000).contains(&idle), "idle {idle}");
    // XAUTOCLAIM with a min-idle only takes the old one.
    assert_eq!(
        c.cmd(&["XAUTOCLAIM", "s", "g", "c", "400000", "-", "JUSTID"]),
        "*3\r\n$3\r\n0-0\r\n*1\r\n$3\r\n1-1\r\n*0\r\n"
    );
    // TIME in the future is clamped to now: idle 0.
    c.cmd(&[
        "XCLAIM",
        "s",
        "g",
        "d",
        "0",
        "1-2",
        "TIME",
        "99999999999999",
    ]);
    let R::Arr(items) = parse(&c.cmd(&["XPENDING", "s", "g", "-", "+", "10", "d"])) else {
        panic!()
    };
    let R::Arr(f) = &items[0] else { panic!() };
    let R::Int(idle) = f[2] else { panic!() };
    assert!(idle < 1000, "idle {idle}");
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

/// Sends a command without waiting for its reply (the client blocks).
fn send(c: &mut Client, cmd: &str) {
    let args: Vec<&str> = cmd.split(' ').collect();
    c.send(&args);
}

/// Lets blocked clients reach their wait before the command that wakes them.
fn settle() {
    std::thread::sleep(Duration::from_millis(300));
}

fn blocking_scenario(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    let mut w = Client::connect(port);
    for cmd in [
        "xadd s 1-1 a 1",
        "xgroup create s g $",
        "xgroup create t g $ mkstream",
    ] {
        let args: Vec<&str> = cmd.split(' ').collect();
        out.push(w.cmd(&args));
    }
    let mut r: Vec<Client> = (0..4).map(|_| Client::connect(port)).collect();
    send(&mut r[0], "xread block 0 streams s t $ $");
    send(&mut r[1], "xread block 0 count 1 streams t s 0-0 $");
    send(&mut r[2], "xreadgroup group g c1 block 0 streams s t > >");
    // c1 must queue before c2: the group's entry goes to the first in line.
    settle();
    send(&mut r[3], "xreadgroup group g c2 block 0 streams s >");
    settle();
    // Every XREAD reader gets the entry; of the group's consumers only the first.
    out.push(w.cmd(&["xadd", "s", "2-1", "b", "2"]));
    for c in &mut r[..3] {
        out.push(c.read_reply());
    }
    send(&mut r[0], "xreadgroup group g c3 block 0 streams t >");
    send(&mut r[1], "xreadgroup group g c4 block 0 streams s >");
    send(&mut r[2], "xread block 100 streams u $");
    settle();
    // Deleting the key or the group answers XREADGROUP waiters with Redis's errors.
    out.push(w.cmd(&["del", "t"]));
    out.push(w.cmd(&["xgroup", "destroy", "s", "g"]));
    for c in &mut r {
        out.push(c.read_reply());
    }
    // An XREAD waiter ignores other types and deletions, and takes the stream created later.
    send(&mut r[3], "xread block 0 streams u $");
    settle();
    out.push(w.cmd(&["set", "u", "x"]));
    out.push(w.cmd(&["del", "u"]));
    out.push(w.cmd(&["xadd", "u", "5-5", "k", "v"]));
    out.push(r[3].read_reply());
    out.push(w.cmd(&["xinfo", "groups", "s"]));
    out
}

#[test]
fn blocking_reads_match_redis() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let (got, want) = (blocking_scenario(ours.port), blocking_scenario(redis.port));
    assert_eq!(got, want);
}

#[test]
fn many_readers_blocked_on_several_streams() {
    let s = Server::start();
    let mut w = s.client();
    for i in 0..5 {
        w.cmd(&["XADD", &format!("s{i}"), "1-1", "old", "x"]);
    }
    // Reader k watches s(k%5), s((k+1)%5), s((k+2)%5), all from `$`.
    let mut readers: Vec<Client> = (0..20).map(|_| s.client()).collect();
    for (k, r) in readers.iter_mut().enumerate() {
        let keys: Vec<String> = (0..3).map(|j| format!("s{}", (k + j) % 5)).collect();
        r.send(&[
            "XREAD", "BLOCK", "0", "STREAMS", &keys[0], &keys[1], &keys[2], "$", "$", "$",
        ]);
    }
    settle();
    assert_eq!(w.cmd(&["XADD", "s2", "2-1", "new", "y"]), "$3\r\n2-1\r\n");
    let want = "*1\r\n*2\r\n$2\r\ns2\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$3\r\nnew\r\n$1\r\ny\r\n";
    let mut woken = Vec::new();
    for (k, r) in readers.iter_mut().enumerate() {
        if [2, 1, 0].iter().any(|j| (k + j) % 5 == 2) {
            assert_eq!(r.read_reply(), want, "reader {k}");
            woken.push(k);
        }
    }
    assert_eq!(woken.len(), 12);
    // The others are still waiting: a write to one of their streams answers each of them with that stream.
    assert_eq!(w.cmd(&["XADD", "s4", "3-1", "n", "z"]), "$3\r\n3-1\r\n");
    for (k, r) in readers.iter_mut().enumerate() {
        if !woken.contains(&k) && [0, 1, 2].iter().any(|j| (k + j) % 5 == 4) {
            let reply = r.read_reply();
            assert!(
                reply.starts_with("*1\r\n*2\r\n$2\r\ns4\r\n"),
                "reader {k}: {reply}"
            );
            woken.push(k);
        }
    }
    // Every window of three streams holds s2 or s4, so every reader has now been answered exactly once.
    let rest: Vec<usize> = (0..20).filter(|k| !woken.contains(k)).collect();
    assert_eq!(rest, Vec::<usize>::new());
    for r in &mut readers {
        assert_eq!(r.cmd(&["PING"]), "+PONG\r\n");
    }
}

#[test]
fn blocked_group_consumers_share_new_entries() {
    let s = Server::start();
    let mut w = s.client();
    w.cmd(&["XGROUP", "CREATE", "q", "g", "$", "MKSTREAM"]);
    let mut a = s.client();
    let mut b = s.client();
    a.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "alice",
        "BLOCK",
        "0",
        "STREAMS",
        "q",
        ">",
    ]);
    settle();
    b.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "bob",
        "BLOCK",
        "0",
        "STREAMS",
        "q",
        ">",
    ]);
    settle();
    w.cmd(&["XADD", "q", "1-1", "job", "1"]);
    assert_eq!(
        a.read_reply(),
        "*1\r\n*2\r\n$1\r\nq\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$3\r\njob\r\n$1\r\n1\r\n"
    );
    w.cmd(&["XADD", "q", "1-2", "job", "2"]);
    assert_eq!(
        b.read_reply(),
        "*1\r\n*2\r\n$1\r\nq\r\n*1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$3\r\njob\r\n$1\r\n2\r\n"
    );
    assert_eq!(
        pending(&mut w, "q", "g"),
        vec![p("1-1", "alice", 1), p("1-2", "bob", 1)]
    );
    // A timeout answers a null array.
    let start = Instant::now();
    assert_eq!(
        a.cmd(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "BLOCK",
            "100",
            "STREAMS",
            "q",
            ">"
        ]),
        "*-1\r\n"
    );
    assert!(start.elapsed() >= Duration::from_millis(100));
    // `$` means after the last id when blocking: older entries are not returned.
    a.send(&["XREAD", "BLOCK", "0", "STREAMS", "q", "$"]);
    settle();
    w.cmd(&["XADD", "q", "2-1", "late", "1"]);
    assert_eq!(
        a.read_reply(),
        "*1\r\n*2\r\n$1\r\nq\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$4\r\nlate\r\n$1\r\n1\r\n"
    );
}

fn wake_scenario(port: u16) -> Vec<String> {
    let mut w = Client::connect(port);
    let mut out = Vec::new();
    let cmd = |w: &mut Client, c: &str| {
        let args: Vec<&str> = c.split(' ').collect();
        w.cmd(&args)
    };
    for c in ["xadd s 1-1 a 1", "xadd s 1-2 a 2", "xgroup create s g $"] {
        out.push(cmd(&mut w, c));
    }
    let mut r = Client::connect(port);
    let mut r2 = Client::connect(port);
    send(&mut r, "xreadgroup group g c block 0 streams s >");
    send(&mut r2, "xread block 0 streams s $");
    settle();
    // None of these wakes anyone in Redis: only an XADD does.
    for c in [
        "xgroup setid s g 0",
        "xsetid s 5-5",
        "xgroup setid s g $",
        "xack s g 1-1",
    ] {
        out.push(cmd(&mut w, c));
    }
    out.push(cmd(&mut w, "xadd s 6-1 b 1"));
    out.push(r.read_reply());
    out.push(r2.read_reply());
    // A group moved back while its reader waits: the next XADD serves from the group's last id.
    send(&mut r, "xreadgroup group g c block 0 count 1 streams s >");
    settle();
    out.push(cmd(&mut w, "xgroup setid s g 0"));
    out.push(cmd(&mut w, "xadd s 7-1 b 2"));
    out.push(r.read_reply());
    out
}

#[test]
fn only_xadd_wakes_stream_readers_as_in_redis() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    assert_eq!(wake_scenario(ours.port), wake_scenario(redis.port));
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
