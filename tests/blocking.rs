//! Blocking list pops: FIFO service, multi-key wake-ups, timeouts, vanished clients, BLMOVE chains, and many
//! producers and consumers moving elements with none lost or duplicated.
mod common;

use std::collections::HashSet;
use std::thread;
use std::time::{Duration, Instant};

use common::{Client, Server};

fn blocked(srv: &Server, args: &[&str]) -> Client {
    srv.blocked_client(args)
}

fn bulk(s: &str) -> String {
    format!("${}\r\n{s}\r\n", s.len())
}

fn pair(key: &str, value: &str) -> String {
    format!("*2\r\n{}{}", bulk(key), bulk(value))
}

#[test]
fn fifo_three_waiters_one_push_of_three() {
    let srv = Server::start();
    let mut waiters: Vec<Client> = (0..3)
        .map(|_| blocked(&srv, &["blpop", "k", "0"]))
        .collect();
    let mut p = srv.client();
    assert_eq!(p.cmd(&["rpush", "k", "a", "b", "c"]), ":3\r\n");
    for (w, v) in waiters.iter_mut().zip(["a", "b", "c"]) {
        assert_eq!(w.read_reply(), pair("k", v));
    }
    assert_eq!(p.cmd(&["exists", "k"]), ":0\r\n");
}

#[test]
fn fifo_order_one_element_at_a_time() {
    let srv = Server::start();
    let mut waiters: Vec<Client> = (0..3)
        .map(|_| blocked(&srv, &["brpop", "k", "0"]))
        .collect();
    let mut p = srv.client();
    for v in ["x", "y", "z"] {
        assert_eq!(p.cmd(&["lpush", "k", v]), ":1\r\n");
    }
    for (w, v) in waiters.iter_mut().zip(["x", "y", "z"]) {
        assert_eq!(w.read_reply(), pair("k", v));
    }
}

#[test]
fn a_push_serves_no_more_waiters_than_elements() {
    let srv = Server::start();
    let mut w1 = blocked(&srv, &["blpop", "k", "0"]);
    let mut w2 = blocked(&srv, &["blpop", "k", "0"]);
    let mut p = srv.client();
    assert_eq!(p.cmd(&["rpush", "k", "only"]), ":1\r\n");
    assert_eq!(w1.read_reply(), pair("k", "only"));
    w2.set_timeout(Duration::from_millis(150));
    assert!(w2.is_closed(), "the second waiter must still be waiting");
    assert_eq!(p.cmd(&["rpush", "k", "next", "rest"]), ":2\r\n");
    assert_eq!(p.cmd(&["lrange", "k", "0", "-1"]), "*1\r\n$4\r\nrest\r\n");
}

#[test]
fn waiter_is_served_before_the_pushers_next_command() {
    let srv = Server::start();
    let mut w = blocked(&srv, &["blpop", "k", "0"]);
    let mut p = srv.client();
    let mut raw = Client::encode(&[b"rpush", b"k", b"v"]);
    raw.extend(Client::encode(&[b"llen", b"k"]));
    p.send_raw(&raw);
    assert_eq!(p.read_reply(), ":1\r\n");
    assert_eq!(p.read_reply(), ":0\r\n");
    assert_eq!(w.read_reply(), pair("k", "v"));
}

#[test]
fn multi_key_waiter_is_served_from_the_key_that_gets_data() {
    let srv = Server::start();
    let mut w = blocked(&srv, &["blpop", "k1", "k2", "k3", "0"]);
    let mut p = srv.client();
    assert_eq!(p.cmd(&["rpush", "k3", "v3"]), ":1\r\n");
    assert_eq!(w.read_reply(), pair("k3", "v3"));
    // Once served it is gone from the other queues: a push to k1 stays there.
    assert_eq!(p.cmd(&["rpush", "k1", "v1"]), ":1\r\n");
    assert_eq!(p.cmd(&["llen", "k1"]), ":1\r\n");
}

