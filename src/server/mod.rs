//! The server: shared state, the listeners and their thread pool, the per-connection loop.

pub mod bufmodel;
pub mod clients;
mod connection;
mod drain;
pub mod fence;
pub mod held;
pub mod listener;
pub mod output_limit;
pub mod stats;
pub mod stream;
#[cfg(test)]
pub(crate) mod test_commands;
mod unix;
pub mod unsent;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use crate::config::Config;
use crate::db::Keyspace;
use clients::ClientRegistry;

pub use listener::run;

/// Everything the connection threads share.
pub struct Server {
    pub keyspace: Keyspace,
    pub config: Config,
    pub clients: ClientRegistry,
    pub started: Instant,
    /// 40 hex characters, new each start, as Redis's `run_id`.
    pub run_id: String,
    pub shutting_down: AtomicBool,
    /// Channels, patterns and monitors.
    pub pubsub: crate::pubsub::Hub,
    /// What every write did, for the AOF, replicas and tests (see `crate::effects`).
    pub feed: Arc<crate::effects::Feed>,
    pub listeners: listener::Listeners,
    /// Saves, loads and their state (INFO persistence, LASTSAVE, MISCONF).
    pub persist: crate::persist::Persistence,
    /// The Lua interpreter and its script cache.
    pub scripts: crate::scripting::Scripts,
    /// The TLS configuration new `tls-port` connections get.
    pub tls: crate::tls::Tls,
    /// Client-side caching: who tracks which keys (CLIENT TRACKING).
    pub tracking: crate::tracking::Tracking,
    /// Replication in both roles (see `crate::replication`).
    pub repl: crate::replication::Replication,
    /// Itself, for work started from a handler that must own the server (new accept threads).
    me: std::sync::Weak<Server>,
}

impl Server {
    pub fn new(config: Config) -> Arc<Self> {
        crate::server::stats::init(crate::commands::table::get().len());
        let run_id = (0..40)
            .map(|_| char::from_digit(fastrand::u32(..16), 16).unwrap_or('0'))
            .collect();
        // Fixed at start-up, as in Redis.
        let deprecated_api = config.get("lua-enable-deprecated-api").as_deref() == Some("yes");
        Arc::new_cyclic(|me| Server {
            keyspace: Keyspace::new(config.databases()),
            config,
            clients: ClientRegistry::new(),
            started: Instant::now(),
            run_id,
            shutting_down: AtomicBool::new(false),
            pubsub: crate::pubsub::Hub::new(),
            feed: crate::effects::Feed::new(),
            listeners: listener::Listeners::default(),
            persist: crate::persist::Persistence::new(),
            scripts: crate::scripting::Scripts::new(deprecated_api),
            tls: crate::tls::Tls::default(),
            tracking: crate::tracking::Tracking::default(),
            repl: crate::replication::Replication::new(),
            me: me.clone(),
        })
    }

    pub fn arc(&self) -> Option<Arc<Server>> {
        self.me.upgrade()
    }

    /// Stops the process cleanly once persistence is done with (`persist::save::prepare_shutdown`): refuse new
    /// work, close every client, log as Redis, exit 0.
    pub fn shutdown(&self) -> ! {
        self.shutting_down
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.clients.kill_all();
        unix::remove_socket_file(self);
        log::warn!("Redis is now ready to exit, bye bye...");
        log::logger().flush();
        std::process::exit(0)
    }
}
