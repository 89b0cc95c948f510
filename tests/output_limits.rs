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
        admin.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 100000 0 0",
        ]);
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
    admin.cmd(&[
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "normal 4mb 0 0",
    ]);
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
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 0 100000 2"
        ]),
        "+OK\r\n"
    );
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
