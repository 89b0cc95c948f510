//! Taking shard locks in one global order, and the key API handlers use while holding them.

use parking_lot::{RwLockReadGuard, RwLockWriteGuard};
use smallvec::SmallVec;

use super::{Entry, Keyspace, Shard, Value, SHARDS};
use crate::server::stats;

/// The (database, shard) pairs a command needs, before any lock is taken.
#[derive(Default, Clone)]
pub struct LockPlan {
    items: SmallVec<[(u32, u32, bool); 4]>,
}

impl LockPlan {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn key(&mut self, ks: &Keyspace, db: usize, key: &[u8], write: bool) {
        self.items.push((db as u32, ks.shard_of(key) as u32, write));
    }

    pub fn whole_db(&mut self, db: usize, write: bool) {
        self.items
            .extend((0..SHARDS as u32).map(|s| (db as u32, s, write)));
    }

    pub fn all_dbs(&mut self, ks: &Keyspace, write: bool) {
        for db in 0..ks.db_count() {
            self.whole_db(db, write);
        }
    }

    pub fn merge(&mut self, other: &LockPlan) {
        self.items.extend_from_slice(&other.items);
    }

    /// Takes every lock in ascending (database, shard) order. All multi-lock acquisition in ferredis goes through
    /// here, so no two threads can wait on each other in a cycle: that is why EXEC and multi-key commands cannot
    /// deadlock. A pair asked for both ways is taken for writing.
    pub fn acquire(mut self, ks: &Keyspace) -> LockSet<'_> {
        if self.items.len() > 1 {
            self.items.sort_unstable();
            self.items.dedup_by(|later, earlier| {
                if (later.0, later.1) == (earlier.0, earlier.1) {
                    earlier.2 |= later.2;
                    true
                } else {
                    false
                }
            });
        }
        let held = self
            .items
            .iter()
            .map(|&(db, shard, write)| {
                let lock = ks.db(db as usize).shard(shard as usize);
                let guard = if write {
                    Guard::Write(lock.write())
                } else {
                    Guard::Read(lock.read())
                };
                Held { db, shard, guard }
            })
            .collect();
        LockSet { held }
    }
}

enum Guard<'a> {
    Read(RwLockReadGuard<'a, Shard>),
    Write(RwLockWriteGuard<'a, Shard>),
}

struct Held<'a> {
    db: u32,
    shard: u32,
    guard: Guard<'a>,
}

/// Guards held for one command or one transaction, sorted by (database, shard).
pub struct LockSet<'a> {
    held: SmallVec<[Held<'a>; 4]>,
}

impl LockSet<'_> {
    pub fn empty() -> Self {
        LockSet {
            held: SmallVec::new(),
        }
    }

    fn find(&self, db: usize, shard: usize) -> usize {
        let target = (db as u32, shard as u32);
        self.held.binary_search_by(|h| (h.db, h.shard).cmp(&target)).unwrap_or_else(|_| {
            panic!("shard {shard} of db {db} used without its lock: fix the command's key positions")
        })
    }
}

/// What a handler sees of the keyspace: only the shards locked for it, with Redis's expiry rules applied.
pub struct KeyLocks<'a> {
    ks: &'a Keyspace,
    set: LockSet<'a>,
    /// The command's clock: one timestamp per command, as Redis uses, so a key cannot expire halfway through.
    now: i64,
    /// Whether lookups count as uses of the key (OBJECT IDLETIME, OBJECT FREQ); off for CLIENT NO-TOUCH clients.
    touch: bool,
}

impl<'a> KeyLocks<'a> {
    pub fn new(ks: &'a Keyspace, set: LockSet<'a>, now: i64) -> Self {
        KeyLocks {
            ks,
            set,
            now,
            touch: true,
        }
    }

    /// Stops lookups from counting as uses, for a client in CLIENT NO-TOUCH mode (but for its TOUCH commands).
    pub fn set_touch(&mut self, touch: bool) {
        self.touch = touch;
    }

    /// Stamps `entry` as used at `now` unless this command does not touch keys. An associated function so that
    /// `get_mut` can call it while it holds the entry mutably.
    fn record_use(touch: bool, now: i64, entry: &Entry) {
        if touch {
            entry.lru.touch(now);
        }
    }

