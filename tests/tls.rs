//! TLS (`tls-port` and the `tls-*` parameters): a rustls client and redis-cli --tls against ferredis, client
//! certificates required, optional and ignored, handshakes that stall or send garbage, CONFIG SET replies
//! compared with redis-server's. Certificates are made by rcgen for each test.

mod common;
mod tls_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{free_port, Server};
use tls_support::{Certs, TlsClient, TlsServer};

#[test]
fn a_rust_client_reads_and_writes_over_tls_beside_plain_clients() {
    let certs = Certs::make("rw");
    let s = TlsServer::start(&certs, &[]);
    let mut c = TlsClient::connect(s.tls_port, certs.client_config(Some("client"))).unwrap();
    assert_eq!(c.cmd(&["SET", "k", "v"]).unwrap(), "+OK\r\n");
    assert_eq!(s.server.client().cmd(&["GET", "k"]), "$1\r\nv\r\n");
    // A value larger than a TLS record, both ways.
    let big = "x".repeat(1 << 20);
    assert_eq!(c.cmd(&["SET", "big", &big]).unwrap(), "+OK\r\n");
    assert_eq!(
        c.cmd(&["GET", "big"]).unwrap(),
        format!("${}\r\n{big}\r\n", big.len())
    );
    // A pipeline sent in one write: every reply, in order.
    let mut batch = Vec::new();
    for i in 0..200 {
        batch.extend(common::Client::encode(&[b"ECHO", i.to_string().as_bytes()]));
    }
    c.send_raw(&batch);
    for i in 0..200 {
        let n = i.to_string();
        assert_eq!(c.read_reply().unwrap(), format!("${}\r\n{n}\r\n", n.len()));
    }
    assert_eq!(c.cmd(&["QUIT"]).unwrap(), "+OK\r\n");
}

#[test]
fn a_subscriber_over_tls_receives_what_plain_clients_publish() {
    let certs = Certs::make("sub");
    let s = TlsServer::start(&certs, &[]);
    let mut sub = TlsClient::connect(s.tls_port, certs.client_config(Some("client"))).unwrap();
    assert_eq!(
        sub.cmd(&["SUBSCRIBE", "ch"]).unwrap(),
        "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
    );
    assert_eq!(s.server.client().cmd(&["PUBLISH", "ch", "hi"]), ":1\r\n");
    assert_eq!(
        sub.read_reply().unwrap(),
        "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
    );
    assert_eq!(
        sub.cmd(&["UNSUBSCRIBE"]).unwrap(),
        "*3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n"
    );
    assert_eq!(sub.cmd(&["PING"]).unwrap(), "+PONG\r\n");
}

