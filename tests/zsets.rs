//! Sorted sets: every command against redis-server byte for byte (RESP2 and RESP3), the error paths, keyspace
//! events and encodings. The scale tests (model checking, a million members) are in `zsets_scale.rs`.

mod collections;
mod common;

use collections::{same, same_events, same_resp3};
use common::Server;

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
    c.cmd(&[
        "ZADD", "many", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f", "7", "g", "8",
        "h",
    ]);
    for _ in 0..20 {
        let one = c.cmd(&["ZRANDMEMBER", "z"]);
        assert!(one == "$1\r\na\r\n" || one == "$1\r\nb\r\n", "{one}");
        let r = c.cmd(&["ZRANDMEMBER", "z", "-5", "WITHSCORES"]);
        assert_eq!(r.matches("\r\n$1\r\n").count(), 10, "{r}");
        let r = c.cmd(&["ZRANDMEMBER", "z", "1"]);
        assert!(r.starts_with("*1\r\n"));
        let r = c.cmd(&["ZRANDMEMBER", "many", "4"]);
        let mut items: Vec<&str> = r
            .split("\r\n")
            .skip(2)
            .step_by(2)
            .filter(|l| !l.is_empty())
            .collect();
        items.sort();
        items.dedup();
        assert_eq!(items.len(), 4, "distinct members for a positive count: {r}");
    }
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
        "ZADD b 1 a 2 b 3 c",
        "BZPOPMIN b 0",
        "BZPOPMAX b 0",
        "BZMPOP 0 1 b MIN",
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
            "ZADD k 0 x 1 y",
            "ZUNION 1 k WEIGHTS -1 WITHSCORES",
            "ZUNIONSTORE small2 1 k WEIGHTS -1",
            "ZSCORE small2 x",
            "ZUNIONSTORE big2 1 big WEIGHTS -1",
            "ZSCORE big2 m0",
            "ZRANGESTORE big3 big2 0 -1",
            "ZSCORE big3 m0",
            "ZINTER 2 big k WEIGHTS -1 1 WITHSCORES",
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
