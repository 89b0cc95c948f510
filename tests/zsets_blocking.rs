//! Blocking sorted-set pops: immediate answers and errors as redis-server, FIFO service of waiters, wake-ups on
//! any of several keys, BZMPOP counts, timeouts, and keys of another type that wake nobody.

mod collections;
mod common;

use std::time::Instant;

use collections::same;
use common::{Client, Server};

fn blocked(srv: &Server, args: &[&str]) -> Client {
    srv.blocked_client(args)
}

fn bulk(s: &str) -> String {
    format!("${}\r\n{s}\r\n", s.len())
}

/// BZPOPMIN's `[key, member, score]`.
fn triple(key: &str, member: &str, score: &str) -> String {
    format!("*3\r\n{}{}{}", bulk(key), bulk(member), bulk(score))
}

#[test]
fn immediate_pops_and_errors_match_redis() {
    same(&[
        "ZADD z 1 a 2 b 3 c",
        "BZPOPMIN z 0",
        "BZPOPMAX nope z 0",
        "BZMPOP 0 2 nope z MIN COUNT 5",
        "EXISTS z",
        "ZADD z 1 a 2 b",
        "BZMPOP 1 1 z MAX",
        "BZPOPMIN z x",
        "BZPOPMIN z -1",
        "BZPOPMIN z inf",
        "BZMPOP x 1 z MIN",
        "BZMPOP 0 0 z MIN",
        "BZMPOP x 0 z MIN",
        "BZMPOP 0 1 z FOO",
        "BZMPOP 0 2 z MIN",
        "BZMPOP 0 1 z MIN COUNT 0",
        "BZMPOP -1 1 z MIN",
        "BZMPOP 0 1 z MIN COUNT 1 COUNT 1",
        "SET str x",
        "BZPOPMIN str 0",
        "BZPOPMIN nope str 0",
        "BZMPOP 0 1 str MAX",
        "BZPOPMIN z",
        "BZMPOP 0 1 z",
    ]);
}

#[test]
fn waiters_are_served_first_come_first_served() {
    let srv = Server::start();
    let mut waiters: Vec<Client> = (0..3)
        .map(|_| blocked(&srv, &["BZPOPMIN", "z", "0"]))
        .collect();
    let mut p = srv.client();
    assert_eq!(
        p.cmd(&["ZADD", "z", "3", "c", "1", "a", "2", "b"]),
        ":3\r\n"
    );
    for (w, (m, s)) in waiters.iter_mut().zip([("a", "1"), ("b", "2"), ("c", "3")]) {
        assert_eq!(w.read_reply(), triple("z", m, s));
    }
    assert_eq!(p.cmd(&["EXISTS", "z"]), ":0\r\n");
}

#[test]
fn one_member_serves_one_waiter_and_bzpopmax_takes_the_highest() {
    let srv = Server::start();
    let mut first = blocked(&srv, &["BZPOPMAX", "z", "0"]);
    let mut second = blocked(&srv, &["BZPOPMAX", "z", "0"]);
    let mut p = srv.client();
    assert_eq!(p.cmd(&["ZADD", "z", "1", "low", "5", "high"]), ":2\r\n");
    assert_eq!(first.read_reply(), triple("z", "high", "5"));
    assert_eq!(second.read_reply(), triple("z", "low", "1"));
    let mut third = blocked(&srv, &["BZPOPMAX", "z", "0"]);
    assert_eq!(p.cmd(&["ZADD", "z", "7", "x"]), ":1\r\n");
    assert_eq!(third.read_reply(), triple("z", "x", "7"));
}

#[test]
fn a_waiter_on_several_keys_wakes_on_the_one_that_gets_members() {
    let srv = Server::start();
    let mut w = blocked(&srv, &["BZPOPMIN", "k1", "k2", "k3", "0"]);
    let mut p = srv.client();
    assert_eq!(p.cmd(&["ZADD", "k2", "1.5", "m"]), ":1\r\n");
    assert_eq!(w.read_reply(), triple("k2", "m", "1.5"));
    assert_eq!(p.cmd(&["EXISTS", "k2"]), ":0\r\n");
}

#[test]
fn bzmpop_takes_its_count_and_leaves_the_rest() {
    let srv = Server::start();
    let mut w = blocked(&srv, &["BZMPOP", "0", "2", "a", "b", "MAX", "COUNT", "2"]);
    let mut p = srv.client();
    assert_eq!(
        p.cmd(&["ZADD", "b", "1", "x", "2", "y", "3", "z"]),
        ":3\r\n"
    );
    let want = format!(
        "*2\r\n{}*2\r\n*2\r\n{}{}*2\r\n{}{}",
        bulk("b"),
        bulk("z"),
        bulk("3"),
        bulk("y"),
        bulk("2")
    );
    assert_eq!(w.read_reply(), want);
    assert_eq!(p.cmd(&["ZRANGE", "b", "0", "-1"]), "*1\r\n$1\r\nx\r\n");
}

#[test]
fn timeouts_answer_a_null_array_on_time() {
    let srv = Server::start();
    let mut c = srv.client();
    for (args, ms) in [
        (&["BZPOPMIN", "a", "b", "0.2"][..], 200),
        (&["BZPOPMAX", "a", "0.1"][..], 100),
        (&["BZMPOP", "0.15", "1", "a", "MIN"][..], 150),
    ] {
        let start = Instant::now();
        assert_eq!(c.cmd(args), "*-1\r\n");
        let took = start.elapsed().as_millis() as i64;
        assert!((took - ms).abs() <= 60, "{args:?} took {took} ms");
    }
}

#[test]
fn a_key_of_another_type_wakes_nobody() {
    let srv = Server::start();
    let mut w = blocked(&srv, &["BZPOPMIN", "k", "0"]);
    let mut p = srv.client();
    assert_eq!(p.cmd(&["SADD", "k", "m"]), ":1\r\n");
    assert_eq!(p.cmd(&["DEL", "k"]), ":1\r\n");
    assert_eq!(p.cmd(&["ZADD", "k", "4", "m"]), ":1\r\n");
    assert_eq!(w.read_reply(), triple("k", "m", "4"));
}

#[test]
fn zunionstore_into_a_watched_key_serves_the_waiter() {
    let srv = Server::start();
    let mut w = blocked(&srv, &["BZPOPMIN", "dst", "0"]);
    let mut p = srv.client();
    assert_eq!(p.cmd(&["ZADD", "src", "1", "a", "2", "b"]), ":2\r\n");
    assert_eq!(p.cmd(&["ZUNIONSTORE", "dst", "1", "src"]), ":2\r\n");
    assert_eq!(w.read_reply(), triple("dst", "a", "1"));
    assert_eq!(p.cmd(&["ZRANGE", "dst", "0", "-1"]), "*1\r\n$1\r\nb\r\n");
}
