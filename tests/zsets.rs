//! Sorted sets: every command against redis-server byte for byte, the error paths, and ranks and ranges checked
//! against a sorted-Vec model over 10,000 random operations.

mod collections;
mod common;

use collections::{same, same_events, same_resp3};
use common::{Client, Server};

#[test]
fn zadd_flags_and_errors() {
    same(&[
        "ZADD z 1 a 2 b 3 c",
        "ZADD z NX 10 a 4 d",
        "ZADD z XX 10 a 5 e",
        "ZADD z XX CH 10 a 11 b",
        "ZADD z GT CH 5 a 20 b",
        "ZADD z LT CH 5 a 30 b",
        "ZADD z CH 5 a 30 b",
        "ZADD z INCR 2.5 a",
        "ZADD z INCR NX 1 a",
        "ZADD z INCR XX 1 nope",
        "ZADD z INCR GT -1 a",
        "ZADD z NX XX 1 a",
        "ZADD z GT LT 1 a",
        "ZADD z NX GT 1 a",
        "ZADD z INCR 1 a 2 b",
        "ZADD z 1",
        "ZADD z 1 a 2",
        "ZADD z nan a",
        "ZADD z abc a",
        "ZADD z 1x a",
        "ZADD z +inf a -inf b 1e3 c",
        "ZADD z INCR -inf a",
        "ZRANGE z 0 -1 WITHSCORES",
        "ZADD new XX 1 a",
        "ZADD new XX INCR 1 a",
        "EXISTS new",
        "ZADD z",
        "SET str x",
        "ZADD str 1 a",
        "ZINCRBY str 1 a",
        "ZINCRBY z 1.5 zz",
        "ZINCRBY z x zz",
        "ZINCRBY z 1 zz 2",
        "ZADD f 1.1 a 0.1 b -0.5 c 1e-300 d 123456789012345678 e -0 z",
        "ZINCRBY f -0 z",
        "ZADD f INCR -0 new",
        "ZSCORE f a",
        "ZMSCORE f a b c d e nope",
        "ZRANGE f 0 -1 WITHSCORES",
    ]);
}

#[test]
fn single_key_reads() {
    same(&[
        "ZADD z 1 a 2 b 3 c 3 d 5 e",
        "ZCARD z",
        "ZCARD nope",
        "ZSCORE z c",
        "ZSCORE z x",
        "ZSCORE nope x",
        "ZMSCORE nope a b",
        "ZMSCORE z",
        "ZRANK z a",
        "ZRANK z d",
        "ZREVRANK z a",
        "ZREVRANK z e",
        "ZRANK z x",
        "ZRANK nope x",
        "ZCOUNT z -inf +inf",
        "ZCOUNT z (1 3",
        "ZCOUNT z (3 (5",
        "ZCOUNT z 5 1",
        "ZCOUNT z ( 5",
        "ZCOUNT z x 1",
        "ZCOUNT z 1 (x",
        "ZCOUNT nope 1 2",
        "ZCOUNT nope x 2",
        "ZCOUNT z 1e400 1e401",
        "ZCOUNT z -1e400 (1e401",
        "ZCOUNT z 1e-400 0x10",
        "ZCOUNT z ( (",
        "ZCOUNT z (nan 1",
        "ZCOUNT z 1,5 2",
        "ZRANGEBYLEX z [ +",
        "ZRANGEBYLEX z +a -",
        "ZLEXCOUNT z - +",
        "ZLEXCOUNT z [b (d",
        "ZLEXCOUNT z a b",
        "ZLEXCOUNT z + -",
        "ZLEXCOUNT nope - +",
        "SET str x",
        "ZCARD str",
        "ZSCORE str a",
        "ZMSCORE str a",
        "ZRANK str a",
        "ZCOUNT str 1 2",
        "ZLEXCOUNT str - +",
        "ZRANK z",
    ]);
}

