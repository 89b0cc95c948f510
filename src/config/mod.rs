//! Configuration: every Redis 7.0 parameter, from the command line, a redis.conf-style file and CONFIG SET.
//!
//! [`params`] is the one table of parameters (name, alias, kind, default, mutability). Values are validated as
//! Redis validates them and stored as the canonical text CONFIG GET echoes. The few read on hot paths are mirrored
//! into atomics when set, so a request never takes the config lock.

mod cli;
mod file;
pub mod params;

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed};

use parking_lot::RwLock;

pub use cli::{parse_command_line, StartupError};
use params::{Param, PARAMS};

pub struct Config {
    values: RwLock<Vec<String>>,
    hz: AtomicU32,
    maxclients: AtomicUsize,
    timeout_secs: AtomicU64,
    proto_max_bulk_len: AtomicUsize,
    databases: AtomicUsize,
    port: AtomicU32,
    protected_mode: AtomicBool,
    notify_flags: AtomicU32,
}

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
            hz: AtomicU32::new(10),
            maxclients: AtomicUsize::new(10000),
            timeout_secs: AtomicU64::new(0),
            proto_max_bulk_len: AtomicUsize::new(512 << 20),
            databases: AtomicUsize::new(16),
            port: AtomicU32::new(6379),
            protected_mode: AtomicBool::new(true),
            notify_flags: AtomicU32::new(0),
        };
        for (i, p) in PARAMS.iter().enumerate() {
            if let Ok(v) = p.kind.validate(p.default) {
                config.apply(i, &v);
            }
        }
        config
    }

    pub fn find(name: &str) -> Option<usize> {
        PARAMS.iter().position(|p| {
            p.name.eq_ignore_ascii_case(name)
                || p.alias.is_some_and(|a| a.eq_ignore_ascii_case(name))
        })
    }

    pub fn param(i: usize) -> &'static Param {
        &PARAMS[i]
    }

    /// Validates and stores one parameter. At start-up immutable parameters may be set too.
    pub fn set(&self, name: &str, value: &str, startup: bool) -> Result<(), SetError> {
        let i = Self::find(name).ok_or(SetError::Unknown)?;
        let param = &PARAMS[i];
        if !startup && !param.mutable {
            return Err(SetError::Immutable);
        }
        let canonical = param.kind.validate(value).map_err(SetError::Invalid)?;
        self.values.write()[i] = canonical.clone();
        self.apply(i, &canonical);
        Ok(())
    }

    /// The current text of parameter `i`.
    pub fn value(&self, i: usize) -> String {
        self.values.read()[i].clone()
    }

    pub fn get(&self, name: &str) -> Option<String> {
        Self::find(name).map(|i| self.value(i))
    }

    /// (name, value) of every parameter whose name or alias matches one of the glob `patterns`, as CONFIG GET.
    pub fn matching(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let values = self.values.read();
        let mut out = Vec::new();
        for (i, p) in PARAMS.iter().enumerate() {
            for name in std::iter::once(p.name).chain(p.alias) {
                let hit = patterns
                    .iter()
                    .any(|pat| crate::util::glob::glob_match(pat, name.as_bytes(), true));
                if hit && !out.iter().any(|(n, _): &(String, String)| n == name) {
                    out.push((name.to_string(), values[i].clone()));
                }
            }
        }
        out
    }

    /// Mirrors a hot parameter into its atomic.
    fn apply(&self, i: usize, v: &str) {
        let num = || v.parse::<u64>().unwrap_or(0);
        match PARAMS[i].name {
            "hz" => self.hz.store(num() as u32, Relaxed),
            "maxclients" => self.maxclients.store(num() as usize, Relaxed),
            "timeout" => self.timeout_secs.store(num(), Relaxed),
            "proto-max-bulk-len" => self.proto_max_bulk_len.store(num() as usize, Relaxed),
            "databases" => self.databases.store(num() as usize, Relaxed),
            "port" => self.port.store(num() as u32, Relaxed),
            "protected-mode" => self.protected_mode.store(v == "yes", Relaxed),
            "notify-keyspace-events" => self
                .notify_flags
                .store(params::notify::parse(v).unwrap_or(0), Relaxed),
            _ => {}
        }
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
    pub fn databases(&self) -> usize {
        self.databases.load(Relaxed)
    }
    pub fn port(&self) -> u16 {
        self.port.load(Relaxed) as u16
    }
    /// `notify-keyspace-events` as bits of [`params::notify`]; 0 when notifications are off (the usual case,
    /// checked by every write).
    pub fn notify_flags(&self) -> u32 {
        self.notify_flags.load(Relaxed)
    }
    pub fn bind(&self) -> Vec<String> {
        self.get("bind")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }
}
