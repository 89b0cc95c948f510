//! Commands sent on different connections run in the order they arrived, where another client can tell: blocked
//! clients queue in the order they asked, a write finds blocked the clients that asked before it, and a PUBLISH
//! counts the (un)subscriptions that arrived before it.
//! Redis's own suite relies on both ("BRPOPLPUSH with multiple blocked clients", "PUBLISH/SUBSCRIBE after
//! UNSUBSCRIBE without arguments"). Each scenario is sent without waiting in between, as those tests do, and
//! repeated: on a loaded machine a thread woken second often ran first.
mod common;

use common::{Client, Server};

const ROUNDS: usize = 30;

fn bulk(s: &str) -> String {
    format!("${}\r\n{s}\r\n", s.len())
}

/// The servers to run a scenario on: ferredis, and redis-server to show it is Redis's behaviour. Each is
/// announced on stderr, which a failing test shows.
fn servers() -> Vec<Server> {
    let mut all = vec![Server::start()];
    all.extend(Server::start_redis());
    all
}

fn announce(i: usize) {
    eprintln!("on {}", ["ferredis", "redis-server"][i.min(1)]);
}

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

/// Two clients block on the same source, the first into a destination of another type: on the push the first
/// is answered WRONGTYPE and the second gets the element.
fn move_into_wrong_type_then_served(first: &[&str], second: &[&str]) {
    for (i, srv) in servers().iter().enumerate() {
        announce(i);
        let mut r = srv.client();
        for _ in 0..ROUNDS {
            assert_eq!(r.cmd(&["del", "blist", "target1", "target2"]).len(), 4);
            assert_eq!(r.cmd(&["set", "target1", "nolist"]), "+OK\r\n");
            let (mut rd1, mut rd2) = (srv.client(), srv.client());
            rd1.send(first);
            rd2.send(second);
            assert_eq!(r.cmd(&["lpush", "blist", "foo"]), ":1\r\n");
            assert_eq!(rd1.read_reply(), WRONGTYPE);
            assert_eq!(rd2.read_reply(), bulk("foo"));
            assert_eq!(
                r.cmd(&["lrange", "target2", "0", "-1"]),
                "*1\r\n$3\r\nfoo\r\n"
            );
        }
    }
}

#[test]
fn brpoplpush_with_multiple_blocked_clients() {
    move_into_wrong_type_then_served(
        &["brpoplpush", "blist", "target1", "0"],
        &["brpoplpush", "blist", "target2", "0"],
    );
}

#[test]
fn blmove_with_multiple_blocked_clients() {
    move_into_wrong_type_then_served(
        &["blmove", "blist", "target1", "right", "left", "0"],
        &["blmove", "blist", "target2", "left", "right", "0"],
    );
}

/// Two clients send the same blocking pop back to back; one element at a time goes to the first, then the second.
fn pops_in_arrival_order(pop: &[&str], push: &[&str], first: &str, second: &str) {
    for (i, srv) in servers().iter().enumerate() {
        announce(i);
        let mut r = srv.client();
        for _ in 0..ROUNDS {
            r.cmd(&["del", "k"]);
            let (mut rd1, mut rd2) = (srv.client(), srv.client());
            rd1.send(pop);
            rd2.send(pop);
            let mut push_a: Vec<&str> = push.to_vec();
            push_a.push("a");
            r.cmd(&push_a);
            assert_eq!(rd1.read_reply(), first);
            srv.wait_blocked(|n| n == 1);
            let mut push_b: Vec<&str> = push.to_vec();
            push_b.push("b");
            r.cmd(&push_b);
            assert_eq!(rd2.read_reply(), second);
        }
    }
}

#[test]
fn blpop_and_blmpop_serve_in_arrival_order() {
    let pair = |v: &str| format!("*2\r\n{}{}", bulk("k"), bulk(v));
    pops_in_arrival_order(
        &["blpop", "k", "0"],
        &["rpush", "k"],
        &pair("a"),
        &pair("b"),
    );
    let multi = |v: &str| format!("*2\r\n{}*1\r\n{}", bulk("k"), bulk(v));
    pops_in_arrival_order(
        &["blmpop", "0", "1", "k", "left", "count", "5"],
        &["rpush", "k"],
        &multi("a"),
        &multi("b"),
    );
}