#[test]
fn range_family() {
    same(&[
        "ZADD z 1 a 2 b 3 c 4 d 5 e 5 f",
        "ZRANGE z 0 -1",
        "ZRANGE z 1 2 WITHSCORES",
        "ZRANGE z -2 -1",
        "ZRANGE z -100 100",
        "ZRANGE z 4 2",
        "ZRANGE z 10 20",
        "ZRANGE z 0 -1 REV WITHSCORES",
        "ZRANGE z (1 5 BYSCORE",
        "ZRANGE z 5 (1 BYSCORE REV",
        "ZRANGE z -inf +inf BYSCORE LIMIT 1 2 WITHSCORES",
        "ZRANGE z -inf +inf BYSCORE LIMIT 1 -1",
        "ZRANGE z -inf +inf BYSCORE LIMIT -1 2",
        "ZRANGE z -inf +inf BYSCORE LIMIT 10 2",
        "ZRANGE z -inf +inf BYSCORE LIMIT 0 0",
        "ZRANGE z [b (e BYLEX",
        "ZRANGE z + - BYLEX REV LIMIT 1 2",
        "ZRANGE z 0 -1 LIMIT 0 1",
        "ZRANGE z 0 -1 LIMIT 1 -1",
        "ZRANGE z - + BYLEX WITHSCORES",
        "ZRANGE z 0 1 BYSCORE BYLEX",
        "ZRANGE z 0 1 REV REV",
        "ZRANGE z 0 1 BYSCORE LIMIT 0",
        "ZRANGE z 0 1 FOO",
        "ZRANGE z x 1",
        "ZRANGE z x 1 BYSCORE",
        "ZRANGE z a b BYLEX",
        "ZRANGE nope 0 -1",
        "ZRANGEBYSCORE z 2 4 WITHSCORES",
        "ZRANGEBYSCORE z (2 +inf LIMIT 1 1",
        "ZRANGEBYSCORE z 2 4 REV",
        "ZRANGEBYSCORE z 2 4 BYLEX",
        "ZREVRANGEBYSCORE z 4 2 WITHSCORES",
        "ZREVRANGEBYSCORE z +inf -inf LIMIT 1 2",
        "ZRANGEBYLEX z - [c",
        "ZRANGEBYLEX z (a + LIMIT 1 2",
        "ZRANGEBYLEX z - + LIMIT 1 x",
        "ZRANGEBYLEX z - + WITHSCORES",
        "ZREVRANGEBYLEX z [c -",
        "ZREVRANGE z 0 1 WITHSCORES",
        "ZREVRANGE z 0 1 LIMIT 0 1",
        "ZREVRANGE z 0 -1",
        "SET str x",
        "ZRANGE str 0 1",
        "ZRANGE str x 1",
        "ZRANGEBYSCORE str 0 1",
    ]);
}

#[test]
fn range_store_and_removal() {
    same(&[
        "ZADD z 1 a 2 b 3 c 4 d 5 e",
        "ZRANGESTORE d z 1 3",
        "ZRANGE d 0 -1 WITHSCORES",
        "ZRANGESTORE d z (2 +inf BYSCORE LIMIT 0 2",
        "ZRANGE d 0 -1 WITHSCORES",
        "ZRANGESTORE d z [a [b BYLEX REV",
        "ZRANGESTORE d z 0 -1 WITHSCORES",
        "ZRANGESTORE d z 0 -1 LIMIT 0 1",
        "ZRANGESTORE d z 10 20",
        "EXISTS d",
        "SET str x",
        "ZRANGESTORE str z 0 0",
        "ZRANGE str 0 -1",
        "ZRANGESTORE d str 0 0",
        "ZRANGESTORE d nope 0 -1",
        "ZREMRANGEBYRANK z 0 0",
        "ZREMRANGEBYRANK z -1 -1",
        "ZREMRANGEBYRANK z 5 10",
        "ZREMRANGEBYRANK z x 1",
        "ZRANGE z 0 -1",
        "ZADD z 1 a 5 e 6 f",
        "ZREMRANGEBYSCORE z (1 3",
        "ZREMRANGEBYSCORE z x 3",
        "ZREMRANGEBYSCORE nope 1 3",
        "ZRANGE z 0 -1",
        "ZADD l 0 a 0 b 0 c 0 d",
        "ZREMRANGEBYLEX l (a [c",
        "ZREMRANGEBYLEX l a c",
        "ZRANGE l 0 -1",
        "ZREMRANGEBYLEX l - +",
        "EXISTS l",
        "ZREMRANGEBYRANK str 0 1",
        "ZREM z a e nope",
        "ZREM z f",
        "EXISTS z",
        "ZREM z a",
        "ZREM str a",
    ]);
}

