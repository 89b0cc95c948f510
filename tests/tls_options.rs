//! The TLS options rustls cannot honour as OpenSSL does (tls-protocols TLSv1/TLSv1.1, tls-ciphers naming CBC or
//! RSA-key-exchange suites, CCM suites in tls-ciphersuites): CONFIG SET answers as redis-server does, the log
//! says what is not available, and the handshakes that follow are what the accepted parts allow. Also
//! tls-prefer-server-ciphers, an X.509 v1 server certificate (OpenSSL takes it, webpki alone would not), and a
//! client that does not speak TLS on the TLS port (closed without an answer, as by OpenSSL).

mod common;
mod tls_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::ring;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::version::{TLS12, TLS13};
use rustls::{ClientConfig, ClientConnection, RootCertStore, SupportedCipherSuite};

use common::{free_port, Server};
use tls_support::{Certs, TlsServer};

/// CONFIG SET of each value in turn, the accepted ones reset afterwards (the replies are the test).
fn config_replies(s: &TlsServer) -> Vec<String> {
    let mut c = s.server.client();
    let cases: &[(&str, &[&str])] = &[
        (
            "tls-ciphers",
            &[
                "FOO",
                "FOO:AES128-SHA256",
                "AES128-SHA256:AES256-SHA256",
                "DEFAULT:-AES128-SHA256",
                "HIGH:!aNULL",
                "kRSA",
                "ECDHE+AESGCM",
                "ECDHE-ECDSA-AES128-GCM-SHA256",
                "-ALL",
                "RC4-MD5",
                "NULL-SHA",
                "",
            ],
        ),
        (
            "tls-ciphersuites",
            &[
                "FOO",
                "TLS_AES_128_CCM_SHA256",
                "FOO:TLS_AES_128_CCM_8_SHA256",
                "TLS_AES_256_GCM_SHA384",
                "",
            ],
        ),
        (
            "tls-protocols",
            &[
                "TLSv1",
                "TLSv1 TLSv1.1",
                "tlsv1.3",
                "SSLv3",
                "TLSv1.2  TLSv1.3",
                "",
            ],
        ),
        ("tls-prefer-server-ciphers", &["yes", "maybe", "no"]),
        (
            "tls-dh-params-file",
            &["/nonexistent/dh", "/proc/self/status", ""],
        ),
    ];
    let mut out = Vec::new();
    for (name, values) in cases {
        for value in *values {
            out.push(c.cmd(&["CONFIG", "SET", name, value]));
        }
        out.push(c.cmd(&["CONFIG", "GET", name]));
    }
    out
}

#[test]
fn config_set_of_openssl_only_values_answers_as_redis() {
    let certs = Certs::make("options");
    let s = TlsServer::start(&certs, &[]);
    let ours = config_replies(&s);
    let refused = "-ERR CONFIG SET failed (possibly related to argument 'tls-ciphers') - Unable to update TLS configuration. Check server logs.\r\n";
    assert_eq!(ours[0], refused);
    assert_eq!(ours[1], "+OK\r\n");
    let Some(r) = TlsServer::start_redis(&certs, &[]) else {
        return;
    };
    assert_eq!(ours, config_replies(&r));
}

/// A client offering only `versions` and `suites` (all of rustls's when empty), with the client certificate.
fn client(
    certs: &Certs,
    versions: &[&'static rustls::SupportedProtocolVersion],
    suites: &[SupportedCipherSuite],
) -> Arc<ClientConfig> {
    let suites = match suites {
        [] => ring::ALL_CIPHER_SUITES.to_vec(),
        some => some.to_vec(),
    };
    let provider = rustls::crypto::CryptoProvider {
        cipher_suites: suites,
        ..ring::default_provider()
    };
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(certs.path("ca.crt")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let chain = CertificateDer::pem_file_iter(certs.path("client.crt"))
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let key = PrivateKeyDer::from_pem_file(certs.path("client.key")).unwrap();
    let config = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .unwrap();
    Arc::new(config)
}

/// The suite the handshake settles on and the PING reply, or the error that ended it.
fn handshake(port: u16, config: Arc<ClientConfig>) -> Result<String, String> {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut conn = ClientConnection::new(config, name).map_err(|e| e.to_string())?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp).map_err(|e| e.to_string())?;
    }
    let suite = format!("{:?}", conn.negotiated_cipher_suite().unwrap().suite());
    let mut stream = rustls::Stream::new(&mut conn, &mut tcp);
    stream.write_all(b"PING\r\n").map_err(|e| e.to_string())?;
    let mut buf = [0u8; 7];
    stream.read_exact(&mut buf).map_err(|e| e.to_string())?;
    Ok(format!(
        "{suite} {}",
        String::from_utf8_lossy(&buf).trim_end()
    ))
}

