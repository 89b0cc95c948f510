//! Expiry: the EXPIRE and TTL families against redis-server, lazy expiry (an expired key is invisible) and
//! active expiry (keys nobody reads are freed).

mod common;

use std::time::{Duration, Instant};

use common::{assert_same_as_redis, Client, Server};

#[test]
fn expire_family_matches_redis() {
    assert_same_as_redis(&[
        &["EXPIRE", "nope", "100"],
        &["SET", "k", "v"],
        &["EXPIRE", "k", "100"],
        &["TTL", "k"],
        &["EXPIRE", "k", "200", "NX"],
        &["EXPIRE", "k", "200", "XX"],
        &["TTL", "k"],
        &["EXPIRE", "k", "100", "GT"],
        &["EXPIRE", "k", "300", "GT"],
        &["TTL", "k"],
        &["EXPIRE", "k", "400", "LT"],
        &["EXPIRE", "k", "250", "LT"],
        &["TTL", "k"],
        &["EXPIRE", "k", "300", "xx", "gt"],
        &["TTL", "k"],
        &["PERSIST", "k"],
        &["PERSIST", "k"],
        &["PERSIST", "nope"],
        &["EXPIRE", "k", "100", "XX"],
        &["EXPIRE", "k", "100", "GT"],
        &["EXPIRE", "k", "100", "LT"],
        &["TTL", "k"],
        &["PERSIST", "k"],
        &["EXPIRE", "k", "100", "NX"],
        &["EXPIRE", "k", "100", "NX", "XX"],
        &["EXPIRE", "k", "100", "NX", "GT"],
        &["EXPIRE", "k", "100", "LT", "NX"],
        &["EXPIRE", "k", "100", "GT", "LT"],
        &["EXPIRE", "k", "100", "FOO"],
        &["EXPIRE", "k", "100", "NX", "FOO"],
        &["EXPIRE", "k", "abc"],
        &["EXPIRE", "k", "abc", "FOO"],
        &["EXPIRE", "k", "1.5"],
        &["EXPIRE", "k", "9223372036854775807"],
        &["EXPIRE", "k", "-9223372036854775808"],
        &["EXPIRE", "k", "9223372036854775"],
        &["PEXPIRE", "k", "9223372036854775807"],
        &["EXPIREAT", "k", "9223372036854775807"],
        &["PEXPIREAT", "k", "9223372036854775807"],
        &["EXPIRETIME", "k"],
        &["TTL", "k"],
        &["PEXPIREAT", "k", "9223372036854775308"],
        &["EXPIRETIME", "k"],
        &["PEXPIRETIME", "k"],
        &["EXPIREAT", "k", "32000000000"],
        &["EXPIRETIME", "k"],
        &["PEXPIRETIME", "k"],
        &["PEXPIREAT", "k", "32000000000123"],
        &["PEXPIRETIME", "k"],
        &["EXPIRETIME", "k"],
        &["PEXPIRE", "k", "100000"],
        &["TTL", "k"],
        &["EXPIRETIME", "nope"],
        &["PEXPIRETIME", "nope"],
        &["TTL", "nope"],
        &["PTTL", "nope"],
        &["SET", "p", "v"],
        &["TTL", "p"],
        &["PTTL", "p"],
        &["EXPIRETIME", "p"],
        &["PEXPIRETIME", "p"],
        &["EXPIRE", "p", "0"],
        &["EXISTS", "p"],
        &["SET", "p", "v"],
        &["EXPIRE", "p", "-10"],
        &["EXISTS", "p"],
        &["SET", "p", "v"],
        &["EXPIREAT", "p", "1"],
        &["EXISTS", "p"],
        &["SET", "p", "v"],
        &["PEXPIREAT", "p", "1", "GT"],
        &["EXISTS", "p"],
        &["PEXPIREAT", "p", "1", "LT"],
        &["EXISTS", "p"],
        &["EXPIRE", "k"],
        &["TTL"],
        &["PERSIST", "a", "b"],
    ]);
}

