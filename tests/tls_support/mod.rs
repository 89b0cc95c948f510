//! TLS test fixtures: a CA, a server and a client certificate made by rcgen in a scratch directory, a rustls
//! client speaking RESP, and a ferredis (or redis-server) listening on a TLS port beside its plain one.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use rustls::client::Resumption;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use crate::common::{free_port, Server};

/// Certificate files: `ca.crt` (and its `ca.key`), `server.crt`/`server.key`, `client.crt`/`client.key`, and `other-ca.crt` with a
/// `stranger.crt`/`stranger.key` it signed (a client the server's CA does not know).
pub struct Certs {
    pub dir: PathBuf,
}

impl Certs {
    pub fn make(tag: &str) -> Certs {
        let dir = std::env::temp_dir().join(format!("ferredis-tls-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (ca, ca_key) = make_ca("ferredis test CA");
        let write = |name: &str, text: String| std::fs::write(dir.join(name), text).unwrap();
        write("ca.crt", ca.pem());
        write("ca.key", ca_key.serialize_pem());
        for (name, cn) in [("server", "localhost"), ("client", "client")] {
            let (cert, key) = make_leaf(cn, &ca, &ca_key);
            write(&format!("{name}.crt"), cert);
            write(&format!("{name}.key"), key);
        }
        let (other, other_key) = make_ca("another CA");
        write("other-ca.crt", other.pem());
        let (cert, key) = make_leaf("stranger", &other, &other_key);
        write("stranger.crt", cert);
        write("stranger.key", key);
        Certs { dir }
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// The server's arguments for TLS on `tls_port` with these certificates.
    pub fn server_args(&self, tls_port: u16) -> Vec<String> {
        vec![
            "--tls-port".into(),
            tls_port.to_string(),
            "--tls-cert-file".into(),
            self.path("server.crt"),
            "--tls-key-file".into(),
            self.path("server.key"),
            "--tls-ca-cert-file".into(),
            self.path("ca.crt"),
        ]
    }

    /// A rustls client trusting the CA, presenting the certificate `who` (`client`, `stranger`) if any.
    pub fn client_config(&self, who: Option<&str>) -> Arc<ClientConfig> {
        Arc::new(self.client_config_with(who, rustls::DEFAULT_VERSIONS))
    }

    /// A TLS 1.2 client that resumes by session id only (no tickets), with a session store of its own.
    pub fn tls12_session_id_client(&self) -> Arc<ClientConfig> {
        let mut config = self.client_config_with(Some("client"), &[&rustls::version::TLS12]);
        config.resumption = Resumption::in_memory_sessions(8)
            .tls12_resumption(rustls::client::Tls12Resumption::SessionIdOnly);
        Arc::new(config)
    }

    fn client_config_with(
        &self,
        who: Option<&str>,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> ClientConfig {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(self.path("ca.crt")).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        let builder =
            ClientConfig::builder_with_protocol_versions(versions).with_root_certificates(roots);
        match who {
            None => builder.with_no_client_auth(),
            Some(who) => {
                let certs = CertificateDer::pem_file_iter(self.path(&format!("{who}.crt")))
                    .unwrap()
                    .map(|c| c.unwrap())
                    .collect();
                let key = PrivateKeyDer::from_pem_file(self.path(&format!("{who}.key"))).unwrap();
                builder.with_client_auth_cert(certs, key).unwrap()
            }
        }
    }
}

impl Drop for Certs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn make_ca(cn: &str) -> (rcgen::Certificate, KeyPair) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, cn);
    let key = KeyPair::generate().unwrap();
    (params.self_signed(&key).unwrap(), key)
}

fn make_leaf(cn: &str, ca: &rcgen::Certificate, ca_key: &KeyPair) -> (String, String) {
    let mut params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, cn);
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, ca, ca_key).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// A server with a TLS port beside its plain one.
pub struct TlsServer {
    pub server: Server,
    pub tls_port: u16,
}

impl TlsServer {
    pub fn start(certs: &Certs, extra: &[&str]) -> TlsServer {
        let tls_port = free_port();
        let mut args = certs.server_args(tls_port);
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let server = Server::start_with(&args);
        wait_listening(tls_port);
        TlsServer { server, tls_port }
    }

    pub fn start_redis(certs: &Certs, extra: &[&str]) -> Option<TlsServer> {
        let tls_port = free_port();
        let mut args = certs.server_args(tls_port);
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let server = Server::start_redis_with(&args)?;
        wait_listening(tls_port);
        Some(TlsServer { server, tls_port })
    }
}

/// Polls until something accepts connections on `port` (the TLS listener starts just after the plain one).
pub fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A RESP client over rustls.
pub struct TlsClient {
    stream: BufReader<StreamOwned<ClientConnection, TcpStream>>,
}

impl TlsClient {
    /// Connects and completes the handshake (a TLS 1.3 server may still refuse the client's certificate after).
    pub fn connect(port: u16, config: Arc<ClientConfig>) -> std::io::Result<TlsClient> {
        let tcp = TcpStream::connect(("127.0.0.1", port))?;
        tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
        let name = ServerName::try_from("localhost").unwrap();
        let mut conn = ClientConnection::new(config, name).map_err(std::io::Error::other)?;
        let mut tcp = tcp;
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)?;
        }
        Ok(TlsClient {
            stream: BufReader::new(StreamOwned::new(conn, tcp)),
        })
    }

    /// Whether the handshake resumed an earlier session.
    pub fn resumed(&self) -> bool {
        self.stream.get_ref().conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        let s = self.stream.get_mut();
        s.write_all(bytes).unwrap();
        s.flush().unwrap();
    }

    pub fn send(&mut self, args: &[&[u8]]) -> std::io::Result<()> {
        let s = self.stream.get_mut();
        s.write_all(&crate::common::Client::encode(args))?;
        s.flush()
    }

    /// One reply's exact text (simple types and bulk strings and arrays of them).
    pub fn read_reply(&mut self) -> std::io::Result<String> {
        let mut out = String::new();
        self.read_into(&mut out)?;
        Ok(out)
    }

    fn read_into(&mut self, out: &mut String) -> std::io::Result<()> {
        let mut line = String::new();
        if self.stream.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        out.push_str(&line);
        let n: i64 = line[1..].trim_end().parse().unwrap_or(0);
        match line.as_bytes()[0] {
            b'$' if n >= 0 => {
                let mut data = vec![0; n as usize + 2];
                self.stream.read_exact(&mut data)?;
                out.push_str(&String::from_utf8_lossy(&data));
            }
            b'*' | b'>' => {
                for _ in 0..n.max(0) {
                    self.read_into(out)?;
                }
            }
            b'%' => {
                for _ in 0..2 * n.max(0) {
                    self.read_into(out)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    pub fn cmd(&mut self, args: &[&str]) -> std::io::Result<String> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.send(&args)?;
        self.read_reply()
    }
}
