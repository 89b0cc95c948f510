//! Hashes: every command against redis-server byte for byte (small hashes answer in insertion order, as a
//! listpack does), the error paths, HINCRBYFLOAT's long-double arithmetic and HSCAN's cursor.

mod collections;
mod common;

use collections::{same, same_events, same_resp3};
use common::{Client, Server};

#[test]
fn set_get_delete() {
    same(&[
        "HSET h b 2 a 1",
        "HSET h a 10 c 3",
        "HGETALL h",
        "HKEYS h",
        "HVALS h",
        "HGET h a",
        "HGET h x",
        "HGET nope x",
        "HMGET h a x c",
        "HMGET nope a b",
        "HLEN h",
        "HLEN nope",
        "HEXISTS h a",
        "HEXISTS h x",
        "HSTRLEN h a",
        "HSTRLEN h x",
        "HSETNX h a 5",
        "HSETNX h d 4",
        "HSETNX new f v",
        "HMSET h e 5 f 6",
        "HGETALL h",
        "HDEL h a x",
        "HDEL nope a",
        "HDEL h b c d e f",
        "EXISTS h",
        "HGETALL nope",
        "HKEYS nope",
        "HSET h a",
        "HSET h a 1 b",
        "HMSET h a 1 b",
        "HSET h",
        "HDEL h",
        "SET str x",
        "HSET str a 1",
        "HGET str a",
        "HMGET str a",
        "HDEL str a",
        "HLEN str",
        "HEXISTS str a",
        "HSTRLEN str a",
        "HKEYS str",
        "HGETALL str",
        "HSETNX str a 1",
    ]);
}

#[test]
fn increments() {
    same(&[
        "HINCRBY h n 5",
        "HINCRBY h n -7",
        "HINCRBY h n x",
        "HINCRBY h n 1.5",
        "HSET h s abc big 9223372036854775807",
        "HINCRBY h s 1",
        "HINCRBY h big 1",
        "HINCRBY h n -9223372036854775808",
        "HINCRBYFLOAT h f 10.5",
        "HINCRBYFLOAT h f 0.1",
        "HINCRBYFLOAT h f -10.6",
        "HINCRBYFLOAT h f 5.0e3",
        "HINCRBYFLOAT h n 1.5",
        "HINCRBYFLOAT h s 1",
        "HINCRBYFLOAT h s inf",
        "HINCRBYFLOAT h s x",
        "HINCRBYFLOAT h f nan",
        "HSET h e 1e308",
        "HINCRBYFLOAT h e 1e308",
        "HMGET h e f n s big",
        "SET str x",
        "HINCRBY str a 1",
        "HINCRBYFLOAT str a 1",
        "HINCRBYFLOAT str a x",
    ]);
}

#[test]
fn randfield_and_scan() {
    same(&[
        "HSET h a 1 b 2 c 3",
        "HRANDFIELD h 3",
        "HRANDFIELD h 10 WITHVALUES",
        "HRANDFIELD h 0",
        "HRANDFIELD nope",
        "HRANDFIELD nope 3",
        "HRANDFIELD h x",
        "HRANDFIELD h 1 WITHVALUE",
        "HRANDFIELD h 1 WITHVALUES x",
        "HRANDFIELD h -9223372036854775808",
        "HRANDFIELD h -9223372036854775807 WITHVALUES",
        "HSCAN h 0",
        "HSCAN h 0 MATCH a COUNT 1",
        "HSCAN h 0 COUNT 0",
        "HSCAN h 0 COUNT",
        "HSCAN h 0 TYPE string",
        "HSCAN h 0 NOVALUES",
        "HSCAN h x",
        "HSCAN h -1",
        "HSCAN nope 0 COUNT 0",
        "SET str x",
        "HSCAN str 0",
        "HRANDFIELD str",
    ]);
    let s = Server::start();
    let mut c = s.client();
    c.cmd(&["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"]);
    for _ in 0..20 {
        let r = c.cmd(&["HRANDFIELD", "h", "-6", "WITHVALUES"]);
        assert!(r.starts_with("*12\r\n"), "{r}");
        let r = c.cmd(&["HRANDFIELD", "h", "3"]);
        let mut items: Vec<&str> = r
            .split("\r\n")
            .skip(2)
            .step_by(2)
            .filter(|l| !l.is_empty())
            .collect();
        items.sort();
        items.dedup();
        assert_eq!(items.len(), 3, "distinct fields: {r}");
    }
}

