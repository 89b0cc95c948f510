//! The `tls-*` parameters turned into a rustls server configuration, with Redis's log lines for what is wrong.
//!
//! OpenSSL names are mapped onto what rustls offers: TLS 1.2 and 1.3 only (rustls has nothing older), the
//! AEAD cipher suites with forward secrecy ([`ciphers`]). What Redis accepts is accepted, and what rustls cannot
//! honour is named in a warning: TLSv1/TLSv1.1, suites such as AES128-SHA256; a configuration that leaves
//! nothing to negotiate refuses every handshake.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::{ring, CryptoProvider};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::version::{TLS12, TLS13};
use rustls::{
    InconsistentKeys, RootCertStore, ServerConfig, SupportedCipherSuite, SupportedProtocolVersion,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::ciphers;
use crate::config::Config;

/// `tls-auth-clients`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    No,
    Yes,
    Optional,
}

/// The parameters the server configuration is built from, as CONFIG GET shows them.
pub struct Settings {
    pub cert_file: String,
    pub key_file: String,
    pub key_file_pass: String,
    pub ca_cert_file: String,
    pub ca_cert_dir: String,
    pub auth_clients: ClientAuth,
    pub protocols: String,
    pub ciphers: String,
    pub ciphersuites: String,
    /// `tls-dh-params-file`: read and checked as Redis checks it, not used (rustls has no finite-field DH).
    pub dh_params_file: String,
    /// `tls-replication` / `tls-cluster`: they too require a CA, as in Redis.
    pub peers_need_ca: bool,
    /// `tls-prefer-server-ciphers`: the server's order of suites rather than the client's.
    pub prefer_server_ciphers: bool,
    /// `tls-session-caching`: whether clients may resume sessions.
    pub session_caching: bool,
    /// `tls-session-cache-size`: sessions kept for TLS 1.2 clients resuming by session id.
    pub session_cache_size: usize,
}

impl Settings {
    /// Reads the settings through `get` (the current values, or those a CONFIG SET is about to store).
    pub fn read(get: impl Fn(&str) -> String) -> Settings {
        Settings {
            cert_file: get("tls-cert-file"),
            key_file: get("tls-key-file"),
            key_file_pass: get("tls-key-file-pass"),
            ca_cert_file: get("tls-ca-cert-file"),
            ca_cert_dir: get("tls-ca-cert-dir"),
            auth_clients: match get("tls-auth-clients").as_str() {
                "no" => ClientAuth::No,
                "optional" => ClientAuth::Optional,
                _ => ClientAuth::Yes,
            },
            protocols: get("tls-protocols"),
            ciphers: get("tls-ciphers"),
            ciphersuites: get("tls-ciphersuites"),
            dh_params_file: get("tls-dh-params-file"),
            peers_need_ca: get("tls-replication") == "yes" || get("tls-cluster") == "yes",
            prefer_server_ciphers: get("tls-prefer-server-ciphers") == "yes",
            session_caching: get("tls-session-caching") != "no",
            session_cache_size: get("tls-session-cache-size").parse().unwrap_or(20480),
        }
    }

    pub fn current(config: &Config) -> Settings {
        Settings::read(|name| config.get(name).unwrap_or_default())
    }

