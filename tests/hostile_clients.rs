//! Bad input costs one connection, never the server: a flood of garbage, half-sent frames and huge announced
//! lengths from hundreds of clients at once leaves the keyspace intact, PING answered, and memory bounded; clients
//! that vanish mid-command, mid-transaction or mid-reply leave nothing behind.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::Server;

/// Peak resident memory of a process in KB (`VmHWM`), from /proc.
fn peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// What hostile client `i` sends: garbage, cut frames, lengths announced and never sent, lines too long.
fn hostile_payload(i: usize) -> Vec<u8> {
    let random = |n: usize| (0..n).map(|_| fastrand::u8(..)).collect::<Vec<u8>>();
    match i % 8 {
        0 | 1 => random(4096),
        2 => [&b"*"[..], &random(4095)].concat(),
        3 => b"*3\r\n$5\r\nhel".to_vec(),
        4 => b"*2147483647\r\n$3\r\nabc\r\n$3\r\nde".to_vec(),
        5 => b"*2\r\n$3\r\nGET\r\n$500000000\r\nsome bytes".to_vec(),
        6 => b"*1\r\n$1000000000\r\nabc".to_vec(),
        _ => vec![b'a'; 70 * 1024],
    }
}

/// Connects, sends, reads whatever comes back for a moment, and leaves.
fn hostile_client(port: u16, i: usize) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
    let _ = s.write_all(&hostile_payload(i));
    let mut buf = [0u8; 512];
    let _ = s.read(&mut buf);
}

/// While the flood runs, a well-behaved client keeps reading its key and pinging.
fn sentinel(port: u16, stop: Arc<AtomicBool>) -> usize {
    let mut c = common::Client::connect(port);
    let mut rounds = 0;
    while !stop.load(Ordering::Relaxed) {
        assert_eq!(c.cmd(&["GET", "sentinel"]), "$5\r\nvalue\r\n");
        assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
        rounds += 1;
    }
    rounds
}

#[test]
fn a_flood_of_garbage_costs_connections_not_the_server() {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(c.cmd(&["SET", "sentinel", "value"]), "+OK\r\n");
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (port, stop) = (server.port, stop.clone());
        thread::spawn(move || sentinel(port, stop))
    };
    for wave in 0..3 {
        let clients: Vec<_> = (0..200)
            .map(|i| {
                let port = server.port;
                thread::spawn(move || hostile_client(port, wave * 200 + i))
            })
            .collect();
        for t in clients {
            t.join().unwrap();
        }
    }
    stop.store(true, Ordering::Relaxed);
    let rounds = watcher.join().unwrap();
    assert!(rounds > 0);
    assert_eq!(c.cmd(&["GET", "sentinel"]), "$5\r\nvalue\r\n");
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(c.cmd(&["DBSIZE"]), ":1\r\n");
    // 600 clients with a 16 KB read buffer each and their threads' stacks: about 20 MB. Memory taken for
    // announced lengths (500 MB, 2^31 arguments) would show here.
    let peak_mb = peak_rss_kb(server.pid()) / 1024;
    eprintln!(
        "flood: peak RSS {peak_mb} MB, {rounds} sentinel rounds, {:?}",
        started.elapsed()
    );
    assert!(peak_mb < 100, "peak RSS {peak_mb} MB");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn a_client_vanishing_mid_command_leaves_nothing_behind() {
    let server = Server::start();
    let mut c = server.client();
    for cut in [
        &b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\nabc"[..],
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n",
        b"*3\r\n$3\r\nSET\r\n$1",
        b"SET k v",
    ] {
        let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        s.write_all(cut).unwrap();
        drop(s);
    }
    // Inside MULTI: the queued commands never run.
    let mut m = server.client();
    assert_eq!(m.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(m.cmd(&["SET", "k", "queued"]), "+QUEUED\r\n");
    m.send_raw(b"*1\r\n$4\r\nEX");
    drop(m);
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(c.cmd(&["EXISTS", "k"]), ":0\r\n");
    wait_for_one_client(&mut c);
}

/// Waits until `c` is the only client left: the others' threads noticed they were gone and cleaned up.
fn wait_for_one_client(c: &mut common::Client) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !c
        .cmd(&["INFO", "clients"])
        .contains("\r\nconnected_clients:1\r\n")
    {
        assert!(
            Instant::now() < deadline,
            "a vanished client was never dropped"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_client_vanishing_mid_reply_leaves_the_server_serving() {
    let server = Server::start();
    let mut c = server.client();
    let value = "x".repeat(1 << 20);
    assert_eq!(c.cmd(&["SET", "big", &value]), "+OK\r\n");
    // Ask for 64 MB of replies and read none of them: the server's write fails once the socket goes.
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let get = b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n".repeat(64);
    s.write_all(&get).unwrap();
    thread::sleep(Duration::from_millis(100));
    drop(s);
    wait_for_one_client(&mut c);
    assert_eq!(c.cmd(&["STRLEN", "big"]), ":1048576\r\n");
}

#[test]
fn a_big_request_gives_its_buffer_back_when_done() {
    let server = Server::start();
    let mut c = server.client();
    let value = "x".repeat(3 << 20);
    assert_eq!(c.cmd(&["SET", "big", &value]), "+OK\r\n");
    let info = c.cmd(&["CLIENT", "INFO"]);
    // The query buffer as Redis's CLIENT INFO shows it: the 26 bytes of CLIENT INFO itself.
    assert!(info.contains(" qbuf=26 qbuf-free="), "{info}");
    // Announcing a big value allocates nothing until its bytes come.
    c.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$500000000\r\nabc");
    let mut other = server.client();
    let deadline = Instant::now() + Duration::from_secs(10);
    let line = loop {
        let list = other.cmd(&["CLIENT", "LIST"]);
        let line = list.lines().find(|l| l.contains("cmd=client|info"));
        let line = line.unwrap_or_default().to_string();
        if !line.contains(" qbuf=0 ") || Instant::now() > deadline {
            break line;
        }
        thread::sleep(Duration::from_millis(10));
    };
    // Only the argument's own bytes stay in Redis's query buffer, which Redis sizes for the whole announced
    // argument: CLIENT LIST shows that (about 500 MB free), though ferredis holds only what arrived (the peak
    // RSS below).
    assert!(line.contains(" qbuf=3 qbuf-free="), "{line}");
    let free: usize = line
        .split(" qbuf-free=")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    // Before a clients-cron pass Redis holds the announced length's size class; a pass trims it to exactly
    // the bulk length (`clientsCronResizeQueryBuffer`), leaving 500,000,000 - 3 free.
    assert!(free >= 500_000_000 - 3, "{line}");
    let peak_mb = peak_rss_kb(server.pid()) / 1024;
    assert!(peak_mb < 64, "peak RSS {peak_mb} MB");
}