#[test]
fn lazy_expiry_hides_expired_keys() {
    let s = Server::start_with(&["--hz", "1"]);
    let mut c = s.client();
    c.cmd(&["SET", "k", "v", "PX", "300"]);
    c.cmd(&["SET", "n", "5", "PX", "300"]);
    assert_eq!(c.cmd(&["EXISTS", "k"]), ":1\r\n");
    std::thread::sleep(Duration::from_millis(350));
    assert_eq!(c.cmd(&["GET", "k"]), "$-1\r\n");
    assert_eq!(c.cmd(&["EXISTS", "k"]), ":0\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":-2\r\n");
    assert_eq!(c.cmd(&["PTTL", "k"]), ":-2\r\n");
    assert_eq!(c.cmd(&["TYPE", "k"]), "+none\r\n");
    assert_eq!(c.cmd(&["RENAME", "k", "x"]), "-ERR no such key\r\n");
    assert_eq!(c.cmd(&["INCR", "n"]), ":1\r\n");
    assert_eq!(c.cmd(&["TTL", "n"]), ":-1\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v", "NX"]), "+OK\r\n");
}

/// A read that meets an expired key deletes it, as Redis's lookups do: DBSIZE counts it until then, INFO
/// `expired_keys` and the `expired` event follow the read, and SCAN and RANDOMKEY delete what they visit. Checked
/// step by step on both servers, with active expiry off.
#[test]
fn reads_delete_expired_keys_as_redis_does() {
    let ferredis = Server::start_with(&["--enable-debug-command", "yes"]);
    let Some(redis) = Server::start_redis_with(&["--enable-debug-command", "yes"]) else {
        return;
    };
    let run = |s: &Server| {
        let mut c = s.client();
        let mut sub = s.client();
        let mut out = vec![c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"])];
        out.push(c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Ex"]));
        out.push(sub.cmd(&["SUBSCRIBE", "__keyevent@0__:expired"]));
        for k in ["a", "b", "c", "d"] {
            c.cmd(&["SET", k, "v", "PX", "20"]);
        }
        c.cmd(&["SET", "live", "v"]);
        std::thread::sleep(Duration::from_millis(60));
        out.push(c.cmd(&["DBSIZE"]));
        out.push(c.cmd(&["MGET", "a", "b"]));
        out.push(c.cmd(&["DBSIZE"]));
        out.push(sub.read_reply());
        out.push(sub.read_reply());
        out.push(c.cmd(&["SCAN", "0", "COUNT", "100"]));
        out.push(c.cmd(&["DBSIZE"]));
        out.push(c.cmd(&["RANDOMKEY"]));
        let stats = c.cmd(&["INFO", "stats"]);
        let expired = stats
            .lines()
            .find(|l| l.starts_with("expired_keys:"))
            .map(str::to_owned);
        out.push(expired.unwrap_or_default());
        out
    };
    assert_eq!(run(&ferredis), run(&redis));
}

#[test]
fn ttl_rounds_and_keeps_milliseconds() {
    let s = Server::start();
    let mut c = s.client();
    c.cmd(&["SET", "k", "v", "PX", "1600"]);
    assert_eq!(c.cmd(&["TTL", "k"]), ":2\r\n");
    let pttl: i64 = c.cmd(&["PTTL", "k"])[1..].trim().parse().unwrap();
    assert!((1000..=1600).contains(&pttl), "{pttl}");
    c.cmd(&["PEXPIRE", "k", "1400"]);
    assert_eq!(c.cmd(&["TTL", "k"]), ":1\r\n");
}

/// 200,000 keys set with PX 100 disappear without anyone reading them: the active expiry cycle frees them.
#[test]
fn active_expiry_removes_unread_keys() {
    let s = Server::start();
    let mut c = s.client();
    let total = 200_000;
    for chunk in 0..(total / 10_000) {
        let mut batch = Vec::new();
        for i in chunk * 10_000..(chunk + 1) * 10_000 {
            batch.extend(Client::encode(&[
                b"SET",
                format!("volatile:{i}").as_bytes(),
                b"v",
                b"PX",
                b"100",
            ]));
        }
        c.send_raw(&batch);
        for _ in 0..10_000 {
            assert_eq!(c.read_reply(), "+OK\r\n");
        }
    }
    c.cmd(&["SET", "stays", "v"]);
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        let size = c.cmd(&["DBSIZE"]);
        if size == ":1\r\n" {
            break;
        }
        assert!(Instant::now() < deadline, "keys left after 8s: {size:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(c.cmd(&["GET", "stays"]), "$1\r\nv\r\n");
}
