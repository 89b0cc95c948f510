//! Every command the table flags WRITE, run with valid arguments on data it can change, must leave an effect in
//! the feed; the few that legitimately change nothing are listed with the reason. A write command added to the
//! table without a case here fails `every_write_command_has_a_case`, so no write can skip the write path.

use super::Harness;
use crate::commands::{flags, table};
use crate::protocol::Reply;

/// (command, setup commands, the command's arguments).
type Case = (
    &'static str,
    &'static [&'static [&'static str]],
    &'static [&'static str],
);

const STR: &[&[&str]] = &[&["set", "k", "10"]];
const LIST: &[&[&str]] = &[&["rpush", "k", "a", "b", "c"]];
const HASH: &[&[&str]] = &[&["hset", "k", "f", "1", "g", "2"]];
const SET: &[&[&str]] = &[&["sadd", "k", "a", "b", "c"], &["sadd", "k2", "b", "c"]];
const ZSET: &[&[&str]] = &[
    &["zadd", "k", "1", "a", "2", "b", "3", "c"],
    &["zadd", "k2", "1", "a"],
];
const STREAM: &[&[&str]] = &[
    &["xadd", "k", "1-1", "f", "v"],
    &["xadd", "k", "2-1", "f", "v"],
    &["xgroup", "create", "k", "g", "0"],
    &[
        "xreadgroup",
        "GROUP",
        "g",
        "c1",
        "COUNT",
        "1",
        "STREAMS",
        "k",
        ">",
    ],
];

const GEO: &[&[&str]] = &[&["geoadd", "k", "13.361389", "38.115556", "Palermo"]];
const HLL: &[&[&str]] = &[&["pfadd", "k", "a"]];
/// A DUMP payload of the string `v361` whose bytes, CRC-64 included, all happen to be ASCII.
const DUMPED: &str = "\x00\x04v361\n\x003%Hpy\x166i";