    /// The rustls configuration, or Redis's log line for the first problem found.
    pub fn build(&self) -> Result<Arc<ServerConfig>, String> {
        if self.cert_file.is_empty() {
            return Err("No tls-cert-file configured!".into());
        }
        if self.key_file.is_empty() {
            return Err("No tls-key-file configured!".into());
        }
        let has_ca = !self.ca_cert_file.is_empty() || !self.ca_cert_dir.is_empty();
        if (self.auth_clients != ClientAuth::No || self.peers_need_ca) && !has_ca {
            return Err("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!".into());
        }
        self.check_dh_params()?;
        let mut suites = self.cipher_suites()?;
        let versions = protocols(&self.protocols)?;
        let usable = suites.iter().any(|s| versions.contains(&s.version()));
        if !usable {
            log::warn!("TLS: tls-protocols and tls-ciphers/tls-ciphersuites leave nothing rustls can negotiate; every TLS handshake will fail");
            suites = ring::ALL_CIPHER_SUITES.to_vec();
        }
        let provider = Arc::new(CryptoProvider {
            cipher_suites: suites,
            ..ring::default_provider()
        });
        let versions = if usable {
            versions
        } else {
            vec![&TLS12, &TLS13]
        };
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions)
            .map_err(|e| format!("Failed to configure TLS: {e}"))?;
        let builder = match self.auth_clients {
            ClientAuth::No => builder.with_no_client_auth(),
            auth => {
                let roots = Arc::new(self.roots()?);
                let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider.clone());
                let verifier = if auth == ClientAuth::Optional {
                    verifier.allow_unauthenticated()
                } else {
                    verifier
                };
                let verifier = verifier.build().map_err(|e| {
                    format!("Failed to configure CA certificate(s) file/directory: {e}")
                })?;
                let cas = self.ca_certs()?.iter().map(|c| c.to_vec()).collect();
                builder.with_client_cert_verifier(Arc::new(super::v1cert::WithV1 {
                    inner: verifier,
                    cas,
                    algorithms: provider.signature_verification_algorithms,
                }))
            }
        };
        let certs = load_certs(&self.cert_file)
            .map_err(|e| format!("Failed to load certificate: {}: {e}", self.cert_file))?;
        let key = self.load_key()?;
        let certified = certified_key(certs, key, &provider)
            .map_err(|e| format!("Failed to load private key: {}: {e}", self.key_file))?;
        let served = usable.then(|| Arc::new(certified));
        let mut config = builder.with_cert_resolver(Arc::new(Certificate(served)));
        config.ignore_client_order = self.prefer_server_ciphers;
        self.session_resumption(&mut config)?;
        Ok(Arc::new(config))
    }

    /// `tls-session-caching` and `tls-session-cache-size`. Resumption uses stateless tickets (the session travels
    /// encrypted in the ticket, under a key rotated every 6 hours), so a TLS 1.3 client costs no server memory
    /// once it is gone: rustls's default keeps two stateful tickets per handshake, a few kB each with the client's
    /// certificate, and `used_memory` (which counts every allocation, where Redis's leaves OpenSSL's out) grew by
    /// 13 kB per new connection. The session cache serves only TLS 1.2 clients resuming by session id, and
    /// grows as they come (`super::sessions`).
    fn session_resumption(&self, config: &mut ServerConfig) -> Result<(), String> {
        if !self.session_caching {
            config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
            config.send_tls13_tickets = 0;
            return Ok(());
        }
        config.ticketer =
            ring::Ticketer::new().map_err(|e| format!("Failed to configure TLS: {e}"))?;
        config.session_storage =
            Arc::new(super::sessions::SessionCache::new(self.session_cache_size));
        Ok(())
    }

    /// Redis refuses a `tls-dh-params-file` it cannot open or that holds no DH parameters (its log lines).
    fn check_dh_params(&self) -> Result<(), String> {
        let file = &self.dh_params_file;
        if file.is_empty() {
            return Ok(());
        }
        let text = std::fs::read(file).map_err(|e| {
            let reason = e.to_string();
            let reason = reason.split(" (os error").next().unwrap_or_default();
            format!("Failed to load {file}: {reason}")
        })?;
        match memchr::memmem::find(&text, b"-----BEGIN DH PARAMETERS-----") {
            Some(_) => Ok(()),
            None => Err(format!("{file}: failed to read DH params.")),
        }
    }

    fn load_key(&self) -> Result<PrivateKeyDer<'static>, String> {
        load_key(&self.key_file, &self.key_file_pass)
    }

    /// The CAs peer certificates are checked against: every certificate of the file and of the directory.
    pub(super) fn roots(&self) -> Result<RootCertStore, String> {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(self.ca_certs()?);
        if roots.is_empty() {
            return Err(
                "Failed to configure CA certificate(s) file/directory: no CA certificate found"
                    .into(),
            );
        }
        Ok(roots)
    }

    /// Every certificate of `tls-ca-cert-file` and of the files of `tls-ca-cert-dir`.
    fn ca_certs(&self) -> Result<Vec<CertificateDer<'static>>, String> {
        let failed =
            |e: String| format!("Failed to configure CA certificate(s) file/directory: {e}");
        let mut files = Vec::new();
        if !self.ca_cert_file.is_empty() {
            files.push(Path::new(&self.ca_cert_file).to_path_buf());
        }
        if !self.ca_cert_dir.is_empty() {
            let dir = std::fs::read_dir(&self.ca_cert_dir).map_err(|e| failed(e.to_string()))?;
            files.extend(
                dir.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.is_file()),
            );
        }
        Ok(files
            .iter()
            .flat_map(|file| load_certs(file).unwrap_or_default())
            .collect())
    }

    /// `tls-ciphers` and `tls-ciphersuites`: what rustls has of them; Redis's log line when OpenSSL would
    /// refuse the list, a warning naming what OpenSSL would enable and rustls cannot.
    fn cipher_suites(&self) -> Result<Vec<SupportedCipherSuite>, String> {
        let v13 = ciphers::tls13(&self.ciphersuites)
            .ok_or_else(|| format!("Failed to configure ciphersuites: {}", self.ciphersuites))?;
        let v12 = ciphers::tls12(&self.ciphers)
            .ok_or_else(|| format!("Failed to configure ciphers: {}", self.ciphers))?;
        for (param, selection) in [("tls-ciphersuites", &v13), ("tls-ciphers", &v12)] {
            if !selection.unsupported.is_empty() {
                log::warn!(
                    "{param}: {} not available in ferredis (rustls offers only AEAD suites with forward secrecy); clients offering only these cannot connect",
                    selection.unsupported.join(", ")
                );
            }
        }
        Ok(v13.suites.into_iter().chain(v12.suites).collect())
    }
}

