//! TLS: `tls-port` beside the plain port, with rustls (see [`settings`] for how the `tls-*` parameters map onto
//! it, [`stream`] for the session shared by a connection's reader and writer).
//!
//! The handshake runs on the connection's own pool thread, before the connection loop: a client that stalls or
//! sends garbage holds that thread for at most [`handshake_limit`], and nothing else. CONFIG SET of a `tls-*`
//! parameter builds a new configuration first and keeps the old one if that fails, with Redis's error; new
//! connections take the new one, those already open keep theirs.

mod ciphers;
mod client;
mod encrypted;
mod sessions;
pub mod settings;
mod stream;
mod v1cert;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use rustls::ServerConfig;

use crate::config::Config;
use crate::server::Server;
pub use client::{client_config, LinkStream};
pub use settings::Settings;
pub use stream::{handshake, TlsStream};

/// The longest a handshake may take, unless `timeout` is shorter.
const HANDSHAKE_LIMIT: Duration = Duration::from_secs(10);

/// The server's TLS configuration of the moment (None until TLS is configured).
#[derive(Default)]
pub struct Tls {
    config: RwLock<Option<Arc<ServerConfig>>>,
}

impl Tls {
    pub fn current(&self) -> Option<Arc<ServerConfig>> {
        self.config.read().clone()
    }

    fn install(&self, config: Arc<ServerConfig>) {
        *self.config.write() = Some(config);
    }
}

/// How long a client has to finish its handshake: 10 s, or the idle `timeout` when that is shorter.
pub fn handshake_limit(config: &Config) -> Duration {
    match config.timeout_secs() {
        0 => HANDSHAKE_LIMIT,
        t => HANDSHAKE_LIMIT.min(Duration::from_secs(t)),
    }
}

/// Whether the parameters ask for TLS at all (Redis configures it only then).
fn wanted(port: u16, settings: &Settings) -> bool {
    port != 0 || settings.peers_need_ca
}

/// At start-up: builds the configuration if TLS is wanted and listens on `tls-port`. Redis's wording on failure.
pub fn start(server: &Server) -> io::Result<()> {
    let settings = Settings::current(&server.config);
    let port = tls_port(&server.config);
    if !wanted(port, &settings) {
        return Ok(());
    }
    match settings.build() {
        Ok(config) => server.tls.install(config),
        Err(e) => {
            log::warn!("{e}");
            return Err(io::Error::other(
                "Failed to configure TLS. Check logs for more info.",
            ));
        }
    }
    if port != 0 {
        crate::server::listener::rebind_tls(server, &server.config.bind(), port)?;
    }
    Ok(())
}

fn tls_port(config: &Config) -> u16 {
    config
        .get("tls-port")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// CONFIG SET, before the values are stored: a changed `tls-*` parameter rebuilds the configuration (when TLS is
/// wanted) and a changed `tls-port` (or `bind`, while TLS listens) moves the TLS listeners. On error nothing
/// changes; the error names the position in `validated` to blame and Redis's text.
pub fn apply_config_change(
    server: &Server,
    validated: &[(usize, String)],
) -> Result<(), (usize, &'static str)> {
    let name_of = |i: usize| Config::param(i).name;
    let Some(first) = validated
        .iter()
        .position(|(i, _)| name_of(*i).starts_with("tls-") || name_of(*i) == "bind")
    else {
        return Ok(());
    };
    let value = |name: &str| {
        validated
            .iter()
            .rev()
            .find(|(i, _)| name_of(*i) == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| server.config.get(name).unwrap_or_default())
    };
    let settings = Settings::read(value);
    let port: u16 = value("tls-port").parse().unwrap_or(0);
    let old_port = tls_port(&server.config);
    let tls_changed = validated
        .iter()
        .any(|(i, _)| name_of(*i).starts_with("tls-"));
    let fresh = server.tls.current().is_none() && port != 0;
    if wanted(port, &settings) && (tls_changed || fresh) {
        match settings.build() {
            Ok(config) => server.tls.install(config),
            Err(e) => {
                log::warn!("{e}");
                return Err((
                    first,
                    "Unable to update TLS configuration. Check server logs.",
                ));
            }
        }
    }
    let binds_changed = value("bind") != server.config.get("bind").unwrap_or_default();
    if port != old_port || (binds_changed && port != 0) {
        let binds: Vec<String> = value("bind")
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let blame = validated
            .iter()
            .position(|(i, _)| name_of(*i) == "tls-port")
            .unwrap_or(first);
        crate::server::listener::rebind_tls(server, &binds, port).map_err(|e| {
            log::warn!("CONFIG SET tls-port: {e}");
            (blame, "Unable to listen on this port. Check server logs.")
        })?;
    }
    Ok(())
}