#[test]
fn pops() {
    same(&[
        "ZADD z 1 a 2 b 3 c 4 d",
        "ZPOPMIN z",
        "ZPOPMAX z",
        "ZPOPMIN z 0",
        "ZPOPMIN z 1",
        "ZPOPMAX z 5",
        "EXISTS z",
        "ZPOPMIN z",
        "ZPOPMIN z 3",
        "ZPOPMIN z -1",
        "ZPOPMIN z x",
        "ZPOPMIN z 1 2",
        "SET str x",
        "ZPOPMIN str",
        "ZPOPMAX str 0",
        "ZADD y 1 a 2 b 3 c",
        "ZMPOP 2 z y MIN",
        "ZMPOP 2 z y MAX COUNT 10",
        "ZMPOP 2 z y MAX",
        "ZMPOP 1 str MIN",
        "ZMPOP 0 z MIN",
        "ZMPOP x z MIN",
        "ZMPOP 2 z MIN",
        "ZMPOP 1 z FOO",
        "ZMPOP 1 z MIN COUNT 0",
        "ZMPOP 1 z MIN COUNT 1 COUNT 1",
        "ZMPOP 1 z MIN COUNT",
        "ZMPOP 1 z MIN extra",
    ]);
}

#[test]
fn union_inter_diff() {
    same(&[
        "ZADD a 1 x 2 y 3 z",
        "ZADD b 10 y 20 z 30 w",
        "SADD s y w v",
        "ZUNION 2 a b WITHSCORES",
        "ZUNION 2 a b WEIGHTS 2 0.5 WITHSCORES",
        "ZUNION 3 a b s AGGREGATE MAX WITHSCORES",
        "ZUNION 2 a b AGGREGATE min",
        "ZINTER 2 a b WITHSCORES",
        "ZINTER 3 a b s WITHSCORES",
        "ZINTER 2 a a WEIGHTS 1 2 WITHSCORES",
        "ZINTER 2 a nope",
        "ZDIFF 2 a b WITHSCORES",
        "ZDIFF 2 a a",
        "ZDIFF 3 b a s WITHSCORES",
        "ZINTERCARD 2 a b",
        "ZINTERCARD 2 a b LIMIT 1",
        "ZINTERCARD 2 a b LIMIT 0",
        "ZINTERCARD 2 a b LIMIT -1",
        "ZINTERCARD 2 a b LIMIT x",
        "ZUNIONSTORE a 2 a a",
        "ZRANGE a 0 -1 WITHSCORES",
        "ZINTERSTORE a 2 a a WEIGHTS 2 3 AGGREGATE MIN",
        "ZRANGE a 0 -1 WITHSCORES",
        "ZADD a 1 x 2 y 3 z",
        "ZINTERCARD 0 a",
        "ZINTERCARD x a",
        "ZINTERCARD 3 a b",
        "ZINTERCARD 1 a WITHSCORES",
        "ZUNIONSTORE d 2 a b WEIGHTS 1 2",
        "ZRANGE d 0 -1 WITHSCORES",
        "ZINTERSTORE d 2 a b AGGREGATE MAX",
        "ZRANGE d 0 -1 WITHSCORES",
        "ZDIFFSTORE d 2 a b",
        "ZRANGE d 0 -1 WITHSCORES",
        "ZINTERSTORE d 2 a nope",
        "EXISTS d",
        "ZUNIONSTORE d 1 a WITHSCORES",
        "ZDIFF 1 a WEIGHTS 1",
        "ZDIFF 1 a AGGREGATE SUM",
        "ZUNION 0 a",
        "ZUNION x a",
        "ZUNION 3 a b",
        "ZUNION 2 a b WEIGHTS 1",
        "ZUNION 2 a b WEIGHTS 1 x",
        "ZUNION 2 a b AGGREGATE foo",
        "ZUNION 2 a b AGGREGATE",
        "ZUNIONSTORE d 0 a",
        "SET str x",
        "ZUNION 2 a str",
        "ZUNION 1 str WEIGHTS x",
        "ZUNIONSTORE str 1 a",
        "ZRANGE str 0 -1",
        "ZADD i 1 a",
        "ZADD j 1 a",
        "ZUNION 2 i j WEIGHTS inf -inf WITHSCORES",
        "ZADD k +inf a",
        "ZUNION 2 k k WEIGHTS 1 -1 WITHSCORES",
        "ZUNION 1 k WEIGHTS 0 WITHSCORES",
    ]);
}

