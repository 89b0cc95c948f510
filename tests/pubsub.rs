//! Pub/Sub and MONITOR against the real binary: exact frames, fan-out, patterns, ordering, unsubscribe
//! semantics, disconnects and the slow-subscriber cut-off.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{assert_same_as_redis, Client, Server};

/// `*3 $<kind> $<name> :<count>` as Redis writes a RESP2 (un)subscribe confirmation.
fn confirm(kind: &str, name: &str, count: i64) -> String {
    format!(
        "*3\r\n${}\r\n{kind}\r\n${}\r\n{name}\r\n:{count}\r\n",
        kind.len(),
        name.len()
    )
}

fn message(channel: &str, payload: &str) -> String {
    format!(
        "*3\r\n$7\r\nmessage\r\n${}\r\n{channel}\r\n${}\r\n{payload}\r\n",
        channel.len(),
        payload.len()
    )
}

fn pmessage(pattern: &str, channel: &str, payload: &str) -> String {
    format!(
        "*4\r\n$8\r\npmessage\r\n${}\r\n{pattern}\r\n${}\r\n{channel}\r\n${}\r\n{payload}\r\n",
        pattern.len(),
        channel.len(),
        payload.len()
    )
}

/// Sends a command whose replies are several frames and reads `frames` of them.
fn cmd_frames(c: &mut Client, args: &[&str], frames: usize) -> String {
    c.send(args);
    (0..frames).map(|_| c.read_reply()).collect()
}

/// Polls `f` until it returns true or a second has passed.
fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

#[test]
fn context_rules_and_errors_match_redis() {
    assert_same_as_redis(&[
        &["unsubscribe"],
        &["punsubscribe"],
        &["sunsubscribe"],
        &["unsubscribe", "never"],
        &["subscribe"],
        &["publish", "a"],
        &["pubsub"],
        &["pubsub", "foo"],
        &["pubsub", "channels", "a", "b"],
        &["pubsub", "shardchannels", "a", "b"],
        &["pubsub", "numpat", "x"],
        &["pubsub", "help"],
        &["pubsub", "numsub"],
        &["pubsub", "numsub", "a", "b"],
        &["publish", "nobody", "hello"],
        &["spublish", "nobody", "hello"],
        &["subscribe", "a"],
        &["subscribe", "a"],
        &["psubscribe", "p*"],
        &["ssubscribe", "s"],
        &["ping"],
        &["ping", "hi"],
        &["ping", "a", "b"],
        &["get", "k"],
        &["set", "k", "v"],
        &["publish", "x", "y"],
        &["pubsub", "numpat"],
        &["echo", "x"],
        &["unsubscribe", "a"],
        &["unsubscribe", "zz"],
        &["punsubscribe", "p*"],
        // Still in the context: a shard channel is left.
        &["get", "k"],
        &["sunsubscribe", "s"],
        &["get", "k"],
        &["ping"],
    ]);
}

