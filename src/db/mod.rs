//! The keyspace: `databases` numbered databases, each split into shards behind `parking_lot::RwLock`s.
//!
//! Commands never lock shards themselves. The dispatcher works out, from the command table's key positions, which
//! (database, shard) pairs a command or a whole MULTI/EXEC touches and takes those locks in ascending order into a
//! [`KeyLocks`] before the handler runs. One global order makes deadlock impossible, and holding every lock for the
//! whole command makes multi-key commands and transactions atomic. Reads take read locks, so GETs on one shard
//! run in parallel.
//!
//! Every write ends in [`KeyLocks::report`]: the one "key changed" hook where WATCH invalidation, blocked-client
//! wake-ups, the dirty counter and keyspace events attach (see `crate::effects`).

mod dict;
pub mod expiry;
mod key;
mod locks;
mod strvalue;
mod value;
pub mod watch;

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};

use crossbeam_utils::CachePadded;
use parking_lot::RwLock;

pub use dict::{Dict, Key, SEGMENTS};
pub use locks::{expire_lazily, KeyLocks, LockPlan, LockSet};
pub use value::{StrValue, Value};

use crate::blocking::BlockedKeys;
use watch::WatchedKeys;

/// Shards per database. A power of two: the shard is picked from the top bits of the key's hash.
pub const SHARD_BITS: u32 = 6;
pub const SHARDS: usize = 1 << SHARD_BITS;

