//! Random command streams over small hashes, intsets and sorted sets, run on ferredis and redis-server side by
//! side: in these encodings Redis's replies are deterministic (insertion, numeric or score order), so every reply
//! must match byte for byte.

mod common;

use common::Server;

/// Runs `steps` commands from `next` on both servers, comparing each reply.
fn differential(steps: usize, mut next: impl FnMut() -> Vec<String>) {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let (mut a, mut b) = (ours.client(), redis.client());
    for _ in 0..steps {
        let cmd = next();
        let args: Vec<&str> = cmd.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            a.cmd(&args),
            b.cmd(&args),
            "reply to {args:?} differs from redis-server"
        );
    }
}

fn pick<'a>(options: &[&'a str]) -> &'a str {
    options[fastrand::usize(..options.len())]
}

fn words(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

#[test]
fn intsets() {
    fastrand::seed(1);
    differential(3000, || {
        let key = || pick(&["a", "b", "c"]);
        let member = || fastrand::i32(-20..40).to_string();
        match fastrand::u8(..12) {
            0..=2 => words(&["SADD", key(), &member(), &member(), &member()]),
            3 => words(&["SREM", key(), &member(), &member()]),
            4 => words(&["SMEMBERS", key()]),
            5 => words(&["SINTER", key(), key()]),
            6 => words(&["SUNION", key(), key(), key()]),
            7 => words(&["SDIFF", key(), key()]),
            8 => words(&[
                pick(&["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]),
                key(),
                key(),
                key(),
            ]),
            9 => words(&["SMOVE", key(), key(), &member()]),
            10 => words(&[
                "SINTERCARD",
                "2",
                key(),
                key(),
                "LIMIT",
                &fastrand::u8(..4).to_string(),
            ]),
            _ => words(&["SMISMEMBER", key(), &member(), &member()]),
        }
    });
}

#[test]
fn small_hashes() {
    fastrand::seed(2);
    differential(3000, || {
        let key = || pick(&["h", "i"]);
        let field = || format!("f{}", fastrand::u8(..15));
        let value = || pick(&["1", "-7", "2.5", "x", "10", "9223372036854775807"]).to_string();
        match fastrand::u8(..10) {
            0..=2 => words(&["HSET", key(), &field(), &value(), &field(), &value()]),
            3 => words(&["HDEL", key(), &field(), &field()]),
            4 => words(&["HGETALL", key()]),
            5 => words(&[pick(&["HKEYS", "HVALS", "HLEN"]), key()]),
            6 => words(&[
                "HINCRBY",
                key(),
                &field(),
                pick(&["1", "-3", "9223372036854775807"]),
            ]),
            7 => words(&[
                "HINCRBYFLOAT",
                key(),
                &field(),
                pick(&["0.1", "-2.5", "1e3"]),
            ]),
            8 => words(&["HSETNX", key(), &field(), &value()]),
            _ => words(&["HMGET", key(), &field(), &field()]),
        }
    });
}

#[test]
fn small_sorted_sets() {
    sorted_sets(3, 20);
}

/// Past 128 members Redis uses a skiplist, whose order is still (score, member): replies stay deterministic.
#[test]
fn big_sorted_sets() {
    sorted_sets(5, 400);
}

fn sorted_sets(seed: u64, members: u16) {
    fastrand::seed(seed);
    differential(3000, || {
        let key = || pick(&["z", "y"]);
        let member = || format!("m{}", fastrand::u16(..members));
        let score = || pick(&["0", "1", "2.5", "-1", "+inf", "-inf", "1e-3", "3"]).to_string();
        let bound = || pick(&["-inf", "+inf", "0", "(0", "1", "(2.5", "3", "(-1"]).to_string();
        match fastrand::u8(..14) {
            0..=2 => words(&["ZADD", key(), &score(), &member(), &score(), &member()]),
            3 => words(&[
                "ZADD",
                key(),
                pick(&["NX", "XX", "GT", "LT", "CH"]),
                &score(),
                &member(),
            ]),
            4 => words(&["ZINCRBY", key(), pick(&["1", "-0.5", "2"]), &member()]),
            5 => words(&["ZREM", key(), &member()]),
            6 => words(&[
                "ZRANGE",
                key(),
                &fastrand::i8(-5..5).to_string(),
                &fastrand::i8(-5..5).to_string(),
                "WITHSCORES",
            ]),
            7 => words(&[
                "ZRANGEBYSCORE",
                key(),
                &bound(),
                &bound(),
                "WITHSCORES",
                "LIMIT",
                &fastrand::u8(..3).to_string(),
                &fastrand::i8(-1..4).to_string(),
            ]),
            8 => words(&["ZREVRANGEBYSCORE", key(), &bound(), &bound()]),
            9 => words(&[pick(&["ZRANK", "ZREVRANK", "ZSCORE"]), key(), &member()]),
            10 => words(&["ZCOUNT", key(), &bound(), &bound()]),
            11 => words(&[
                pick(&["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]),
                "d",
                "2",
                "z",
                "y",
            ]),
            12 => words(&[
                pick(&["ZPOPMIN", "ZPOPMAX"]),
                key(),
                &fastrand::u8(..3).to_string(),
            ]),
            // Big sets must stay big: trim by rank there instead of by (often wide) score ranges.
            _ if members > 128 => words(&["ZREMRANGEBYRANK", key(), "0", "1"]),
            _ => words(&["ZREMRANGEBYSCORE", key(), &bound(), &bound()]),
        }
    });
}

/// Lex ranges only have a meaning when every score is equal, so they get their own set.
#[test]
fn lex_ranges() {
    fastrand::seed(4);
    differential(2000, || {
        let bound = || {
            let m = format!("{}", (b'a' + fastrand::u8(..8)) as char);
            match fastrand::u8(..4) {
                0 => pick(&["-", "+"]).to_string(),
                1 => format!("({m}"),
                _ => format!("[{m}"),
            }
        };
        let member = || format!("{}", (b'a' + fastrand::u8(..8)) as char);
        match fastrand::u8(..6) {
            0 | 1 => words(&["ZADD", "l", "0", &member()]),
            2 => words(&[
                "ZRANGEBYLEX",
                "l",
                &bound(),
                &bound(),
                "LIMIT",
                &fastrand::u8(..2).to_string(),
                "3",
            ]),
            3 => words(&["ZREVRANGEBYLEX", "l", &bound(), &bound()]),
            4 => words(&["ZLEXCOUNT", "l", &bound(), &bound()]),
            _ => words(&["ZREMRANGEBYLEX", "l", &bound(), &bound()]),
        }
    });
}

/// Hash, set and sorted-set commands on the same few keys: WRONGTYPE, creation and deletion paths interleave.
#[test]
fn mixed_types_on_shared_keys() {
    fastrand::seed(6);
    differential(3000, || {
        let key = || pick(&["k1", "k2", "k3"]);
        let m = || fastrand::u8(..6).to_string();
        match fastrand::u8(..16) {
            0 => words(&["HSET", key(), &m(), &m()]),
            1 => words(&["HDEL", key(), &m()]),
            2 => words(&["HGETALL", key()]),
            3 => words(&["HINCRBY", key(), &m(), "1"]),
            4 => words(&["SADD", key(), &m(), &m()]),
            5 => words(&["SREM", key(), &m()]),
            6 => words(&["SMEMBERS", key()]),
            7 => words(&["SINTERSTORE", key(), key(), key()]),
            8 => words(&["SMOVE", key(), key(), &m()]),
            9 => words(&["ZADD", key(), &m(), &m()]),
            10 => words(&["ZREM", key(), &m()]),
            11 => words(&["ZRANGE", key(), "0", "-1", "WITHSCORES"]),
            12 => words(&["ZUNIONSTORE", key(), "2", key(), key(), "WEIGHTS", "2", "1"]),
            13 => words(&["ZPOPMIN", key()]),
            14 => words(&["TYPE", key()]),
            _ => words(&["DEL", key()]),
        }
    });
}

/// Fields, members and values are binary-safe: NUL, CR LF and high bytes go in and come back unchanged.
#[test]
fn binary_safe_members() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let (mut a, mut b) = (ours.client(), redis.client());
    let odd: &[&[u8]] = &[b"a\0b", b"\r\n", b"\xff\xfe", b"", b"12\0"];
    for m in odd {
        for cmd in [
            &[&b"HSET"[..], b"h", m, m][..],
            &[b"SADD", b"s", m],
            &[b"SADD", b"i", b"1", m],
            &[b"ZADD", b"z", b"1", m],
        ] {
            assert_eq!(a.cmd_bytes(cmd), b.cmd_bytes(cmd));
        }
    }
    for cmd in [
        &[&b"HGETALL"[..], b"h"][..],
        &[b"HGET", b"h", b"a\0b"],
        &[b"SISMEMBER", b"s", b"\r\n"],
        &[b"SISMEMBER", b"i", b"12\0"],
        &[b"OBJECT", b"ENCODING", b"i"],
        &[b"ZRANGE", b"z", b"0", b"-1", b"WITHSCORES"],
        &[b"ZRANGEBYLEX", b"z", b"(\0", b"+"],
        &[b"ZSCORE", b"z", b"\xff\xfe"],
    ] {
        assert_eq!(a.cmd_bytes(cmd), b.cmd_bytes(cmd), "{cmd:?}");
    }
}