#[test]
fn confirmations_carry_counts_and_repeat_for_duplicates() {
    let server = Server::start();
    let mut c = server.client();
    let want = confirm("subscribe", "a", 1)
        + &confirm("subscribe", "b", 2)
        + &confirm("subscribe", "a", 2);
    assert_eq!(cmd_frames(&mut c, &["subscribe", "a", "b", "a"], 3), want);
    // Patterns and channels share the count; shard channels count apart.
    assert_eq!(
        cmd_frames(&mut c, &["psubscribe", "x*"], 1),
        confirm("psubscribe", "x*", 3)
    );
    assert_eq!(
        cmd_frames(&mut c, &["ssubscribe", "s1", "s2"], 2),
        confirm("ssubscribe", "s1", 1) + &confirm("ssubscribe", "s2", 2)
    );
    assert_eq!(
        cmd_frames(&mut c, &["punsubscribe", "x*", "y*"], 2),
        confirm("punsubscribe", "x*", 2) + &confirm("punsubscribe", "y*", 2)
    );
    assert_eq!(
        cmd_frames(&mut c, &["sunsubscribe"], 2)
            .matches(":")
            .count(),
        2
    );
    assert_eq!(
        cmd_frames(&mut c, &["sunsubscribe"], 1),
        "*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n"
    );
    assert_eq!(c.cmd(&["ping"]), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
}

#[test]
fn unsubscribe_without_arguments_leaves_everything_and_returns_to_normal_mode() {
    let server = Server::start();
    let mut c = server.client();
    let mut p = server.client();
    cmd_frames(&mut c, &["subscribe", "a", "b", "c"], 3);
    cmd_frames(&mut c, &["psubscribe", "p1", "p2"], 2);
    // Channels leave in any order; the counts go down one by one (patterns still counted).
    let frames = cmd_frames(&mut c, &["unsubscribe"], 3);
    for (i, count) in [4, 3, 2].iter().enumerate() {
        assert!(
            frames.contains(&format!(":{count}\r\n")),
            "frame {i}: {frames}"
        );
    }
    for ch in ["a", "b", "c"] {
        assert!(frames.contains(&format!("${}\r\n{ch}\r\n", ch.len())));
    }
    assert_eq!(p.cmd(&["publish", "a", "x"]), ":0\r\n");
    assert!(c.cmd(&["get", "k"]).starts_with("-ERR Can't execute 'get'"));
    // Patterns leave in subscription order.
    assert_eq!(
        cmd_frames(&mut c, &["punsubscribe"], 2),
        confirm("punsubscribe", "p1", 1) + &confirm("punsubscribe", "p2", 0)
    );
    assert_eq!(
        c.cmd(&["unsubscribe"]),
        "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"
    );
    // Normal mode again: commands run, replies come straight from the connection.
    assert_eq!(c.cmd(&["set", "k", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["get", "k"]), "$1\r\nv\r\n");
    assert_eq!(c.cmd(&["ping"]), "+PONG\r\n");
    assert_eq!(p.cmd(&["pubsub", "numpat"]), ":0\r\n");
    assert_eq!(p.cmd(&["pubsub", "channels"]), "*0\r\n");
    // And it can subscribe again.
    assert_eq!(
        cmd_frames(&mut c, &["subscribe", "a"], 1),
        confirm("subscribe", "a", 1)
    );
    assert_eq!(p.cmd(&["publish", "a", "again"]), ":1\r\n");
    assert_eq!(c.read_reply(), message("a", "again"));
}

#[test]
fn pipelined_replies_keep_their_order_around_the_subscription() {
    let server = Server::start();
    let mut c = server.client();
    let mut batch = Client::encode(&[b"set", b"k", b"v"]);
    batch.extend(Client::encode(&[b"subscribe", b"a"]));
    batch.extend(Client::encode(&[b"ping"]));
    batch.extend(Client::encode(&[b"subscribe", b"b"]));
    batch.extend(Client::encode(&[b"unsubscribe"]));
    batch.extend(Client::encode(&[b"get", b"k"]));
    c.send_raw(&batch);
    assert_eq!(c.read_reply(), "+OK\r\n");
    assert_eq!(c.read_reply(), confirm("subscribe", "a", 1));
    assert_eq!(c.read_reply(), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    assert_eq!(c.read_reply(), confirm("subscribe", "b", 2));
    let two = c.read_reply() + &c.read_reply();
    assert!(two.contains(":1\r\n") && two.contains(":0\r\n"), "{two}");
    assert_eq!(c.read_reply(), "$1\r\nv\r\n");
}

#[test]
fn publish_fans_out_to_100_subscribers() {
    let server = Server::start();
    let mut subs: Vec<Client> = (0..100).map(|_| server.client()).collect();
    for s in &mut subs {
        assert_eq!(
            cmd_frames(s, &["subscribe", "news"], 1),
            confirm("subscribe", "news", 1)
        );
    }
    let mut p = server.client();
    assert_eq!(
        p.cmd(&["pubsub", "numsub", "news"]),
        "*2\r\n$4\r\nnews\r\n:100\r\n"
    );
    assert_eq!(p.cmd(&["publish", "news", "hello"]), ":100\r\n");
    assert_eq!(p.cmd(&["publish", "news", "world"]), ":100\r\n");
    for s in &mut subs {
        assert_eq!(s.read_reply(), message("news", "hello"));
        assert_eq!(s.read_reply(), message("news", "world"));
    }
}

#[test]
fn patterns_use_redis_glob_and_count_each_subscription() {
    let server = Server::start();
    let mut s = server.client();
    cmd_frames(&mut s, &["psubscribe", "news.[ab]*", "n?ws.*", "lit\\*"], 3);
    cmd_frames(&mut s, &["subscribe", "news.alpha"], 1);
    let mut p = server.client();
    assert_eq!(p.cmd(&["pubsub", "numpat"]), ":3\r\n");
    // One channel subscription and two patterns: three receptions for one client.
    assert_eq!(p.cmd(&["publish", "news.alpha", "1"]), ":3\r\n");
    let mut got = vec![s.read_reply()];
    got.push(s.read_reply());
    got.push(s.read_reply());
    assert_eq!(
        got[0],
        message("news.alpha", "1"),
        "channel subscribers come first"
    );
    got[1..].sort();
    let mut want = [
        pmessage("news.[ab]*", "news.alpha", "1"),
        pmessage("n?ws.*", "news.alpha", "1"),
    ];
    want.sort();
    assert_eq!(got[1..], want[..]);
    assert_eq!(p.cmd(&["publish", "news.c", "2"]), ":1\r\n");
    assert_eq!(s.read_reply(), pmessage("n?ws.*", "news.c", "2"));
    assert_eq!(p.cmd(&["publish", "lit*", "3"]), ":1\r\n");
    assert_eq!(s.read_reply(), pmessage("lit\\*", "lit*", "3"));
    assert_eq!(p.cmd(&["publish", "litX", "4"]), ":0\r\n");
    assert_eq!(
        p.cmd(&["publish", "NEWS.a", "5"]),
        ":0\r\n",
        "patterns are case-sensitive"
    );
    // Patterns never match shard channels.
    assert_eq!(p.cmd(&["spublish", "news.alpha", "6"]), ":0\r\n");
    assert_eq!(
        p.cmd(&["pubsub", "channels"]),
        "*1\r\n$10\r\nnews.alpha\r\n"
    );
    assert_eq!(p.cmd(&["pubsub", "channels", "x*"]), "*0\r\n");
}

#[test]
fn shard_channels_are_their_own_namespace() {
    let server = Server::start();
    let mut s = server.client();
    cmd_frames(&mut s, &["ssubscribe", "orders"], 1);
    let mut p = server.client();
    assert_eq!(p.cmd(&["publish", "orders", "plain"]), ":0\r\n");
    assert_eq!(p.cmd(&["spublish", "orders", "x"]), ":1\r\n");
    assert_eq!(
        s.read_reply(),
        "*3\r\n$8\r\nsmessage\r\n$6\r\norders\r\n$1\r\nx\r\n"
    );
    assert_eq!(
        p.cmd(&["pubsub", "shardchannels"]),
        "*1\r\n$6\r\norders\r\n"
    );
    assert_eq!(
        p.cmd(&["pubsub", "shardchannels", "o*"]),
        "*1\r\n$6\r\norders\r\n"
    );
    assert_eq!(p.cmd(&["pubsub", "channels"]), "*0\r\n");
    assert_eq!(
        p.cmd(&["pubsub", "shardnumsub", "orders", "x"]),
        "*4\r\n$6\r\norders\r\n:1\r\n$1\r\nx\r\n:0\r\n"
    );
}

#[test]
fn one_publisher_to_one_subscriber_keeps_order() {
    let server = Server::start();
    let mut s = server.client();
    cmd_frames(&mut s, &["subscribe", "seq"], 1);
    let mut p = server.client();
    const N: usize = 5000;
    let mut batch = Vec::new();
    for i in 0..N {
        batch.extend(Client::encode(&[
            b"publish",
            b"seq",
            i.to_string().as_bytes(),
        ]));
    }
    p.send_raw(&batch);
    for i in 0..N {
        assert_eq!(s.read_reply(), message("seq", &i.to_string()));
    }
    for _ in 0..N {
        assert_eq!(p.read_reply(), ":1\r\n");
    }
}

#[test]
fn concurrent_publishers_each_keep_their_order() {
    let server = Server::start();
    let mut s = server.client();
    cmd_frames(&mut s, &["subscribe", "mix"], 1);
    cmd_frames(&mut s, &["psubscribe", "m*"], 1);
    const PUBLISHERS: usize = 4;
    const N: usize = 1000;
    let port = server.port;
    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|p| {
            std::thread::spawn(move || {
                let mut c = Client::connect(port);
                // Another client churns its subscriptions meanwhile: no effect on the stable subscriber.
                let mut churn = Client::connect(port);
                for i in 0..N {
                    let msg = format!("{p}:{i}");
                    assert_eq!(c.cmd(&["publish", "mix", &msg]), ":2\r\n");
                    if i % 100 == 0 {
                        cmd_frames(&mut churn, &["subscribe", "other"], 1);
                        cmd_frames(&mut churn, &["unsubscribe", "other"], 1);
                    }
                }
            })
        })
        .collect();
    let mut next = [[0usize; PUBLISHERS]; 2];
    for _ in 0..2 * PUBLISHERS * N {
        let frame = s.read_reply();
        let via_pattern = frame.starts_with("*4\r\n");
        let payload = frame.trim_end().rsplit("\r\n").next().unwrap().to_string();
        let (p, i) = payload.split_once(':').unwrap();
        let (p, i): (usize, usize) = (p.parse().unwrap(), i.parse().unwrap());
        let slot = &mut next[via_pattern as usize][p];
        assert_eq!(i, *slot, "publisher {p} out of order ({frame:?})");
        *slot += 1;
    }
    for t in publishers {
        t.join().unwrap();
    }
    assert_eq!(next, [[N; PUBLISHERS]; 2]);
}

#[test]
fn a_disconnected_subscriber_is_no_longer_counted() {
    let server = Server::start();
    let mut stay = server.client();
    cmd_frames(&mut stay, &["subscribe", "c"], 1);
    let mut p = server.client();
    {
        let mut gone = server.client();
        cmd_frames(&mut gone, &["subscribe", "c"], 1);
        cmd_frames(&mut gone, &["psubscribe", "*"], 1);
        assert_eq!(p.cmd(&["publish", "c", "x"]), ":3\r\n");
    }
    assert!(eventually(|| p.cmd(&["publish", "c", "y"]) == ":1\r\n"));
    assert_eq!(p.cmd(&["pubsub", "numsub", "c"]), "*2\r\n$1\r\nc\r\n:1\r\n");
    assert_eq!(p.cmd(&["pubsub", "numpat"]), ":0\r\n");
    assert_eq!(stay.read_reply(), message("c", "x"));
    // A subscriber that QUITs gets its +OK and is gone too.
    let mut q = server.client();
    cmd_frames(&mut q, &["subscribe", "c"], 1);
    assert_eq!(q.cmd(&["quit"]), "+OK\r\n");
    assert!(eventually(
        || p.cmd(&["pubsub", "numsub", "c"]) == "*2\r\n$1\r\nc\r\n:1\r\n"
    ));
}

#[test]
fn a_subscriber_that_never_reads_is_cut_off_alone() {
    let server = Server::start();
    let mut p = server.client();
    // Small limits if CONFIG SET knows the parameter; Redis's defaults (32mb hard) otherwise.
    let small = p.cmd(&[
        "config",
        "set",
        "client-output-buffer-limit",
        "pubsub 4mb 2mb 60",
    ]) == "+OK\r\n";
    // The healthy subscriber must never fall 4 MB behind, even on a loaded machine.
    let (size, max_rounds) = if small {
        (64 << 10, 400)
    } else {
        (1 << 20, 200)
    };
    // The stuck subscriber: subscribes and never reads again.
    let mut stuck = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stuck
        .write_all(&Client::encode(&[b"subscribe", b"big"]))
        .unwrap();
    // A healthy subscriber reads everything on its own thread, up to the final "end".
    let mut healthy = server.client();
    cmd_frames(&mut healthy, &["subscribe", "big"], 1);
    let reader = std::thread::spawn(move || {
        let mut frames = 0;
        loop {
            let r = healthy.read_reply_bytes();
            assert!(r.starts_with(b"*3\r\n$7\r\nmessage\r\n$3\r\nbig\r\n"));
            if r.ends_with(b"$3\r\nend\r\n") {
                return (frames, healthy);
            }
            frames += 1;
        }
    });
    let both = "*2\r\n$3\r\nbig\r\n:2\r\n";
    assert!(eventually(|| p.cmd(&["pubsub", "numsub", "big"]) == both));
    let payload = "x".repeat(size);
    let mut published = 0;
    let mut last = String::new();
    while published < max_rounds && last != ":1\r\n" {
        last = p.cmd(&["publish", "big", &payload]);
        assert!(last == ":2\r\n" || last == ":1\r\n", "{last}");
        published += 1;
    }
    assert_eq!(last, ":1\r\n", "the stuck subscriber was dropped");
    assert_eq!(p.cmd(&["publish", "big", "end"]), ":1\r\n");
    let (frames, _healthy) = reader.join().unwrap();
    assert_eq!(
        frames, published,
        "the healthy subscriber got every message"
    );
    // PUBLISH stops counting a cut-off subscriber at once; its connection thread then leaves the channel.
    let one = "*2\r\n$3\r\nbig\r\n:1\r\n";
    assert!(eventually(|| p.cmd(&["pubsub", "numsub", "big"]) == one));
    // Its connection was closed: after what the kernel buffered, EOF.
    stuck
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut sink = Vec::new();
    let r = stuck.read_to_end(&mut sink);
    let timed_out = r.as_ref().is_err_and(|e| {
        matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        )
    });
    assert!(
        !timed_out,
        "the stuck subscriber's connection is still open"
    );
    assert_eq!(p.cmd(&["ping"]), "+PONG\r\n");
}

#[test]
fn monitor_streams_commands_in_redis_format() {
    let server = Server::start();
    let mut m = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    m.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    m.write_all(&Client::encode(&[b"monitor"])).unwrap();
    let mut lines = BufReader::new(m.try_clone().unwrap());
    let mut line = String::new();
    lines.read_line(&mut line).unwrap();
    assert_eq!(line, "+OK\r\n");
    let mut c = server.client();
    c.cmd_bytes(&[b"set", b"k", b"a\x01\"b\\\n"]);
    c.cmd(&["select", "2"]);
    c.cmd(&["get", "nokey"]); // a monitor client cannot read keys, but the other one can
    assert_eq!(c.cmd(&["ping"]), "+PONG\r\n");
    let mut read = || {
        let mut l = String::new();
        lines.read_line(&mut l).unwrap();
        l
    };
    let expect = [
        (0, r#""set" "k" "a\x01\"b\\\n""#),
        (2, r#""select" "2""#),
        (2, r#""get" "nokey""#),
        (2, r#""ping""#),
    ];
    for (db, args) in expect {
        let l = read();
        // +1700000000.123456 [0 127.0.0.1:50000] "set" ...
        assert!(l.starts_with('+') && l.ends_with("\r\n"), "{l:?}");
        let (stamp, rest) = l[1..].split_once(' ').unwrap();
        let (secs, micros) = stamp.split_once('.').unwrap();
        assert!(secs.parse::<u64>().unwrap() > 1_600_000_000);
        assert_eq!(micros.len(), 6);
        assert!(micros.bytes().all(|b| b.is_ascii_digit()));
        let prefix = format!("[{db} 127.0.0.1:");
        assert!(rest.starts_with(&prefix), "{l:?}");
        let (_, shown) = rest.split_once("] ").unwrap();
        assert_eq!(shown, format!("{args}\r\n"));
    }
    // MONITOR is not shown (admin); a monitor sees its own commands after their replies.
    let mut m2 = server.client();
    assert_eq!(m2.cmd(&["monitor"]), "+OK\r\n");
    assert_eq!(m2.cmd(&["echo", "me"]), "$2\r\nme\r\n");
    let own = m2.read_reply();
    assert!(own.ends_with(" \"echo\" \"me\"\r\n"), "{own:?}");
    assert!(read().ends_with(" \"echo\" \"me\"\r\n"));
    // The monitor itself is a replica to Redis: it may not touch keys.
    m.write_all(&Client::encode(&[b"get", b"k"])).unwrap();
    let l = read();
    assert_eq!(l, "-ERR Replica can't interact with the keyspace\r\n");
}

/// RESP3 clients get push frames and may run any command while subscribed (needs HELLO).
#[test]
fn resp3_subscribers_get_push_frames() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    for server in [&ours, &redis] {
        let mut s = server.client();
        s.cmd(&["hello", "3"]);
        assert_eq!(
            cmd_frames(&mut s, &["subscribe", "a"], 1),
            ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
        );
        assert_eq!(s.cmd(&["get", "x"]), "_\r\n");
        assert_eq!(s.cmd(&["ping"]), "+PONG\r\n");
        let mut p = server.client();
        assert_eq!(p.cmd(&["publish", "a", "m"]), ":1\r\n");
        assert_eq!(
            s.read_reply(),
            ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n"
        );
        assert_eq!(
            cmd_frames(&mut s, &["unsubscribe"], 1),
            ">3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n"
        );
        assert_eq!(
            cmd_frames(&mut s, &["unsubscribe"], 1),
            ">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n"
        );
    }
}

/// CLIENT LIST `omem=`: what a subscriber's writer still has to write, back to 0 once it has read everything.
#[test]
fn client_list_shows_what_a_slow_subscriber_has_not_read() {
    let server = Server::start();
    let mut p = server.client();
    let unlimited = [
        "config",
        "set",
        "client-output-buffer-limit",
        "pubsub 0 0 0",
    ];
    assert_eq!(p.cmd(&unlimited), "+OK\r\n");
    let mut slow = server.client();
    cmd_frames(&mut slow, &["subscribe", "big"], 1);
    let omem = |p: &mut Client| -> u64 {
        let list = p.cmd(&["client", "list"]);
        let line = list
            .lines()
            .find(|l| l.contains(" sub=1 "))
            .expect("the subscriber");
        let field = line.split(' ').find_map(|f| f.strip_prefix("omem="));
        field.and_then(|v| v.parse().ok()).expect("omem=")
    };
    // The confirmation just read leaves the count once its write returns.
    assert!(eventually(|| omem(&mut p) == 0));
    // Megabytes until more is queued than the socket buffers (up to tcp_rmem's maximum) take in.
    let payload = "x".repeat(1 << 20);
    let mut published = 0;
    while omem(&mut p) <= 1 << 20 {
        assert!(
            published < 256,
            "omem stayed under 1 MB after {published} MB"
        );
        assert_eq!(p.cmd(&["publish", "big", &payload]), ":1\r\n");
        published += 1;
    }
    for _ in 0..published {
        assert!(slow.read_reply_bytes().len() > 1 << 20);
    }
    assert!(eventually(|| omem(&mut p) == 0));
}
