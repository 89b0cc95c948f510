//! What a client's memory counts, for CLIENT LIST `tot-mem` and `maxmemory-clients`: watched keys and
//! subscriptions (Redis's per-entry overheads), and replies the kernel holds for a client that does not read.

mod common;
use std::io::Write;
use std::time::{Duration, Instant};

use common::{Client, Server};

/// Sends `cmd` with a growing argument until the server closes the connection; returns how many it answered.
fn until_closed(port: u16, cmd: &str, limit: usize) -> usize {
    use std::io::BufRead;
    let stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = std::io::BufReader::new(stream);
    for i in 0..limit {
        if writer
            .write_all(format!("{cmd} {i}\r\n").as_bytes())
            .is_err()
        {
            return i;
        }
        // WATCH answers +OK, (P)SUBSCRIBE an array ending in the subscription count.
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return i,
                Ok(_) if line.starts_with(['+', ':']) => break,
                Ok(_) => {}
            }
        }
    }
    panic!("{cmd}: still connected after {limit}");
}

fn field(line: &str, name: &str) -> u64 {
    line.split(' ')
        .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {line}"))
}

#[test]
fn watched_keys_and_subscriptions_count_toward_maxmemory_clients() {
    let s = Server::start();
    let mut admin = s.client();
    assert_eq!(admin.cmd(&["CLIENT", "NO-EVICT", "on"]), "+OK\r\n");
    let mut w = s.client();
    w.cmd(&["WATCH", "a", "b", "c"]);
    let info = w.cmd(&["CLIENT", "INFO"]);
    // As in Redis, multi-mem counts only queued commands; tot-mem has the 3 x 56 bytes of the watches.
    assert_eq!(field(&info, "multi-mem"), 0, "{info}");
    w.cmd(&["UNWATCH"]);
    let unwatched = field(&w.cmd(&["CLIENT", "INFO"]), "tot-mem");
    w.cmd(&["WATCH", "a", "b", "c"]);
    assert_eq!(
        field(&w.cmd(&["CLIENT", "INFO"]), "tot-mem"),
        unwatched + 168
    );
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "maxmemory-clients", "200000"]),
        "+OK\r\n"
    );
    // 200 kB, two clients' fixed 40 kB each: a few thousand watches or subscriptions, never 200,000.
    drop(w);
    assert!(until_closed(s.port, "WATCH", 200_000) < 5_000);
    assert!(until_closed(s.port, "PSUBSCRIBE", 200_000) < 10_000);
    assert!(until_closed(s.port, "SUBSCRIBE", 200_000) < 10_000);
    assert_eq!(admin.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn replies_held_by_the_kernel_count_and_get_a_client_evicted() {
    let s = Server::start();
    let mut admin = s.client();
    assert_eq!(admin.cmd(&["CLIENT", "NO-EVICT", "on"]), "+OK\r\n");
    admin.cmd(&["SETRANGE", "big", "1000000", "x"]);
    let mut reader = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    reader.write_all(b"CLIENT SETNAME sleeper\r\n").unwrap();
    // Forty 1 MB replies it never reads: the server's thread blocks once the socket buffers are full.
    for _ in 0..40 {
        reader.write_all(b"GET big\r\n").unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let held = loop {
        let list = admin.cmd(&["CLIENT", "LIST"]);
        if let Some(line) = list.lines().find(|l| l.contains("name=sleeper")) {
            let mem = field(line, "tot-mem");
            if mem > 1_000_000 {
                break mem;
            }
        }
        assert!(Instant::now() < deadline, "tot-mem never grew: {list}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(held > 1_000_000);
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "maxmemory-clients", "500000"]),
        "+OK\r\n"
    );
    assert_eq!(admin.cmd(&["PING"]), "+PONG\r\n");
    let list = admin.cmd(&["CLIENT", "LIST"]);
    assert!(!list.contains("name=sleeper"), "{list}");
    assert_eq!(admin.cmd(&["GET", "nothing"]), "$-1\r\n");
}

/// Replies the kernel holds for clients that do not read count in `used_memory` (Redis holds them in reply
/// lists it counts), so with `maxmemory` they make keys go, as Redis's "eviction due to output buffers of many
/// MGET clients" expects; and `mem_clients_normal` shows them.
#[test]
fn replies_held_by_the_kernel_count_in_used_memory_and_evict_keys() {
    let s = Server::start();
    let mut admin = s.client();
    for j in 0..50 {
        admin.cmd(&["SETRANGE", &j.to_string(), "100000", "x"]);
    }
    let used: u64 = info(&mut admin, "used_memory").parse().unwrap();
    let limit = (used + 6_000_000).to_string();
    for (name, value) in [
        ("maxmemory", &limit[..]),
        ("maxmemory-policy", "allkeys-lru"),
    ] {
        assert_eq!(admin.cmd(&["CONFIG", "SET", name, value]), "+OK\r\n");
    }
    // 20 connections asking for 100 kB replies they never read, until keys go (Redis: at once).
    let mut sleepers: Vec<_> = (0..20)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap())
        .collect();
    for c in &sleepers {
        c.set_write_timeout(Some(Duration::from_millis(200)))
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while info(&mut admin, "evicted_keys") == "0" {
        assert!(Instant::now() < deadline, "no key was evicted");
        sleepers.retain_mut(|c| c.write_all(b"MGET 1\r\n").is_ok());
    }
    let clients: u64 = info(&mut admin, "mem_clients_normal").parse().unwrap();
    assert!(clients > 1_000_000, "mem_clients_normal {clients}");
    assert_eq!(info(&mut admin, "evicted_clients"), "0");
    let dbsize: u64 = admin.cmd(&["DBSIZE"])[1..].trim().parse().unwrap();
    assert!(dbsize < 50, "{dbsize} keys left");
}

/// A field of INFO (all sections).
fn info(c: &mut Client, name: &str) -> String {
    let text = c.cmd(&["INFO", "everything"]);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_string))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}
