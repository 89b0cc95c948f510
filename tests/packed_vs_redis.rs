//! The packed encodings (hash and sorted-set listpacks, intsets, quicklist nodes) against redis-server 7.0: random
//! operations on small keys under small random `*-max-listpack-*` / `set-max-intset-entries` limits, with binary,
//! integer-like and over-the-limit values, every reply compared byte for byte, OBJECT ENCODING included, so each
//! conversion happens at the same write in both servers. Orders that depend on the hash function (a hashtable's
//! iteration) are compared only while the key is packed.

mod common;

use common::{Client, Server};

struct Pair {
    ours: Client,
    redis: Client,
    /// Every encoding reported, so that a run that converts nothing fails.
    seen: std::collections::BTreeSet<String>,
}

impl Pair {
    fn same(&mut self, cmd: &[&[u8]]) -> Vec<u8> {
        let ours = self.ours.cmd_bytes(cmd);
        let redis = self.redis.cmd_bytes(cmd);
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&redis),
            "reply to {:?} differs from redis-server",
            cmd.iter()
                .map(|a| String::from_utf8_lossy(a))
                .collect::<Vec<_>>()
        );
        ours
    }

    /// The key's encoding (the same in both servers, or the test fails).
    fn encoding(&mut self, key: &[u8]) -> String {
        let reply =
            String::from_utf8_lossy(&self.same(&[b"OBJECT", b"ENCODING", key])).into_owned();
        self.seen.insert(reply.clone());
        reply
    }
}

/// A member or value: binary bytes, integer-like text, or long enough to pass a small `-value` limit.
fn element() -> Vec<u8> {
    match fastrand::u8(..6) {
        0 => (0..fastrand::usize(0..4))
            .map(|_| [0u8, 0xff, b'\r', b'\n', b'a'][fastrand::usize(..5)])
            .collect(),
        1 => [
            "0",
            "-0",
            "12",
            "007",
            "-5",
            "9223372036854775807",
            "1e3",
            "3.5",
        ][fastrand::usize(..8)]
        .as_bytes()
        .to_vec(),
        2 => vec![b'x'; fastrand::usize(5..20)],
        _ => format!("m{}", fastrand::u8(..12)).into_bytes(),
    }
}

fn int_element() -> Vec<u8> {
    let n = match fastrand::u8(..4) {
        0 => fastrand::i64(..),
        1 => fastrand::i64(-70_000..70_000),
        _ => fastrand::i64(-20..20),
    };
    n.to_string().into_bytes()
}

fn score() -> Vec<u8> {
    ["0", "-0", "1", "2.5", "-3", "inf", "-inf", "1e300", "7"][fastrand::usize(..9)]
        .as_bytes()
        .to_vec()
}

fn hash_step(p: &mut Pair) {
    let (f, v) = (element(), element());
    match fastrand::u8(..6) {
        0 | 1 => p.same(&[b"HSET", b"h", &f, &v]),
        2 => p.same(&[b"HDEL", b"h", &f]),
        3 => p.same(&[b"HINCRBY", b"h", &f, b"3"]),
        4 => p.same(&[b"HGET", b"h", &f]),
        _ => p.same(&[b"HSTRLEN", b"h", &f]),
    };
    p.same(&[b"HLEN", b"h"]);
    if p.encoding(b"h").ends_with("listpack\r\n") {
        p.same(&[b"HGETALL", b"h"]);
    }
}