#[test]
fn multi_key_waiters_keep_fifo_per_key() {
    let srv = Server::start();
    let mut both = blocked(&srv, &["blpop", "a", "b", "0"]);
    let mut only_b = blocked(&srv, &["blpop", "b", "0"]);
    let mut p = srv.client();
    assert_eq!(p.cmd(&["rpush", "b", "1", "2"]), ":2\r\n");
    assert_eq!(both.read_reply(), pair("b", "1"));
    assert_eq!(only_b.read_reply(), pair("b", "2"));
}

#[test]
fn blmpop_takes_count_and_leaves_the_rest() {
    let srv = Server::start();
    let mut w1 = blocked(&srv, &["blmpop", "0", "2", "x", "k", "right", "count", "2"]);
    let mut w2 = blocked(&srv, &["blmpop", "0", "1", "k", "left", "count", "5"]);
    let mut p = srv.client();
    assert_eq!(p.cmd(&["rpush", "k", "a", "b", "c"]), ":3\r\n");
    assert_eq!(
        w1.read_reply(),
        "*2\r\n$1\r\nk\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n"
    );
    assert_eq!(w2.read_reply(), "*2\r\n$1\r\nk\r\n*1\r\n$1\r\na\r\n");
}

fn assert_times_out(args: &[&str], ms: u64) {
    let srv = Server::start();
    let mut c = srv.client();
    let start = Instant::now();
    assert_eq!(c.cmd(args), "*-1\r\n");
    let took = start.elapsed().as_millis() as i64;
    assert!((took - ms as i64).abs() <= 50, "{args:?} took {took} ms");
}

#[test]
fn timeouts_within_fifty_ms() {
    assert_times_out(&["blpop", "a", "b", "0.2"], 200);
    assert_times_out(&["brpop", "a", "0.15"], 150);
    assert_times_out(&["blmove", "a", "b", "left", "right", "0.1"], 100);
    assert_times_out(&["brpoplpush", "a", "b", "0.25"], 250);
    assert_times_out(&["blmpop", "0.12", "1", "a", "left"], 120);
}

#[test]
fn huge_timeout_blocks_until_served() {
    let srv = Server::start();
    let mut w = blocked(&srv, &["blpop", "k", "9223372036854770"]);
    let mut p = srv.client();
    assert_eq!(p.cmd(&["rpush", "k", "v"]), ":1\r\n");
    assert_eq!(w.read_reply(), pair("k", "v"));
}

#[test]
fn pipelined_replies_before_the_block_are_sent_first() {
    let srv = Server::start();
    let mut c = srv.client();
    let mut raw = Client::encode(&[b"rpush", b"other", b"x"]);
    raw.extend(Client::encode(&[b"blpop", b"k", b"0"]));
    raw.extend(Client::encode(&[b"llen", b"k"]));
    c.send_raw(&raw);
    assert_eq!(c.read_reply(), ":1\r\n");
    srv.wait_blocked(|n| n == 1);
    let mut p = srv.client();
    assert_eq!(p.cmd(&["rpush", "k", "v"]), ":1\r\n");
    assert_eq!(c.read_reply(), pair("k", "v"));
    // The command pipelined behind the blocked one runs after it.
    assert_eq!(c.read_reply(), ":0\r\n");
}

#[test]
fn vanished_client_takes_nothing() {
    let srv = Server::start();
    let gone = blocked(&srv, &["blpop", "k", "0"]);
    let mut next = blocked(&srv, &["blpop", "k", "0"]);
    drop(gone);
    // The waiter notices the closed socket within its 100 ms slice.
    srv.wait_blocked(|n| n == 1);
    let mut p = srv.client();
    assert_eq!(p.cmd(&["rpush", "k", "v1", "v2"]), ":2\r\n");
    assert_eq!(next.read_reply(), pair("k", "v1"));
    assert_eq!(p.cmd(&["lrange", "k", "0", "-1"]), "*1\r\n$2\r\nv2\r\n");
}