#[test]
fn what_rustls_lacks_is_logged_and_the_rest_is_negotiated() {
    let certs = Certs::make("lacks");
    let log = certs.path("ferredis.log");
    let s = TlsServer::start(&certs, &["--logfile", &log]);
    let mut admin = s.server.client();
    let set = |c: &mut common::Client, name: &str, value: &str| {
        assert_eq!(
            c.cmd(&["CONFIG", "SET", name, value]),
            "+OK\r\n",
            "{name} {value}"
        );
    };
    let v12 = |suites: &[SupportedCipherSuite]| client(&certs, &[&TLS12], suites);
    let v13 = client(&certs, &[&TLS13], &[]);
    let gcm128 = ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
    let gcm256 = ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384;

    // Only names rustls lacks for TLS 1.2: TLS 1.2 handshakes fail, TLS 1.3 (tls-ciphersuites) is untouched.
    set(&mut admin, "tls-ciphers", "AES128-SHA256:AES256-SHA256");
    assert!(handshake(s.tls_port, v12(&[])).is_err());
    assert_eq!(
        handshake(s.tls_port, v13.clone()),
        Ok("TLS13_AES_256_GCM_SHA384 +PONG".into())
    );
    // A name rustls has beside them: that one is used.
    set(
        &mut admin,
        "tls-ciphers",
        "AES128-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256",
    );
    assert_eq!(
        handshake(s.tls_port, v12(&[])),
        Ok("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 +PONG".into())
    );
    assert!(handshake(s.tls_port, v12(&[gcm256])).is_err());

    // TLSv1 alone: valid, but nothing rustls can speak, so every handshake fails; with TLSv1.2 beside it, 1.2.
    set(&mut admin, "tls-protocols", "TLSv1");
    assert!(handshake(s.tls_port, v13.clone()).is_err());
    set(&mut admin, "tls-protocols", "TLSv1 TLSv1.2");
    assert!(handshake(s.tls_port, v13.clone()).is_err());
    assert!(handshake(s.tls_port, v12(&[gcm128])).is_ok());

    // tls-prefer-server-ciphers: the client's order (256 first) unless the server's (128 first) is preferred.
    set(
        &mut admin,
        "tls-ciphers",
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384",
    );
    let prefers_256 = || v12(&[gcm256, gcm128]);
    assert_eq!(
        handshake(s.tls_port, prefers_256()),
        Ok("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 +PONG".into())
    );
    set(&mut admin, "tls-prefer-server-ciphers", "yes");
    assert_eq!(
        handshake(s.tls_port, prefers_256()),
        Ok("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 +PONG".into())
    );

    set(
        &mut admin,
        "tls-ciphersuites",
        "TLS_AES_128_CCM_SHA256:TLS_AES_128_GCM_SHA256",
    );
    let refused = admin.cmd(&["CONFIG", "SET", "tls-dh-params-file", "/nonexistent/dh"]);
    assert!(refused.starts_with("-ERR CONFIG SET failed"), "{refused}");
    let text = std::fs::read_to_string(&log).unwrap();
    for line in [
        "# tls-ciphers: AES128-SHA256, AES256-SHA256 not available in ferredis",
        "# tls-ciphers: AES128-SHA256 not available in ferredis",
        "# tls-protocols: TLSv1 is not available in ferredis (rustls implements TLSv1.2 and TLSv1.3 only)",
        "every TLS handshake will fail",
        "# tls-ciphersuites: TLS_AES_128_CCM_SHA256 not available in ferredis",
        "# Failed to load /nonexistent/dh: No such file or directory",
    ] {
        assert!(text.contains(line), "{line:?} not in the log:\n{text}");
    }
}

/// `openssl` makes certificates as Redis's utils/gen-test-certs.sh does: without extensions, OpenSSL 3.0
/// writes X.509 v1, which webpki refuses to parse.
fn openssl_v1_cert(certs: &Certs, name: &str) {
    let key = certs.path(&format!("{name}.key"));
    let csr = certs.path(&format!("{name}.csr"));
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl");
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
    };

    run(&["genrsa", "-out", &key, "2048"]);
    run(&[
        "req", "-new", "-sha256", "-subj", "/CN=v1", "-key", &key, "-out", &csr,
    ]);
    run(&[
        "x509",
        "-req",
        "-sha256",
        "-in",
        &csr,
        "-CA",
        &certs.path("ca.crt"),
        "-CAkey",
        &certs.path("ca.key"),
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        &certs.path(&format!("{name}.crt")),
    ]);
}

#[test]
fn a_v1_certificate_is_served_and_a_foreign_key_refused() {
    let certs = Certs::make("v1");
    openssl_v1_cert(&certs, "v1");
    let text = String::from_utf8(std::fs::read(certs.path("v1.crt")).unwrap()).unwrap();
    let parsed = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in", &certs.path("v1.crt")])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&parsed.stdout).contains("Version: 1 (0x0)"),
        "{text}"
    );

    let tls_port = free_port();
    let args = [
        "--tls-port",
        &tls_port.to_string(),
        "--tls-cert-file",
        &certs.path("v1.crt"),
        "--tls-key-file",
        &certs.path("v1.key"),
        "--tls-ca-cert-file",
        &certs.path("ca.crt"),
        "--tls-auth-clients",
        "no",
    ];
    let s = TlsServer {
        server: Server::start_with(&args),
        tls_port,
    };
    tls_support::wait_listening(tls_port);
    let out = Command::new("redis-cli")
        .args([
            "-p",
            &tls_port.to_string(),
            "--tls",
            "--cacert",
            &certs.path("ca.crt"),
            "PING",
        ])
        .output()
        .expect("redis-cli");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "PONG\n", "{out:?}");

    // The v1 certificate with another key: refused, as OpenSSL's key check refuses it.
    let mut admin = s.server.client();
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "tls-key-file", &certs.path("client.key")]),
        "-ERR CONFIG SET failed (possibly related to argument 'tls-key-file') - Unable to update TLS configuration. Check server logs.\r\n"
    );
}

#[test]
fn a_client_speaking_plain_resp_on_the_tls_port_gets_no_answer() {
    let certs = Certs::make("plain");
    let s = TlsServer::start(&certs, &[]);
    let mut plain = TcpStream::connect(("127.0.0.1", s.tls_port)).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    plain.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
    let mut got = Vec::new();
    let ended = plain.read_to_end(&mut got);
    assert!(
        matches!(&ended, Ok(0))
            || matches!(&ended, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
        "{ended:?}"
    );
    assert!(
        got.is_empty(),
        "a plain client read {got:?} (a TLS alert is not RESP)"
    );
}