    pub fn keyspace(&self) -> &'a Keyspace {
        self.ks
    }

    pub fn now(&self) -> i64 {
        self.now
    }

    pub fn set_now(&mut self, now: i64) {
        self.now = now;
    }

    /// The locked shard holding `key`, for registries kept per shard (blocked clients, watches).
    pub fn shard(&self, db: usize, key: &[u8]) -> &Shard {
        let i = self.set.find(db, self.ks.shard_of(key));
        match &self.set.held[i].guard {
            Guard::Read(g) => g,
            Guard::Write(g) => g,
        }
    }

    /// Whether `key`'s shard is locked for writing here: blocked clients are served under a command's locks only
    /// when every key the serve writes is.
    pub fn holds_for_write(&self, db: usize, key: &[u8]) -> bool {
        let target = (db as u32, self.ks.shard_of(key) as u32);
        self.set
            .held
            .binary_search_by(|h| (h.db, h.shard).cmp(&target))
            .is_ok_and(|i| matches!(self.set.held[i].guard, Guard::Write(_)))
    }

    pub fn shard_mut(&mut self, db: usize, key: &[u8]) -> &mut Shard {
        let i = self.set.find(db, self.ks.shard_of(key));
        self.held_mut(i)
    }

    fn held_mut(&mut self, i: usize) -> &mut Shard {
        match &mut self.set.held[i].guard {
            Guard::Write(g) => g,
            Guard::Read(_) => {
                panic!("write through a read lock: the command must be flagged write")
            }
        }
    }

    /// Every locked shard of `db`, for KEYS, SCAN, DBSIZE, RANDOMKEY.
    pub fn shards(&self, db: usize) -> impl Iterator<Item = (usize, &Shard)> {
        self.set
            .held
            .iter()
            .filter(move |h| h.db as usize == db)
            .map(|h| {
                let shard: &Shard = match &h.guard {
                    Guard::Read(g) => g,
                    Guard::Write(g) => g,
                };
                (h.shard as usize, shard)
            })
    }

    pub fn shards_mut(&mut self, db: usize) -> impl Iterator<Item = &mut Shard> + use<'_, 'a> {
        self.set
            .held
            .iter_mut()
            .filter(move |h| h.db as usize == db)
            .map(|h| match &mut h.guard {
                Guard::Write(g) => &mut **g,
                Guard::Read(_) => {
                    panic!("write through a read lock: the command must be flagged write")
                }
            })
    }

    /// Exchanges the contents of databases `a` and `b` shard by shard (SWAPDB); both must be locked for writing.
    /// A key hashes to the same shard index in every database, so swapping shard i with shard i is exact.
    pub fn swap_dbs(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        let (lo, hi) = (a.min(b) as u32, a.max(b) as u32);
        let split = self.set.held.partition_point(|h| h.db < hi);
        let (left, right) = self.set.held.split_at_mut(split);
        for l in left.iter_mut().filter(|h| h.db == lo) {
            let r = right
                .iter_mut()
                .find(|h| h.db == hi && h.shard == l.shard)
                .unwrap_or_else(|| panic!("SWAPDB needs every shard of db {hi} locked"));
            match (&mut l.guard, &mut r.guard) {
                (Guard::Write(x), Guard::Write(y)) => {
                    x.swap_data(y);
                    // Clients blocked on keys of either database may find data there now, as in Redis.
                    x.blocked.mark_all_ready(lo as usize);
                    y.blocked.mark_all_ready(hi as usize);
                }
                _ => panic!("write through a read lock: the command must be flagged write"),
            }
        }
    }

    /// The live entry at `key`, recording the access (OBJECT IDLETIME); an expired one is invisible (it is deleted
    /// by writers or the expiry cycle).
    pub fn get(&self, db: usize, key: &[u8]) -> Option<&Entry> {
        let entry = self.peek(db, key)?;
        Self::record_use(self.touch, self.now, entry);
        Some(entry)
    }

    /// `get` without recording an access, for the commands Redis runs with `LOOKUP_NOTOUCH` (TYPE, EXISTS, TTL,
    /// OBJECT): asking about a key does not make it recently used.
    pub fn peek(&self, db: usize, key: &[u8]) -> Option<&Entry> {
        let hash = self.ks.hash(key);
        let i = self.set.find(db, Keyspace::shard_of_hash(hash));
        let shard: &Shard = match &self.set.held[i].guard {
            Guard::Read(g) => g,
            Guard::Write(g) => g,
        };
        shard.dict.get(hash, key).filter(|e| !e.expired(self.now))
    }

    pub fn get_value(&self, db: usize, key: &[u8]) -> Option<&Value> {
        self.get(db, key).map(|e| &e.value)
    }

    pub fn contains(&self, db: usize, key: &[u8]) -> bool {
        self.get(db, key).is_some()
    }

    /// The live entry at `key` for changing in place, recording the access; an expired one is deleted first.
    pub fn get_mut(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        let (now, touch) = (self.now, self.touch);
        let entry = self.live_mut(db, key)?;
        Self::record_use(touch, now, entry);
        Some(entry)
    }

    /// `get_mut` without recording an access, for bookkeeping on a key the command already looked up.
    fn live_mut(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        let hash = self.ks.hash(key);
        let (now, ks) = (self.now, self.ks);
        let i = self.set.find(db, Keyspace::shard_of_hash(hash));
        let shard = self.held_mut(i);
        if shard.dict.get(hash, key)?.expired(now) {
            delete_expired(ks, db, shard, hash, key);
            return None;
        }
        shard.dict.get_mut(hash, key)
    }

    pub fn get_value_mut(&mut self, db: usize, key: &[u8]) -> Option<&mut Value> {
        self.get_mut(db, key).map(|e| &mut e.value)
    }

    /// Stores `value` at `key`, dropping any TTL (SET semantics). Returns the previous live entry.
    pub fn insert(&mut self, db: usize, key: &[u8], value: Value) -> Option<Entry> {
        self.insert_entry(db, key, Entry::new(value))
    }

    /// Stores a whole entry, TTL included (RENAME, MOVE, COPY keep the TTL).
    pub fn insert_entry(&mut self, db: usize, key: &[u8], mut entry: Entry) -> Option<Entry> {
        let hash = self.ks.hash(key);
        let now = self.now;
        if entry.lru.get() == 0 && super::access_policy::lfu() {
            // A new value for a live key keeps the key's frequency, as Redis's dbOverwrite does under LFU, and
            // the overwrite counts as a use (Redis looks the key up for writing first).
            if let Some(old) = self.peek(db, key) {
                entry.lru = old.lru.clone();
                Self::record_use(self.touch, now, &entry);
            }
        }
        entry.lru.stamp_new(now);
        let ks = self.ks;
        let i = self.set.find(db, Keyspace::shard_of_hash(hash));
        let shard = self.held_mut(i);
        // An expired entry is deleted as expired first (event, `expired_keys`), as Redis's lookup for writing does.
        if shard.dict.get(hash, key).is_some_and(|o| o.expired(now)) {
            delete_expired(ks, db, shard, hash, key);
        }
        let new_ttl = entry.expire_at != 0;
        let old = shard.dict.insert(hash, key, entry);
        let old_ttl = old.as_ref().is_some_and(|o| o.expire_at != 0);
        if new_ttl && !old_ttl {
            shard.volatile.insert(hash, key, ());
        } else if old_ttl && !new_ttl {
            shard.volatile.remove(hash, key);
        }
        if old.is_none() {
            ks.key_event(db, 'n', "new", key);
        }
        old
    }

    /// Deletes `key`; returns the entry if it was live (an expired one is deleted as expired).
    pub fn remove(&mut self, db: usize, key: &[u8]) -> Option<Entry> {
        self.live_mut(db, key)?;
        let hash = self.ks.hash(key);
        let i = self.set.find(db, Keyspace::shard_of_hash(hash));
        let shard = self.held_mut(i);
        let (_, entry) = shard.dict.remove(hash, key)?;
        if entry.expire_at != 0 {
            shard.volatile.remove(hash, key);
        }
        Some(entry)
    }

    /// Deletes `key` as expired if it is (Redis's `expireIfNeeded` in a lookup for writing): the dispatcher calls it
    /// for each key of a write command before the handler runs, so the `expired` event and `expired_keys` come
    /// first whatever the command then does (SET ... XX finding nothing, LPUSH recreating the key).
    pub fn expire_if_needed(&mut self, db: usize, key: &[u8]) {
        let hash = self.ks.hash(key);
        let (now, ks) = (self.now, self.ks);
        let i = self.set.find(db, Keyspace::shard_of_hash(hash));
        let shard = self.held_mut(i);
        if shard.volatile.is_empty() {
            return;
        }
        if shard.dict.get(hash, key).is_some_and(|e| e.expired(now)) {
            delete_expired(ks, db, shard, hash, key);
        }
    }

    /// Sets (`Some(ms)`) or clears (`None`) the TTL of a live key; false if there is no such key.
    pub fn set_expire(&mut self, db: usize, key: &[u8], at: Option<i64>) -> bool {
        let hash = self.ks.hash(key);
        let Some(entry) = self.live_mut(db, key) else {
            return false;
        };
        let had = entry.expire_at != 0;
        entry.expire_at = at.unwrap_or(0);
        let shard = self.shard_mut(db, key);
        match (had, at.is_some()) {
            (false, true) => {
                shard.volatile.insert(hash, key, ());
            }
            (true, false) => {
                shard.volatile.remove(hash, key);
            }
            _ => {}
        }
        true
    }

    /// The "key changed" hook: every write calls it once per key it changed.
    pub fn signal_modified(&mut self, db: usize, key: &[u8]) {
        let shard = self.shard_mut(db, key);
        shard.watched.touch(key, &shard.dict);
        shard.blocked.key_changed(db, key);
    }

    /// Offers the key to its blocked clients without counting as a change for WATCH: Redis's `signalKeyAsReady`
    /// without `signalModifiedKey` (XGROUP DESTROY, which answers blocked XREADGROUPs with NOGROUP).
    pub fn signal_ready(&mut self, db: usize, key: &[u8]) {
        self.shard_mut(db, key).blocked.key_changed(db, key);
    }
}

/// Deletes a key found expired, counting it for INFO `expired_keys` and telling the expired-key hook.
pub(crate) fn delete_expired(ks: &Keyspace, db: usize, shard: &mut Shard, hash: u64, key: &[u8]) {
    if shard.dict.remove(hash, key).is_some() {
        shard.volatile.remove(hash, key);
        shard.watched.touch(key, &shard.dict);
        stats::global()
            .expired_keys
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ks.key_event(db, 'x', "expired", key);
    }
}
