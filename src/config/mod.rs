//! Configuration: every Redis 7.0 parameter, from the command line, a redis.conf-style file and CONFIG SET.
//!
//! [`params`] is the one table of parameters (name, alias, kind, default, mutability). Values are validated as
//! Redis validates them and stored as the canonical text CONFIG GET echoes. The ones read on hot paths are mirrored
//! into atomics when set, so a request never takes the config lock.

mod cli;
mod file;
pub mod params;
mod rewrite;
pub mod special;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{
    AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed,
};
use std::sync::OnceLock;

use parking_lot::{Mutex, RwLock};

pub use cli::{parse_command_line, StartupError};
use params::{Param, PARAMS};
pub use special::BufferLimit;

pub struct Config {
    values: RwLock<Vec<String>>,
    /// The file given on the command line, for CONFIG REWRITE.
    file: Mutex<Option<PathBuf>>,
    set_lock: Mutex<()>,
    hz: AtomicU32,
    maxclients: AtomicUsize,
    timeout_secs: AtomicU64,
    proto_max_bulk_len: AtomicUsize,
    client_query_buffer_limit: AtomicUsize,
    /// `min-replicas-to-write`, read before every write on a master.
    min_replicas_to_write: AtomicI64,
    databases: AtomicUsize,
    port: AtomicU32,
    protected_mode: AtomicBool,
    notify_flags: AtomicU32,
    /// The encoding thresholds OBJECT ENCODING and the data types read, by [`Threshold`].
    thresholds: [AtomicI64; THRESHOLDS.len()],
}

/// Encoding thresholds, by the name of their parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threshold {
    ListMaxListpackSize,
    HashMaxListpackEntries,
    HashMaxListpackValue,
    SetMaxIntsetEntries,
    ZsetMaxListpackEntries,
    ZsetMaxListpackValue,
    StreamNodeMaxBytes,
    StreamNodeMaxEntries,
    /// Past this size a sparse HyperLogLog turns dense.
    HllSparseMaxBytes,
}

const THRESHOLDS: [(&str, Threshold); 9] = [
    ("list-max-listpack-size", Threshold::ListMaxListpackSize),
    (
        "hash-max-listpack-entries",
        Threshold::HashMaxListpackEntries,
    ),
    ("hash-max-listpack-value", Threshold::HashMaxListpackValue),
    ("set-max-intset-entries", Threshold::SetMaxIntsetEntries),
    (
        "zset-max-listpack-entries",
        Threshold::ZsetMaxListpackEntries,
    ),
    ("zset-max-listpack-value", Threshold::ZsetMaxListpackValue),
    ("stream-node-max-bytes", Threshold::StreamNodeMaxBytes),
    ("stream-node-max-entries", Threshold::StreamNodeMaxEntries),
    ("hll-sparse-max-bytes", Threshold::HllSparseMaxBytes),
];

/// Why a value was refused; CONFIG SET and start-up word it differently around this text.
#[derive(Debug)]
pub enum SetError {
    Unknown,
    Immutable,
    Invalid(String),
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

impl Config {
    pub fn new() -> Self {
        let config = Config {
            values: RwLock::new(PARAMS.iter().map(|p| p.default.to_string()).collect()),
            file: Mutex::new(None),
            set_lock: Mutex::new(()),
            hz: AtomicU32::new(10),
            maxclients: AtomicUsize::new(10000),
            timeout_secs: AtomicU64::new(0),
            proto_max_bulk_len: AtomicUsize::new(512 << 20),
            client_query_buffer_limit: AtomicUsize::new(1 << 30),
            min_replicas_to_write: AtomicI64::new(0),
            databases: AtomicUsize::new(16),
            port: AtomicU32::new(6379),
            protected_mode: AtomicBool::new(true),
            notify_flags: AtomicU32::new(0),
            thresholds: Default::default(),
        };
        for (i, p) in PARAMS.iter().enumerate() {
            if let Ok(v) = p.kind.validate(p.default, p.default) {
                config.apply(i, &v);
            }
        }
        config
    }

    /// The index of parameter `name` (or an alias), in any case. A hash lookup: commands read parameters by
    /// name on their paths (a linear scan of the ~200 names was 0.5% of a SET's time).
    pub fn find(name: &str) -> Option<usize> {
        static INDEX: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
        let index = INDEX.get_or_init(|| {
            let mut index = HashMap::with_capacity(PARAMS.len() * 2);
            for (i, p) in PARAMS.iter().enumerate() {
                // The first parameter of a name wins, as the scan it replaced found it.
                index.entry(p.name).or_insert(i);
                if let Some(alias) = p.alias {
                    index.entry(alias).or_insert(i);
                }
            }
            index
        });
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            return index.get(name.to_ascii_lowercase().as_str()).copied();
        }
        index.get(name).copied()
    }