/// Open descriptors of the server process: a connection's socket closes only when its thread leaves the
/// connection loop and goes back to the pool.
fn open_fds(srv: &Server) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", srv.pid()))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn vanished_clients_leave_and_free_their_threads() {
    let srv = Server::start();
    let mut p = srv.client();
    assert_eq!(p.cmd(&["ping"]), "+PONG\r\n");
    let before = open_fds(&srv);
    let clients: Vec<Client> = (0..30)
        .map(|_| {
            let mut c = srv.client();
            c.send(&["blpop", "k", "0"]);
            c
        })
        .collect();
    srv.wait_blocked(|n| n == 30);
    assert!(open_fds(&srv) >= before + 30, "clients not connected");
    drop(clients);
    let deadline = Instant::now() + Duration::from_secs(5);
    while open_fds(&srv) > before && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(open_fds(&srv), before, "blocked connections did not end");
    assert_eq!(p.cmd(&["rpush", "k", "v"]), ":1\r\n");
    assert_eq!(p.cmd(&["llen", "k"]), ":1\r\n");
}

#[test]
fn blmove_chain_serves_each_destination() {
    let srv = Server::start();
    let mut first = blocked(&srv, &["blmove", "a", "b", "left", "right", "0"]);
    let mut second = blocked(&srv, &["brpoplpush", "b", "c", "0"]);
    let mut last = blocked(&srv, &["blpop", "c", "0"]);
    let mut p = srv.client();
    assert_eq!(p.cmd(&["rpush", "a", "x"]), ":1\r\n");
    assert_eq!(first.read_reply(), bulk("x"));
    assert_eq!(second.read_reply(), bulk("x"));
    assert_eq!(last.read_reply(), pair("c", "x"));
    for k in ["a", "b", "c"] {
        assert_eq!(p.cmd(&["exists", k]), ":0\r\n");
    }
}

