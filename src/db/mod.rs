//! The keyspace: `databases` numbered databases, each split into shards behind `parking_lot::RwLock`s.
//!
//! Commands never lock shards themselves. The dispatcher works out, from the command table's key positions, which
//! (database, shard) pairs a command or a whole MULTI/EXEC touches and takes those locks in ascending order into a
//! [`KeyLocks`] before the handler runs. One global order makes deadlock impossible, and holding every lock for the
//! whole command makes multi-key commands and transactions atomic. Reads take read locks, so GETs on one shard
//! run in parallel.
//!
//! Every write ends in [`KeyLocks::signal_modified`]: the one "key changed" hook where WATCH invalidation and
//! blocked-client wake-ups attach.

mod dict;
pub mod expiry;
mod locks;
mod value;
pub mod watch;

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use crossbeam_utils::CachePadded;
use parking_lot::RwLock;

pub use dict::{Dict, Key};
pub use locks::{KeyLocks, LockPlan, LockSet};
pub use value::{StrValue, Value};

use crate::blocking::BlockedKeys;
use watch::WatchedKeys;

/// Shards per database. A power of two: the shard is picked from the top bits of the key's hash.
pub const SHARD_BITS: u32 = 6;
pub const SHARDS: usize = 1 << SHARD_BITS;

pub struct Entry {
    pub value: Value,
    /// Absolute Unix time in ms after which the key is gone; 0 = no TTL. Private so that only `KeyLocks` changes
    /// it and the shard's index of volatile keys stays exact.
    expire_at: i64,
    /// Seconds clock of the last access, for OBJECT IDLETIME.
    pub(crate) lru: Access,
    /// How Redis would have encoded a string edited in place (it sits in padding: no memory cost).
    pub(crate) str_encoding: StrEncoding,
}

/// Redis derives a string's encoding from its contents when it is stored whole (SET: `int`, `embstr` up to 44
/// bytes, `raw`), but APPEND and SETRANGE leave a `raw` string and INCRBYFLOAT an `embstr` one whatever they
/// contain; OBJECT ENCODING and REFCOUNT show the difference.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StrEncoding {
    #[default]
    FromContents,
    Raw,
    Embstr,
}

impl Entry {
    pub fn new(value: Value) -> Self {
        Entry {
            value,
            expire_at: 0,
            lru: Access::new(lru_clock()),
            str_encoding: StrEncoding::FromContents,
        }
    }
    /// An entry that expires at `at` (Unix ms); `KeyLocks::insert_entry` files it in the volatile index.
    pub fn with_expire(value: Value, at: Option<i64>) -> Self {
        Entry {
            expire_at: at.unwrap_or(0),
            ..Entry::new(value)
        }
    }
    /// The encoding OBJECT ENCODING reports for this key.
    pub fn encoding(&self) -> &'static str {
        match (&self.value, self.str_encoding) {
            (Value::Str(s), StrEncoding::FromContents) => crate::types::string::encoding_of(s),
            (Value::Str(s), StrEncoding::Embstr) if s.len() <= 44 => "embstr",
            (Value::Str(_), _) => "raw",
            (other, _) => other.encoding(),
        }
    }
    pub fn expire_at(&self) -> Option<i64> {
        (self.expire_at != 0).then_some(self.expire_at)
    }
    /// Whether the key is logically gone at `now`, for commands that walk a shard (KEYS, SCAN) under a read lock.
    pub fn expired(&self, now: i64) -> bool {
        self.expire_at != 0 && self.expire_at <= now
    }
}

/// When a key was last read or written, in the seconds of [`lru_clock`], as Redis keeps it in its `lru` field.
///
/// Atomic because reads record the access too (OBJECT IDLETIME is 0 right after a GET) and they hold only the
/// shard's read lock. The store happens only when the second has changed, so a hot key read by many threads costs
/// at most one write of its cache line per second, not one per read.
#[derive(Debug, Default)]
pub struct Access(AtomicU32);

impl Access {
    pub fn new(clock: u32) -> Self {
        Access(AtomicU32::new(clock))
    }

    pub fn get(&self) -> u32 {
        self.0.load(Relaxed)
    }

    pub fn touch(&self, clock: u32) {
        if self.get() != clock {
            self.0.store(clock, Relaxed);
        }
    }
}