/// Whether CLIENT LIST shows a client named `name` at some point within 10 s (`present`), or stops showing it.
fn listed_within(admin: &mut common::Client, name: &str, present: bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let list = admin.cmd(&["CLIENT", "LIST"]);
        if list.contains(&format!("name={name} ")) == present {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn a_tls_client_that_never_reads_is_closed_at_its_output_limit() {
    let certs = Certs::make("obuf");
    let s = TlsServer::start(&certs, &["--client-output-buffer-limit", "normal 1mb 0 0"]);
    let mut admin = s.server.client();
    let big = "v".repeat(100_000);
    assert_eq!(admin.cmd(&["SET", "big", &big]), "+OK\r\n");
    let mut c = TlsClient::connect(s.tls_port, certs.client_config(Some("client"))).unwrap();
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "tlsbig"]).unwrap(), "+OK\r\n");
    // 10 MB of replies it never reads: its replies wait (sealed) on the connection until the limit closes it,
    // as a plain client's do, instead of the connection thread sleeping in a write.
    let mut batch = Vec::new();
    for _ in 0..100 {
        batch.extend(common::Client::encode(&[b"GET", b"big"]));
    }
    c.send_raw(&batch);
    assert!(listed_within(&mut admin, "tlsbig", false), "never closed");
    assert_eq!(admin.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn replies_and_invalidations_a_tls_client_has_not_read_wait_and_arrive_intact() {
    let certs = Certs::make("queue");
    let s = TlsServer::start(&certs, &[]);
    let mut admin = s.server.client();
    let big = "v".repeat(100_000);
    assert_eq!(admin.cmd(&["SET", "big", &big]), "+OK\r\n");
    let mut c = TlsClient::connect(s.tls_port, certs.client_config(Some("client"))).unwrap();
    assert!(c.cmd(&["HELLO", "3"]).unwrap().starts_with("%7\r\n"));
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "tlsq"]).unwrap(), "+OK\r\n");
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "on", "BCAST"]).unwrap(),
        "+OK\r\n"
    );
    // 5 MB of replies it does not read yet, then invalidations sealed by the writer's thread into the same
    // session while those replies wait: records must leave in the order they were sealed.
    let mut batch = Vec::new();
    for _ in 0..50 {
        batch.extend(common::Client::encode(&[b"GET", b"big"]));
    }
    c.send_raw(&batch);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let list = admin.cmd(&["CLIENT", "LIST"]);
        let waiting = list
            .lines()
            .find(|l| l.contains("name=tlsq "))
            .is_some_and(|l| !l.contains(" omem=0 "));
        if waiting {
            break;
        }
        assert!(Instant::now() < deadline, "no reply waits: {list}");
        std::thread::sleep(Duration::from_millis(10));
    }
    for i in 0..20 {
        assert_eq!(admin.cmd(&["SET", "other", &i.to_string()]), "+OK\r\n");
    }
    let (mut replies, mut pushes) = (0, 0);
    for _ in 0..70 {
        let got = c.read_reply().unwrap();
        if got == format!("$100000\r\n{big}\r\n") {
            replies += 1;
        } else {
            assert_eq!(got, ">2\r\n$10\r\ninvalidate\r\n*1\r\n$5\r\nother\r\n");
            pushes += 1;
        }
    }
    assert_eq!((replies, pushes), (50, 20));
    assert_eq!(c.cmd(&["PING"]).unwrap(), "+PONG\r\n");
}

/// Whether a client presenting `who`'s certificate gets an answer to PING (TLS 1.3 refuses a client certificate
/// after the client's side of the handshake is done: the refusal shows on the first read).
fn served(s: &TlsServer, certs: &Certs, who: Option<&str>) -> bool {
    TlsClient::connect(s.tls_port, certs.client_config(who))
        .and_then(|mut c| c.cmd(&["PING"]))
        .is_ok_and(|r| r == "+PONG\r\n")
}

#[test]
fn tls_auth_clients_yes_optional_and_no() {
    let certs = Certs::make("auth");
    let s = TlsServer::start(&certs, &[]);
    let mut admin = s.server.client();
    assert!(served(&s, &certs, Some("client")));
    assert!(!served(&s, &certs, None), "no certificate, yet served");
    assert!(
        !served(&s, &certs, Some("stranger")),
        "unknown CA, yet served"
    );
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "tls-auth-clients", "optional"]),
        "+OK\r\n"
    );
    assert!(served(&s, &certs, None));
    assert!(served(&s, &certs, Some("client")));
    assert!(
        !served(&s, &certs, Some("stranger")),
        "optional still checks what is shown"
    );
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "tls-auth-clients", "no"]),
        "+OK\r\n"
    );
    assert!(served(&s, &certs, None));
    // A CA directory instead of a file.
    admin.cmd(&["CONFIG", "SET", "tls-auth-clients", "yes"]);
    assert!(!served(&s, &certs, None));
    let dir = certs.dir.join("cadir");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(certs.path("ca.crt"), dir.join("ca.pem")).unwrap();
    let dir = dir.display().to_string();
    assert_eq!(
        admin.cmd(&[
            "CONFIG",
            "SET",
            "tls-ca-cert-file",
            "",
            "tls-ca-cert-dir",
            &dir
        ]),
        "+OK\r\n"
    );
    assert!(served(&s, &certs, Some("client")));
    assert!(!served(&s, &certs, None));
}

/// Reads until the server closes the connection; true if it did before `within`.
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
        if start.elapsed() > within {
            return false;
        }
    }
}

