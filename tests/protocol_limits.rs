//! Malformed and oversized requests: every protocol error with Redis's exact text, the connection closed after
//! it, the limits on unauthenticated clients, `proto-max-bulk-len` and `client-query-buffer-limit` applied at
//! runtime; each compared with redis-server byte for byte.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::Server;

/// What a server does with `bytes` sent on a new connection: everything it wrote back, and whether it closed the
/// connection (rather than going quiet for 300 ms, waiting for more).
fn exchange(port: u16, bytes: &[u8]) -> (Vec<u8>, bool) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    // A server that closes early may refuse the rest: what it answered is still read below.
    let _ = s.write_all(bytes);
    read_all(&mut s)
}

fn read_all(s: &mut TcpStream) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (out, true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (out, false)
            }
            Err(_) => return (out, true),
        }
    }
}

/// Sends `bytes` to ferredis and (when installed) redis-server; asserts both answer `want` and close or stay
/// open as `closed` says.
fn assert_exchange(ours: &Server, redis: &Option<Server>, bytes: &[u8], want: &[u8], closed: bool) {
    let what = String::from_utf8_lossy(&bytes[..bytes.len().min(40)]).into_owned();
    let got = exchange(ours.port, bytes);
    assert_eq!(
        (String::from_utf8_lossy(&got.0), got.1),
        (String::from_utf8_lossy(want), closed),
        "ferredis, for {what:?}"
    );
    if let Some(redis) = redis {
        let theirs = exchange(redis.port, bytes);
        assert_eq!(got, theirs, "ferredis and redis-server differ for {what:?}");
    }
}

