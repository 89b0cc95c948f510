//! Helpers shared by the RDB test files: values of every type and encoding built by commands (with the commands
//! that read them back, to compare between servers), and DUMP/RESTORE over a client.
#![allow(dead_code)]

use crate::common::Client;

/// A value to move: the commands that build it, and the commands that read it back (compared between servers).
pub struct Fixture {
    pub key: &'static str,
    pub setup: Vec<Vec<String>>,
    pub check: Vec<Vec<String>>,
}

impl Fixture {
    /// The keys the fixture creates (the stream fixture makes two).
    pub fn keys(&self) -> Vec<&'static str> {
        match self.key {
            "x" => vec!["x", "xlong"],
            k => vec![k],
        }
    }
}

pub fn cmd(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

pub fn fixture(key: &'static str, setup: Vec<Vec<String>>, check: &[&[&str]]) -> Fixture {
    let mut check: Vec<Vec<String>> = check.iter().map(|c| cmd(c)).collect();
    check.push(cmd(&["OBJECT", "ENCODING", key]));
    check.push(cmd(&["TYPE", key]));
    Fixture { key, setup, check }
}

/// One command per chunk of `items`, e.g. RPUSH key i1 i2 ... so large values build fast.
pub fn batched(head: &[&str], items: Vec<String>) -> Vec<Vec<String>> {
    items
        .chunks(100)
        .map(|chunk| {
            let mut c = cmd(head);
            c.extend(chunk.iter().cloned());
            c
        })
        .collect()
}

pub fn fixtures() -> Vec<Fixture> {
    let binary: String = (1u8..=127).map(char::from).collect();
    let compressible = "abcdefgh".repeat(40);
    let long_list: Vec<String> = (0..2000)
        .map(|i| {
            if i % 3 == 0 {
                i.to_string()
            } else {
                format!("item-{i}-{}", "x".repeat(i % 50))
            }
        })
        .collect();
    let big_ints: Vec<String> = (0..600).map(|i| (i * 7 - 1000).to_string()).collect();
    let mut sbig_members: Vec<&str> = vec!["SMISMEMBER", "sbig", "0", "-1000", "3193"];
    sbig_members.extend(big_ints.iter().map(|s| s.as_str()));
    let hash_fields: Vec<String> = (0..200)
        .flat_map(|i| [format!("f{i}"), format!("v{i}")])
        .collect();
    let zset_members: Vec<String> = (0..200)
        .flat_map(|i| [format!("{}.5", i - 100), format!("m{i}")])
        .collect();
    let mut hget_big: Vec<&str> = vec!["HMGET", "hbig"];
    let fields: Vec<String> = (0..200).map(|i| format!("f{i}")).collect();
    hget_big.extend(fields.iter().map(|s| s.as_str()));
    let mut stream_setup = vec![
        cmd(&["XADD", "x", "1-1", "name", "a", "n", "1"]),
        cmd(&["XADD", "x", "1-2", "name", "b", "n", "2"]),
        cmd(&["XADD", "x", "2-0", "other", "c"]),
        cmd(&["XADD", "x", "3-0", "name", "d", "n", "-70000"]),
        cmd(&["XDEL", "x", "1-2"]),
        cmd(&["XGROUP", "CREATE", "x", "g1", "0"]),
        cmd(&["XGROUP", "CREATE", "x", "g2", "$"]),
        cmd(&["XGROUP", "CREATECONSUMER", "x", "g1", "idle"]),
        cmd(&[
            "XREADGROUP",
            "GROUP",
            "g1",
            "alice",
            "COUNT",
            "2",
            "STREAMS",
            "x",
            ">",
        ]),
        cmd(&[
            "XREADGROUP",
            "GROUP",
            "g1",
            "bob",
            "COUNT",
            "1",
            "STREAMS",
            "x",
            ">",
        ]),
        cmd(&["XACK", "x", "g1", "2-0"]),
    ];
    stream_setup.extend((0..300).map(|i| {
        cmd(&[
            "XADD",
            "xlong",
            &format!("{}-{}", 10 + i / 7, i % 7),
            "k",
            &i.to_string(),
        ])
    }));
    let fx = |key, setup: Vec<Vec<String>>, check: &[&[&str]]| fixture(key, setup, check);
    vec![
        fx("s", vec![cmd(&["SET", "s", "hello"])], &[&["GET", "s"]]),
        fx("i", vec![cmd(&["SET", "i", "-12345"])], &[&["GET", "i"]]),
        fx(
            "i64",
            vec![cmd(&["SET", "i64", "9223372036854775807"])],
            &[&["GET", "i64"]],
        ),
        fx(
            "lead0",
            vec![cmd(&["SET", "lead0", "007"])],
            &[&["GET", "lead0"]],
        ),
        fx(
            "lzf",
            vec![cmd(&["SET", "lzf", &compressible])],
            &[&["GET", "lzf"]],
        ),
        fx(
            "bin",
            vec![cmd(&["SET", "bin", &binary])],
            &[&["GET", "bin"], &["STRLEN", "bin"]],
        ),
        fx(
            "raw",
            vec![
                cmd(&["SET", "raw", &"q".repeat(50)]),
                cmd(&["APPEND", "raw", "!"]),
            ],
            &[&["GET", "raw"]],
        ),
        fx(
            "l",
            vec![cmd(&[
                "RPUSH",
                "l",
                "a",
                "",
                "1",
                "-5",
                "300",
                "70000",
                "9999999999",
                &"z".repeat(100),
            ])],
            &[&["LRANGE", "l", "0", "-1"]],
        ),
        fx(
            "lbig",
            batched(&["RPUSH", "lbig"], long_list),
            &[&["LRANGE", "lbig", "0", "-1"], &["LLEN", "lbig"]],
        ),
        fx(
            "si",
            vec![cmd(&[
                "SADD",
                "si",
                "3",
                "1",
                "-100",
                "100000",
                "5000000000",
            ])],
            &[&["SMEMBERS", "si"]],
        ),
        fx(
            "ss",
            vec![cmd(&["SADD", "ss", "a", "b", "1"])],
            &[&["SMISMEMBER", "ss", "a", "b", "1", "c"], &["SCARD", "ss"]],
        ),
        fx(
            "sbig",
            batched(&["SADD", "sbig"], big_ints.clone()),
            &[&sbig_members, &["SCARD", "sbig"]],
        ),
        fx(
            "h",
            vec![cmd(&["HSET", "h", "f", "v", "n", "12", "e", ""])],
            &[&["HGETALL", "h"]],
        ),
        fx(
            "hbig",
            batched(&["HSET", "hbig"], hash_fields),
            &[&hget_big, &["HLEN", "hbig"]],
        ),
        fx(
            "hlong",
            vec![cmd(&["HSET", "hlong", "f", &"v".repeat(100)])],
            &[&["HGETALL", "hlong"]],
        ),
        fx(
            "z",
            vec![cmd(&[
                "ZADD", "z", "1", "a", "2.5", "b", "-inf", "c", "inf", "d", "0.1", "e", "-3", "f",
            ])],
            &[&["ZRANGE", "z", "0", "-1", "WITHSCORES"]],
        ),
        fx(
            "zbig",
            batched(&["ZADD", "zbig"], zset_members),
            &[&["ZRANGE", "zbig", "0", "-1", "WITHSCORES"]],
        ),
        fx(
            "x",
            stream_setup,
            &[
                &["XRANGE", "x", "-", "+"],
                &["XINFO", "STREAM", "x", "FULL"],
                &["XRANGE", "xlong", "-", "+", "COUNT", "5"],
                &["XLEN", "xlong"],
            ],
        ),
        fx(
            "xe",
            vec![
                cmd(&["XADD", "xe", "1-1", "a", "b"]),
                cmd(&["XDEL", "xe", "1-1"]),
                cmd(&["XGROUP", "CREATE", "xe", "g", "0", "ENTRIESREAD", "0"]),
                cmd(&[
                    "XSETID",
                    "xe",
                    "5-0",
                    "ENTRIESADDED",
                    "10",
                    "MAXDELETEDID",
                    "3-0",
                ]),
            ],
            &[&["XINFO", "STREAM", "xe", "FULL"], &["XLEN", "xe"]],
        ),
    ]
}

pub fn bulk_of(reply: &[u8]) -> Vec<u8> {
    assert!(
        reply.starts_with(b"$"),
        "not a bulk: {:?}",
        String::from_utf8_lossy(reply)
    );
    let nl = reply.iter().position(|&b| b == b'\n').unwrap();
    reply[nl + 1..reply.len() - 2].to_vec()
}

pub fn run(c: &mut Client, command: &[String]) -> String {
    let args: Vec<&str> = command.iter().map(String::as_str).collect();
    c.cmd(&args)
}

pub fn dump(c: &mut Client, key: &str) -> Vec<u8> {
    bulk_of(&c.cmd_bytes(&[b"DUMP", key.as_bytes()]))
}

pub fn restore(c: &mut Client, key: &str, ttl: &str, payload: &[u8], extra: &[&str]) -> String {
    let mut args: Vec<&[u8]> = vec![b"RESTORE", key.as_bytes(), ttl.as_bytes(), payload];
    args.extend(extra.iter().map(|s| s.as_bytes()));
    String::from_utf8_lossy(&c.cmd_bytes(&args)).into_owned()
}