#[test]
fn bzpopmin_and_bzmpop_serve_in_arrival_order() {
    let triple = |m: &str| format!("*3\r\n{}{}{}", bulk("k"), bulk(m), bulk("1"));
    pops_in_arrival_order(
        &["bzpopmin", "k", "0"],
        &["zadd", "k", "1"],
        &triple("a"),
        &triple("b"),
    );
    let multi = |m: &str| format!("*2\r\n{}*1\r\n*2\r\n{}{}", bulk("k"), bulk(m), bulk("1"));
    pops_in_arrival_order(
        &["bzmpop", "0", "1", "k", "min"],
        &["zadd", "k", "1"],
        &multi("a"),
        &multi("b"),
    );
}

/// A blocking XREADGROUP, then (on another connection, without waiting) a write that removes its stream: SET over
/// it or DEL. The write finds the reader blocked and answers it that the key is gone, as Redis does ("Blocking
/// XREADGROUP: key deleted" and "key type changed with SET" in its suite). On ferredis, every other round the
/// reader sends its command as soon as it connects, before it is even accepted (the suite's deferring clients
/// do so with `--singledb`). Only ferredis is held to this: redis-server runs the write first now and then (one
/// wake-up of its event loop can find both sockets readable and serve them in either order).
#[test]
fn write_after_blocking_xreadgroup_finds_it_blocked() {
    let srv = Server::start();
    xreadgroup_then_write(&srv, || srv.client());
}