#[test]
fn every_protocol_error_is_answered_as_redis_and_closes() {
    let (ours, redis) = (Server::start(), Server::start_redis());
    let long = vec![b'1'; 64 * 1024 + 1];
    let cases: Vec<(Vec<u8>, &[u8])> = vec![
        (
            b"*abc\r\n".to_vec(),
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*+1\r\n".to_vec(),
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*01\r\n".to_vec(),
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*2147483648\r\n".to_vec(),
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*99999999999999999999\r\n".to_vec(),
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$-1\r\n".to_vec(),
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$-0\r\n".to_vec(),
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$\r\n".to_vec(),
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$12x\r\n".to_vec(),
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$536870913\r\n".to_vec(),
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$1000000000\r\nabc".to_vec(),
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            [&b"*"[..], &long].concat(),
            b"-ERR Protocol error: too big mbulk count string\r\n",
        ),
        (
            [&b"*1\r\n$"[..], &long].concat(),
            b"-ERR Protocol error: too big bulk count string\r\n",
        ),
        (
            [&b"GET "[..], &long].concat(),
            b"-ERR Protocol error: too big inline request\r\n",
        ),
        (
            b"*1\r\nPING\r\n".to_vec(),
            b"-ERR Protocol error: expected '$', got 'P'\r\n",
        ),
        (
            b"*1\r\n\xff\r\n".to_vec(),
            b"-ERR Protocol error: expected '$', got '\xff'\r\n",
        ),
        (
            b"*1\r\n\r\n\r\n".to_vec(),
            b"-ERR Protocol error: expected '$', got ' '\r\n",
        ),
        (
            b"SET k \"v\r\n".to_vec(),
            b"-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        (
            b"SET k 'v'x\r\n".to_vec(),
            b"-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        (
            b"PI\"NG\r\n".to_vec(),
            b"-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        // Requests before the bad one are answered first.
        (
            b"PING\r\n*1\r\n$4\r\nPING\r\n*x\r\n".to_vec(),
            b"+PONG\r\n+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n",
        ),
    ];
    for (bytes, want) in &cases {
        assert_exchange(&ours, &redis, bytes, want, true);
    }
    // CLIENT REPLY OFF silences the error too. Redis then never closes the connection (it closes after writing
    // a reply, and there is none) and ignores all further input; ferredis closes it.
    let silenced = exchange(ours.port, b"CLIENT REPLY OFF\r\n*x\r\n");
    assert_eq!(silenced, (Vec::new(), true));
}

#[test]
fn odd_but_valid_requests_match_redis() {
    let (ours, redis) = (Server::start(), Server::start_redis());
    let cases: &[(&[u8], &[u8])] = &[
        // A NUL hides the line's end from Redis's strchr: the request waits for more bytes.
        (b"PING\0\r\nPING\r\n", b""),
        (b"*1\0\r\n", b""),
        (b"*1\r\n$4\0\r\nPING\r\n", b""),
        (b"PING\r\nECHO a\0b\r\n", b"+PONG\r\n"),
        // The vertical tab is a space to Redis's inline splitter, as to C's isspace.
        (b"\x0bPING\r\n", b"+PONG\r\n"),
        (b"ECHO \"a\"\x0b\r\n", b"$1\r\na\r\n"),
        // Empty and negative multibulks are skipped; the two bytes after a payload are not checked.
        (b"*0\r\n*-1\r\n\r\nPING\r\n", b"+PONG\r\n"),
        (
            b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n",
            b"+PONG\r\n+PONG\r\n",
        ),
        (b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", b"$0\r\n\r\n"),
    ];
    for (bytes, want) in cases {
        assert_exchange(&ours, &redis, bytes, want, false);
    }
    // A NUL-hidden line still meets the 64 KB limit.
    let mut bytes = b"PING\0\r\n".to_vec();
    bytes.resize(64 * 1024 + 1, b'x');
    assert_exchange(
        &ours,
        &redis,
        &bytes,
        b"-ERR Protocol error: too big inline request\r\n",
        true,
    );
}

/// CONFIG SET on one connection, then `bytes` on a connection opened before it.
fn after_config_set(server: &Server, set: &[&str], bytes: &[u8]) -> (Vec<u8>, bool) {
    let mut open = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    open.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    open.write_all(b"PING\r\n").unwrap();
    let mut pong = [0u8; 7];
    open.read_exact(&mut pong).unwrap();
    let mut args = vec!["CONFIG", "SET"];
    args.extend_from_slice(set);
    assert_eq!(server.client().cmd(&args), "+OK\r\n");
    let _ = open.write_all(bytes);
    read_all(&mut open)
}

#[test]
fn proto_max_bulk_len_applies_to_open_connections() {
    let (ours, redis) = (Server::start(), Server::start_redis());
    let set = ["proto-max-bulk-len", "1mb"];
    let bytes = b"*2\r\n$4\r\nECHO\r\n$1048577\r\n";
    let want = (
        b"-ERR Protocol error: invalid bulk length\r\n".to_vec(),
        true,
    );
    assert_eq!(after_config_set(&ours, &set, bytes), want);
    if let Some(redis) = &redis {
        assert_eq!(after_config_set(redis, &set, bytes), want);
    }
    // At the limit is fine.
    let mut c = ours.client();
    let value = "v".repeat(1 << 20);
    assert_eq!(c.cmd(&["SET", "k", &value]), "+OK\r\n");
    assert_eq!(c.cmd(&["STRLEN", "k"]), ":1048576\r\n");
}

#[test]
fn unauthenticated_clients_get_small_limits() {
    let (ours, redis) = (Server::start(), Server::start_redis());
    for server in std::iter::once(&ours).chain(redis.as_ref()) {
        let mut before = server.client();
        // Served before the password is set (a connection not yet accepted would start unauthenticated).
        assert_eq!(before.cmd(&["PING"]), "+PONG\r\n");
        assert_eq!(
            server.client().cmd(&["CONFIG", "SET", "requirepass", "pw"]),
            "+OK\r\n"
        );
        let cases: &[(&[u8], &[u8], bool)] = &[
            (b"*11\r\n", b"-ERR Protocol error: unauthenticated multibulk length\r\n", true),
            (b"*1\r\n$16385\r\n", b"-ERR Protocol error: unauthenticated bulk length\r\n", true),
            // Invalid lengths are reported as invalid, whatever the client's state.
            (b"*1\r\n$-2\r\n", b"-ERR Protocol error: invalid bulk length\r\n", true),
            (b"*10\r\n$16384\r\n", b"", false),
            // Once AUTH succeeds, the next request in the same batch may be big.
            (
                b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*12\r\n$4\r\nECHO\r\n$20000\r\n",
                b"+OK\r\n",
                false,
            ),
            (
                b"*2\r\n$4\r\nAUTH\r\n$2\r\nno\r\n*11\r\n",
                b"-WRONGPASS invalid username-password pair or user is disabled.\r\n-ERR Protocol error: unauthenticated multibulk length\r\n",
                true,
            ),
        ];
        for (bytes, want, closed) in cases {
            let got = exchange(server.port, bytes);
            assert_eq!(
                (String::from_utf8_lossy(&got.0), got.1),
                (String::from_utf8_lossy(want), *closed),
                "for {:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        // A client connected before the password was set stays authenticated.
        before.send_raw(&[&b"*11\r\n$4\r\nECHO\r\n"[..], &b"$1\r\nx\r\n".repeat(10)].concat());
        assert_eq!(
            before.read_reply(),
            "-ERR wrong number of arguments for 'echo' command\r\n"
        );
    }
}

/// A SET whose value is over the limit, sent until the server closes the connection.
fn oversized_set() -> Vec<u8> {
    let mut bytes = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n".to_vec();
    bytes.resize(bytes.len() + 1_100_000, b'v');
    bytes
}

/// An MSET of 1.5 MB whose every argument is under the limit: Redis counts only what is not parsed yet.
fn big_mset() -> Vec<u8> {
    let mut bytes = b"*11\r\n$4\r\nMSET\r\n".to_vec();
    for i in 0..5 {
        bytes.extend_from_slice(format!("$2\r\nk{i}\r\n$300000\r\n").as_bytes());
        bytes.resize(bytes.len() + 300_000, b'v');
        bytes.extend_from_slice(b"\r\n");
    }
    bytes
}

#[test]
fn query_buffer_limit_closes_the_client() {
    let log = std::env::temp_dir().join(format!("ferredis-qbl-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let log_arg = log.to_string_lossy().into_owned();
    let ours = Server::start_with(&["--logfile", &log_arg, "--loglevel", "verbose"]);
    let redis = Server::start_redis();
    for server in std::iter::once(&ours).chain(redis.as_ref()) {
        let set = ["CONFIG", "SET", "client-query-buffer-limit", "1mb"];
        assert_eq!(server.client().cmd(&set), "+OK\r\n");
        assert_eq!(exchange(server.port, &oversized_set()), (Vec::new(), true));
        assert_eq!(exchange(server.port, &big_mset()).0, b"+OK\r\n");
        assert_eq!(server.client().cmd(&["STRLEN", "k4"]), ":300000\r\n");
        assert_eq!(server.client().cmd(&["EXISTS", "k"]), ":0\r\n");
    }
    let info = ours.client().cmd(&["INFO", "stats"]);
    assert!(info.contains("\r\nclient_query_buffer_limit_disconnections:1\r\n"));
    assert_eq!(
        ours.client().cmd(&["CONFIG", "RESETSTAT"]),
        "+OK\r\n",
        "reset"
    );
    let info = ours.client().cmd(&["INFO", "stats"]);
    assert!(info.contains("\r\nclient_query_buffer_limit_disconnections:0\r\n"));

    // Redis's warning, with the client and the first 64 bytes not parsed; protocol errors at verbose level.
    assert!(exchange(ours.port, b"*1\r\nx\r\n").1);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let text = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("Protocol error") || std::time::Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = std::fs::remove_file(&log);
    let warning = "Closing client that reached max query buffer length: id=";
    assert!(text.contains(warning), "{text}");
    let qbuf = format!(" (qbuf initial bytes: \"{}\")\n", "v".repeat(64));
    assert!(text.contains(&qbuf), "{text}");
    let protocol = text
        .lines()
        .find(|l| l.contains("Protocol error ("))
        .unwrap_or_default();
    assert!(
        protocol.contains("Protocol error (expected $ but got something else) from client: id="),
        "{protocol}"
    );
    assert!(
        protocol.ends_with(" resp=2 lib-name= lib-ver=. Query buffer during protocol error: 'x..'"),
        "{protocol}"
    );
}

#[test]
fn protocol_errors_count_in_errorstats() {
    let (ours, redis) = (Server::start(), Server::start_redis());
    for server in std::iter::once(&ours).chain(redis.as_ref()) {
        assert!(exchange(server.port, b"*x\r\n").1);
        assert!(exchange(server.port, b"*1\r\n\xff\r\n").1);
        let stats = server.client().cmd(&["INFO", "errorstats"]);
        assert!(stats.contains("\r\nerrorstat_ERR:count=2\r\n"), "{stats}");
        let info = server.client().cmd(&["INFO", "stats"]);
        assert!(info.contains("\r\ntotal_error_replies:2\r\n"), "{info}");
    }
}