impl Clone for Access {
    fn clone(&self) -> Self {
        Access::new(self.get())
    }
}

pub fn lru_clock() -> u32 {
    crate::util::time::coarse_secs() as u32
}

pub struct Shard {
    pub(crate) dict: Dict<Entry>,
    /// Keys that have a TTL, so the expiry cycle samples only those.
    volatile: Dict<()>,
    expire_cursor: u64,
    pub(crate) watched: WatchedKeys,
    pub(crate) blocked: BlockedKeys,
}

impl Shard {
    fn new(hasher: &ahash::RandomState) -> Self {
        Shard {
            dict: Dict::new(hasher.clone()),
            volatile: Dict::new(hasher.clone()),
            expire_cursor: 0,
            watched: WatchedKeys::default(),
            blocked: BlockedKeys::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.dict.len()
    }
    pub fn is_empty(&self) -> bool {
        self.dict.is_empty()
    }
    pub fn volatile_len(&self) -> usize {
        self.volatile.len()
    }
    /// Drops every key; watchers see the change.
    pub fn clear(&mut self) {
        self.watched
            .replace_all(&self.dict, None, crate::util::time::now_ms());
        self.dict.clear();
        self.volatile.clear();
    }
    /// Empties the shard and hands its keys back, so FLUSHALL ASYNC can free them on another thread.
    pub fn take_contents(&mut self) -> Dict<Entry> {
        self.watched
            .replace_all(&self.dict, None, crate::util::time::now_ms());
        self.volatile.clear();
        self.dict.take()
    }
    /// Exchanges the contents (not the hook registries) of two shards, for SWAPDB.
    pub fn swap_data(&mut self, other: &mut Shard) {
        let now = crate::util::time::now_ms();
        self.watched.replace_all(&self.dict, Some(&other.dict), now);
        other
            .watched
            .replace_all(&other.dict, Some(&self.dict), now);
        std::mem::swap(&mut self.dict, &mut other.dict);
        std::mem::swap(&mut self.volatile, &mut other.volatile);
    }
}

pub struct Db {
    shards: Box<[CachePadded<RwLock<Shard>>]>,
}

impl Db {
    fn new(hasher: &ahash::RandomState) -> Self {
        Db {
            shards: (0..SHARDS)
                .map(|_| CachePadded::new(RwLock::new(Shard::new(hasher))))
                .collect(),
        }
    }
    pub fn shard(&self, i: usize) -> &RwLock<Shard> {
        &self.shards[i]
    }
}

/// Told about every key the active or lazy expiry deletes, with the shard's write lock held (keyspace
/// notifications' `expired` event).
pub type ExpiredHook = Box<dyn Fn(usize, &[u8]) + Send + Sync>;

pub struct Keyspace {
    dbs: Box<[Db]>,
    hasher: ahash::RandomState,
    expired_hook: std::sync::OnceLock<ExpiredHook>,
}

impl Keyspace {
    pub fn new(databases: usize) -> Self {
        let hasher = ahash::RandomState::new();
        Keyspace {
            dbs: (0..databases).map(|_| Db::new(&hasher)).collect(),
            hasher,
            expired_hook: std::sync::OnceLock::new(),
        }
    }

    /// Installs the expired-key hook (once, at start-up).
    pub fn on_expired(&self, hook: ExpiredHook) {
        let _ = self.expired_hook.set(hook);
    }

    fn key_expired(&self, db: usize, key: &[u8]) {
        if let Some(hook) = self.expired_hook.get() {
            hook(db, key);
        }
    }

    pub fn db_count(&self) -> usize {
        self.dbs.len()
    }

    pub fn db(&self, i: usize) -> &Db {
        &self.dbs[i]
    }

    #[inline]
    pub fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    #[inline]
    pub fn shard_of_hash(hash: u64) -> usize {
        (hash >> (64 - SHARD_BITS)) as usize
    }

    pub fn shard_of(&self, key: &[u8]) -> usize {
        Self::shard_of_hash(self.hash(key))
    }

    /// Keys in one database, taking each shard's read lock in turn (INFO keyspace; not atomic across shards).
    pub fn db_sizes(&self, db: usize) -> (usize, usize) {
        self.dbs[db].shards.iter().fold((0, 0), |(k, v), s| {
            let s = s.read();
            (k + s.len(), v + s.volatile_len())
        })
    }
}