const CASES: &[Case] = &[
    ("sort", LIST, &["sort", "k", "ALPHA", "STORE", "d"]),
    ("setbit", STR, &["setbit", "k", "1", "1"]),
    ("bitop", STR, &["bitop", "NOT", "d", "k"]),
    ("bitfield", STR, &["bitfield", "k", "SET", "u8", "0", "255"]),
    (
        "geoadd",
        &[],
        &["geoadd", "k", "13.361389", "38.115556", "Palermo"],
    ),
    (
        "georadius",
        GEO,
        &["georadius", "k", "15", "37", "200", "km", "STORE", "d"],
    ),
    (
        "georadiusbymember",
        GEO,
        &[
            "georadiusbymember",
            "k",
            "Palermo",
            "100",
            "km",
            "STORE",
            "d",
        ],
    ),
    (
        "geosearchstore",
        GEO,
        &[
            "geosearchstore",
            "d",
            "k",
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "200",
            "km",
        ],
    ),
    ("pfadd", &[], &["pfadd", "k", "a"]),
    ("pfmerge", HLL, &["pfmerge", "d", "k"]),
    ("pfdebug", HLL, &["pfdebug", "getreg", "k"]),
    ("restore", &[], &["restore", "k", "0", DUMPED]),
    ("append", STR, &["append", "k", "x"]),
    ("blmove", LIST, &["blmove", "k", "d", "LEFT", "RIGHT", "0"]),
    ("blmpop", LIST, &["blmpop", "0", "1", "k", "LEFT"]),
    ("blpop", LIST, &["blpop", "k", "0"]),
    ("brpop", LIST, &["brpop", "k", "0"]),
    ("brpoplpush", LIST, &["brpoplpush", "k", "d", "0"]),
    ("bzmpop", ZSET, &["bzmpop", "0", "1", "k", "MIN"]),
    ("bzpopmax", ZSET, &["bzpopmax", "k", "0"]),
    ("bzpopmin", ZSET, &["bzpopmin", "k", "0"]),
    ("copy", STR, &["copy", "k", "d"]),
    ("decr", STR, &["decr", "k"]),
    ("decrby", STR, &["decrby", "k", "2"]),
    ("del", STR, &["del", "k"]),
    ("expire", STR, &["expire", "k", "100"]),
    ("expireat", STR, &["expireat", "k", "99999999999"]),
    ("flushall", &[], &["flushall"]),
    ("flushdb", &[], &["flushdb"]),
    (
        "function|load",
        &[],
        &[
            "function",
            "load",
            "#!lua name=l\nredis.register_function('f', function() end)",
        ],
    ),
    (
        "function|delete",
        &[&[
            "function",
            "load",
            "#!lua name=l\nredis.register_function('f', function() end)",
        ]],
        &["function", "delete", "l"],
    ),
    ("function|flush", &[], &["function", "flush"]),
    ("getdel", STR, &["getdel", "k"]),
    ("getex", STR, &["getex", "k", "PX", "1000"]),
    ("getset", STR, &["getset", "k", "v"]),
    ("hdel", HASH, &["hdel", "k", "f"]),
    ("hincrby", HASH, &["hincrby", "k", "f", "2"]),
    ("hincrbyfloat", HASH, &["hincrbyfloat", "k", "f", "0.5"]),
    ("hmset", &[], &["hmset", "k", "f", "v"]),
    ("hset", &[], &["hset", "k", "f", "v"]),
    ("hsetnx", &[], &["hsetnx", "k", "f", "v"]),
    ("incr", STR, &["incr", "k"]),
    ("incrby", STR, &["incrby", "k", "5"]),
    ("incrbyfloat", STR, &["incrbyfloat", "k", "0.5"]),
    ("linsert", LIST, &["linsert", "k", "BEFORE", "b", "x"]),
    ("lmove", LIST, &["lmove", "k", "d", "LEFT", "RIGHT"]),
    ("lmpop", LIST, &["lmpop", "1", "k", "RIGHT", "COUNT", "2"]),
    ("lpop", LIST, &["lpop", "k"]),
    ("lpush", &[], &["lpush", "k", "a"]),
    ("lpushx", LIST, &["lpushx", "k", "a"]),
    ("lrem", LIST, &["lrem", "k", "0", "b"]),
    ("lset", LIST, &["lset", "k", "0", "x"]),
    ("ltrim", LIST, &["ltrim", "k", "0", "0"]),
    ("move", STR, &["move", "k", "1"]),
    ("mset", &[], &["mset", "a", "1", "b", "2"]),
    ("msetnx", &[], &["msetnx", "a", "1", "b", "2"]),
    (
        "persist",
        &[&["set", "k", "v", "EX", "100"]],
        &["persist", "k"],
    ),
    ("pexpire", STR, &["pexpire", "k", "100000"]),
    ("pexpireat", STR, &["pexpireat", "k", "99999999999999"]),
    ("psetex", &[], &["psetex", "k", "100000", "v"]),
    ("rename", STR, &["rename", "k", "d"]),
    ("renamenx", STR, &["renamenx", "k", "d"]),
    ("rpop", LIST, &["rpop", "k", "2"]),
    ("rpoplpush", LIST, &["rpoplpush", "k", "k"]),
    ("rpush", &[], &["rpush", "k", "a"]),
    ("rpushx", LIST, &["rpushx", "k", "a"]),
    ("sadd", &[], &["sadd", "k", "a"]),
    ("sdiffstore", SET, &["sdiffstore", "d", "k", "k2"]),
    ("set", &[], &["set", "k", "v"]),
    ("setex", &[], &["setex", "k", "100", "v"]),
    ("setnx", &[], &["setnx", "k", "v"]),
    ("setrange", STR, &["setrange", "k", "1", "x"]),
    ("sinterstore", SET, &["sinterstore", "d", "k", "k2"]),
    ("smove", SET, &["smove", "k", "d", "a"]),
    ("spop", SET, &["spop", "k"]),
    ("srem", SET, &["srem", "k", "a"]),
    ("sunionstore", SET, &["sunionstore", "d", "k", "k2"]),
    ("swapdb", &[], &["swapdb", "0", "1"]),
    ("unlink", STR, &["unlink", "k"]),
    ("xack", STREAM, &["xack", "k", "g", "1-1"]),
    ("xadd", &[], &["xadd", "k", "*", "f", "v"]),
    (
        "xautoclaim",
        STREAM,
        &["xautoclaim", "k", "g", "c2", "0", "0"],
    ),
    ("xclaim", STREAM, &["xclaim", "k", "g", "c2", "0", "1-1"]),
    ("xdel", STREAM, &["xdel", "k", "2-1"]),
    (
        "xgroup|create",
        STREAM,
        &["xgroup", "create", "k", "g2", "$"],
    ),
    (
        "xgroup|createconsumer",
        STREAM,
        &["xgroup", "createconsumer", "k", "g", "c9"],
    ),
    (
        "xgroup|delconsumer",
        STREAM,
        &["xgroup", "delconsumer", "k", "g", "c1"],
    ),
    ("xgroup|destroy", STREAM, &["xgroup", "destroy", "k", "g"]),
    ("xgroup|setid", STREAM, &["xgroup", "setid", "k", "g", "0"]),
    (
        "xreadgroup",
        STREAM,
        &["xreadgroup", "GROUP", "g", "c1", "STREAMS", "k", ">"],
    ),
    ("xsetid", STREAM, &["xsetid", "k", "5-5"]),
    ("xtrim", STREAM, &["xtrim", "k", "MAXLEN", "1"]),
    ("zadd", &[], &["zadd", "k", "1", "a"]),
    ("zdiffstore", ZSET, &["zdiffstore", "d", "2", "k", "k2"]),
    ("zincrby", ZSET, &["zincrby", "k", "1", "a"]),
    ("zinterstore", ZSET, &["zinterstore", "d", "2", "k", "k2"]),
    ("zmpop", ZSET, &["zmpop", "1", "k", "MAX"]),
    ("zpopmax", ZSET, &["zpopmax", "k"]),
    ("zpopmin", ZSET, &["zpopmin", "k", "2"]),
    ("zrangestore", ZSET, &["zrangestore", "d", "k", "0", "-1"]),
    ("zrem", ZSET, &["zrem", "k", "a"]),
    (
        "zremrangebylex",
        &[&["zadd", "k", "0", "a", "0", "b"]],
        &["zremrangebylex", "k", "-", "+"],
    ),
    ("zremrangebyrank", ZSET, &["zremrangebyrank", "k", "0", "0"]),
    (
        "zremrangebyscore",
        ZSET,
        &["zremrangebyscore", "k", "1", "2"],
    ),
    ("zunionstore", ZSET, &["zunionstore", "d", "2", "k", "k2"]),
];