    pub fn param(i: usize) -> &'static Param {
        &PARAMS[i]
    }

    /// Validates and stores one parameter. At start-up immutable parameters may be set too.
    pub fn set(&self, name: &str, value: &str, startup: bool) -> Result<(), SetError> {
        let i = Self::find(name).ok_or(SetError::Unknown)?;
        let param = &PARAMS[i];
        if !startup && !param.mutable() {
            return Err(SetError::Immutable);
        }
        let current = self.value(i);
        let canonical = param
            .kind
            .validate(value, &current)
            .map_err(SetError::Invalid)?;
        self.values.write()[i] = canonical.clone();
        self.apply(i, &canonical);
        Ok(())
    }

    /// CONFIG SET of several parameters at once, step one: every value checked against the current ones; nothing
    /// changes. `changes` holds (param index, new text); the error carries the position in `changes` Redis's
    /// message should blame. Hold [`Config::set_guard`] until [`Config::commit`].
    pub fn validate_all(
        &self,
        changes: &[(usize, &str)],
    ) -> Result<Vec<(usize, String)>, (usize, String)> {
        let values = self.values.read();
        changes
            .iter()
            .enumerate()
            .map(|(pos, &(i, v))| {
                PARAMS[i]
                    .kind
                    .validate(v, &values[i])
                    .map(|c| (i, c))
                    .map_err(|e| (pos, e))
            })
            .collect()
    }

    /// Step two: stores validated values, all under one lock, so readers see all or none of them.
    pub fn commit(&self, validated: Vec<(usize, String)>) {
        let mut values = self.values.write();
        for (i, v) in validated {
            self.apply(i, &v);
            values[i] = v;
        }
    }

    /// Serialises CONFIG SETs, so nothing changes between one's validation and its commit.
    pub fn set_guard(&self) -> parking_lot::MutexGuard<'_, ()> {
        self.set_lock.lock()
    }

    /// The current text of parameter `i`.
    pub fn value(&self, i: usize) -> String {
        if PARAMS[i].name == "dir" {
            return std::env::current_dir()
                .map_or_else(|_| String::new(), |d| d.display().to_string());
        }
        let stored = self.values.read()[i].clone();
        if PARAMS[i].name == "notify-keyspace-events" {
            return params::notify::display(&stored);
        }
        stored
    }

    pub fn get(&self, name: &str) -> Option<String> {
        Self::find(name).map(|i| self.value(i))
    }

    /// (name, value) for CONFIG GET: a pattern without glob characters is looked up as given (and answered under
    /// that spelling), a glob matches every name and alias; each parameter name appears once.
    pub fn matching(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let push = |name: String, i: usize, out: &mut Vec<(String, String)>| {
            if !out.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                out.push((name, self.value(i)));
            }
        };
        for pat in patterns {
            if !pat.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
                let name = String::from_utf8_lossy(pat).into_owned();
                if let Some(i) = Self::find(&name) {
                    push(name, i, &mut out);
                }
                continue;
            }
            // Hidden parameters answer only to their exact name, as in Redis.
            for (i, p) in PARAMS.iter().enumerate().filter(|(_, p)| !p.hidden()) {
                for name in std::iter::once(p.name).chain(p.alias) {
                    if crate::util::glob::glob_match(pat, name.as_bytes(), true) {
                        push(name.to_string(), i, &mut out);
                    }
                }
            }
        }
        out
    }

    /// Mirrors a parameter that takes effect into the place the server reads it from.
    fn apply(&self, i: usize, v: &str) {
        let num = || v.parse::<i64>().unwrap_or(0);
        let name = PARAMS[i].name;
        if let Some(t) = THRESHOLDS.iter().position(|(n, _)| *n == name) {
            self.thresholds[t].store(num(), Relaxed);
            if name == "list-max-listpack-size" {
                crate::types::list::set_fill(num());
            }
            return;
        }
        crate::memory::apply_config(name, v);
        crate::crash::apply_config(name, v);
        match name {
            "list-compress-depth" => crate::types::list::set_compress_depth(num()),
            "hz" => self.hz.store(num() as u32, Relaxed),
            "maxclients" => self.maxclients.store(num() as usize, Relaxed),
            "timeout" => self.timeout_secs.store(num() as u64, Relaxed),
            "proto-max-bulk-len" => self.proto_max_bulk_len.store(num() as usize, Relaxed),
            "client-query-buffer-limit" => self
                .client_query_buffer_limit
                .store(num() as usize, Relaxed),
            "min-replicas-to-write" => self.min_replicas_to_write.store(num(), Relaxed),
            "databases" => self.databases.store(num() as usize, Relaxed),
            "port" => self.port.store(num() as u32, Relaxed),
            "protected-mode" => self.protected_mode.store(v == "yes", Relaxed),
            "loglevel" => log::set_max_level(log_level(v)),
            "maxmemory-policy" => crate::db::access_policy::set_lfu(v.contains("lfu")),
            "lfu-log-factor" => crate::db::access_policy::set_log_factor(num() as u32),
            "lfu-decay-time" => crate::db::access_policy::set_decay_minutes(num() as u32),
            "requirepass" => crate::acl::set_requirepass(v),
            "acl-pubsub-default" => crate::acl::set_pubsub_default(v),
            "acllog-max-len" => crate::acl::set_acllog_max_len(v),
            "aof-timestamp-enabled" => crate::persist::aof::writer::set_timestamps(v == "yes"),
            "notify-keyspace-events" => self
                .notify_flags
                .store(params::notify::parse(v).unwrap_or(0), Relaxed),
            _ => crate::ops::apply_config(name, v),
        }
    }

    pub fn set_file(&self, path: PathBuf) {
        *self.file.lock() = Some(path);
    }

    pub fn file(&self) -> Option<PathBuf> {
        self.file.lock().clone()
    }

    /// CONFIG REWRITE: the file given at start-up, updated to the current values.
    pub fn rewrite(&self) -> Result<(), String> {
        let path = self
            .file()
            .ok_or("The server is running without a config file")?;
        let values: Vec<String> = (0..PARAMS.len()).map(|i| self.value(i)).collect();
        rewrite::rewrite(&path, &values)
            .map_err(|e| format!("Rewriting config file: {}", special::strerror(&e)))
    }

    pub fn hz(&self) -> u32 {
        self.hz.load(Relaxed)
    }
    pub fn maxclients(&self) -> usize {
        self.maxclients.load(Relaxed)
    }
    pub fn timeout_secs(&self) -> u64 {
        self.timeout_secs.load(Relaxed)
    }
    pub fn proto_max_bulk_len(&self) -> usize {
        self.proto_max_bulk_len.load(Relaxed)
    }
    /// Most bytes a client may have sent and not yet had parsed into arguments; beyond it the client is closed.
    pub fn client_query_buffer_limit(&self) -> usize {
        self.client_query_buffer_limit.load(Relaxed)
    }
    pub fn min_replicas_to_write(&self) -> i64 {
        self.min_replicas_to_write.load(Relaxed)
    }
    pub fn databases(&self) -> usize {
        self.databases.load(Relaxed)
    }
    pub fn port(&self) -> u16 {
        self.port.load(Relaxed) as u16
    }
    pub fn protected_mode(&self) -> bool {
        self.protected_mode.load(Relaxed)
    }
    /// `notify-keyspace-events` as bits of [`params::notify`]; 0 when notifications are off (the usual case,
    /// checked by every write).
    pub fn notify_flags(&self) -> u32 {
        self.notify_flags.load(Relaxed)
    }
    /// An encoding threshold (`hash-max-listpack-entries`, ...), for the data types and OBJECT ENCODING.
    pub fn threshold(&self, t: Threshold) -> i64 {
        let i = THRESHOLDS.iter().position(|(_, x)| *x == t).unwrap_or(0);
        self.thresholds[i].load(Relaxed)
    }
    /// The default user's password; empty when none is required.
    pub fn requirepass(&self) -> String {
        self.get("requirepass").unwrap_or_default()
    }
    /// `client-output-buffer-limit` for the normal, replica and pubsub classes.
    pub fn client_output_buffer_limits(&self) -> [BufferLimit; 3] {
        special::parse_buffer_limits(&self.get("client-output-buffer-limit").unwrap_or_default())
    }
    pub fn bind(&self) -> Vec<String> {
        self.get("bind")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }
}

