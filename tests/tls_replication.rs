//! Replication over TLS (`tls-replication yes`): a replica dials its master's TLS port, presenting
//! `tls-client-cert-file` (or `tls-cert-file`) and checking the master's chain against `tls-ca-cert-file`.
//! ferredis to ferredis, and both directions with redis-server: full sync from disk and diskless, WAIT, a
//! partial resync (`+CONTINUE`) after the link is killed; a master whose certificate the replica's CA did not
//! sign is refused. Datasets are compared with DEBUG DIGEST.

mod common;
mod tls_support;

use std::time::{Duration, Instant};

use common::Client;
use tls_support::{Certs, TlsServer};

fn info(c: &mut Client, section: &str, field: &str) -> String {
    let text = c.cmd(&["info", section]);
    text.split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
        .unwrap_or_default()
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The arguments every node gets: TLS replication, DEBUG DIGEST, diskless syncs that start at once.
fn args<'a>(diskless: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--tls-replication",
        "yes",
        "--enable-debug-command",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
        "--repl-diskless-sync",
        diskless,
    ];
    args.extend_from_slice(extra);
    args
}

fn ferredis(certs: &Certs, diskless: &str, extra: &[&str]) -> TlsServer {
    TlsServer::start(certs, &args(diskless, extra))
}

fn redis(certs: &Certs, diskless: &str) -> TlsServer {
    TlsServer::start_redis(certs, &args(diskless, &[])).expect("redis-server")
}

fn fill(c: &mut Client, n: usize) {
    for i in 0..n {
        c.send(&["set", &format!("k{i}"), &i.to_string()]);
        c.send(&["rpush", &format!("l{i}"), "a", "b"]);
    }
    for _ in 0..2 * n {
        c.read_reply();
    }
}

/// Waits until the replica's offset is the master's and the digests agree.
fn assert_in_sync(master: &TlsServer, replica: &TlsServer) {
    let (mut m, mut r) = (master.server.client(), replica.server.client());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let caught_up = info(&mut r, "replication", "master_link_status") == "up"
            && info(&mut r, "replication", "slave_repl_offset")
                == info(&mut m, "replication", "master_repl_offset");
        let digest = m.cmd(&["debug", "digest"]);
        if caught_up && r.cmd(&["debug", "digest"]) == digest {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not in sync: {} / {}",
            m.cmd(&["info", "keyspace"]),
            r.cmd(&["info", "keyspace"])
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Full sync while a client writes, WAIT, then a killed link resumed from the backlog.
fn full_then_partial(master: &TlsServer, replica: &TlsServer) {
    let mut m = master.server.client();
    fill(&mut m, 300);
    let port = master.server.port;
    let writer = std::thread::spawn(move || {
        let mut c = Client::connect(port);
        for i in 0..300 {
            assert_eq!(c.cmd(&["incr", "counter"]), format!(":{}\r\n", i + 1));
        }
    });
    let mut r = replica.server.client();
    let to = master.tls_port.to_string();
    assert_eq!(r.cmd(&["replicaof", "127.0.0.1", &to]), "+OK\r\n");
    wait_until("link up", || {
        info(&mut r, "replication", "master_link_status") == "up"
    });
    writer.join().unwrap();
    assert_in_sync(master, replica);
    assert_eq!(r.cmd(&["get", "counter"]), "$3\r\n300\r\n");
    assert_eq!(info(&mut m, "stats", "sync_full"), "1");
    assert_eq!(m.cmd(&["set", "w", "1"]), "+OK\r\n");
    assert_eq!(m.cmd(&["wait", "1", "5000"]), ":1\r\n");
    assert_eq!(m.cmd(&["client", "kill", "type", "replica"]), ":1\r\n");
    assert_eq!(m.cmd(&["set", "after", "kill"]), "+OK\r\n");
    wait_until("partial resync", || {
        info(&mut m, "stats", "sync_partial_ok") == "1"
    });
    assert_in_sync(master, replica);
    assert_eq!(info(&mut m, "stats", "sync_full"), "1");
    assert_eq!(r.cmd(&["get", "after"]), "$4\r\nkill\r\n");
    assert_eq!(m.cmd(&["wait", "1", "5000"]), ":1\r\n");
}

#[test]
fn ferredis_replica_of_ferredis_over_tls_disk_and_diskless() {
    let certs = Certs::make("repl-ff");
    let client_cert = [
        "--tls-client-cert-file",
        &certs.path("client.crt"),
        "--tls-client-key-file",
        &certs.path("client.key"),
    ]
    .map(String::from);
    let client_cert: Vec<&str> = client_cert.iter().map(String::as_str).collect();
    for diskless in ["no", "yes"] {
        let master = ferredis(&certs, diskless, &[]);
        let replica = ferredis(&certs, "no", &client_cert);
        full_then_partial(&master, &replica);
    }
}

#[test]
fn redis_replica_of_ferredis_over_tls() {
    let certs = Certs::make("repl-fr");
    for diskless in ["no", "yes"] {
        let master = ferredis(&certs, diskless, &[]);
        let replica = redis(&certs, "no");
        full_then_partial(&master, &replica);
    }
}

/// The replica has no `tls-client-cert-file`: it presents `tls-cert-file`.
#[test]
fn ferredis_replica_of_redis_over_tls() {
    let certs = Certs::make("repl-rf");
    for diskless in ["no", "yes"] {
        let master = redis(&certs, diskless);
        let replica = ferredis(&certs, "no", &[]);
        full_then_partial(&master, &replica);
    }
}

/// A master whose certificate no CA of the replica signed: the replica drops the link at the handshake, says
/// why in its log, and never syncs.
#[test]
fn master_certificate_from_an_unknown_ca_is_refused() {
    let certs = Certs::make("repl-bad");
    let master = ferredis(&certs, "no", &[]);
    let log = certs.path("replica.log");
    let other_ca = certs.path("other-ca.crt");
    let replica = ferredis(
        &certs,
        "no",
        &["--tls-ca-cert-file", &other_ca, "--logfile", &log],
    );
    let mut r = replica.server.client();
    let to = master.tls_port.to_string();
    assert_eq!(r.cmd(&["replicaof", "127.0.0.1", &to]), "+OK\r\n");
    wait_until("the refusal in the log", || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("Error condition on socket for SYNC: invalid peer certificate: UnknownIssuer")
    });
    assert_eq!(info(&mut r, "replication", "master_link_status"), "down");
    let mut m = master.server.client();
    assert_eq!(info(&mut m, "replication", "connected_slaves"), "0");
    assert_eq!(info(&mut m, "stats", "sync_full"), "0");
}

/// An X.509 v1 certificate (no extensions, as Redis's test `redis.crt`) made by the `openssl` tool and signed by
/// `ca`: `name.crt`, `name.key` in the certificates' directory.
fn v1_cert(certs: &Certs, ca: &str, name: &str) {
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(&certs.dir)
            .output()
            .expect("the openssl tool makes the v1 certificate");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let (key, csr, crt) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.crt"),
    );
    run(&["genrsa", "-out", &key, "2048"]);
    run(&[
        "req",
        "-new",
        "-key",
        &key,
        "-subj",
        "/O=Test/CN=v1",
        "-out",
        &csr,
    ]);
    let (ca_crt, ca_key) = (format!("{ca}.crt"), format!("{ca}.key"));
    run(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &ca_crt,
        "-CAkey",
        &ca_key,
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        &crt,
    ]);
    let text = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in", &crt])
        .current_dir(&certs.dir)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("Version: 1 (0x0)"));
}

