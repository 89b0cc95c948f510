//! `tls-replication yes`, the replica's side: the rustls client configuration a replica dials its master with,
//! and the link's transport (plain TCP or a TLS session over it).
//!
//! As Redis's `connTLSConnect`: the replica presents `tls-client-cert-file`/`tls-client-key-file` (or, when
//! they are not set, `tls-cert-file`/`tls-key-file`) and checks the master's certificate chain against
//! `tls-ca-cert-file`/`tls-ca-cert-dir`. Redis does not check the host name in the master's certificate
//! (OpenSSL's peer verification alone), so neither does ferredis: a chain from a trusted CA is enough.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{
    CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme,
    StreamOwned,
};

use super::settings::{certified_key, load_certs, load_key, Settings};
use crate::config::Config;

/// The replica's TLS client configuration, or the log line saying why there is none.
pub fn client_config(config: &Config) -> Result<Arc<ClientConfig>, String> {
    let get = |name: &str| config.get(name).unwrap_or_default();
    let settings = Settings::current(config);
    let (cert, key, pass) = if get("tls-client-cert-file").is_empty() {
        (
            get("tls-cert-file"),
            get("tls-key-file"),
            get("tls-key-file-pass"),
        )
    } else {
        (
            get("tls-client-cert-file"),
            get("tls-client-key-file"),
            get("tls-client-key-file-pass"),
        )
    };
    let provider = Arc::new(ring::default_provider());
    let roots = Arc::new(settings.roots()?);
    let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
        .build()
        .map_err(|e| format!("Failed to configure CA certificate(s) file/directory: {e}"))?;
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("Failed to configure TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyName {
            webpki,
            provider: provider.clone(),
        }));
    let config = if cert.is_empty() || key.is_empty() {
        builder.with_no_client_auth()
    } else {
        let certs =
            load_certs(&cert).map_err(|e| format!("Failed to load certificate: {cert}: {e}"))?;
        let key_der = load_key(&key, &pass)?;
        // As the server's certificate: an X.509 v1 certificate (Redis's test redis.crt) is checked against
        // its key without webpki, which cannot parse it.
        let certified = certified_key(certs, key_der, &provider)
            .map_err(|e| format!("Failed to load private key: {key}: {e}"))?;
        builder.with_client_cert_resolver(Arc::new(ClientCert(Arc::new(certified))))
    };
    Ok(Arc::new(config))
}

/// The replica's certificate, whatever the master asks for (as OpenSSL sends the one configured).
#[derive(Debug)]
struct ClientCert(Arc<CertifiedKey>);

impl ResolvesClientCert for ClientCert {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// The master's chain checked against the CAs, whatever name its certificate carries (as Redis).
#[derive(Debug)]
struct AnyName {
    webpki: Arc<WebPkiServerVerifier>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified =
            self.webpki
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now);
        match verified {
            // webpki checks the name last: the chain is good.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// A replica's link to its master: plain TCP, or a TLS session over it. One thread reads and writes it.
pub enum LinkStream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl LinkStream {
    /// Runs the client handshake over `tcp` (its read timeout bounds each wait) when `config` is given.
    pub fn connect(
        tcp: TcpStream,
        host: &str,
        config: Option<Arc<ClientConfig>>,
    ) -> io::Result<LinkStream> {
        let Some(config) = config else {
            return Ok(LinkStream::Plain(tcp));
        };
        let name = ServerName::try_from(host.to_string())
            .or_else(|_| ServerName::try_from("localhost"))
            .map_err(io::Error::other)?;
        let mut session = ClientConnection::new(config, name).map_err(io::Error::other)?;
        let mut tcp = tcp;
        while session.is_handshaking() {
            session.complete_io(&mut tcp)?;
        }
        Ok(LinkStream::Tls(Box::new(StreamOwned::new(session, tcp))))
    }

    /// The TCP socket underneath (timeouts, addresses, shutdown).
    pub fn tcp(&self) -> &TcpStream {
        match self {
            LinkStream::Plain(s) => s,
            LinkStream::Tls(s) => s.get_ref(),
        }
    }
}

impl Read for LinkStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            LinkStream::Plain(s) => s.read(buf),
            LinkStream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for LinkStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            LinkStream::Plain(s) => s.write(buf),
            LinkStream::Tls(s) => s.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            LinkStream::Plain(s) => s.write_all(buf),
            LinkStream::Tls(s) => {
                s.write_all(buf)?;
                s.flush()
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            LinkStream::Plain(s) => s.flush(),
            LinkStream::Tls(s) => s.flush(),
        }
    }
}
