//! `client-output-buffer-limit normal`: clients whose unsent replies pass the limit are closed, as Redis closes
//! them; with the default `0 0 0` nobody is.

mod common;

use common::{Client, Server};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Polls CLIENT LIST until client `name` is listed (`present`) or not; false if `within` passes first.
fn listed(c: &mut Client, name: &str, present: bool, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if c.cmd(&["CLIENT", "LIST"])
            .contains(&format!("name={name} "))
            == present
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Sets `client-output-buffer-limit` to `value`.
fn set_limits(c: &mut Client, value: &str) {
    let reply = c.cmd(&["CONFIG", "SET", "client-output-buffer-limit", value]);
    assert_eq!(reply, "+OK\r\n");
}

/// Reads what the server sends until it closes the connection.
fn read_to_close(raw: &mut TcpStream) -> Vec<u8> {
    raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    let _ = raw.read_to_end(&mut got);
    got
}

#[test]
fn a_reply_over_the_hard_limit_closes_the_client_without_a_byte_as_redis() {
    let mut servers = vec![Server::start()];
    servers.extend(Server::start_redis());
    for s in &servers {
        let mut admin = s.client();
        set_limits(&mut admin, "normal 100000 0 0");
        let item = "x".repeat(1000);
        for _ in 0..150 {
            admin.send(&["LPUSH", "mylist", &item]);
        }
        for _ in 0..150 {
            admin.read_reply();
        }
        let mut raw = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
        raw.write_all(&Client::encode(&[b"CLIENT", b"SETNAME", b"big"]))
            .unwrap();
        let mut ok = [0u8; 5];
        raw.read_exact(&mut ok).unwrap();
        assert_eq!(&ok, b"+OK\r\n");
        raw.write_all(&Client::encode(&[b"LRANGE", b"mylist", b"0", b"-1"]))
            .unwrap();
        assert_eq!(read_to_close(&mut raw), b"", "no part of the reply is sent");
        assert!(listed(&mut admin, "big", false, Duration::from_secs(5)));
        // Replies under the limit are untouched.
        assert_eq!(admin.cmd(&["LLEN", "mylist"]), ":150\r\n");
        let small = admin.cmd(&["LRANGE", "mylist", "0", "9"]);
        assert_eq!(common::bulks(&small).len(), 10);
    }
}

#[test]
fn a_client_pipelining_big_reads_and_never_reading_is_cut_off_at_its_limit() {
    let s = Server::start();
    let mut admin = s.client();
    set_limits(&mut admin, "normal 4mb 0 0");
    admin.cmd(&["SET", "big", &"v".repeat(100_000)]);
    let before: u64 = memory(&mut admin);
    let mut raw = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    raw.write_all(&Client::encode(&[b"CLIENT", b"SETNAME", b"sink"]))
        .unwrap();
    let mut ok = [0u8; 5];
    raw.read_exact(&mut ok).unwrap();
    assert_eq!(&ok, b"+OK\r\n");
    // 2,000 replies of 100 kB (200 MB) asked for, none read. The writer stops when the server hangs up.
    let mut writer = raw.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let get = Client::encode(&[b"GET", b"big"]);
        for _ in 0..2000 {
            if writer.write_all(&get).is_err() {
                return;
            }
        }
    });
    assert!(
        listed(&mut admin, "sink", false, Duration::from_secs(20)),
        "the sink was never cut off"
    );
    sender.join().unwrap();
    let after = memory(&mut admin);
    assert!(
        after < before + (6 << 20),
        "the server kept the replies: {before} -> {after}"
    );
    assert_eq!(admin.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn without_a_limit_a_client_that_does_not_read_is_kept() {
    let s = Server::start();
    let mut admin = s.client();
    admin.cmd(&["SET", "big", &"v".repeat(100_000)]);
    let mut raw = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    raw.write_all(&Client::encode(&[b"CLIENT", b"SETNAME", b"slow"]))
        .unwrap();
    let get = Client::encode(&[b"GET", b"big"]);
    raw.set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    for _ in 0..300 {
        if raw.write_all(&get).is_err() {
            break;
        }
    }
    assert!(listed(&mut admin, "slow", true, Duration::from_secs(5)));
    assert!(!listed(
        &mut admin,
        "slow",
        false,
        Duration::from_millis(300)
    ));
    // Once it reads, it gets every reply.
    raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut ok = [0u8; 5];
    raw.read_exact(&mut ok).unwrap();
    assert_eq!(&ok, b"+OK\r\n");
}

fn memory(c: &mut Client) -> u64 {
    let reply = c.cmd(&["INFO", "memory"]);
    reply
        .split("\r\n")
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.parse().ok())
        .expect("used_memory")
}