/// A replica whose `tls-cert-file` is an X.509 v1 certificate (webpki cannot parse those; OpenSSL takes them)
/// presents it to its master, which accepts it when its CA signed it and refuses it otherwise.
#[test]
fn v1_client_certificate_signed_by_the_ca_is_accepted() {
    let certs = Certs::make("repl-v1");
    v1_cert(&certs, "ca", "v1");
    // A second CA with its key, as openssl writes it, to sign a v1 certificate the master does not trust.
    let out = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-new", "-nodes", "-newkey", "rsa:2048", "-keyout", "ca2.key",
        ])
        .args([
            "-subj",
            "/O=Test/CN=ferredis test CA",
            "-days",
            "2",
            "-out",
            "ca2.crt",
        ])
        .current_dir(&certs.dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    v1_cert(&certs, "ca2", "stranger-v1");
    let master = ferredis(&certs, "no", &[]);
    let to = master.tls_port.to_string();
    let (v1_crt, v1_key) = (certs.path("v1.crt"), certs.path("v1.key"));
    let replica = ferredis(
        &certs,
        "no",
        &["--tls-cert-file", &v1_crt, "--tls-key-file", &v1_key],
    );
    let mut r = replica.server.client();
    assert_eq!(r.cmd(&["replicaof", "127.0.0.1", &to]), "+OK\r\n");
    wait_until("link up", || {
        info(&mut r, "replication", "master_link_status") == "up"
    });
    let (bad_crt, bad_key) = (certs.path("stranger-v1.crt"), certs.path("stranger-v1.key"));
    let log = certs.path("stranger.log");
    let stranger = ferredis(
        &certs,
        "no",
        &[
            "--tls-cert-file",
            &bad_crt,
            "--tls-key-file",
            &bad_key,
            "--logfile",
            &log,
        ],
    );
    let mut s = stranger.server.client();
    assert_eq!(s.cmd(&["replicaof", "127.0.0.1", &to]), "+OK\r\n");
    wait_until("the refusal in the log", || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("Error condition on socket for SYNC: ")
    });
    assert_eq!(info(&mut s, "replication", "master_link_status"), "down");
    let mut m = master.server.client();
    assert_eq!(info(&mut m, "replication", "connected_slaves"), "1");
}
