//! DUMP and RESTORE against redis-server 7.0: payloads travel both ways for every type and encoding and read back
//! the same; corrupt payloads get Redis's exact errors and leave the server serving.

mod common;

use common::{Client, Server};
use ferredis::persist::rdb::crc64;

/// A value to move: the commands that build it, and the commands that read it back (compared between servers).
struct Fixture {
    key: &'static str,
    setup: Vec<Vec<String>>,
    check: Vec<Vec<String>>,
}

fn cmd(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

fn fixture(key: &'static str, setup: Vec<Vec<String>>, check: &[&[&str]]) -> Fixture {
    let mut check: Vec<Vec<String>> = check.iter().map(|c| cmd(c)).collect();
    check.push(cmd(&["OBJECT", "ENCODING", key]));
    check.push(cmd(&["TYPE", key]));
    Fixture { key, setup, check }
}

/// One command per chunk of `items`, e.g. RPUSH key i1 i2 ... so large values build fast.
fn batched(head: &[&str], items: Vec<String>) -> Vec<Vec<String>> {
    items
        .chunks(100)
        .map(|chunk| {
            let mut c = cmd(head);
            c.extend(chunk.iter().cloned());
            c
        })
        .collect()
}

fn fixtures() -> Vec<Fixture> {
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
    ]
}

fn bulk_of(reply: &[u8]) -> Vec<u8> {
    assert!(
        reply.starts_with(b"$"),
        "not a bulk: {:?}",
        String::from_utf8_lossy(reply)
    );
    let nl = reply.iter().position(|&b| b == b'\n').unwrap();
    reply[nl + 1..reply.len() - 2].to_vec()
}

fn run(c: &mut Client, command: &[String]) -> String {
    let args: Vec<&str> = command.iter().map(String::as_str).collect();
    c.cmd(&args)
}

fn dump(c: &mut Client, key: &str) -> Vec<u8> {
    bulk_of(&c.cmd_bytes(&[b"DUMP", key.as_bytes()]))
}

fn restore(c: &mut Client, key: &str, ttl: &str, payload: &[u8], extra: &[&str]) -> String {
    let mut args: Vec<&[u8]> = vec![b"RESTORE", key.as_bytes(), ttl.as_bytes(), payload];
    args.extend(extra.iter().map(|s| s.as_bytes()));
    String::from_utf8_lossy(&c.cmd_bytes(&args)).into_owned()
}

/// Builds every fixture on `from`, moves it with DUMP/RESTORE to `to`, and compares the read-backs.
fn transfer(from: &Server, to: &Server, direction: &str) {
    let (mut src, mut dst) = (from.client(), to.client());
    for f in fixtures() {
        for c in &f.setup {
            run(&mut src, c);
        }
        let keys: Vec<&str> = if f.key == "x" {
            vec!["x", "xlong"]
        } else {
            vec![f.key]
        };
        for k in keys {
            let payload = dump(&mut src, k);
            assert_eq!(
                restore(&mut dst, k, "0", &payload, &[]),
                "+OK\r\n",
                "{direction}: RESTORE {k}"
            );
        }
        for c in &f.check {
            assert_eq!(run(&mut dst, c), run(&mut src, c), "{direction}: {c:?}");
        }
    }
}

#[test]
fn redis_dumps_restore_in_ferredis() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    transfer(&redis, &Server::start(), "redis -> ferredis");
}

#[test]
fn ferredis_dumps_restore_in_redis() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    transfer(&Server::start(), &redis, "ferredis -> redis");
}

/// Where the format leaves no choice (no hash-table order, no compressor difference), the bytes are Redis's.
#[test]
fn payloads_are_byte_for_byte_redis_s() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let (mut a, mut b) = (ours.client(), redis.client());
    let setups: &[&[&str]] = &[
        &["SET", "k1", "hello"],
        &["SET", "k2", "123"],
        &["RPUSH", "k3", "a", "1", "-300", "70000"],
        &["SADD", "k4", "5", "-2", "40000"],
        &["HSET", "k5", "f", "v", "n", "7"],
        &["ZADD", "k6", "1", "a", "2.5", "b"],
        &["XADD", "k7", "5-1", "f", "v"],
    ];
    for s in setups {
        a.cmd(s);
        b.cmd(s);
        assert_eq!(dump(&mut a, s[1]), dump(&mut b, s[1]), "DUMP {}", s[1]);
    }
}

