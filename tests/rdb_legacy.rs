//! Encodings older Redis versions wrote (plain lists, ziplists, zipmaps, quicklists of ziplists, string scores,
//! v1 streams), and the 7.0 ones under lowered thresholds: the same hand-built payload is restored in redis-server
//! 7.0.15 and in ferredis, and every read-back (OBJECT ENCODING included) must match.

mod common;
mod rdb_support;

use common::{Client, Server};
use ferredis::persist::rdb::crc64;
use ferredis::persist::rdb::listpack::ListpackBuilder;
use ferredis::persist::rdb::string::{put_double, put_len, put_ms, put_string};
use rdb_support::restore;

enum Zl<'a> {
    S(&'a [u8]),
    I(i64),
}

/// A ziplist as Redis 6 writes one.
fn ziplist(items: &[Zl]) -> Vec<u8> {
    let mut body = Vec::new();
    let (mut prev, mut tail) = (0usize, 10usize);
    for item in items {
        let start = body.len();
        tail = 10 + start;
        if prev < 254 {
            body.push(prev as u8);
        } else {
            body.push(254);
            body.extend_from_slice(&(prev as u32).to_le_bytes());
        }
        match item {
            Zl::S(s) if s.len() < 64 => body.push(s.len() as u8),
            Zl::S(s) if s.len() < 16384 => {
                body.extend_from_slice(&[0x40 | (s.len() >> 8) as u8, s.len() as u8])
            }
            Zl::S(s) => {
                body.push(0x80);
                body.extend_from_slice(&(s.len() as u32).to_be_bytes());
            }
            Zl::I(n @ 0..=12) => body.push(0xF1 + *n as u8),
            Zl::I(n) if i8::try_from(*n).is_ok() => body.extend_from_slice(&[0xFE, *n as u8]),
            Zl::I(n) if i16::try_from(*n).is_ok() => {
                body.push(0xC0);
                body.extend_from_slice(&(*n as i16).to_le_bytes());
            }
            Zl::I(n) if (-(1 << 23)..(1 << 23)).contains(n) => {
                body.push(0xF0);
                body.extend_from_slice(&(*n as i32).to_le_bytes()[..3]);
            }
            Zl::I(n) if i32::try_from(*n).is_ok() => {
                body.push(0xD0);
                body.extend_from_slice(&(*n as i32).to_le_bytes());
            }
            Zl::I(n) => {
                body.push(0xE0);
                body.extend_from_slice(&n.to_le_bytes());
            }
        }
        if let Zl::S(s) = item {
            body.extend_from_slice(s);
        }
        prev = body.len() - start;
    }
    let mut zl = ((10 + body.len() + 1) as u32).to_le_bytes().to_vec();
    zl.extend_from_slice(&(tail as u32).to_le_bytes());
    zl.extend_from_slice(&(items.len() as u16).to_le_bytes());
    zl.extend_from_slice(&body);
    zl.push(0xFF);
    zl
}