/// Past 512 fields or a 64-byte value a hash is a hashtable: still every field readable, and HSCAN walks it
/// with a cursor.
#[test]
fn big_hashes_and_hscan() {
    let s = Server::start();
    let mut c = s.client();
    let long = "x".repeat(65);
    assert_eq!(c.cmd(&["HSET", "w", "f", &long, "g", "1"]), ":2\r\n");
    assert_eq!(c.cmd(&["HGET", "w", "f"]), format!("$65\r\n{long}\r\n"));
    let mut batch = Vec::new();
    for i in 0..1000 {
        batch.extend(Client::encode(&[
            b"HSET",
            b"h",
            format!("f{i}").as_bytes(),
            i.to_string().as_bytes(),
        ]));
    }
    c.send_raw(&batch);
    for _ in 0..1000 {
        assert_eq!(c.read_reply(), ":1\r\n");
    }
    assert_eq!(c.cmd(&["HGET", "h", "f999"]), "$3\r\n999\r\n");
    let mut seen = std::collections::HashMap::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let r = c.cmd(&["HSCAN", "h", &cursor, "MATCH", "f*", "COUNT", "50"]);
        calls += 1;
        let lines: Vec<&str> = r.split("\r\n").collect();
        cursor = lines[2].to_string();
        let items: Vec<&str> = lines[4..]
            .iter()
            .copied()
            .filter(|l| !l.starts_with('$') && !l.is_empty())
            .collect();
        for pair in items.chunks(2) {
            seen.insert(pair[0].to_string(), pair[1].to_string());
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 1000);
    assert_eq!(seen["f7"], "7");
    assert!(calls > 5);
}

#[test]
fn keyspace_events() {
    same_events(&[
        "HSET h a 1 b 2",
        "HSET h a 1",
        "HSETNX h a 1",
        "HSETNX h c 3",
        "HMSET h d 4",
        "HINCRBY h n 1",
        "HINCRBYFLOAT h f 1.5",
        "HINCRBY h a x",
        "HDEL h x",
        "HDEL h a b c d",
        "HDEL h n f",
    ]);
}

#[test]
fn resp3_replies() {
    same_resp3(&[
        "HSET h a 1 b 2",
        "HGETALL h",
        "HGETALL nope",
        "HKEYS h",
        "HMGET h a x",
        "HGET h x",
        "HRANDFIELD h 5 WITHVALUES",
        "HRANDFIELD nope",
        "HRANDFIELD nope 2",
        "HINCRBYFLOAT h f 1.5",
        "HSCAN h 0",
    ]);
}

#[test]
fn arity_errors() {
    same(&[
        "HSET h a",
        "HSETNX h a",
        "HMSET h a",
        "HGET h",
        "HMGET h",
        "HDEL h",
        "HEXISTS h",
        "HLEN",
        "HSTRLEN h",
        "HKEYS",
        "HVALS",
        "HGETALL",
        "HINCRBY h a",
        "HINCRBYFLOAT h a",
        "HRANDFIELD",
        "HSCAN h",
        "HLEN a b",
        "HGET a b c",
    ]);
}

#[test]
fn object_encoding() {
    let many = (0..129)
        .map(|i| format!("f{i} v"))
        .collect::<Vec<_>>()
        .join(" ");
    let long = "x".repeat(65);
    let script = [
        "HSET h a 1".to_string(),
        "OBJECT ENCODING h".into(),
        format!("HSET h {many}"),
        "OBJECT ENCODING h".into(),
        "HSET h one-more v".into(),
        "OBJECT ENCODING h".into(),
        format!("HSET w a {long}"),
        "OBJECT ENCODING w".into(),
        format!("HSET x {long} 1"),
        "OBJECT ENCODING x".into(),
        "HINCRBY y a 1".into(),
        "OBJECT ENCODING y".into(),
    ];
    let refs: Vec<&str> = script.iter().map(|s| s.as_str()).collect();
    same(&refs);
}

#[test]
fn copy_and_type() {
    let long = "x".repeat(65);
    let script = [
        format!("HSET big a {long} b 2"),
        "HSET small a 1 b 2".into(),
        "COPY big big2".into(),
        "COPY small small2".into(),
        "HDEL big b".into(),
        "HSET small a 9".into(),
        "HGET big2 b".into(),
        "HGETALL small2".into(),
        "TYPE big2".into(),
        "OBJECT ENCODING big2".into(),
    ];
    let refs: Vec<&str> = script.iter().map(|s| s.as_str()).collect();
    same(&refs);
}