fn zset_step(p: &mut Pair) {
    let (m, s) = (element(), score());
    match fastrand::u8(..9) {
        0..=2 => p.same(&[b"ZADD", b"z", &s, &m]),
        3 => p.same(&[b"ZINCRBY", b"z", &s, &m]),
        4 => p.same(&[b"ZREM", b"z", &m]),
        5 => p.same(&[b"ZRANK", b"z", &m]),
        6 => p.same(&[b"ZPOPMIN", b"z"]),
        7 => p.same(&[b"ZREMRANGEBYSCORE", b"z", b"(2", b"7"]),
        _ => p.same(&[b"ZADD", b"lex", b"0", &m]),
    };
    p.encoding(b"z");
    p.same(&[b"ZRANGE", b"z", b"0", b"-1", b"WITHSCORES"]);
    p.same(&[b"ZREVRANGE", b"z", b"1", b"3", b"WITHSCORES"]);
    p.same(&[b"ZRANGEBYSCORE", b"z", b"-1", b"+inf", b"LIMIT", b"1", b"2"]);
    p.same(&[b"ZREVRANGEBYSCORE", b"z", b"(7", b"-inf"]);
    p.same(&[b"ZCOUNT", b"z", b"(0", b"inf"]);
    p.same(&[b"ZSCORE", b"z", &m]);
    p.same(&[b"ZRANGEBYLEX", b"lex", b"[m", b"(m5"]);
    p.same(&[b"ZREVRANGEBYLEX", b"lex", b"+", b"(a", b"LIMIT", b"0", b"3"]);
}

fn set_step(p: &mut Pair) {
    let m = if fastrand::u8(..8) == 0 {
        element()
    } else {
        int_element()
    };
    match fastrand::u8(..3) {
        0 | 1 => p.same(&[b"SADD", b"s", &m]),
        _ => p.same(&[b"SREM", b"s", &m]),
    };
    p.same(&[b"SISMEMBER", b"s", &m]);
    p.same(&[b"SCARD", b"s"]);
    if p.encoding(b"s").ends_with("intset\r\n") {
        p.same(&[b"SMEMBERS", b"s"]);
    }
}

fn list_step(p: &mut Pair) {
    let e = if fastrand::u8(..20) == 0 {
        vec![b'L'; fastrand::usize(8000..9000)]
    } else {
        element()
    };
    let i = fastrand::i64(-8..8).to_string().into_bytes();
    match fastrand::u8(..9) {
        0 | 1 => p.same(&[b"RPUSH", b"l", &e]),
        2 | 3 => p.same(&[b"LPUSH", b"l", &e]),
        4 => p.same(&[b"LSET", b"l", &i, &e]),
        5 => p.same(&[b"LINSERT", b"l", b"BEFORE", &element(), &e]),
        6 => p.same(&[b"LREM", b"l", &i, &element()]),
        7 => p.same(&[b"LPOP", b"l", b"2"]),
        _ => p.same(&[b"LTRIM", b"l", &i, b"-2"]),
    };
    p.same(&[b"LRANGE", b"l", b"0", b"-1"]);
    p.same(&[b"LINDEX", b"l", &i]);
    p.same(&[b"LPOS", b"l", &element(), b"RANK", b"-1", b"COUNT", b"0"]);
}

#[test]
fn random_operations_on_packed_values_answer_as_redis() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let mut p = Pair {
        ours: ours.client(),
        redis: redis.client(),
        seen: Default::default(),
    };
    fastrand::seed(19);
    for _ in 0..12 {
        p.same(&[b"FLUSHALL"]);
        for param in [
            "hash-max-listpack-entries",
            "hash-max-listpack-value",
            "zset-max-listpack-entries",
            "zset-max-listpack-value",
            "set-max-intset-entries",
        ] {
            let limit = fastrand::usize(1..16).to_string();
            p.same(&[b"CONFIG", b"SET", param.as_bytes(), limit.as_bytes()]);
        }
        for _ in 0..60 {
            hash_step(&mut p);
            zset_step(&mut p);
            set_step(&mut p);
            list_step(&mut p);
        }
    }
    let mut seen: Vec<&str> = p.seen.iter().filter_map(|e| e.lines().nth(1)).collect();
    seen.sort_unstable();
    assert_eq!(seen, ["hashtable", "intset", "listpack", "skiplist"]);
}