#[test]
fn restore_options_ttl_and_errors_match_redis() {
    let payload_cmds = |c: &mut Client| {
        c.cmd(&["SET", "src", "value"]);
        dump(c, "src")
    };
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let (mut a, mut b) = (ours.client(), redis.client());
    let p = payload_cmds(&mut a);
    assert_eq!(p, payload_cmds(&mut b));
    let cases: &[(&str, &str, &[&str])] = &[
        ("k", "0", &[]),
        ("k", "0", &[]),
        ("k", "0", &["REPLACE"]),
        ("k", "-1", &["REPLACE"]),
        ("k", "abc", &["REPLACE"]),
        ("k2", "100000", &[]),
        ("k3", "1", &["ABSTTL"]),
        ("k4", "0", &["IDLETIME", "-1"]),
        ("k4", "0", &["IDLETIME", "x"]),
        ("k4", "0", &["FREQ", "256"]),
        ("k4", "0", &["FREQ", "-1"]),
        ("k4", "0", &["IDLETIME", "10", "FREQ", "1"]),
        ("k4", "0", &["FREQ", "1", "IDLETIME", "10"]),
        ("k4", "0", &["IDLETIME"]),
        ("k4", "0", &["BOGUS"]),
        ("k5", "0", &["IDLETIME", "1000"]),
    ];
    for (key, ttl, extra) in cases {
        assert_eq!(
            restore(&mut a, key, ttl, &p, extra),
            restore(&mut b, key, ttl, &p, extra),
            "RESTORE {key} {ttl} {extra:?}"
        );
    }
    for c in [
        &["EXISTS", "k3"][..],
        &["GET", "k"],
        &["OBJECT", "IDLETIME", "k5"],
        &["DUMP", "nokey"],
        &["DUMP"],
        &["RESTORE", "k"],
        &["RESTORE", "k", "0"],
    ] {
        assert_eq!(a.cmd(c), b.cmd(c), "{c:?}");
    }
    let ttl_a: i64 = a.cmd(&["PTTL", "k2"])[1..].trim().parse().unwrap();
    assert!((99_000..=100_000).contains(&ttl_a), "PTTL {ttl_a}");
}

/// Payload damage: each answers Redis's exact error, and the server keeps serving.
#[test]
fn corrupt_payloads_get_redis_s_errors() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let (mut a, mut b) = (ours.client(), redis.client());
    a.cmd(&["RPUSH", "l", "a", "b", "c"]);
    let good = dump(&mut a, "l");
    let mut flipped = good.clone();
    flipped[3] ^= 0x40;
    let truncated = good[..good.len() - 3].to_vec();
    let mut wrong_version = good.clone();
    let n = wrong_version.len();
    wrong_version[n - 10] = 11;
    let with_crc = |body: &[u8]| {
        let mut p = body.to_vec();
        p.extend_from_slice(&10u16.to_le_bytes());
        let crc = crc64(&p);
        p.extend_from_slice(&crc.to_le_bytes());
        p
    };
    let cases: Vec<Vec<u8>> = vec![
        flipped,
        truncated,
        wrong_version,
        b"short".to_vec(),
        Vec::new(),
        with_crc(b"\x00\x81\xff\xff\xff\xff\xff\xff\xff\xff"),
        with_crc(b"\x12\x01\x02\x05hello"),
        with_crc(b"\x02\x00"),
        with_crc(b"\x02\x02\x01a\x01a"),
        with_crc(b"\xfe\x00"),
        with_crc(b"\x06\x00"),
        with_crc(b"\x0b\x0c\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x02\x00"),
        with_crc(b"\x00\xc3\x05\x80\x00\x10\x00\x00\x00\x01\x02\x03\x04"),
        with_crc(&good[..good.len() - 10][..5]),
    ];
    for (i, p) in cases.iter().enumerate() {
        let want = restore(&mut b, "t", "0", p, &["REPLACE"]);
        assert!(want.starts_with('-'), "case {i}: redis accepted it: {want}");
        assert_eq!(restore(&mut a, "t", "0", p, &["REPLACE"]), want, "case {i}");
    }
    assert_eq!(
        a.cmd(&["LRANGE", "l", "0", "-1"]),
        "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
    );
}

#[test]
fn dump_respects_rdbcompression() {
    let ours = Server::start();
    let mut c = ours.client();
    let v = "abcdefgh".repeat(40);
    c.cmd(&["SET", "k", &v]);
    assert_eq!(dump(&mut c, "k")[1], 0xC3, "LZF by default");
    c.cmd(&["CONFIG", "SET", "rdbcompression", "no"]);
    let raw = dump(&mut c, "k");
    assert_eq!(raw.len(), 1 + 2 + 320 + 10, "raw with compression off");
    assert_eq!(restore(&mut c, "k2", "0", &raw, &[]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "k2"]), format!("${}\r\n{v}\r\n", v.len()));
    assert_eq!(c.cmd(&["SET", "n", "1"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["LPUSH", "n", "1"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
}
