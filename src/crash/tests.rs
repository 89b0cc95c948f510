//! A panic in a command handler writes the report, and the server goes on (the connection closes only the
//! panicking client: `server::test_commands`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::server::test_commands::{roundtrip, serve_forever};
use crate::server::Server;

#[test]
fn a_handler_panic_is_reported_and_the_server_goes_on() {
    let dir = std::env::temp_dir().join(format!("ferredis-crash-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("report.log");
    let _ = std::fs::remove_file(&log);
    super::rawlog::init(log.to_str().unwrap());
    super::install_panic_hook();
    let server = Server::new(Config::new());
    super::attach(&server);
    let port = serve_forever(server);

    let mut victim = TcpStream::connect(("127.0.0.1", port)).unwrap();
    victim.write_all(b"test-panic k\r\n").unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(
        victim.read(&mut buf).unwrap(),
        0,
        "the panicking client is closed"
    );

    let report = wait_for_report(&log);
    let expected = [
        "=== REDIS BUG REPORT START: Cut & paste starting from here ===",
        "# !!! Software Failure. Press left mouse button to continue",
        "# Guru Meditation: test-panic: a handler bug #src/server/test_commands.rs:",
        "------ STACK TRACE ------",
        "test_commands::panic_midway",
        "------ INFO OUTPUT ------",
        "# Server\r\nredis_version:7.0.15",
        "------ CLIENT LIST OUTPUT ------",
        "=== REDIS BUG REPORT END. Make sure to include from START to END. ===",
    ];
    let mut at = 0;
    for part in expected {
        let found = report[at..].find(part);
        assert!(found.is_some(), "{part:?} (in order) in:\n{report}");
        at += found.unwrap_or(0) + part.len();
    }
    let mut other = TcpStream::connect(("127.0.0.1", port)).unwrap();
    assert_eq!(roundtrip(&mut other, b"PING\r\n"), b"+PONG\r\n");
}

/// The log once it holds a whole report (other tests' panics may add reports of their own after it).
fn wait_for_report(log: &std::path::Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains("=== REDIS BUG REPORT END") || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