#[test]
fn a_stalled_or_garbage_handshake_costs_one_connection() {
    let certs = Certs::make("stall");
    let s = TlsServer::start(&certs, &["--timeout", "1"]);
    let mut silent = TcpStream::connect(("127.0.0.1", s.tls_port)).unwrap();
    let mut garbage = TcpStream::connect(("127.0.0.1", s.tls_port)).unwrap();
    garbage.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
    assert!(closed_within(&mut garbage, Duration::from_secs(5)));
    // While the silent one holds its thread, others are served, over TLS and in clear.
    assert!(served(&s, &certs, Some("client")));
    assert_eq!(s.server.client().cmd(&["PING"]), "+PONG\r\n");
    assert!(
        closed_within(&mut silent, Duration::from_secs(5)),
        "a client that never finishes its handshake is closed after the limit"
    );
    // A trickle of valid bytes is bounded by the same limit in all.
    let mut trickle = TcpStream::connect(("127.0.0.1", s.tls_port)).unwrap();
    let start = Instant::now();
    trickle.write_all(&[0x16, 0x03, 0x01]).unwrap();
    assert!(closed_within(&mut trickle, Duration::from_secs(5)));
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "closed before its time"
    );
    let info = s.server.client().cmd(&["INFO", "clients"]);
    assert!(info.contains("connected_clients:1\r\n"), "{info}");
}

fn redis_cli(certs: &Certs, port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args([
            "-p",
            &port.to_string(),
            "--tls",
            "--cacert",
            &certs.path("ca.crt"),
        ])
        .args([
            "--cert",
            &certs.path("client.crt"),
            "--key",
            &certs.path("client.key"),
        ])
        .args(args)
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// CONFIG SET replies (errors included) for the `tls-*` parameters, then redis-cli --tls, on one server.
fn config_and_cli_session(certs: &Certs, s: &TlsServer) -> Vec<String> {
    let encrypted = certs.path("server.key.enc");
    let converted = Command::new("openssl")
        .args([
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-passout",
            "pass:1234",
        ])
        .args(["-in", &certs.path("server.key"), "-out", &encrypted])
        .status()
        .expect("openssl");
    assert!(converted.success());
    let mut c = s.server.client();
    let mut out = Vec::new();
    for args in [
        &["CONFIG", "SET", "tls-ciphers", "NO-SUCH-CIPHER"][..],
        &["CONFIG", "SET", "tls-ciphersuites", "TLS_NO_SUCH_SUITE"],
        &["CONFIG", "SET", "tls-protocols", "TLSv9"],
        &["CONFIG", "SET", "tls-key-file", "/nonexistent/key"],
        &["CONFIG", "SET", "tls-cert-file", "/nonexistent/cert"],
        &["CONFIG", "SET", "tls-key-file", &encrypted],
        &["CONFIG", "SET", "tls-key-file-pass", "1234"],
        &["CONFIG", "SET", "tls-key-file", &encrypted],
        &["CONFIG", "SET", "tls-protocols", "TLSv1.2"],
        &[
            "CONFIG",
            "SET",
            "tls-ciphers",
            "DEFAULT:-ECDHE-ECDSA-AES128-GCM-SHA256",
        ],
        &["CONFIG", "SET", "tls-auth-clients", "maybe"],
        &["CONFIG", "SET", "tls-replication", "yes"],
        &["CONFIG", "GET", "tls-replication"],
        &["CONFIG", "GET", "tls-protocols"],
    ] {
        out.push(c.cmd(args));
    }
    for args in [
        &["SET", "k", "v"][..],
        &["GET", "k"],
        &["LPUSH", "l", "a", "b"],
        &["LRANGE", "l", "0", "-1"],
    ] {
        out.push(redis_cli(certs, s.tls_port, args));
    }
    out
}

#[test]
fn config_set_and_redis_cli_as_redis_server() {
    let certs = Certs::make("cli");
    let s = TlsServer::start(&certs, &[]);
    let ours = config_and_cli_session(&certs, &s);
    assert_eq!(ours[0], "-ERR CONFIG SET failed (possibly related to argument 'tls-ciphers') - Unable to update TLS configuration. Check server logs.\r\n");
    assert_eq!(ours[ours.len() - 2], "2\n");
    let Some(r) = TlsServer::start_redis(&certs, &[]) else {
        return;
    };
    assert_eq!(ours, config_and_cli_session(&certs, &r));
}

#[test]
fn config_set_tls_port_moves_and_closes_the_tls_listener() {
    let certs = Certs::make("port");
    let s = TlsServer::start(&certs, &[]);
    let mut admin = s.server.client();
    let moved = free_port();
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "tls-port", &moved.to_string()]),
        "+OK\r\n"
    );
    assert_eq!(
        admin.cmd(&["CONFIG", "GET", "tls-port"]),
        format!(
            "*2\r\n$8\r\ntls-port\r\n${}\r\n{moved}\r\n",
            moved.to_string().len()
        )
    );
    let moved_server = TlsServer {
        server: Server::start_with(&[]),
        tls_port: moved,
    };
    assert!(served(&moved_server, &certs, Some("client")));
    // Whether this server still listens, from /proc: another test's server may take a port it gave up.
    let pid = s.server.pid();
    assert!(!common::listens_on(pid, s.tls_port));
    assert_eq!(admin.cmd(&["CONFIG", "SET", "tls-port", "0"]), "+OK\r\n");
    assert!(!common::listens_on(pid, moved));
    assert_eq!(admin.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn a_tls_port_without_certificates_stops_the_start() {
    let port = free_port().to_string();
    let tls_port = free_port().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_ferredis"))
        .args(["--port", &port, "--tls-port", &tls_port, "--save", ""])
        .output()
        .expect("ferredis");
    assert!(!out.status.success());
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("No tls-cert-file configured!"), "{log}");
    assert!(
        log.contains("Failed to configure TLS. Check logs for more info."),
        "{log}"
    );
}

