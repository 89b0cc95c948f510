//! Whole-keyspace walks: KEYS patterns, SCAN options, errors and completeness under concurrent writes, RANDOMKEY.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{assert_same_as_redis, Client, Server};

/// The bulk strings of a flat array reply (`*N` of `$` items), for replies whose order is unspecified.
fn bulks(reply: &str) -> Vec<String> {
    let mut lines = reply.split("\r\n");
    let head = lines.next().unwrap_or_default();
    assert!(head.starts_with('*'), "not an array: {reply:?}");
    let mut out = Vec::new();
    while let Some(line) = lines.next() {
        if line.starts_with('$') {
            out.push(lines.next().unwrap_or_default().to_string());
        }
    }
    out
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// One SCAN call: (next cursor, keys).
fn scan_once(c: &mut Client, args: &[&str]) -> (String, Vec<String>) {
    let reply = c.cmd(args);
    let mut items = bulks(&reply);
    assert!(!items.is_empty(), "bad SCAN reply {reply:?}");
    let cursor = items.remove(0);
    (cursor, items)
}

#[test]
fn keys_patterns() {
    let s = Server::start();
    let mut c = s.client();
    c.cmd(&[
        "MSET", "hello", "1", "hallo", "1", "hxllo", "1", "hllo", "1", "heeeello", "1", "h*llo",
        "1",
    ]);
    let keys = |c: &mut Client, pat: &str| sorted(bulks(&c.cmd(&["KEYS", pat])));
    assert_eq!(keys(&mut c, "*").len(), 6);
    assert_eq!(keys(&mut c, "h?llo"), ["h*llo", "hallo", "hello", "hxllo"]);
    assert_eq!(
        keys(&mut c, "h*llo"),
        ["h*llo", "hallo", "heeeello", "hello", "hllo", "hxllo"]
    );
    assert_eq!(keys(&mut c, "h[ae]llo"), ["hallo", "hello"]);
    assert_eq!(keys(&mut c, "h[^e]llo"), ["h*llo", "hallo", "hxllo"]);
    assert_eq!(keys(&mut c, "h[a-f]llo"), ["hallo", "hello"]);
    assert_eq!(keys(&mut c, "h\\*llo"), ["h*llo"]);
    assert_eq!(keys(&mut c, "nothing*"), Vec::<String>::new());
    assert_eq!(
        c.cmd(&["KEYS"]),
        "-ERR wrong number of arguments for 'keys' command\r\n"
    );
    c.cmd(&["SET", "gone", "1", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(10));
    assert_eq!(keys(&mut c, "gone"), Vec::<String>::new());
    c.cmd(&["SELECT", "1"]);
    assert_eq!(c.cmd(&["KEYS", "*"]), "*0\r\n");
}

#[test]
fn scan_errors_match_redis() {
    assert_same_as_redis(&[
        &["SCAN", "0"],
        &["SCAN", "abc"],
        &["SCAN", " 1"],
        &["SCAN", "1x"],
        &["SCAN", "18446744073709551616"],
        &["SCAN", "0", "COUNT"],
        &["SCAN", "0", "COUNT", "0"],
        &["SCAN", "0", "COUNT", "-1"],
        &["SCAN", "0", "COUNT", "x"],
        &["SCAN", "0", "MATCH"],
        &["SCAN", "0", "TYPE"],
        &["SCAN", "0", "FOO", "bar"],
        &["SCAN", "0", "COUNT", "10", "MATCH", "*", "TYPE", "string"],
        &["SET", "k", "v"],
        &["SCAN", "0", "TYPE", "list"],
        &["SCAN", "0", "TYPE", "STRING"],
        &["SCAN", "0", "MATCH", "k*"],
        &["SCAN", "0", "MATCH", "x*"],
        &["SCAN", "0", "MATCH", "x*", "MATCH", "*"],
        &["SCAN", "0", "TYPE", "nosuchtype"],
        &["SCAN", "0", "COUNT", "5", "COUNT", "0"],
        &["SCAN", "0", "TYPE", "string", "TYPE"],
        &["SCAN", "-1", "MATCH", "nomatch"],
        &["SCAN", ""],
        &["SCAN"],
    ]);
}

#[test]
fn scan_visits_every_key_with_match_count_and_type() {
    let s = Server::start();
    let mut c = s.client();
    let mut batch = Vec::new();
    for i in 0..1000 {
        batch.extend(Client::encode(&[
            b"SET",
            format!("key:{i}").as_bytes(),
            b"v",
        ]));
    }
    c.send_raw(&batch);
    for _ in 0..1000 {
        assert_eq!(c.read_reply(), "+OK\r\n");
    }
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let (next, keys) = scan_once(&mut c, &["SCAN", &cursor, "COUNT", "50", "MATCH", "key:1*"]);
        seen.extend(keys);
        calls += 1;
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    let want: HashSet<String> = (0..1000)
        .map(|i| format!("key:{i}"))
        .filter(|k| k.starts_with("key:1"))
        .collect();
    assert_eq!(seen, want);
    assert!(
        calls > 2,
        "COUNT 50 should take several calls, took {calls}"
    );
    let (cursor, keys) = scan_once(&mut c, &["SCAN", "0", "COUNT", "100000", "TYPE", "hash"]);
    assert_eq!((cursor.as_str(), keys.len()), ("0", 0));
}

/// Keys present for the whole scan come back even while other clients add many keys (tables grow mid-scan).
#[test]
fn scan_is_complete_while_keys_are_added() {
    let s = Server::start();
    let mut c = s.client();
    let mut batch = Vec::new();
    for i in 0..2000 {
        batch.extend(Client::encode(&[
            b"SET",
            format!("stable:{i}").as_bytes(),
            b"v",
        ]));
    }
    c.send_raw(&batch);
    for _ in 0..2000 {
        assert_eq!(c.read_reply(), "+OK\r\n");
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|t| {
            let mut w = s.client();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) && i < 50_000 {
                    let mut batch = Vec::new();
                    for j in i..i + 100 {
                        batch.extend(Client::encode(&[
                            b"SET",
                            format!("new:{t}:{j}").as_bytes(),
                            b"v",
                        ]));
                    }
                    w.send_raw(&batch);
                    for _ in 0..100 {
                        w.read_reply();
                    }
                    i += 100;
                }
            })
        })
        .collect();
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let (next, keys) = scan_once(&mut c, &["SCAN", &cursor, "COUNT", "20"]);
        seen.extend(keys.into_iter().filter(|k| k.starts_with("stable:")));
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let missing: Vec<_> = (0..2000)
        .map(|i| format!("stable:{i}"))
        .filter(|k| !seen.contains(k))
        .collect();
    assert!(
        missing.is_empty(),
        "SCAN missed {} keys: {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
}

#[test]
fn randomkey() {
    let s = Server::start();
    let mut c = s.client();
    assert_eq!(c.cmd(&["RANDOMKEY"]), "$-1\r\n");
    c.cmd(&["MSET", "a", "1", "b", "2", "c", "3"]);
    let mut seen = HashSet::new();
    for _ in 0..200 {
        let r = c.cmd(&["RANDOMKEY"]);
        seen.insert(r);
    }
    let want: HashSet<String> = ["a", "b", "c"]
        .iter()
        .map(|k| format!("$1\r\n{k}\r\n"))
        .collect();
    assert_eq!(seen, want);
    c.cmd(&["FLUSHDB"]);
    c.cmd(&["SET", "x", "1", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(c.cmd(&["RANDOMKEY"]), "$-1\r\n");
    assert_eq!(
        c.cmd(&["RANDOMKEY", "x"]),
        "-ERR wrong number of arguments for 'randomkey' command\r\n"
    );
}