#[test]
fn randmember_and_scan() {
    same(&[
        "ZADD z 1 a 2 b 3 c",
        "ZRANDMEMBER z 3",
        "ZRANDMEMBER z 10 WITHSCORES",
        "ZRANDMEMBER z 0",
        "ZRANDMEMBER nope",
        "ZRANDMEMBER nope 5",
        "ZRANDMEMBER z 1 WITHSCORE",
        "ZRANDMEMBER z x",
        "ZRANDMEMBER z x y z",
        "ZRANDMEMBER z -9223372036854775808",
        "ZRANDMEMBER z -9223372036854775807 WITHSCORES",
        "ZRANDMEMBER z 9223372036854775807 WITHSCORES",
        "ZSCAN z 0",
        "ZSCAN z 0 MATCH [ab] COUNT 1",
        "ZSCAN z 0 COUNT 0",
        "ZSCAN z 0 COUNT x",
        "ZSCAN z 0 COUNT",
        "ZSCAN z 0 NOVALUES",
        "ZSCAN z x",
        "ZSCAN z -1",
        "ZSCAN nope 0 COUNT 0",
        "SET str x",
        "ZSCAN str 0",
        "ZRANDMEMBER str",
    ]);
    let s = Server::start();
    let mut c = s.client();
    c.cmd(&["ZADD", "z", "1", "a", "2", "b"]);
    for _ in 0..20 {
        let one = c.cmd(&["ZRANDMEMBER", "z"]);
        assert!(one == "$1\r\na\r\n" || one == "$1\r\nb\r\n", "{one}");
        let r = c.cmd(&["ZRANDMEMBER", "z", "-5", "WITHSCORES"]);
        assert_eq!(r.matches("\r\n$1\r\n").count(), 10, "{r}");
        let r = c.cmd(&["ZRANDMEMBER", "z", "1"]);
        assert!(r.starts_with("*1\r\n"));
    }
}