/// The same with the reader a new client of the unix socket each time: a fence also waits for connections in
/// that socket's listen queue.
#[test]
fn write_after_blocking_xreadgroup_of_a_unix_client_finds_it_blocked() {
    let dir = std::env::temp_dir().join(format!("ferredis-arrival-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("server.sock").display().to_string();
    let srv = Server::start_with(&["--unixsocket", &path]);
    xreadgroup_then_write(&srv, || Client::connect_unix(&path));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A reader from `connect` sends a blocking XREADGROUP, then another client (without waiting) SETs or DELs the
/// stream: the reader was blocked first, so it is answered UNBLOCKED, never WRONGTYPE or served late.
fn xreadgroup_then_write(srv: &Server, connect: impl Fn() -> Client) {
    let mut r = srv.client();
    let read = [
        "xreadgroup",
        "group",
        "g",
        "alice",
        "block",
        "0",
        "streams",
        "s",
        ">",
    ];
    for round in 0..ROUNDS {
        r.cmd(&["del", "s"]);
        let created = r.cmd(&["xgroup", "create", "s", "g", "$", "mkstream"]);
        assert_eq!(created, "+OK\r\n");
        let mut rd = connect();
        if round % 4 < 2 {
            assert_eq!(rd.cmd(&["ping"]), "+PONG\r\n");
        }
        rd.send(&read);
        if round % 2 == 0 {
            assert_eq!(r.cmd(&["set", "s", "v"]), "+OK\r\n");
        } else {
            assert_eq!(r.cmd(&["del", "s"]), ":1\r\n");
        }
        assert_eq!(
            rd.read_reply(),
            "-UNBLOCKED the stream key no longer exists\r\n"
        );
    }
}

/// A blocking XREAD, then SET over its stream, DEL and a new XADD: the reader, still blocked through the type
/// change, gets the new entry ("Blocking XREAD: key type changed with SET"). Ferredis only, as above.
#[test]
fn blocking_xread_survives_a_type_change_sent_after_it() {
    let entry = format!(
        "*1\r\n*2\r\n{}*1\r\n*2\r\n{}*2\r\n{}{}",
        bulk("s"),
        bulk("667-0"),
        bulk("f"),
        bulk("v")
    );
    let srv = Server::start();
    let mut r = srv.client();
    for _ in 0..ROUNDS {
        r.cmd(&["del", "s"]);
        assert_eq!(r.cmd(&["xadd", "s", "666", "f", "v"]), bulk("666-0"));
        let mut rd = srv.client();
        rd.send(&["xread", "block", "0", "streams", "s", "$"]);
        assert_eq!(r.cmd(&["set", "s", "v"]), "+OK\r\n");
        assert_eq!(r.cmd(&["del", "s"]), ":1\r\n");
        assert_eq!(r.cmd(&["xadd", "s", "667", "f", "v"]), bulk("667-0"));
        assert_eq!(rd.read_reply(), entry);
    }
}

/// CLIENT UNBLOCK sent right after the blocking command it releases, on another connection.
#[test]
fn client_unblock_after_blocking_pop_finds_it_blocked() {
    for (i, srv) in servers().iter().enumerate() {
        announce(i);
        let mut r = srv.client();
        for _ in 0..ROUNDS {
            let mut rd = srv.client();
            let id = rd.cmd(&["client", "id"]);
            let id = id.trim_start_matches(':').trim_end();
            rd.send(&["blpop", "nolist", "0"]);
            assert_eq!(r.cmd(&["client", "unblock", id]), ":1\r\n");
            assert_eq!(rd.read_reply(), "*-1\r\n");
        }
    }
}

/// A blocked client that closes its connection leaves INFO's blocked_clients as soon as the server has the
/// close (the suite's "Regression for bug 593" leaves such a client behind, and the next test's
/// `wait_for_blocked_client` must not count it). The close travels the loopback apart from INFO's request, so it
/// gets a few milliseconds; a blocked thread looks at its socket only every 100 ms.
#[test]
fn closed_blocked_client_leaves_blocked_clients() {
    for (i, srv) in servers().iter().enumerate() {
        announce(i);
        let mut r = srv.client();
        for _ in 0..ROUNDS {
            let mut rd = srv.client();
            rd.send(&["blpop", "nolist", "0"]);
            srv.wait_blocked(|n| n == 1);
            drop(rd);
            let closed = std::time::Instant::now();
            assert_eq!(r.cmd(&["ping"]), "+PONG\r\n");
            while srv.blocked_clients() != 0 {
                assert!(closed.elapsed() < std::time::Duration::from_millis(40));
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
    }
}

fn confirm(verb: &str, name: &str, count: i64) -> String {
    format!("*3\r\n{}{}:{count}\r\n", bulk(verb), bulk(name))
}

/// (P|S)UNSUBSCRIBE without arguments, not waiting for its confirmations: a PUBLISH sent after it counts no one.
fn unsubscribe_then_publish(sub: &str, unsub: &str, publish: &str, names: &[&str]) {
    for (i, srv) in servers().iter().enumerate() {
        announce(i);
        let mut r = srv.client();
        for _ in 0..ROUNDS {
            let mut rd1 = srv.client();
            let mut args = vec![sub];
            args.extend_from_slice(names);
            rd1.send(&args);
            for (i, name) in names.iter().enumerate() {
                assert_eq!(rd1.read_reply(), confirm(sub, name, i as i64 + 1));
            }
            rd1.send(&[unsub]);
            for name in names {
                let channel = name.trim_end_matches('*');
                assert_eq!(r.cmd(&[publish, channel, "hello"]), ":0\r\n");
            }
        }
    }
}

#[test]
fn publish_after_unsubscribe_without_arguments_counts_no_one() {
    unsubscribe_then_publish(
        "subscribe",
        "unsubscribe",
        "publish",
        &["chan1", "chan2", "chan3"],
    );
    unsubscribe_then_publish(
        "psubscribe",
        "punsubscribe",
        "publish",
        &["chan1*", "chan2*"],
    );
    unsubscribe_then_publish(
        "ssubscribe",
        "sunsubscribe",
        "spublish",
        &["chan1", "chan2"],
    );
}

/// RESET leaves every channel before its reply goes out; so does QUIT in ferredis (Redis unsubscribes a QUIT
/// client only when it frees it, after the reply: a PUBLISH in between may still count it there, so QUIT is
/// checked on ferredis alone).
#[test]
fn publish_after_reset_or_quit_counts_no_one() {
    let ferredis = Server::start();
    let redis = Server::start_redis();
    let cases = [(&ferredis, "reset"), (&ferredis, "quit")]
        .into_iter()
        .chain(redis.iter().map(|r| (r, "reset")));
    for (srv, leave) in cases {
        let mut r = srv.client();
        for _ in 0..ROUNDS {
            let mut rd1: Client = srv.client();
            assert_eq!(
                rd1.cmd(&["subscribe", "chan1"]),
                confirm("subscribe", "chan1", 1)
            );
            rd1.send(&[leave]);
            let on = if std::ptr::eq(srv, &ferredis) {
                "ferredis"
            } else {
                "redis-server"
            };
            assert_eq!(
                r.cmd(&["publish", "chan1", "hello"]),
                ":0\r\n",
                "{leave} on {on}"
            );
            let expected = if leave == "reset" {
                "+RESET\r\n"
            } else {
                "+OK\r\n"
            };
            assert_eq!(rd1.read_reply(), expected);
        }
    }
}

/// A new client subscribed to the pattern `chan*`.
fn subscribed_to_chan_star(srv: &Server) -> Client {
    let mut rd1 = srv.client();
    assert_eq!(
        rd1.cmd(&["psubscribe", "chan*"]),
        confirm("psubscribe", "chan*", 1)
    );
    rd1
}

/// A QUIT's `+OK` is read before the PUBLISH is sent: the client is gone from every channel by then.
#[test]
fn publish_after_quit_was_answered_counts_no_one() {
    let srv = Server::start();
    let mut r = srv.client();
    for _ in 0..ROUNDS {
        let mut rd1 = subscribed_to_chan_star(&srv);
        assert_eq!(rd1.cmd(&["quit"]), "+OK\r\n");
        assert_eq!(r.cmd(&["publish", "chan1", "hello"]), ":0\r\n");
    }
}

/// A subscriber whose close reached the server before the PUBLISH was sent is not counted: the publisher waits
/// for the subscriber's thread to leave every channel, not just to notice the close.
#[test]
fn publish_after_subscriber_closed_counts_no_one() {
    let srv = Server::start();
    let mut r = srv.client();
    for _ in 0..ROUNDS {
        subscribed_to_chan_star(&srv).close_acknowledged();
        assert_eq!(r.cmd(&["publish", "chan1", "hello"]), ":0\r\n");
    }
}

/// Several of "PUBLISH/PSUBSCRIBE after PUNSUBSCRIBE without arguments" at once, each on its own patterns. With
/// many threads on few cores, the PUNSUBSCRIBE often reaches a socket another thread holds (the subscriber's
/// writer still in the `send` of the confirmations), where it waits in a backlog `poll` does not see.
#[test]
fn concurrent_unsubscribes_are_counted_by_their_publishes() {
    let srv = Server::start();
    std::thread::scope(|scope| {
        for t in 0..4 {
            let srv = &srv;
            scope.spawn(move || {
                let mut r = srv.client();
                let patterns: Vec<String> = (1..=3).map(|i| format!("t{t}c{i}.*")).collect();
                for _ in 0..ROUNDS * 10 {
                    let mut rd1 = srv.client();
                    let mut args = vec!["psubscribe"];
                    args.extend(patterns.iter().map(String::as_str));
                    rd1.send(&args);
                    for (i, p) in patterns.iter().enumerate() {
                        assert_eq!(rd1.read_reply(), confirm("psubscribe", p, i as i64 + 1));
                    }
                    rd1.send(&["punsubscribe"]);
                    let channel = format!("t{t}c1.hi");
                    assert_eq!(r.cmd(&["publish", &channel, "hello"]), ":0\r\n");
                }
            });
        }
    });
}