fn used_memory(s: &Server) -> i64 {
    let info = s.client().cmd(&["INFO", "memory"]);
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no used_memory in {info}"))
}

/// `tls-session-cache-size` bounds the TLS 1.2 session-id cache without reserving it: a TLS server at rest uses
/// about what a plain one does (rustls's own cache took 2.1 MB for the default 20480 sessions, which made the
/// suite's maxmemory tests evict keys over TLS before any client), sessions resume, the oldest goes first once
/// the cache is full, and `tls-session-caching no` resumes nothing.
#[test]
fn tls12_sessions_resume_from_a_cache_that_grows_as_it_fills() {
    let certs = Certs::make("sessions");
    let s = TlsServer::start(&certs, &[]);
    let plain = Server::start();
    let extra = used_memory(&s.server) - used_memory(&plain);
    assert!(
        extra < 512 * 1024,
        "a TLS server at rest holds {extra} B more"
    );

    let a = certs.tls12_session_id_client();
    let first = TlsClient::connect(s.tls_port, a.clone()).unwrap();
    assert!(!first.resumed());
    let mut again = TlsClient::connect(s.tls_port, a.clone()).unwrap();
    assert!(again.resumed());
    assert_eq!(again.cmd(&["PING"]).unwrap(), "+PONG\r\n");

    // Room for one session: a second client's pushes the first one's out.
    assert_eq!(
        s.server
            .client()
            .cmd(&["CONFIG", "SET", "tls-session-cache-size", "1"]),
        "+OK\r\n"
    );
    let a = certs.tls12_session_id_client();
    let b = certs.tls12_session_id_client();
    assert!(!TlsClient::connect(s.tls_port, a.clone()).unwrap().resumed());
    assert!(!TlsClient::connect(s.tls_port, b.clone()).unwrap().resumed());
    assert!(TlsClient::connect(s.tls_port, b.clone()).unwrap().resumed());
    assert!(!TlsClient::connect(s.tls_port, a.clone()).unwrap().resumed());

    assert_eq!(
        s.server
            .client()
            .cmd(&["CONFIG", "SET", "tls-session-caching", "no"]),
        "+OK\r\n"
    );
    let c = certs.tls12_session_id_client();
    assert!(!TlsClient::connect(s.tls_port, c.clone()).unwrap().resumed());
    assert!(!TlsClient::connect(s.tls_port, c).unwrap().resumed());
}
