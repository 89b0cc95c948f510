//! CLIENT TRACKING (client-side caching) against redis-server, byte for byte: RESP3 pushes, RESP2 redirection
//! through `__redis__:invalidate`, BCAST prefixes, NOLOOP, OPTIN/OPTOUT, FLUSHALL, a broken redirection, the
//! order of a client's own invalidations after its reply, and every error text.

mod common;

use std::time::Duration;

use common::{resp3_client as resp3, scenario_same_as_redis as same_as_redis, Server};

fn self_invalidation_follows_replies(s: &Server) -> Vec<String> {
    let mut c = resp3(s);
    let mut other = s.client();
    let mut out = vec![c.cmd(&["CLIENT", "TRACKING", "on"])];
    other.cmd(&["SET", "k", "1"]);
    out.push(c.cmd(&["GET", "k"]));
    out.push(other.cmd(&["SET", "k", "2"]));
    out.push(c.read_reply());
    // The client's own write: the reply first, then the push.
    c.cmd(&["HSET", "h", "f", "1"]);
    c.cmd(&["HGET", "h", "f"]);
    out.push(c.cmd(&["HDEL", "h", "f"]));
    out.push(c.read_reply());
    // In a transaction: EXEC's reply, then the push.
    c.cmd(&["MSET", "a", "1", "b", "2"]);
    c.cmd(&["GET", "a"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["INCR", "a"]);
    c.cmd(&["GET", "b"]);
    out.push(c.cmd(&["EXEC"]));
    out.push(c.read_reply());
    // FLUSHALL: a null for everything.
    c.cmd(&["GET", "a"]);
    out.push(other.cmd(&["FLUSHALL"]));
    out.push(c.read_reply());
    out.push(c.cmd(&["PING"]));
    out
}

#[test]
fn resp3_pushes_for_own_and_others_writes() {
    same_as_redis(self_invalidation_follows_replies);
}

fn redirect_to_resp2_subscriber(s: &Server) -> Vec<String> {
    let mut sub = s.client();
    let id = sub.cmd(&["CLIENT", "ID"]);
    let id = id.trim_start_matches(':').trim_end();
    let mut out = vec![sub.cmd(&["SUBSCRIBE", "__redis__:invalidate"])];
    let mut c = s.client();
    let mut other = s.client();
    out.push(c.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", id]));
    other.cmd(&["MSET", "a", "1", "b", "2"]);
    out.push(c.cmd(&["MGET", "a", "b", "c"]));
    out.push(other.cmd(&["INCR", "b"]));
    out.push(sub.read_reply());
    out.push(c.cmd(&["CLIENT", "GETREDIR"]).replace(id, "<id>"));
    out.push(c.cmd(&["CLIENT", "TRACKINGINFO"]).replace(id, "<id>"));
    c.cmd(&["GET", "a"]);
    other.cmd(&["FLUSHDB"]);
    out.push(sub.read_reply());
    // The redirect client goes: a RESP3 tracker is told, and TRACKINGINFO says so.
    let mut t3 = resp3(s);
    t3.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", id]);
    t3.cmd(&["GET", "x"]);
    out.push(sub.cmd(&["QUIT"]));
    out.push(other.cmd(&["SET", "x", "1"]));
    out.push(t3.read_reply().replace(id, "<id>"));
    out.push(t3.cmd(&["CLIENT", "TRACKINGINFO"]).replace(id, "<id>"));
    out
}

#[test]
fn redirection_to_a_resp2_subscriber_and_when_it_breaks() {
    same_as_redis(redirect_to_resp2_subscriber);
}

fn bcast_prefixes_and_noloop(s: &Server) -> Vec<String> {
    let mut c = resp3(s);
    let mut other = s.client();
    let mut out = vec![c.cmd(&[
        "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b:", "PREFIX", "a:", "NOLOOP",
    ])];
    out.push(other.cmd(&["MSET", "a:2", "x", "a:1", "x", "b:1", "y", "c:1", "z"]));
    out.push(c.read_reply());
    out.push(c.read_reply());
    // Its own writes are left out (NOLOOP); a PING shows nothing else came.
    out.push(c.cmd(&["SET", "a:3", "v"]));
    out.push(c.cmd(&["PING"]));
    out.push(c.cmd(&["CLIENT", "TRACKINGINFO"]));
    out.push(c.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a"]));
    out.push(c.cmd(&["CLIENT", "TRACKING", "on", "PREFIX", "z:"]));
    out.push(c.cmd(&["CLIENT", "TRACKING", "on"]));
    out.push(c.cmd(&["CLIENT", "TRACKING", "off"]));
    out.push(c.cmd(&["CLIENT", "TRACKINGINFO"]));
    out
}

#[test]
fn bcast_mode_with_prefixes_and_noloop() {
    same_as_redis(bcast_prefixes_and_noloop);
}

fn optin_optout(s: &Server) -> Vec<String> {
    let mut c = resp3(s);
    let mut other = s.client();
    let mut out = vec![c.cmd(&["CLIENT", "CACHING", "yes"])];
    out.push(c.cmd(&["CLIENT", "TRACKING", "on", "OPTIN"]));
    out.push(c.cmd(&["CLIENT", "CACHING", "no"]));
    c.cmd(&["GET", "not-cached"]);
    out.push(c.cmd(&["CLIENT", "CACHING", "yes"]));
    out.push(c.cmd(&["CLIENT", "TRACKINGINFO"]));
    c.cmd(&["GET", "cached"]);
    out.push(other.cmd(&["MSET", "not-cached", "1", "cached", "1"]));
    out.push(c.read_reply());
    out.push(c.cmd(&["CLIENT", "TRACKING", "on", "OPTOUT"]));
    out.push(c.cmd(&["CLIENT", "TRACKING", "off"]));
    out.push(c.cmd(&["CLIENT", "TRACKING", "on", "OPTOUT"]));
    out.push(c.cmd(&["CLIENT", "CACHING", "no"]));
    c.cmd(&["GET", "skipped"]);
    c.cmd(&["GET", "kept"]);
    out.push(other.cmd(&["MSET", "skipped", "1", "kept", "1"]));
    out.push(c.read_reply());
    out.push(c.cmd(&["PING"]));
    out
}

#[test]
fn optin_and_optout_with_client_caching() {
    same_as_redis(optin_optout);
}

fn errors(s: &Server) -> Vec<String> {
    let mut c = s.client();
    [
        &["CLIENT", "TRACKING"][..],
        &["CLIENT", "TRACKING", "maybe"],
        &["CLIENT", "TRACKING", "on", "BOGUS"],
        &["CLIENT", "TRACKING", "on", "REDIRECT"],
        &["CLIENT", "TRACKING", "on", "REDIRECT", "abc"],
        &["CLIENT", "TRACKING", "on", "REDIRECT", "999999"],
        &["CLIENT", "TRACKING", "on", "REDIRECT", "-1"],
        &["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"],
        &["CLIENT", "TRACKING", "on", "BCAST", "OPTIN"],
        &[
            "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "FOOBAR", "PREFIX", "FOO",
        ],
        &[
            "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "FOO", "PREFIX", "BAR",
        ],
        &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "BA"],
        &["CLIENT", "TRACKING", "on", "OPTIN"],
        &["CLIENT", "TRACKING", "off", "BOGUS"],
        &["CLIENT", "CACHING", "yes"],
        &["CLIENT", "CACHING", "maybe"],
        &["CLIENT", "CACHING"],
        &["CLIENT", "GETREDIR", "x"],
        &["CLIENT", "GETREDIR"],
        &["CLIENT", "TRACKINGINFO"],
    ]
    .iter()
    .map(|args| c.cmd(args))
    .collect()
}

#[test]
fn errors_as_redis() {
    same_as_redis(errors);
}

#[test]
fn info_counts_clients_keys_and_prefixes() {
    let s = Server::start();
    let mut c = s.client();
    let mut b = s.client();
    c.cmd(&["CLIENT", "TRACKING", "on"]);
    c.cmd(&["MGET", "k1", "k2"]);
    b.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p:"]);
    let info = s.client().cmd(&["INFO"]);
    for field in [
        "tracking_clients:2\r\n",
        "tracking_total_keys:2\r\n",
        "tracking_total_items:2\r\n",
        "tracking_total_prefixes:1\r\n",
    ] {
        assert!(info.contains(field), "{field} missing in {info}");
    }
    // A client that leaves stops counting; tracking-table-max-keys trims the table.
    drop(b);
    c.cmd(&["CONFIG", "SET", "tracking-table-max-keys", "1"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let info = s.client().cmd(&["INFO", "stats"]);
        let clients = s.client().cmd(&["INFO", "clients"]);
        if info.contains("tracking_total_keys:1\r\n") && clients.contains("tracking_clients:1\r\n")
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{info}{clients}");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// A RESP2 redirect target that never reads is a subscriber: its invalidations queue in its output buffer and
/// count against `client-output-buffer-limit pubsub`, and at the limit it is closed, as Redis closes it. They
/// used to be written to its socket by the thread whose command caused them, which blocked once the socket was
/// full (after 20 writes of a 200 kB key here) and stalled every client writing a tracked key.
#[test]
fn a_redirect_target_that_never_reads_is_closed_at_its_limit_not_stalling_writers() {
    let s = Server::start();
    let mut target = s.client();
    let id = target.cmd(&["CLIENT", "ID"]);
    let id = id.trim_start_matches(':').trim_end().to_string();
    assert_eq!(
        target.cmd(&["SUBSCRIBE", "__redis__:invalidate"]),
        "*3\r\n$9\r\nsubscribe\r\n$20\r\n__redis__:invalidate\r\n:1\r\n"
    );
    let mut writer = s.client();
    assert_eq!(
        writer.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", &id, "BCAST"]),
        "+OK\r\n"
    );
    writer.set_timeout(Duration::from_secs(10));
    let key = "k".repeat(200_000);
    // 1,000 invalidations of 200 kB: 200 MB, far over the 32 MB hard limit and any socket buffers.
    for _ in 0..1_000 {
        assert_eq!(writer.cmd(&["SET", &key, "x"]), "+OK\r\n");
    }
    let list = writer.cmd(&["CLIENT", "LIST"]);
    assert!(!list.contains(&format!("id={id} ")), "{list}");
    assert_eq!(writer.cmd(&["CLIENT", "GETREDIR"]), format!(":{id}\r\n"));
}

/// The tracking client's id and its CLIENT LIST line's `omem`, read by another client.
fn omem_of(other: &mut common::Client, id: &str) -> Option<usize> {
    let list = other.cmd(&["CLIENT", "LIST"]);
    let line = list.lines().find(|l| l.contains(&format!("id={id} ")))?;
    let field = line.split(' ').find_map(|f| f.strip_prefix("omem="))?;
    Some(field.parse().expect("omem is a number"))
}

fn client_id(c: &mut common::Client) -> String {
    c.cmd(&["CLIENT", "ID"])
        .trim_start_matches(':')
        .trim_end()
        .to_string()
}

#[test]
fn a_resp3_client_that_never_reads_does_not_stall_writers_and_meets_its_output_limit() {
    let s = Server::start();
    let mut tracker = resp3(&s);
    let id = client_id(&mut tracker);
    assert_eq!(
        tracker.cmd(&["CLIENT", "TRACKING", "on", "BCAST"]),
        "+OK\r\n"
    );
    let mut writer = s.client();
    writer.set_timeout(Duration::from_secs(10));
    let key = "k".repeat(200_000);
    // 100 invalidations of 200 kB: 20 MB, more than any socket buffers take. With no normal-class limit (the
    // default) they wait on the connection, counted as its output, as in Redis's reply list.
    for _ in 0..100 {
        assert_eq!(writer.cmd(&["SET", &key, "x"]), "+OK\r\n");
    }
    let omem = omem_of(&mut writer, &id).expect("the tracking client is still connected");
    assert!(omem > 10_000_000, "omem={omem}");
    // With a hard limit, the next message that finds it over the limit closes it.
    assert_eq!(
        writer.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 4mb 0 0"
        ]),
        "+OK\r\n"
    );
    assert_eq!(writer.cmd(&["SET", &key, "x"]), "+OK\r\n");
    assert_eq!(omem_of(&mut writer, &id), None);
    // What its socket had taken before it was closed, far less than the 20 MB queued, then the close.
    let before_close = tracker.read_until_closed().expect("closed");
    assert!(before_close < 10_000_000, "{before_close} bytes");
}

#[test]
fn invalidations_a_listening_client_could_not_take_reach_it_once_it_reads() {
    let s = Server::start();
    let mut tracker = resp3(&s);
    assert_eq!(
        tracker.cmd(&["CLIENT", "TRACKING", "on", "BCAST"]),
        "+OK\r\n"
    );
    let mut writer = s.client();
    let key = "k".repeat(200_000);
    for _ in 0..100 {
        assert_eq!(writer.cmd(&["SET", &key, "x"]), "+OK\r\n");
    }
    // The tracking client sends nothing more: what its socket could not take is written as it drains.
    let message = format!(">2\r\n$10\r\ninvalidate\r\n*1\r\n$200000\r\n{key}\r\n");
    tracker.set_timeout(Duration::from_secs(10));
    for i in 0..100 {
        assert_eq!(tracker.read_reply(), message, "message {i}");
    }
    // Then nothing else is pending, and the connection still answers.
    assert_eq!(tracker.cmd(&["PING"]), "+PONG\r\n");
}