/// A stored key's value and bookkeeping: 32 bytes, so that a keyspace node (next pointer, 16-byte key, entry) is
/// 56 bytes, a 64-byte malloc block (Redis: a 24-byte dictEntry plus a 16-byte robj, 64 bytes in jemalloc's
/// classes). The TTL is not here: a key with one is in the shard's volatile index with its deadline (Redis's
/// `expires` dict), and `ttl` says so, so a key without a TTL pays nothing for it and a lookup of one does not
/// look in the index.
pub struct Entry {
    pub value: Value,
    /// When (LRU) or how often (LFU) the key is used, for OBJECT IDLETIME and OBJECT FREQ.
    pub(crate) lru: Access,
    /// How Redis would have encoded a string edited in place.
    pub(crate) str_encoding: StrEncoding,
    /// Whether the shard's volatile index holds a deadline for this key. Private so that only `KeyLocks` changes
    /// it, together with the index.
    ttl: bool,
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
            lru: Access::default(),
            str_encoding: StrEncoding::FromContents,
            ttl: false,
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
    /// Whether the key has a TTL (its deadline is in the shard's volatile index: `Shard::expire_at`).
    pub fn has_ttl(&self) -> bool {
        self.ttl
    }
    /// The access stamp, for persistence (RDB IDLE/FREQ opcodes, RESTORE IDLETIME/FREQ).
    pub fn access(&self) -> &Access {
        &self.lru
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

    /// Sets the stamp of a loaded or restored key as Redis's `objectSetLRUOrLFU` does: under LFU the given
    /// frequency (RESTORE FREQ, the RDB FREQ opcode), under LRU the given idle seconds (IDLETIME, the IDLE opcode);
    /// the one that does not match the policy is ignored. Set before the entry is stored, it survives `stamp_new`.
    pub fn restore(&self, idle_secs: Option<u64>, freq: Option<u8>, now_ms: i64) {
        if access_policy::lfu() {
            if let Some(f) = freq {
                self.0.store(minutes(now_ms) << 8 | u32::from(f), Relaxed);
            }
        } else if let Some(idle) = idle_secs {
            let idle = u32::try_from(idle).unwrap_or(u32::MAX);
            self.0
                .store(seconds(now_ms).saturating_sub(idle).max(1), Relaxed);
        }
    }

    /// Seconds since the last use under LRU (OBJECT IDLETIME; what an RDB file's IDLE opcode records).
    pub fn idle_secs(&self, now_ms: i64) -> u64 {
        match self.get() {
            0 => 0, // never stamped: not stored yet
            stamp => u64::from(seconds(now_ms).saturating_sub(stamp)),
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
    /// The keys that have a TTL, with their deadlines (absolute Unix ms): the TTL lookups (O(1), with the key's
    /// hash), and the expiry cycle samples only these.
    volatile: Dict<i64>,
    expire_cursor: u64,
    pub(crate) watched: WatchedKeys,
    pub(crate) blocked: BlockedKeys,
    /// The dict segments (`dict::SEGMENTS`, one bit each) a running snapshot has yet to save: all set when it
    /// starts, each cleared by whoever saves that segment first (the serializer or a writer about to change it).
    /// Atomic so the serializer can clear bits under a read lock.
    snapshot_pending: AtomicU64,
}

impl Shard {
    fn new(hasher: &ahash::RandomState) -> Self {
        Shard {
            dict: Dict::new(hasher.clone()),
            volatile: Dict::new(hasher.clone()),
            expire_cursor: 0,
            watched: WatchedKeys::default(),
            blocked: BlockedKeys::default(),
            snapshot_pending: AtomicU64::new(0),
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
    /// The deadline (Unix ms) of `key`, stored here with `entry`; None without a TTL.
    pub fn expire_at(&self, key: &[u8], entry: &Entry) -> Option<i64> {
        if entry.ttl {
            self.volatile.get(self.volatile.hash_of(key), key).copied()
        } else {
            None
        }
    }
    /// `expire_at` for a key whose hash the caller has.
    pub(crate) fn expire_at_hashed(&self, hash: u64, key: &[u8], entry: &Entry) -> Option<i64> {
        if entry.ttl {
            self.volatile.get(hash, key).copied()
        } else {
            None
        }
    }
    /// Whether `key` (stored here with `entry`) is logically gone at `now`, for commands that walk a shard (KEYS,
    /// SCAN) under a read lock.
    pub fn expired(&self, key: &[u8], entry: &Entry, now: i64) -> bool {
        self.expire_at(key, entry).is_some_and(|at| at <= now)
    }
    /// A random key with a TTL, for the volatile eviction policies.
    pub fn random_volatile(&self) -> Option<&[u8]> {
        self.volatile.random().map(|(k, _)| k)
    }
    /// The hash the shard's dict files `key` under (the keyspace's hasher).
    pub fn hash_of(&self, key: &[u8]) -> u64 {
        self.dict.hash_of(key)
    }
    /// Empties the shard and hands its keys back, so FLUSHALL ASYNC can free them on another thread; watchers see
    /// it. Only `KeyLocks::flush_db` calls it, which reports the change.
    pub(super) fn take_contents(&mut self) -> Dict<Entry> {
        self.watched
            .replace_all(&self.dict, None, crate::util::time::now_ms());
        self.volatile.clear();
        self.dict.take()
    }
    /// Stores an entry loaded into a shard no client sees yet (a swapdb full sync's, see [`Keyspace::shadow`]):
    /// no watcher, blocked client, snapshot or keyspace event can be concerned. Returns the entry it replaced.
    pub fn insert_unseen(
        &mut self,
        hash: u64,
        key: &[u8],
        mut entry: Entry,
        at: Option<i64>,
        now: i64,
    ) -> Option<Entry> {
        entry.lru.stamp_new(now);
        entry.ttl = at.is_some();
        let old = self.dict.insert(hash, key, entry);
        match at {
            Some(at) => {
                self.volatile.insert(hash, key, at);
            }
            None if old.as_ref().is_some_and(|o| o.ttl) => {
                self.volatile.remove(hash, key);
            }
            None => {}
        }
        old
    }

    /// Exchanges the contents (not the hook registries) of two shards, for SWAPDB.
    pub(super) fn swap_data(&mut self, other: &mut Shard) {
        let now = crate::util::time::now_ms();
        self.watched.replace_all(&self.dict, Some(&*other), now);
        other.watched.replace_all(&other.dict, Some(&*self), now);
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

pub struct Keyspace {
    dbs: Box<[Db]>,
    hasher: ahash::RandomState,
    /// The snapshot in progress, if any (see `crate::persist::snapshot`).
    snapshot: parking_lot::Mutex<Option<std::sync::Arc<dyn ShardSaver>>>,
}

/// What a point-in-time snapshot does with a shard it must save: write every entry as it is now. Called with the
/// shard locked (read by the serializer, write by a writer about to change it), at most once per shard and
/// snapshot.
pub trait ShardSaver: Send + Sync {
    /// Told, at the snapshot's instant, each database's (keys, keys with a TTL).
    fn started(&self, sizes: Vec<(u64, u64)>);
    /// Saves the entries of the dict segments in the bit set `segments` (see `Dict::segment`).
    fn save_segments(&self, db: usize, shard: &Shard, segments: u64);
}

/// What a writer is about to do to a locked shard, so a running snapshot saves what it must first: the key's
/// dict segment, or the whole shard when the change is not about one key or resizes the table (which moves keys
/// between segments).
#[derive(Clone, Copy)]
pub enum Touch {
    Shard,
    /// A key changed in place (or a registry kept beside it).
    Key(u64),
    /// A key stored, given its hash.
    Insert(u64),
    Remove(u64),
    /// The serializer's turn on one segment.
    Segment(u32),
}

impl Keyspace {
    pub fn new(databases: usize) -> Self {
        let hasher = ahash::RandomState::new();
        Keyspace {
            dbs: (0..databases).map(|_| Db::new(&hasher)).collect(),
            hasher,
            snapshot: parking_lot::Mutex::new(None),
        }
    }

    /// An empty keyspace beside this one, with its hasher (so keys fall in the same shards and dict slots): a
    /// swapdb full sync loads into it while this one keeps the old data, then the two exchange contents
    /// (`KeyLocks::swap_keyspace`).
    pub fn shadow(&self) -> Keyspace {
        Keyspace {
            dbs: (0..self.db_count())
                .map(|_| Db::new(&self.hasher))
                .collect(),
            hasher: self.hasher.clone(),
            snapshot: parking_lot::Mutex::new(None),
        }
    }

    /// Starts a point-in-time snapshot: with every shard of every database write-locked at once (O(shards), no
    /// key is touched), marks every segment of each non-empty shard pending and installs `saver`. From then on
    /// each segment is saved exactly once, as it was at this instant: by `save_pending` (the serializer) or by
    /// `save_before_write` (the first writer to change it). False if a snapshot is already running.
    pub fn begin_snapshot(&self, saver: std::sync::Arc<dyn ShardSaver>) -> bool {
        let all = {
            let mut plan = LockPlan::new();
            plan.all_dbs(self, true);
            plan.acquire(self)
        };
        let mut current = self.snapshot.lock();
        if current.is_some() {
            return false;
        }
        // Every shard is write-locked by `all`: no reader or writer sees a half-marked keyspace.
        let mut sizes = vec![(0u64, 0u64); self.db_count()];
        for (db, shard) in all.held_shards() {
            let segments = if shard.is_empty() { 0 } else { u64::MAX };
            shard.snapshot_pending.store(segments, Relaxed);
            sizes[db].0 += shard.len() as u64;
            sizes[db].1 += shard.volatile_len() as u64;
        }
        saver.started(sizes);
        *current = Some(saver);
        drop(current);
        drop(all);
        true
    }

    /// The serializer's step: saves what is left of shard `shard` of `db`, one segment per turn of its read
    /// lock, so writers of that shard wait for one segment at most. Between turns the segments cannot move: a
    /// resize first saves every pending segment.
    pub fn save_pending(&self, db: usize, shard: usize) {
        let lock = &self.dbs[db].shards[shard];
        for seg in 0..dict::SEGMENTS as u32 {
            let guard = lock.read();
            if guard.snapshot_pending.load(Relaxed) == 0 {
                return;
            }
            self.save_before_write(db, &guard, Touch::Segment(seg));
        }
    }

    /// Called with `shard` locked before anything changes it: saves what the change would alter, if the running
    /// snapshot has not saved it yet.
    #[inline]
    pub fn save_before_write(&self, db: usize, shard: &Shard, touch: Touch) {
        if shard.snapshot_pending.load(Relaxed) != 0 {
            self.save_segments_now(db, shard, touch);
        }
    }

    #[cold]
    fn save_segments_now(&self, db: usize, shard: &Shard, touch: Touch) {
        let dict = &shard.dict;
        let segments = match touch {
            Touch::Segment(seg) => 1u64 << seg,
            Touch::Key(h) => 1u64 << dict.segment_of(h),
            Touch::Insert(h) if !dict.grows_on_insert() => 1u64 << dict.segment_of(h),
            Touch::Remove(h) if !dict.shrinks_on_remove() => 1u64 << dict.segment_of(h),
            _ => u64::MAX,
        };
        // Writers hold the write lock and the serializer a read lock, so no two callers race on one shard.
        let taken = shard.snapshot_pending.fetch_and(!segments, Relaxed) & segments;
        if taken != 0 {
            let saver = self.snapshot.lock().clone();
            if let Some(saver) = saver {
                saver.save_segments(db, shard, taken);
            }
        }
    }

    /// Ends the snapshot: every shard must have been passed to `save_pending` first.
    pub fn end_snapshot(&self) {
        *self.snapshot.lock() = None;
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