/// Type byte, body, version and CRC-64.
fn payload(ty: u8, body: &[u8], version: u16) -> Vec<u8> {
    let mut p = vec![ty];
    p.extend_from_slice(body);
    p.extend_from_slice(&version.to_le_bytes());
    let crc = crc64(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

fn strings(items: &[&[u8]]) -> Vec<u8> {
    let mut b = Vec::new();
    put_len(&mut b, items.len() as u64);
    items.iter().for_each(|s| put_string(&mut b, s, false));
    b
}

/// A count of pairs, then the strings.
fn pairs(items: &[&[u8]]) -> Vec<u8> {
    let mut b = Vec::new();
    put_len(&mut b, (items.len() / 2) as u64);
    items.iter().for_each(|s| put_string(&mut b, s, false));
    b
}

fn blob(bytes: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    put_string(&mut b, bytes, false);
    b
}

fn stream_v1() -> Vec<u8> {
    let mut lp = ListpackBuilder::new();
    for v in [2, 0, 1] {
        lp.push_int(v);
    }
    lp.push(b"f");
    lp.push_int(0);
    for v in [2, 0, 0] {
        lp.push_int(v);
    }
    lp.push(b"v1");
    lp.push_int(4);
    for v in [0, 1, 0, 2] {
        lp.push_int(v);
    }
    for s in [&b"a"[..], b"1", b"b", b"2"] {
        lp.push(s);
    }
    lp.push_int(8);
    let id = |ms: u64, seq: u64| [ms.to_be_bytes(), seq.to_be_bytes()].concat();
    let mut b = Vec::new();
    put_len(&mut b, 1);
    put_string(&mut b, &id(1, 1), false);
    put_string(&mut b, &lp.finish(), false);
    for n in [2, 2, 1, 1] {
        put_len(&mut b, n); // length, last id, then the group count (1) comes below
    }
    b.truncate(b.len() - 1);
    put_len(&mut b, 1);
    put_string(&mut b, b"g", false);
    put_len(&mut b, 1);
    put_len(&mut b, 1);
    put_len(&mut b, 1);
    b.extend_from_slice(&id(1, 1));
    put_ms(&mut b, 1_700_000_000_000);
    put_len(&mut b, 3);
    put_len(&mut b, 1);
    put_string(&mut b, b"c", false);
    put_ms(&mut b, 1_700_000_000_000);
    put_len(&mut b, 1);
    b.extend_from_slice(&id(1, 1));
    b
}

struct Case {
    key: &'static str,
    payload: Vec<u8>,
    check: Vec<Vec<&'static str>>,
}

fn cases() -> Vec<Case> {
    let long = vec![b'L'; 100];
    let zl_items = [
        Zl::S(b"a"),
        Zl::I(7),
        Zl::I(300),
        Zl::I(-70000),
        Zl::S(&long),
        Zl::I(1 << 40),
        Zl::I(-100),
    ];
    let mut quicklist = Vec::new();
    put_len(&mut quicklist, 2);
    put_string(&mut quicklist, &ziplist(&zl_items[..3]), false);
    put_string(&mut quicklist, &ziplist(&zl_items[3..]), false);
    let mut zset_str = Vec::new();
    put_len(&mut zset_str, 4);
    for (m, score) in [
        (&b"a"[..], &b"\x031.5"[..]),
        (b"b", b"\xfe"),
        (b"c", b"\xff"),
        (b"d", b"\x02-3"),
    ] {
        put_string(&mut zset_str, m, false);
        zset_str.extend_from_slice(score);
    }
    let mut zset2 = Vec::new();
    put_len(&mut zset2, 2);
    for (m, s) in [(&b"x"[..], 2.0), (b"y", -0.5)] {
        put_string(&mut zset2, m, false);
        put_double(&mut zset2, s);
    }
    let zipmap = [2, 1, b'f', 2, 3, b'v', b'w', 0, 0, 0, 1, b'g', 0, 0, 0xFF];
    let zipmap_long = [&[1u8, 1, b'f', 100, 0][..], &long, &[0xFF]].concat();
    let hash_fields: Vec<Vec<u8>> = (0..300)
        .flat_map(|i| [format!("f{i}").into_bytes(), b"v".to_vec()])
        .collect();
    let hash_refs: Vec<&[u8]> = hash_fields.iter().map(Vec::as_slice).collect();
    let hash_body = pairs(&hash_refs);
    let empty_lp = ListpackBuilder::new().finish();
    let mut one_lp = ListpackBuilder::new();
    one_lp.push(b"only");
    let mut ql2 = Vec::new();
    put_len(&mut ql2, 2);
    for node in [empty_lp, one_lp.finish()] {
        put_len(&mut ql2, 2);
        put_string(&mut ql2, &node, false);
    }
    let case = |key, payload, check: &[&[&'static str]]| Case {
        key,
        payload,
        check: check.iter().map(|c| c.to_vec()).collect(),
    };
    vec![
        case(
            "listql2",
            payload(18, &ql2, 10),
            &[&["LRANGE", "listql2", "0", "-1"]],
        ),
        case(
            "list1",
            payload(1, &strings(&[b"a", b"1", b"ccc"]), 6),
            &[&["LRANGE", "list1", "0", "-1"]],
        ),
        case(
            "listzl",
            payload(10, &blob(&ziplist(&zl_items)), 6),
            &[&["LRANGE", "listzl", "0", "-1"]],
        ),
        case(
            "listql",
            payload(14, &quicklist, 9),
            &[&["LRANGE", "listql", "0", "-1"]],
        ),
        case(
            "set1",
            payload(2, &strings(&[b"3", b"1", b"2"]), 6),
            &[&["SMEMBERS", "set1"]],
        ),
        case(
            "setmix",
            payload(2, &strings(&[b"3", b"x"]), 6),
            &[&["SMISMEMBER", "setmix", "3", "x", "y"]],
        ),
        case(
            "zset1",
            payload(3, &zset_str, 6),
            &[&["ZRANGE", "zset1", "0", "-1", "WITHSCORES"]],
        ),
        case(
            "zset2",
            payload(5, &zset2, 9),
            &[&["ZRANGE", "zset2", "0", "-1", "WITHSCORES"]],
        ),
        case(
            "zsetzl",
            payload(
                12,
                &blob(&ziplist(&[
                    Zl::S(b"m1"),
                    Zl::I(1),
                    Zl::S(b"m2"),
                    Zl::S(b"2.5"),
                ])),
                9,
            ),
            &[&["ZRANGE", "zsetzl", "0", "-1", "WITHSCORES"]],
        ),
        case(
            "hash1",
            payload(4, &pairs(&[b"f", b"v", b"n", b"12"]), 6),
            &[&["HGETALL", "hash1"]],
        ),
        case(
            "hashbig",
            payload(4, &hash_body, 9),
            &[&["HLEN", "hashbig"], &["HGET", "hashbig", "f299"]],
        ),
        case(
            "hashzm",
            payload(9, &blob(&zipmap), 3),
            &[&["HGETALL", "hashzm"]],
        ),
        case(
            "hashzmlong",
            payload(9, &blob(&zipmap_long), 3),
            &[&["HGETALL", "hashzmlong"]],
        ),
        case(
            "hashzl",
            payload(
                13,
                &blob(&ziplist(&[Zl::S(b"f"), Zl::S(b"v"), Zl::S(b"n"), Zl::I(5)])),
                9,
            ),
            &[&["HGETALL", "hashzl"]],
        ),
        case(
            "hashzllong",
            payload(13, &blob(&ziplist(&[Zl::S(b"f"), Zl::S(&long)])), 9),
            &[&["HGETALL", "hashzllong"]],
        ),
        case(
            "stream1",
            payload(15, &stream_v1(), 9),
            &[
                &["XRANGE", "stream1", "-", "+"],
                &["XINFO", "STREAM", "stream1", "FULL"],
            ],
        ),
    ]
}

fn check_all(a: &mut Client, b: &mut Client, case: &Case, what: &str) {
    let mut checks = case.check.clone();
    checks.push(vec!["OBJECT", "ENCODING", case.key]);
    checks.push(vec!["TYPE", case.key]);
    for c in &checks {
        assert_eq!(a.cmd(c), b.cmd(c), "{what}: {}: {c:?}", case.key);
    }
}

#[test]
fn older_encodings_restore_as_in_redis() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let (mut a, mut b) = (ours.client(), redis.client());
    for case in cases() {
        let want = restore(&mut b, case.key, "0", &case.payload, &[]);
        assert_eq!(want, "+OK\r\n", "redis refused {}", case.key);
        assert_eq!(
            restore(&mut a, case.key, "0", &case.payload, &[]),
            want,
            "{}",
            case.key
        );
        check_all(&mut a, &mut b, &case, "default thresholds");
    }
}

/// Loading re-checks sizes against the thresholds in force, as Redis's rdbLoadObject does.
#[test]
fn restored_values_follow_the_thresholds_in_force() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let (mut a, mut b) = (ours.client(), redis.client());
    let settings: &[&[&str]] = &[
        &["CONFIG", "SET", "hash-max-listpack-entries", "1"],
        &["CONFIG", "SET", "zset-max-listpack-entries", "1"],
        &["CONFIG", "SET", "set-max-intset-entries", "2"],
        &["CONFIG", "SET", "hash-max-listpack-value", "1"],
    ];
    let sources: &[&[&str]] = &[
        &["HSET", "h", "f", "v", "g", "w"],
        &["ZADD", "z", "1", "a", "2", "b"],
        &["SADD", "s", "1", "2", "3"],
        &["HSET", "h2", "field", "value"],
        &["ZADD", "z2", "1", "a"],
    ];
    let mut payloads = Vec::new();
    for s in sources {
        a.cmd(s);
        payloads.push((s[1], rdb_support::dump(&mut a, s[1])));
    }
    for s in settings {
        assert_eq!(a.cmd(s), b.cmd(s));
    }
    for (key, p) in &payloads {
        let target = format!("{key}-copy");
        let want = restore(&mut b, &target, "0", p, &[]);
        assert_eq!(restore(&mut a, &target, "0", p, &[]), want);
        for c in [
            &["OBJECT", "ENCODING", target.as_str()][..],
            &["DUMP", "nope"],
        ] {
            assert_eq!(a.cmd(c), b.cmd(c), "{c:?}");
        }
    }
}

/// Values with nothing in them are refused as Redis refuses them (a file loader skips them instead).
#[test]
fn empty_values_are_refused_like_redis() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let (mut a, mut b) = (ours.client(), redis.client());
    let empty_lp = blob(&ListpackBuilder::new().finish());
    let mut empty_ql = Vec::new();
    put_len(&mut empty_ql, 1);
    put_len(&mut empty_ql, 2);
    put_string(&mut empty_ql, &ListpackBuilder::new().finish(), false);
    let payloads = [
        payload(16, &empty_lp, 10),
        payload(17, &empty_lp, 10),
        payload(18, &empty_ql, 10),
        payload(1, &strings(&[]), 10),
        payload(4, &pairs(&[]), 10),
        payload(10, &blob(&ziplist(&[])), 9),
    ];
    for (i, p) in payloads.iter().enumerate() {
        let want = restore(&mut b, "e", "0", p, &[]);
        assert_eq!(want, "-ERR Bad data format\r\n", "case {i}");
        assert_eq!(restore(&mut a, "e", "0", p, &[]), want, "case {i}");
    }
}