/// Redis's four levels on the `log` crate's filters.
pub fn log_level(v: &str) -> log::LevelFilter {
    match v {
        "debug" => log::LevelFilter::Trace,
        "verbose" => log::LevelFilter::Debug,
        "warning" => log::LevelFilter::Warn,
        _ => log::LevelFilter::Info,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parameter_is_found_by_name_and_alias_in_any_case() {
        for (i, p) in PARAMS.iter().enumerate() {
            let first = PARAMS.iter().position(|q| q.name == p.name);
            assert_eq!(Config::find(p.name), first, "{}", p.name);
            assert_eq!(Config::find(&p.name.to_ascii_uppercase()), first);
            if let Some(alias) = p.alias {
                assert_eq!(Config::find(alias), Some(i), "{alias}");
                assert_eq!(Config::find(&alias.to_ascii_uppercase()), Some(i));
            }
        }
        assert_eq!(Config::find("Slaveof"), Config::find("replicaof"));
        assert_eq!(Config::find("no-such-parameter"), None);
        assert_eq!(Config::find(""), None);
    }

    #[test]
    fn min_replicas_to_write_is_mirrored() {
        let config = Config::new();
        assert_eq!(config.min_replicas_to_write(), 0);
        config.set("min-replicas-to-write", "3", false).unwrap();
        assert_eq!(config.min_replicas_to_write(), 3);
        config.set("min-slaves-to-write", "1", false).unwrap();
        assert_eq!(config.min_replicas_to_write(), 1);
    }
}