/// A 10,000-member set: ZSCAN walks the member dict with a cursor and returns each member at least once.
#[test]
fn zscan_on_a_big_set_covers_every_member() {
    let s = Server::start();
    let mut c = s.client();
    let mut batch = Vec::new();
    for i in 0..2000 {
        batch.extend(Client::encode(&[
            b"ZADD",
            b"z",
            i.to_string().as_bytes(),
            format!("m{i}").as_bytes(),
        ]));
    }
    c.send_raw(&batch);
    for _ in 0..2000 {
        c.read_reply();
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let r = c.cmd(&["ZSCAN", "z", &cursor, "COUNT", "100"]);
        calls += 1;
        let lines: Vec<&str> = r.split("\r\n").collect();
        cursor = lines[2].to_string();
        let items: Vec<&str> = lines[4..]
            .iter()
            .copied()
            .filter(|l| !l.starts_with('$') && !l.is_empty())
            .collect();
        for pair in items.chunks(2) {
            assert_eq!(pair[0][1..], *pair[1], "score of {}", pair[0]);
            seen.insert(pair[0].to_string());
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 2000);
    assert!(calls > 5, "a big set is scanned in steps");
}

/// Ranks and ranges over 10,000 random writes and reads, checked against a Vec sorted by (score, member).
#[test]
fn random_operations_match_a_sorted_vec_model() {
    let s = Server::start();
    let mut c = s.client();
    fastrand::seed(42);
    let mut model: Vec<(i64, String)> = Vec::new();
    let bulk = |v: &str| format!("${}\r\n{v}\r\n", v.len());
    let array = |items: Vec<String>| format!("*{}\r\n{}", items.len(), items.concat());
    for _ in 0..10_000 {
        let member = format!("m{}", fastrand::u32(..200));
        let score = fastrand::i64(-50..50);
        let pos = model.iter().position(|(_, m)| *m == member);
        let (cmd, want): (Vec<String>, String) = match fastrand::u8(..8) {
            0 | 1 => {
                if let Some(i) = pos {
                    model.remove(i);
                }
                model.push((score, member.clone()));
                (
                    vec!["ZADD".into(), "z".into(), score.to_string(), member],
                    format!(":{}\r\n", pos.is_none() as i32),
                )
            }
            2 => {
                if let Some(i) = pos {
                    model.remove(i);
                }
                (
                    vec!["ZREM".into(), "z".into(), member],
                    format!(":{}\r\n", pos.is_some() as i32),
                )
            }
            3 => {
                let rank = pos.map(|_| {
                    model.sort();
                    model.iter().position(|(_, m)| *m == member).unwrap_or(0)
                });
                let want = rank.map_or("$-1\r\n".to_string(), |r| format!(":{r}\r\n"));
                (vec!["ZRANK".into(), "z".into(), member], want)
            }
            4 => {
                model.sort();
                let len = model.len() as i64;
                let (a, b) = (
                    fastrand::i64(-len - 5..len + 5),
                    fastrand::i64(-len - 5..len + 5),
                );
                let start = if a < 0 { (len + a).max(0) } else { a };
                let end = if b < 0 { len + b } else { b.min(len - 1) };
                let items = if start > end || start >= len {
                    vec![]
                } else {
                    model[start as usize..=end as usize]
                        .iter()
                        .map(|(_, m)| bulk(m))
                        .collect()
                };
                (
                    vec!["ZRANGE".into(), "z".into(), a.to_string(), b.to_string()],
                    array(items),
                )
            }
            5 => {
                model.sort();
                let (lo, hi) = (fastrand::i64(-60..60), fastrand::i64(-60..60));
                let (off, lim) = (fastrand::i64(0..5), fastrand::i64(-1..10));
                let inside: Vec<&(i64, String)> =
                    model.iter().filter(|(s, _)| *s > lo && *s <= hi).collect();
                let items: Vec<String> = inside
                    .iter()
                    .skip(off as usize)
                    .take(if lim < 0 { usize::MAX } else { lim as usize })
                    .flat_map(|(s, m)| [bulk(m), bulk(&s.to_string())])
                    .collect();
                let cmd = [
                    "ZRANGEBYSCORE",
                    "z",
                    &format!("({lo}"),
                    &hi.to_string(),
                    "WITHSCORES",
                    "LIMIT",
                    &off.to_string(),
                    &lim.to_string(),
                ];
                (cmd.iter().map(|s| s.to_string()).collect(), array(items))
            }
            6 => {
                let (lo, hi) = (fastrand::i64(-60..60), fastrand::i64(-60..60));
                let n = model.iter().filter(|(s, _)| *s >= lo && *s < hi).count();
                (
                    vec![
                        "ZCOUNT".into(),
                        "z".into(),
                        lo.to_string(),
                        format!("({hi}"),
                    ],
                    format!(":{n}\r\n"),
                )
            }
            _ => {
                model.sort();
                let rank = pos.map(|_| {
                    model.len() - 1 - model.iter().position(|(_, m)| *m == member).unwrap_or(0)
                });
                let want = rank.map_or("$-1\r\n".to_string(), |r| format!(":{r}\r\n"));
                (vec!["ZREVRANK".into(), "z".into(), member], want)
            }
        };
        let args: Vec<&str> = cmd.iter().map(|s| s.as_str()).collect();
        assert_eq!(c.cmd(&args), want, "{args:?}");
    }
    assert_eq!(c.cmd(&["ZCARD", "z"]), format!(":{}\r\n", model.len()));
}

/// Rank queries on a 1,000,000-member set are O(log n): a thousand ZRANK / ZRANGE calls finish quickly even in
/// a debug build.
#[test]
fn rank_queries_on_a_million_members_are_logarithmic() {
    let s = Server::start();
    let mut c = s.client();
    let mut batch = Vec::new();
    for chunk in 0..1000 {
        let mut args: Vec<Vec<u8>> = vec![b"ZADD".to_vec(), b"big".to_vec()];
        for i in chunk * 1000..(chunk + 1) * 1000 {
            args.push(i.to_string().into_bytes());
            args.push(format!("m{i}").into_bytes());
        }
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        batch.extend(Client::encode(&refs));
    }
    c.send_raw(&batch);
    for _ in 0..1000 {
        assert_eq!(c.read_reply(), ":1000\r\n");
    }
    let start = std::time::Instant::now();
    for i in (0..1_000_000).step_by(1000) {
        assert_eq!(
            c.cmd(&["ZRANK", "big", &format!("m{i}")]),
            format!(":{i}\r\n")
        );
        let r = c.cmd(&["ZRANGE", "big", &i.to_string(), &i.to_string()]);
        assert_eq!(r, format!("*1\r\n${}\r\nm{i}\r\n", format!("m{i}").len()));
    }
    assert!(
        start.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn keyspace_events() {
    same_events(&[
        "ZADD z 1 a 2 b 3 c 4 d 5 e",
        "ZADD z 1 a",
        "ZADD z NX 9 a",
        "ZADD z INCR 1 a",
        "ZINCRBY z 1 a",
        "ZREM z nope",
        "ZREM z a",
        "ZREMRANGEBYRANK z 0 0",
        "ZREMRANGEBYSCORE z 3 3",
        "ZREMRANGEBYLEX z - (a",
        "ZPOPMIN z",
        "ZPOPMAX z 0",
        "ZADD y 1 a 2 b",
        "ZMPOP 1 y MAX",
        "ZRANGESTORE d z 0 -1",
        "ZUNIONSTORE d 2 z y",
        "ZINTERSTORE d 2 z y",
        "ZDIFFSTORE d 2 z y",
        "ZRANGESTORE d nope 0 -1",
        "ZPOPMAX z 5",
        "ZPOPMIN y 5",
    ]);
}

#[test]
fn resp3_replies() {
    same_resp3(&[
        "ZADD z 1 a 2.5 b 3 c",
        "ZADD z INCR 1 a",
        "ZADD z XX INCR 1 nope",
        "ZINCRBY z 1 a",
        "ZSCORE z b",
        "ZSCORE z nope",
        "ZMSCORE z a nope",
        "ZRANK z nope",
        "ZRANGE z 0 -1 WITHSCORES",
        "ZRANGE z 0 -1",
        "ZRANGEBYSCORE z -inf +inf WITHSCORES LIMIT 1 1",
        "ZREVRANGE z 0 0 WITHSCORES",
        "ZUNION 1 z WITHSCORES",
        "ZINTER 1 z",
        "ZRANDMEMBER z 5 WITHSCORES",
        "ZRANDMEMBER nope",
        "ZSCAN z 0",
        "ZPOPMIN z",
        "ZPOPMIN z 1",
        "ZPOPMAX nope",
        "ZMPOP 1 z MAX COUNT 1",
        "ZMPOP 1 nope MAX",
    ]);
}

/// A skiplist keeps the sign of -0 (it prints `-0`); a listpack stores it as the integer 0.
#[test]
fn negative_zero_depends_on_the_encoding() {
    let mut script = vec!["ZADD small -0 x".to_string(), "ZSCORE small x".to_string()];
    script.push(format!(
        "ZADD big {}",
        (0..130)
            .map(|i| format!("{i} m{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    script.extend(
        [
            "ZADD big -0 zero",
            "ZSCORE big zero",
            "ZRANGEBYSCORE big -1 0 WITHSCORES",
        ]
        .map(String::from),
    );
    let refs: Vec<&str> = script.iter().map(|s| s.as_str()).collect();
    same(&refs);
}

#[test]
fn arity_errors() {
    same(&[
        "ZADD z",
        "ZINCRBY z 1",
        "ZREM z",
        "ZCARD",
        "ZSCORE z",
        "ZMSCORE z",
        "ZRANK z",
        "ZREVRANK z",
        "ZCOUNT z 1",
        "ZLEXCOUNT z -",
        "ZRANGE z 0",
        "ZRANGESTORE d z 0",
        "ZRANGEBYSCORE z 0",
        "ZREVRANGEBYSCORE z 0",
        "ZRANGEBYLEX z -",
        "ZREVRANGEBYLEX z +",
        "ZREVRANGE z 0",
        "ZREMRANGEBYRANK z 0",
        "ZREMRANGEBYSCORE z 0",
        "ZREMRANGEBYLEX z -",
        "ZPOPMIN",
        "ZPOPMAX",
        "ZMPOP 1 z",
        "ZUNION 1",
        "ZUNIONSTORE d 1",
        "ZINTER 1",
        "ZINTERSTORE d 1",
        "ZINTERCARD 1",
        "ZDIFF 1",
        "ZDIFFSTORE d 1",
        "ZRANDMEMBER",
        "ZSCAN z",
        "ZCARD a b",
        "ZSCORE a b c",
    ]);
}

#[test]
fn object_encoding() {
    let many = (0..129)
        .map(|i| format!("{i} m{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let long = "x".repeat(65);
    let script = [
        "ZADD z 1 a".to_string(),
        "OBJECT ENCODING z".into(),
        format!("ZADD z {many}"),
        "OBJECT ENCODING z".into(),
        "ZREMRANGEBYRANK z 1 -1".into(),
        "OBJECT ENCODING z".into(),
        format!("ZADD w 1 {long}"),
        "OBJECT ENCODING w".into(),
        "ZUNIONSTORE u 1 z".into(),
        "OBJECT ENCODING u".into(),
        "ZRANGESTORE r w 0 -1".into(),
        "OBJECT ENCODING r".into(),
    ];
    let refs: Vec<&str> = script.iter().map(|s| s.as_str()).collect();
    same(&refs);
}

/// COPY duplicates a sorted set (skip list and member index alike): the copy answers ranks and scores on its
/// own after the original changes.
#[test]
fn copy_and_type() {
    let many = (0..200)
        .map(|i| format!("{i} m{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let script = [
        format!("ZADD big {many}"),
        "ZADD small 1 a 2 b".into(),
        "COPY big big2".into(),
        "COPY small small2".into(),
        "ZREM big m5".into(),
        "ZADD small 9 a".into(),
        "ZRANK big2 m5".into(),
        "ZSCORE big2 m199".into(),
        "ZRANGE small2 0 -1 WITHSCORES".into(),
        "OBJECT ENCODING big2".into(),
        "TYPE big2".into(),
        "TYPE small".into(),
    ];
    let refs: Vec<&str> = script.iter().map(|s| s.as_str()).collect();
    same(&refs);
}
