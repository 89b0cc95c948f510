//! Keyspace notifications the keyspace itself causes: `new` when a key is created (class `n`, not part of `A`),
//! and `expired` when a write finds an expired key in its way (SET NX, LPUSH, RENAME, COPY and MOVE destinations,
//! DEL), which Redis reports and counts in `expired_keys` before the write. Every scenario runs on ferredis and
//! redis-server and the two event streams are compared.
mod common;

use std::thread::sleep;
use std::time::Duration;

use common::{Client, Server};

/// Runs `script` (a `sleep` step waits 5 ms, letting PX 1 keys expire) on `srv` with `notify-keyspace-events`
/// set to `classes`, and returns every notification a `*` pattern subscriber saw, then `expired_keys`. The active
/// expiry is switched off (DEBUG SET-ACTIVE-EXPIRE 0), so the writes meet the expired keys however slowly the
/// script runs on a loaded machine.
fn events(srv: &Server, classes: &str, script: &[&[&str]]) -> Vec<String> {
    let mut r = srv.client();
    assert_eq!(r.cmd(&["debug", "set-active-expire", "0"]), "+OK\r\n");
    assert_eq!(
        r.cmd(&["config", "set", "notify-keyspace-events", classes]),
        "+OK\r\n"
    );
    let mut sub = srv.client();
    assert!(sub.cmd(&["psubscribe", "*"]).starts_with("*3\r\n"));
    for step in script {
        if step == &["sleep"] {
            sleep(Duration::from_millis(5));
        } else {
            r.cmd(step);
        }
    }
    r.cmd(&["publish", "done", "."]);
    let mut seen = Vec::new();
    loop {
        let msg = sub.read_reply();
        if msg.contains("\r\ndone\r\n") {
            break;
        }
        seen.push(msg);
    }
    seen.push(stat(&mut r, "expired_keys"));
    seen
}

fn stat(c: &mut Client, field: &str) -> String {
    let info = c.cmd(&["info", "stats"]);
    info.lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_default()
        .to_string()
}

/// The same events on both servers; returns ferredis's.
fn same_events(classes: &str, script: &[&[&str]]) -> Vec<String> {
    let debug = ["--enable-debug-command", "yes"];
    let ours = events(&Server::start_with(&debug), classes, script);
    if let Some(redis) = Server::start_redis_with(&debug) {
        assert_eq!(ours, events(&redis, classes, script), "classes {classes}");
    }
    ours
}

fn keyevent(event: &str, key: &str) -> String {
    let channel = format!("__keyevent@0__:{event}");
    format!(
        "*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n${}\r\n{channel}\r\n${}\r\n{key}\r\n",
        channel.len(),
        key.len()
    )
}

#[test]
fn new_key_events() {
    let script: &[&[&str]] = &[
        &["set", "foo", "bar"],
        &["set", "foo", "baz"],
        &["set", "bar", "bar"],
        &["lpush", "l", "a"],
        &["lpush", "l", "b"],
        &["sadd", "s", "m"],
        &["hset", "h", "f", "v"],
        &["zadd", "z", "1", "m"],
        &["xadd", "x", "1", "f", "v"],
        &["setrange", "sr", "2", "x"],
        &["incr", "n"],
        &["append", "ap", "x"],
        &["rename", "foo", "renamed"],
        &["rename", "renamed", "bar"],
        &["copy", "bar", "copied"],
        &["copy", "bar", "copied", "replace"],
        &["sunionstore", "su", "s"],
        &["move", "l", "1"],
    ];
    let seen = same_events("En", script);
    assert_eq!(seen[0], keyevent("new", "foo"));
    assert_eq!(seen[1], keyevent("new", "bar"));
    // `A` does not include `n`.
    assert_eq!(
        same_events("EA", script)
            .iter()
            .filter(|e| e.contains(":new\r\n"))
            .count(),
        0
    );
    same_events("KEAn", script);
}

#[test]
fn a_write_over_an_expired_key_reports_it_expired_first() {
    let script: &[&[&str]] = &[
        &["set", "k", "v", "px", "1"],
        &["rpush", "l", "a"],
        &["pexpire", "l", "1"],
        &["set", "dst", "x", "px", "1"],
        &["set", "cdst", "x", "px", "1"],
        &["set", "gone", "x", "px", "1"],
        &["set", "xx", "x", "px", "1"],
        &["sadd", "set", "m"],
        &["pexpire", "set", "1"],
        &["select", "1"],
        &["set", "mv", "x", "px", "1"],
        &["select", "0"],
        &["set", "mv", "moving"],
        &["set", "src", "s"],
        &["sleep"],
        &["set", "k", "v2", "nx"],
        &["lpush", "l", "b"],
        &["rename", "src", "dst"],
        &["copy", "dst", "cdst"],
        &["del", "gone"],
        &["set", "xx", "y", "xx"],
        &["sadd", "set", "n"],
        &["move", "mv", "1"],
    ];
    let seen = same_events("KEA", script);
    let expired = seen.iter().position(|e| *e == keyevent("expired", "k"));
    let set = seen.iter().rposition(|e| *e == keyevent("set", "k"));
    assert!(expired.is_some() && expired < set, "{seen:?}");
    assert_eq!(seen.last().map(String::as_str), Some("expired_keys:8"));
    same_events("Exn$lgs", script);
}

/// `A` does not include `n`, and Redis prints no `n` after `A` although the class stays on.
#[test]
fn config_get_shows_classes_as_redis() {
    common::assert_same_as_redis(&[
        &["config", "set", "notify-keyspace-events", "KEAn"],
        &["config", "get", "notify-keyspace-events"],
        &["config", "set", "notify-keyspace-events", "Egn$"],
        &["config", "get", "notify-keyspace-events"],
        &["config", "set", "notify-keyspace-events", "nA"],
        &["config", "get", "notify-keyspace-events"],
        &["config", "set", "notify-keyspace-events", "Q"],
    ]);
}
