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

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};

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
    /// When (LRU) or how often (LFU) the key is used, for OBJECT IDLETIME and OBJECT FREQ.
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
            lru: Access::default(),
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

/// What a key's access stamp records, from `maxmemory-policy`: when it was last used (LRU: seconds of
/// [`lru_clock`]) or how often (LFU: Redis's 16-bit minutes and 8-bit logarithmic counter), as Redis keeps its
/// `lru` field. Process-wide, as the policy is in Redis; `Config` sets it.
pub mod access_policy {
    use super::*;

    static LFU: AtomicBool = AtomicBool::new(false);
    static LOG_FACTOR: AtomicU32 = AtomicU32::new(10);
    static DECAY_MINUTES: AtomicU32 = AtomicU32::new(1);

    pub fn set_lfu(on: bool) {
        LFU.store(on, Relaxed);
    }
    pub fn set_log_factor(f: u32) {
        LOG_FACTOR.store(f, Relaxed);
    }
    pub fn set_decay_minutes(m: u32) {
        DECAY_MINUTES.store(m, Relaxed);
    }
    pub fn lfu() -> bool {
        LFU.load(Relaxed)
    }
    pub(super) fn log_factor() -> u32 {
        LOG_FACTOR.load(Relaxed)
    }
    pub(super) fn decay_minutes() -> u32 {
        DECAY_MINUTES.load(Relaxed)
    }
}

/// A key's access stamp (see [`access_policy`]); 0 until the key is first stored.
///
/// Atomic because reads record the access too (OBJECT IDLETIME is 0 right after a GET, OBJECT FREQ grows) and they
/// hold only the shard's read lock. It stores only when the value changes: under LRU once a second per key at
/// most, under LFU when the counter grows (ever more rarely, it is logarithmic), so a hot key does not turn every
/// read into a write of its cache line.
#[derive(Debug, Default)]
pub struct Access(AtomicU32);

/// Redis's LFU_INIT_VAL: a new key's counter, so it is not evicted before it had a chance to be used.
const LFU_INIT: u32 = 5;

impl Access {
    pub fn get(&self) -> u32 {
        self.0.load(Relaxed)
    }

    fn set(&self, v: u32) {
        if self.get() != v {
            self.0.store(v, Relaxed);
        }
    }

    /// Stamps a key just stored, unless it was stored before (RENAME and MOVE keep theirs).
    pub(crate) fn stamp_new(&self, now_ms: i64) {
        if self.get() == 0 {
            if access_policy::lfu() {
                self.0.store(minutes(now_ms) << 8 | LFU_INIT, Relaxed);
            } else {
                self.0.store(seconds(now_ms), Relaxed);
            }
        }
    }

    /// Records a use: Redis's `LRU_CLOCK()` or `updateLFU`.
    pub(crate) fn touch(&self, now_ms: i64) {
        if access_policy::lfu() {
            let counter = log_incr(self.lfu_counter(now_ms));
            self.set(minutes(now_ms) << 8 | counter);
        } else {
            self.set(seconds(now_ms));
        }
    }

    /// The LFU counter after the decay of the minutes since the last use (OBJECT FREQ; Redis's `LFUDecrAndReturn`).
    pub fn lfu_counter(&self, now_ms: i64) -> u32 {
        let v = self.get();
        let (last, counter) = (v >> 8, v & 0xFF);
        let decay = access_policy::decay_minutes();
        let periods = match decay {
            0 => 0,
            d => (minutes(now_ms).wrapping_sub(last) & 0xFFFF) / d,
        };
        counter.saturating_sub(periods)
    }
}

impl Clone for Access {
    fn clone(&self) -> Self {
        Access(AtomicU32::new(self.get()))
    }
}

fn seconds(now_ms: i64) -> u32 {
    (now_ms / 1000) as u32
}

/// Redis's 16-bit LFU clock in minutes.
fn minutes(now_ms: i64) -> u32 {
    ((now_ms / 60_000) & 0xFFFF) as u32
}

/// Redis's `LFULogIncr`: the counter grows with probability 1 / ((counter - 5) * lfu-log-factor + 1).
fn log_incr(counter: u32) -> u32 {
    if counter >= 255 {
        return 255;
    }
    let base = counter.saturating_sub(LFU_INIT) as f64;
    let p = 1.0 / (base * access_policy::log_factor() as f64 + 1.0);
    if fastrand::f64() < p {
        counter + 1
    } else {
        counter
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

/// Told, with the shard's write lock held, about the keyspace events the keyspace itself causes: every key the
/// active or lazy expiry deletes (class `x`, event `expired`) and every key created (class `n`, event `new`, as
/// Redis's `dbAdd`). Keyspace notifications hang off it.
pub type KeyEventHook = Box<dyn Fn(usize, char, &str, &[u8]) + Send + Sync>;

pub struct Keyspace {
    dbs: Box<[Db]>,
    hasher: ahash::RandomState,
    event_hook: std::sync::OnceLock<KeyEventHook>,
}

impl Keyspace {
    pub fn new(databases: usize) -> Self {
        let hasher = ahash::RandomState::new();
        Keyspace {
            dbs: (0..databases).map(|_| Db::new(&hasher)).collect(),
            hasher,
            event_hook: std::sync::OnceLock::new(),
        }
    }

    /// Installs the expired-key hook (once, at start-up).
    pub fn on_key_event(&self, hook: KeyEventHook) {
        let _ = self.event_hook.set(hook);
    }

    fn key_event(&self, db: usize, class: char, event: &str, key: &[u8]) {
        if let Some(hook) = self.event_hook.get() {
            hook(db, class, event, key);
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

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    #[test]
    fn lfu_counter_decays_one_step_per_idle_minute() {
        // lfu-decay-time is 1 minute unless configured.
        let t = 1_000 * MINUTE;
        let a = Access(AtomicU32::new(minutes(t) << 8 | 10));
        assert_eq!(a.lfu_counter(t), 10);
        assert_eq!(a.lfu_counter(t + 59_999), 10);
        assert_eq!(a.lfu_counter(t + 3 * MINUTE), 7);
        assert_eq!(a.lfu_counter(t + 30 * MINUTE), 0);
    }

    #[test]
    fn lfu_minutes_wrap_at_sixteen_bits() {
        let last = 65_535 * MINUTE;
        let a = Access(AtomicU32::new(minutes(last) << 8 | 9));
        assert_eq!(
            a.lfu_counter(last + 2 * MINUTE),
            7,
            "minute 65535 to minute 1 is two minutes"
        );
    }

    #[test]
    fn log_incr_is_certain_at_the_initial_count_and_saturates() {
        for _ in 0..100 {
            assert_eq!(log_incr(LFU_INIT), LFU_INIT + 1);
            assert_eq!(log_incr(0), 1);
        }
        assert_eq!(log_incr(255), 255);
    }
}