/// A private key file, decrypted with `pass` when it is encrypted; Redis's log line when that fails.
pub(super) fn load_key(path: &str, pass: &str) -> Result<PrivateKeyDer<'static>, String> {
    let failed = |e: String| format!("Failed to load private key: {path}: {e}");
    let pem = std::fs::read(path).map_err(|e| failed(e.to_string()))?;
    if memchr::memmem::find(&pem, b"ENCRYPTED").is_some() {
        return super::encrypted::decrypt_key(&pem, pass).map_err(failed);
    }
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| failed(e.to_string()))
}

pub(super) fn load_certs(path: impl AsRef<Path>) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| e.to_string())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err("no certificate found".into());
    }
    Ok(certs)
}

/// `tls-protocols` (words separated by single spaces, as Redis splits them): empty means TLS 1.2 and 1.3, Redis's
/// default. TLSv1 and TLSv1.1 are valid, as in Redis, but rustls has neither: they enable nothing, with a warning.
fn protocols(v: &str) -> Result<Vec<&'static SupportedProtocolVersion>, String> {
    if v.is_empty() {
        return Ok(vec![&TLS12, &TLS13]);
    }
    let mut out = Vec::new();
    for word in v.split(' ') {
        match word.to_ascii_lowercase().as_str() {
            "tlsv1.2" => out.push(&TLS12),
            "tlsv1.3" => out.push(&TLS13),
            "tlsv1" | "tlsv1.1" => log::warn!(
                "tls-protocols: {word} is not available in ferredis (rustls implements TLSv1.2 and TLSv1.3 only)"
            ),
            _ => return Err("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.".into()),
        }
    }
    Ok(out)
}

/// A server certificate and its key. rustls checks that they match by parsing the certificate with webpki,
/// which refuses X.509 v1 certificates (OpenSSL takes them; Redis's own test certificates include one): when
/// the certificate cannot be parsed, the key's SubjectPublicKeyInfo must appear in it byte for byte instead.
pub(super) fn certified_key(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, String> {
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| e.to_string())?;
    let certified = CertifiedKey::new(certs, signing);
    match certified.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => Ok(certified),
        Err(rustls::Error::InconsistentKeys(e)) => Err(format!("{e:?}")),
        Err(e) => {
            let spki = certified.key.public_key();
            let cert = certified.end_entity_cert().map_err(|e| e.to_string())?;
            match spki {
                Some(spki) if memchr::memmem::find(cert, &spki).is_none() => {
                    Err(format!("the key does not match the certificate ({e})"))
                }
                _ => Ok(certified),
            }
        }
    }
}

/// Serves one certificate, or none: a configuration under which rustls can negotiate nothing (tls-protocols or
/// tls-ciphers naming only what rustls lacks) refuses every handshake, as OpenSSL would fail them.
#[derive(Debug)]
struct Certificate(Option<Arc<CertifiedKey>>);

impl ResolvesServerCert for Certificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.0.clone()
    }
}