/// The omem CLIENT LIST shows for client `name` (0 if it is not listed).
fn omem(c: &mut Client, name: &str) -> u64 {
    let list = c.cmd(&["CLIENT", "LIST"]);
    let line = list.lines().find(|l| l.contains(&format!("name={name} ")));
    let field = line.and_then(|l| l.split(' ').find_map(|f| f.strip_prefix("omem=")));
    field.and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// A subscriber that stays over the pubsub soft limit is closed once the soft seconds pass, even when no more
/// messages come to check it (Redis's clientsCron), and not before.
#[test]
fn a_subscriber_over_the_soft_limit_is_closed_when_the_traffic_stops() {
    let server = Server::start();
    let mut c = server.client();
    set_limits(&mut c, "pubsub 0 100000 2");
    let mut sub = server.client();
    assert_eq!(sub.cmd(&["CLIENT", "SETNAME", "idle-sub"]), "+OK\r\n");
    sub.send(&["SUBSCRIBE", "ch"]);
    assert!(listed(&mut c, "idle-sub", true, Duration::from_secs(5)));
    // Publish until the server has held more than the soft limit for the subscriber for 300 ms (the kernel's
    // socket buffers take a few MB first, and may take more while autotuning grows them), then stop.
    let message = "m".repeat(50_000);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut over: Option<Instant> = None;
    while over.is_none_or(|t| t.elapsed() < Duration::from_millis(300)) {
        assert!(
            Instant::now() < deadline,
            "omem never stayed over the soft limit"
        );
        assert_eq!(c.cmd(&["PUBLISH", "ch", &message]), ":1\r\n");
        if omem(&mut c, "idle-sub") <= 100_000 {
            over = None;
        } else if over.is_none() {
            over = Some(Instant::now());
        }
    }
    let over = over.unwrap_or_else(Instant::now);
    std::thread::sleep(Duration::from_millis(1300));
    assert!(
        c.cmd(&["CLIENT", "LIST"]).contains("name=idle-sub "),
        "closed before the soft seconds passed"
    );
    assert!(
        listed(&mut c, "idle-sub", false, Duration::from_secs(3)),
        "still connected {:?} after going over the soft limit",
        over.elapsed()
    );
}

/// Waits until client `name`'s `omem` passes `bytes`; false if it does not within 10 s.
fn omem_passes(c: &mut Client, name: &str, bytes: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if omem(c, name) > bytes {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// As Redis, a client that pipelines reads and does not read its replies goes on being served: the server reads
/// and runs every command, and the replies wait in its output buffer (CLIENT LIST `omem`), not in a thread stuck
/// in `write()`. Once the client reads, every reply arrives whole and in order, and `omem` is back to 0.
#[test]
fn replies_a_client_does_not_read_wait_in_its_output_buffer() {
    let s = Server::start();
    let mut admin = s.client();
    let big = "b".repeat(1_000_000);
    admin.cmd(&["SET", "big", &big]);
    let mut slow = s.client();
    assert_eq!(slow.cmd(&["CLIENT", "SETNAME", "slow"]), "+OK\r\n");
    for j in 0..30 {
        slow.send(&["GET", "big"]);
        slow.send(&["INCR", "ran"]);
        if j == 29 {
            slow.send(&["PING"]);
        }
    }
    assert!(
        omem_passes(&mut admin, "slow", 10_000_000),
        "{}",
        admin.cmd(&["CLIENT", "LIST"])
    );
    // Every command has run although none of its replies was read.
    assert_eq!(admin.cmd(&["GET", "ran"]), "$2\r\n30\r\n");
    let line = admin.cmd(&["CLIENT", "LIST"]);
    let line = line.lines().find(|l| l.contains("name=slow ")).unwrap();
    assert!(line.contains(" qbuf=0 "), "{line}");
    let expected = format!("${}\r\n{big}\r\n", big.len());
    for j in 1..=30 {
        assert!(slow.read_reply() == expected, "reply {j} is not the value");
        assert_eq!(slow.read_reply(), format!(":{j}\r\n"));
    }
    assert_eq!(slow.read_reply(), "+PONG\r\n");
    // The server counts what is left once its last write returns, a moment after the client has the bytes.
    common::wait_until("omem back to 0", || omem(&mut admin, "slow") == 0);
    assert_eq!(slow.cmd(&["PING"]), "+PONG\r\n");
}

/// While a client's replies wait unsent (the socket may hold half of one), an invalidation for it from another
/// client's write must not be written into the middle of them: it follows them, whole.
#[test]
fn an_invalidation_waits_behind_replies_the_socket_has_not_taken() {
    let s = Server::start();
    let mut admin = s.client();
    let big = "b".repeat(1_000_000);
    admin.cmd(&["SET", "big", &big]);
    admin.cmd(&["SET", "small", "s"]);
    let mut slow = common::resp3_client(&s);
    assert_eq!(slow.cmd(&["CLIENT", "SETNAME", "slow"]), "+OK\r\n");
    assert_eq!(slow.cmd(&["CLIENT", "TRACKING", "on"]), "+OK\r\n");
    assert_eq!(slow.cmd(&["GET", "small"]), "$1\r\ns\r\n");
    for _ in 0..20 {
        slow.send(&["GET", "big"]);
    }
    assert!(omem_passes(&mut admin, "slow", 5_000_000));
    assert_eq!(admin.cmd(&["SET", "small", "t"]), "+OK\r\n");
    let expected = format!("${}\r\n{big}\r\n", big.len());
    for j in 1..=20 {
        assert!(slow.read_reply() == expected, "reply {j} is not the value");
    }
    assert_eq!(
        slow.read_reply(),
        ">2\r\n$10\r\ninvalidate\r\n*1\r\n$5\r\nsmall\r\n"
    );
    assert_eq!(slow.cmd(&["PING"]), "+PONG\r\n");
}

/// A client that stays over the normal class's soft limit is closed once the soft seconds pass, even when it
/// asks for nothing more (Redis's clientsCron checks it), and not at once.
#[test]
fn a_client_over_the_soft_limit_is_closed_when_it_stops_asking() {
    let s = Server::start();
    let mut admin = s.client();
    set_limits(&mut admin, "normal 0 1000000 2");
    admin.cmd(&["SET", "big", &"b".repeat(1_000_000)]);
    let mut slow = s.client();
    assert_eq!(slow.cmd(&["CLIENT", "SETNAME", "slow"]), "+OK\r\n");
    for _ in 0..20 {
        slow.send(&["GET", "big"]);
    }
    assert!(omem_passes(&mut admin, "slow", 1_000_000));
    let over = Instant::now();
    std::thread::sleep(Duration::from_millis(1000));
    assert!(
        admin.cmd(&["CLIENT", "LIST"]).contains("name=slow "),
        "closed before the soft seconds passed"
    );
    assert!(
        listed(&mut admin, "slow", false, Duration::from_secs(4)),
        "still connected {:?} after going over the soft limit",
        over.elapsed()
    );
}
