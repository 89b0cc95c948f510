//! Client-side caching in BCAST mode batches invalidations as Redis 7.0 does: the keys written under a prefix
//! are collected and broadcast once per event loop iteration (`trackingBroadcastInvalidationMessages` in
//! beforeSleep), so a pipeline's writes come in one `invalidate` push per prefix, keys sorted and once each,
//! after the pipeline's replies. Compared with redis-server byte for byte.

mod common;

use common::{resp3_client as resp3, scenario_same_as_redis as same_as_redis, Client, Server};

/// Sends `commands` in one write (one read for the server: one event loop iteration in Redis).
fn pipeline(c: &mut Client, commands: &[&[&str]]) {
    let mut bytes = Vec::new();
    for args in commands {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        bytes.extend_from_slice(&Client::encode(&args));
    }
    c.send_raw(&bytes);
}

fn read(c: &mut Client, n: usize, out: &mut Vec<String>) {
    for _ in 0..n {
        out.push(c.read_reply());
    }
}

/// The tracking client's own pipeline: its replies, then one push per prefix (prefixes in order, keys sorted,
/// a key written twice named once).
fn own_pipeline(s: &Server) -> Vec<String> {
    let mut c = resp3(s);
    let mut out = vec![c.cmd(&[
        "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b:", "PREFIX", "a:",
    ])];
    pipeline(
        &mut c,
        &[
            &["SET", "b:2", "1"],
            &["SET", "a:9", "1"],
            &["SET", "b:1", "1"],
            &["SET", "b:2", "2"],
            &["SET", "c:1", "1"],
            &["INCR", "a:0"],
            &["DEL", "a:9"],
        ],
    );
    read(&mut c, 7 + 2, &mut out);
    out.push(c.cmd(&["PING"]));
    out
}

#[test]
fn a_pipeline_of_writes_is_one_push_per_prefix() {
    same_as_redis(own_pipeline);
}

/// Another client's pipeline, heard by a BCAST client, a BCAST NOLOOP client (the keys it wrote last itself
/// left out) and a client listening to every key (empty prefix).
fn others_pipeline(s: &Server) -> Vec<String> {
    let mut all = resp3(s);
    let mut noloop = resp3(s);
    let mut other = s.client();
    let mut out = vec![
        all.cmd(&["CLIENT", "TRACKING", "on", "BCAST"]),
        noloop.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "k", "NOLOOP"]),
    ];
    out.push(noloop.cmd(&["MSET", "k1", "a", "k2", "b"]));
    out.push(all.read_reply());
    pipeline(
        &mut other,
        &[
            &["SET", "k3", "1"],
            &["SET", "k1", "1"],
            &["LPUSH", "list", "x"],
            &["SET", "k3", "2"],
        ],
    );
    read(&mut other, 4, &mut out);
    out.push(all.read_reply());
    out.push(noloop.read_reply());
    // MULTI/EXEC in a pipeline, and a write the NOLOOP client makes after another's: the last writer counts.
    pipeline(
        &mut other,
        &[
            &["MULTI"],
            &["SET", "k2", "x"],
            &["SET", "k9", "x"],
            &["EXEC"],
        ],
    );
    read(&mut other, 4, &mut out);
    out.push(noloop.cmd(&["SET", "k9", "mine"]));
    out.push(all.read_reply());
    out.push(all.read_reply());
    out.push(noloop.read_reply());
    out.push(all.cmd(&["PING"]));
    out.push(noloop.cmd(&["PING"]));
    out
}

#[test]
fn another_clients_pipeline_is_one_push_with_noloop_and_last_writers() {
    same_as_redis(others_pipeline);
}

/// A pipeline that ends in a blocking command: the writes before it are broadcast while the client waits (Redis
/// returns to its event loop), before the reply that wakes it.
fn pipeline_then_block(s: &Server) -> Vec<String> {
    let mut c = resp3(s);
    let mut other = s.client();
    let mut out = vec![c.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p:"])];
    pipeline(
        &mut c,
        &[
            &["SET", "p:2", "1"],
            &["SET", "p:1", "1"],
            &["BLPOP", "p:list", "0"],
        ],
    );
    read(&mut c, 3, &mut out);
    wait_blocked(&mut other);
    out.push(other.cmd(&["RPUSH", "p:list", "v"]));
    // The BLPOP reply, then the push for p:list (RPUSH's and the pop's write).
    read(&mut c, 2, &mut out);
    out.push(c.cmd(&["PING"]));
    out
}

fn wait_blocked(c: &mut Client) {
    common::wait_until("a client blocked", || {
        c.cmd(&["INFO", "clients"])
            .contains("blocked_clients:1\r\n")
    });
}

#[test]
fn writes_before_a_blocking_command_are_broadcast_while_it_waits() {
    same_as_redis(pipeline_then_block);
}