#[test]
fn blmove_into_wrong_type_answers_wrongtype_and_keeps_the_element() {
    let srv = Server::start();
    let mut w = blocked(&srv, &["blmove", "a", "s", "left", "left", "0"]);
    let mut p = srv.client();
    assert_eq!(p.cmd(&["set", "s", "str"]), "+OK\r\n");
    assert_eq!(p.cmd(&["rpush", "a", "x"]), ":1\r\n");
    assert_eq!(
        w.read_reply(),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(p.cmd(&["lrange", "a", "0", "-1"]), "*1\r\n$1\r\nx\r\n");
}

#[test]
fn a_key_of_another_type_does_not_serve_waiters() {
    let srv = Server::start();
    let mut w = blocked(&srv, &["blpop", "k", "0"]);
    let mut p = srv.client();
    assert_eq!(p.cmd(&["set", "k", "str"]), "+OK\r\n");
    assert_eq!(p.cmd(&["del", "k"]), ":1\r\n");
    assert_eq!(p.cmd(&["lpush", "k", "v"]), ":1\r\n");
    assert_eq!(w.read_reply(), pair("k", "v"));
}

#[test]
fn rename_move_and_copy_into_a_waited_key_serve_it() {
    let srv = Server::start();
    let mut p = srv.client();
    let mut w = blocked(&srv, &["blpop", "k", "0"]);
    assert_eq!(p.cmd(&["rpush", "tmp", "renamed"]), ":1\r\n");
    assert_eq!(p.cmd(&["rename", "tmp", "k"]), "+OK\r\n");
    assert_eq!(w.read_reply(), pair("k", "renamed"));
    let mut w = blocked(&srv, &["brpop", "k", "0"]);
    assert_eq!(p.cmd(&["select", "3"]), "+OK\r\n");
    assert_eq!(p.cmd(&["rpush", "k", "moved"]), ":1\r\n");
    assert_eq!(p.cmd(&["move", "k", "0"]), ":1\r\n");
    assert_eq!(w.read_reply(), pair("k", "moved"));
    assert_eq!(p.cmd(&["select", "0"]), "+OK\r\n");
    let mut w = blocked(&srv, &["blpop", "k", "0"]);
    assert_eq!(p.cmd(&["rpush", "src", "copied"]), ":1\r\n");
    assert_eq!(p.cmd(&["copy", "src", "k"]), ":1\r\n");
    assert_eq!(w.read_reply(), pair("k", "copied"));
    assert_eq!(p.cmd(&["exists", "k"]), ":0\r\n");
}

#[test]
fn swapdb_serves_waiters_of_both_databases() {
    let srv = Server::start();
    let mut w1 = srv.client();
    assert_eq!(w1.cmd(&["select", "1"]), "+OK\r\n");
    w1.send(&["blpop", "k", "0"]);
    let mut w0 = blocked(&srv, &["blpop", "j", "0"]);
    let mut p = srv.client();
    assert_eq!(p.cmd(&["rpush", "k", "from0"]), ":1\r\n");
    assert_eq!(p.cmd(&["select", "1"]), "+OK\r\n");
    assert_eq!(p.cmd(&["rpush", "j", "from1"]), ":1\r\n");
    assert_eq!(p.cmd(&["swapdb", "0", "1"]), "+OK\r\n");
    assert_eq!(w1.read_reply(), pair("k", "from0"));
    assert_eq!(w0.read_reply(), pair("j", "from1"));
}

#[test]
fn waiters_in_other_databases_are_separate() {
    let srv = Server::start();
    let mut w = srv.client();
    assert_eq!(w.cmd(&["select", "1"]), "+OK\r\n");
    w.send(&["blpop", "k", "0"]);
    srv.wait_blocked(|n| n == 1);
    let mut p = srv.client();
    assert_eq!(p.cmd(&["rpush", "k", "db0"]), ":1\r\n");
    assert_eq!(p.cmd(&["select", "1"]), "+OK\r\n");
    assert_eq!(p.cmd(&["rpush", "k", "db1"]), ":1\r\n");
    assert_eq!(w.read_reply(), pair("k", "db1"));
    assert_eq!(p.cmd(&["select", "0"]), "+OK\r\n");
    assert_eq!(p.cmd(&["llen", "k"]), ":1\r\n");
}

#[test]
fn twenty_producers_twenty_consumers_no_loss_no_duplicate() {
    const PRODUCERS: usize = 20;
    const CONSUMERS: usize = 20;
    const PER_PRODUCER: usize = 5_000;
    const BATCH: usize = 250;
    let srv = Server::start();
    let port = srv.port;
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            thread::spawn(move || {
                let mut c = Client::connect(port);
                let mut got = Vec::new();
                loop {
                    let reply = c.cmd(&["blpop", "q", "0"]);
                    let value = reply.rsplit("\r\n").nth(1).unwrap_or_default().to_string();
                    if value == "end" {
                        return got;
                    }
                    got.push(value);
                }
            })
        })
        .collect();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            thread::spawn(move || {
                let mut c = Client::connect(port);
                let items: Vec<String> = (0..PER_PRODUCER).map(|i| format!("{p}:{i}")).collect();
                for chunk in items.chunks(BATCH) {
                    let mut args = vec!["rpush", "q"];
                    args.extend(chunk.iter().map(String::as_str));
                    assert!(c.cmd(&args).starts_with(':'));
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    let mut c = srv.client();
    let ends = vec!["end"; CONSUMERS];
    let mut args = vec!["rpush", "q"];
    args.extend(ends);
    assert!(c.cmd(&args).starts_with(':'));
    let mut seen = HashSet::new();
    for h in consumers {
        for v in h.join().unwrap() {
            assert!(seen.insert(v.clone()), "{v} delivered twice");
        }
    }
    assert_eq!(seen.len(), PRODUCERS * PER_PRODUCER, "elements lost");
    assert_eq!(c.cmd(&["exists", "q"]), ":0\r\n");
}

#[test]
fn concurrent_blmove_ring_conserves_elements() {
    const ELEMENTS: usize = 3;
    const MOVERS: usize = 8;
    const MOVES: usize = 300;
    let srv = Server::start();
    let port = srv.port;
    let mut c = srv.client();
    let items: Vec<String> = (0..ELEMENTS).map(|i| i.to_string()).collect();
    let mut args = vec!["rpush", "a"];
    args.extend(items.iter().map(String::as_str));
    assert_eq!(c.cmd(&args), format!(":{ELEMENTS}\r\n"));
    let movers: Vec<_> = (0..MOVERS)
        .map(|i| {
            thread::spawn(move || {
                let mut c = Client::connect(port);
                let (src, dst) = if i % 2 == 0 { ("a", "b") } else { ("b", "a") };
                let mut moved = 0;
                for _ in 0..MOVES {
                    let reply = c.cmd(&["blmove", src, dst, "left", "right", "0.05"]);
                    if reply.starts_with('$') {
                        moved += 1;
                    } else {
                        assert_eq!(reply, "*-1\r\n");
                    }
                }
                moved
            })
        })
        .collect();
    let moved: usize = movers.into_iter().map(|h| h.join().unwrap()).sum();
    assert!(moved > 0);
    let mut all: Vec<String> = Vec::new();
    for key in ["a", "b"] {
        let reply = c.cmd(&["lrange", key, "0", "-1"]);
        all.extend(
            reply
                .split("\r\n")
                .skip(1)
                .filter(|l| !l.starts_with('$') && !l.is_empty())
                .map(str::to_string),
        );
    }
    all.sort_by_key(|s| s.parse::<usize>().unwrap_or(usize::MAX));
    assert_eq!(all, items, "elements lost or duplicated");
}

/// The id CLIENT ID reports for `c`.
fn client_id(c: &mut Client) -> String {
    let reply = c.cmd(&["client", "id"]);
    reply.trim_start_matches(':').trim_end().to_string()
}

#[test]
fn client_unblock_over_the_wire() {
    let srv = Server::start();
    let mut admin = srv.client();
    for (mode, want) in [
        (None, "*-1\r\n"),
        (Some("TIMEOUT"), "*-1\r\n"),
        (
            Some("ERROR"),
            "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n",
        ),
    ] {
        let mut c = srv.client();
        let id = client_id(&mut c);
        c.send(&["blpop", "k", "0"]);
        srv.wait_blocked(|n| n == 1);
        let mut args = vec!["client", "unblock", id.as_str()];
        args.extend(mode);
        assert_eq!(admin.cmd(&args), ":1\r\n");
        assert_eq!(c.read_reply(), want);
        assert_eq!(srv.blocked_clients(), 0);
        // Not blocked any more: nothing to unblock.
        assert_eq!(admin.cmd(&args), ":0\r\n");
    }
    assert_eq!(
        admin.cmd(&["client", "unblock", "1", "maybe"]),
        "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n"
    );
    // The element pushed afterwards stays in the list: an unblocked client took nothing.
    assert_eq!(admin.cmd(&["rpush", "k", "v"]), ":1\r\n");
    assert_eq!(admin.cmd(&["llen", "k"]), ":1\r\n");
}

#[test]
fn client_kill_ends_a_blocked_client_at_once() {
    let srv = Server::start();
    let mut admin = srv.client();
    let mut c = srv.client();
    let id = client_id(&mut c);
    c.send(&["blpop", "k", "0"]);
    srv.wait_blocked(|n| n == 1);
    let start = Instant::now();
    assert_eq!(admin.cmd(&["client", "kill", "id", &id]), ":1\r\n");
    assert!(c.is_closed());
    srv.wait_blocked(|n| n == 0);
    assert!(start.elapsed() < Duration::from_millis(500));
    assert_eq!(admin.cmd(&["rpush", "k", "v"]), ":1\r\n");
    assert_eq!(admin.cmd(&["llen", "k"]), ":1\r\n");
}