/// Write commands that change nothing in the keyspace in the case tried, and why.
const NO_EFFECT: &[(&str, &str)] = &[
    // Flagged WRITE so that it cannot run where writes are refused; it pauses clients, and changes no key.
    ("client|pause", "pauses clients"),
    // Needs a target server: `rewrites::migrate_propagates_the_keys_that_left_as_one_del` checks its DEL.
    ("migrate", "moves keys to another server"),
    // Its payload starts with the RDB opcode 0xF5, which no `&str` case can hold; tests/functions.rs restores
    // payloads (it changes the libraries, not the keyspace, and is propagated as itself like FUNCTION LOAD).
    ("function|restore", "takes a binary payload"),
    // Test-only commands of this crate's unit tests.
    ("test-panic", "panics on purpose"),
];

#[test]
fn every_write_command_has_a_case() {
    let t = table::get();
    let missing: Vec<&str> = (0..t.len())
        .filter(|&id| t.get(id).has(flags::WRITE))
        .map(|id| t.full_name(id))
        .filter(|name| {
            !CASES.iter().any(|(n, ..)| n == name) && !NO_EFFECT.iter().any(|(n, _)| n == name)
        })
        .collect();
    assert!(
        missing.is_empty(),
        "write commands without a case: {missing:?}"
    );
}

#[test]
fn every_write_command_records_an_effect() {
    let mut failures = Vec::new();
    for (name, setup, args) in CASES {
        let mut h = Harness::new();
        let mut c = h.client();
        for cmd in *setup {
            let reply = h.run(&mut c, cmd);
            assert!(!reply.is_error(), "{name}: setup {cmd:?} failed: {reply:?}");
        }
        h.effects();
        let reply = h.run(&mut c, args);
        assert!(
            !reply.is_error() && reply != Reply::NoReply,
            "{name}: {reply:?}"
        );
        if h.effects().is_empty() {
            failures.push(*name);
        }
    }
    assert!(
        failures.is_empty(),
        "write commands that left no effect: {failures:?}"
    );
}
