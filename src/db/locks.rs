//! Taking shard locks in one global order, and the key API handlers use while holding them.

use std::cell::RefCell;

use parking_lot::{RwLockReadGuard, RwLockWriteGuard};
use smallvec::SmallVec;

use super::{Entry, Keyspace, Shard, Touch, Value, SHARDS};
use crate::effects::{Change, Pending};
use crate::server::{stats, Server};

mod whole;

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

    /// One shard by index (the active expiry walks them in turn).
    pub fn shard(&mut self, db: usize, shard: usize, write: bool) {
        self.items.push((db as u32, shard as u32, write));
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

    /// Every held shard with its database, in lock order (a snapshot marks them all at its start).
    pub fn held_shards(&self) -> impl Iterator<Item = (usize, &Shard)> {
        self.held.iter().map(|h| {
            let shard: &Shard = match &h.guard {
                Guard::Read(g) => g,
                Guard::Write(g) => g,
            };
            (h.db as usize, shard)
        })
    }

    fn find(&self, db: usize, shard: usize) -> usize {
        let target = (db as u32, shard as u32);
        self.held.binary_search_by(|h| (h.db, h.shard).cmp(&target)).unwrap_or_else(|_| {
            panic!("shard {shard} of db {db} used without its lock: fix the command's key positions")
        })
    }
}

/// What a handler sees of the keyspace: only the shards locked for it, with Redis's expiry rules applied.
///
/// It is also where every change is reported ([`KeyLocks::report`]) and where the effects of the running unit wait
/// for the feed: they are appended when the unit ends ([`KeyLocks::end_unit`]) or, at the latest, when this drops,
/// before its locks are released.
pub struct KeyLocks<'a> {
    server: &'a Server,
    ks: &'a Keyspace,
    set: LockSet<'a>,
    /// The command's clock: one timestamp per command, as Redis uses, so a key cannot expire halfway through.
    now: i64,
    /// Whether lookups count as uses of the key (OBJECT IDLETIME, OBJECT FREQ); off for CLIENT NO-TOUCH clients.
    touch: bool,
    /// Set for a replica's master link (Redis's `expireIfNeeded` answers 0 for the master client), so its stream
    /// applies to the keys as its master had them, and while the dataset loads (AOF replay: Redis's `keyIsExpired`
    /// answers no while `loading`, so replaying `PEXPIREAT` then `RPUSH` gives what it gave): no key is expired.
    never_expire: bool,
    /// The dirty count and the effects of the unit running under these locks.
    pub(crate) pending: Pending,
    /// Expired keys a read found but could not delete under its read lock; deleted after the command by
    /// [`expire_lazily`], as Redis's lookups delete them (Redis's `expireIfNeeded`).
    lazy: RefCell<Vec<(usize, Box<[u8]>)>>,
}

impl<'a> KeyLocks<'a> {
    /// Takes over `set`, locked from `server`'s keyspace; `now` is the unit's clock.
    pub fn new(server: &'a Server, set: LockSet<'a>, now: i64) -> Self {
        KeyLocks {
            server,
            ks: &server.keyspace,
            set,
            now,
            touch: true,
            never_expire: server.persist.loading(),
            pending: Pending::new(server.feed.active()),
            lazy: RefCell::new(Vec::new()),
        }
    }

    /// The shard if this unit holds its lock: INFO keyspace run by a script or inside EXEC reads the shards it
    /// holds through their guards (locking them again from the same thread would never return).
    pub fn held_shard(&self, db: usize, shard: usize) -> Option<&crate::db::Shard> {
        let target = (db as u32, shard as u32);
        let i = self
            .set
            .held
            .binary_search_by(|h| (h.db, h.shard).cmp(&target))
            .ok()?;
        Some(match &self.set.held[i].guard {
            Guard::Read(g) => g,
            Guard::Write(g) => g,
        })
    }

    /// Marks these locks as the master link's: nothing expires for it (see `never_expire`;
    /// already set while loading).
    pub fn for_master_link(&mut self) {
        self.never_expire = true;
    }

    /// The clock expiry is judged by: `now`, or the beginning of time for a replica's master link.
    fn expiry_now(&self) -> i64 {
        if self.never_expire {
            i64::MIN
        } else {
            self.now
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
        let hash = self.ks.hash(key);
        let i = self.set.find(db, Keyspace::shard_of_hash(hash));
        self.held_mut(i, Touch::Key(hash))
    }

    /// Write access to a held shard. Every change to a shard's keys goes through here (or `shards_mut` /
    /// `swap_dbs`), so this is where a running snapshot gets the shard's old contents first ("save before
    /// mutate", see `crate::persist::snapshot`).
    fn held_mut(&mut self, i: usize, touch: Touch) -> &mut Shard {
        let (ks, db) = (self.ks, self.set.held[i].db as usize);
        let shard = self.held_write(i);
        ks.save_before_write(db, shard, touch);
        shard
    }

    /// Write access that changes no key (the expiry cycle's cursor): nothing for a snapshot to save.
    fn held_write(&mut self, i: usize) -> &mut Shard {
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
        let ks = self.ks;
        self.set
            .held
            .iter_mut()
            .filter(move |h| h.db as usize == db)
            .map(move |h| match &mut h.guard {
                Guard::Write(g) => {
                    ks.save_before_write(db, g, Touch::Shard);
                    &mut **g
                }
                Guard::Read(_) => {
                    panic!("write through a read lock: the command must be flagged write")
                }
            })
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
        let entry = shard.dict.get(hash, key)?;
        if shard
            .expire_at_hashed(hash, key, entry)
            .is_some_and(|at| at <= self.expiry_now())
        {
            self.note_expired(db, key);
            return None;
        }
        Some(entry)
    }

    /// Remembers an expired key a lookup passed over, for deletion once the command's locks are released
    /// ([`KeyLocks::take_lazy`]). SCAN and RANDOMKEY report the expired keys they visit here too.
    pub fn note_expired(&self, db: usize, key: &[u8]) {
        self.lazy.borrow_mut().push((db, key.into()));
    }

    /// The expired keys noted so far, handed over for deletion (EXEC passes its own to its caller's).
    pub fn take_lazy(&mut self) -> Vec<(usize, Box<[u8]>)> {
        std::mem::take(self.lazy.get_mut())
    }

    /// Adds keys noted by an inner unit (a transaction's queued reads) to those this one deletes after it.
    pub fn extend_lazy(&mut self, keys: Vec<(usize, Box<[u8]>)>) {
        self.lazy.get_mut().extend(keys);
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

    /// `get_mut` without recording an access, for bookkeeping on a key the command already looked up (SORT
    /// turning the small sorted set it read into a skiplist, as Redis does).
    pub fn peek_mut(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        self.live_mut(db, key)
    }

    /// `get_mut` without recording an access, for bookkeeping on a key the command already looked up.
    fn live_mut(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        let (i, hash) = self.live_slot(db, key)?;
        self.held_mut(i, Touch::Key(hash)).dict.get_mut(hash, key)
    }

    /// Where a live `key` is stored (its held shard's index and its hash), for writing; an expired one is
    /// deleted as the expiry deletes it (its `expired` event and its `DEL` effect) and counts as missing.
    fn live_slot(&mut self, db: usize, key: &[u8]) -> Option<(usize, u64)> {
        let hash = self.ks.hash(key);
        let now = self.expiry_now();
        let i = self.set.find(db, Keyspace::shard_of_hash(hash));
        let shard = self.held_mut(i, Touch::Key(hash));
        let entry = shard.dict.get(hash, key)?;
        if shard
            .expire_at_hashed(hash, key, entry)
            .is_some_and(|at| at <= now)
        {
            self.delete_expired(db, i, hash, key);
            return None;
        }
        Some((i, hash))
    }

    pub fn get_value_mut(&mut self, db: usize, key: &[u8]) -> Option<&mut Value> {
        self.get_mut(db, key).map(|e| &mut e.value)
    }

    /// Stores `value` at `key`, dropping any TTL (SET semantics). Returns the previous live entry.
    pub fn insert(&mut self, db: usize, key: &[u8], value: Value) -> Option<Entry> {
        self.insert_entry(db, key, Entry::new(value))
    }

    /// Stores a whole entry (access stamp, string encoding) without a TTL.
    pub fn insert_entry(&mut self, db: usize, key: &[u8], entry: Entry) -> Option<Entry> {
        self.insert_entry_at(db, key, entry, None)
    }

    /// Stores a whole entry that expires at `at` (Unix ms; RENAME, MOVE, COPY keep the TTL, SET EX sets one).
    pub fn insert_entry_at(
        &mut self,
        db: usize,
        key: &[u8],
        mut entry: Entry,
        at: Option<i64>,
    ) -> Option<Entry> {
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
        let i = self.set.find(db, Keyspace::shard_of_hash(hash));
        let shard = self.held_mut(i, Touch::Insert(hash));
        entry.ttl = at.is_some();
        let old = shard.dict.insert(hash, key, entry);
        let old_at = match &old {
            Some(o) => shard.expire_at_hashed(hash, key, o),
            None => None,
        };
        match at {
            Some(at) => {
                shard.volatile.insert(hash, key, at);
            }
            None if old_at.is_some() => {
                shard.volatile.remove(hash, key);
            }
            None => {}
        }
        let old = match old {
            Some(mut o) if old_at.is_some_and(|at| at <= self.expiry_now()) => {
                o.ttl = false;
                // Redis expires the key before overwriting it: its event and its DEL come first.
                self.expired_gone(db, key);
                None
            }
            old => old,
        };
        if old.is_none() {
            // Redis 7.0's `new` event (class n), before the command's own event.
            self.report(db, key, Change::event_only('n', "new"));
        }
        old
    }

    /// Deletes `key`; returns the entry if it was live. An expired one goes as the expiry deletes it (its `expired`
    /// event and its `DEL` effect), as Redis's DEL expires the key before deleting it.
    pub fn remove(&mut self, db: usize, key: &[u8]) -> Option<Entry> {
        self.remove_with_ttl(db, key).map(|(entry, _)| entry)
    }

    /// `remove`, with the key's deadline (Unix ms) if it had a TTL (RENAME and MOVE store it again).
    pub fn remove_with_ttl(&mut self, db: usize, key: &[u8]) -> Option<(Entry, Option<i64>)> {
        let (i, hash) = self.live_slot(db, key)?;
        let shard = self.held_mut(i, Touch::Remove(hash));
        let (_, mut entry) = shard.dict.remove(hash, key)?;
        let at = if entry.ttl {
            shard.volatile.remove(hash, key).map(|(_, at)| at)
        } else {
            None
        };
        entry.ttl = false;
        Some((entry, at))
    }

    /// The deadline (Unix ms) of `key` if it is stored with a TTL, live or not (TTL, PERSIST and SET KEEPTTL look it
    /// up after finding the key).
    pub fn expire_at(&self, db: usize, key: &[u8]) -> Option<i64> {
        let shard = self.shard(db, key);
        let hash = self.ks.hash(key);
        let entry = shard.dict.get(hash, key)?;
        shard.expire_at_hashed(hash, key, entry)
    }

    /// Deletes `key` as expired if it is (Redis's `expireIfNeeded` in a lookup for writing): the dispatcher calls it
    /// for each key of a write command before the handler runs, so the `expired` event and `expired_keys` come
    /// first whatever the command then does (SET ... XX finding nothing, LPUSH recreating the key).
    pub fn expire_if_needed(&mut self, db: usize, key: &[u8]) {
        let hash = self.ks.hash(key);
        let i = self.set.find(db, Keyspace::shard_of_hash(hash));
        if !self.held_write(i).volatile.is_empty() {
            self.delete_if_expired(db, key);
        }
    }

    /// Sets (`Some(ms)`) or clears (`None`) the TTL of a live key; false if there is no such key.
    pub fn set_expire(&mut self, db: usize, key: &[u8], at: Option<i64>) -> bool {
        let hash = self.ks.hash(key);
        let Some(entry) = self.live_mut(db, key) else {
            return false;
        };
        let had = entry.ttl;
        entry.ttl = at.is_some();
        let shard = self.shard_mut(db, key);
        match at {
            Some(at) => {
                shard.volatile.insert(hash, key, at);
            }
            None if had => {
                shard.volatile.remove(hash, key);
            }
            None => {}
        }
        true
    }

    /// The one place a change is reported (see `crate::effects`): WATCH, blocked clients, the dirty counter and
    /// the keyspace event, as `change` asks. Every write calls it for every key it changed, after changing it.
    pub fn report(&mut self, db: usize, key: &[u8], change: Change) {
        if change.watch {
            // Redis's `signalModifiedKey` also invalidates the key for tracking clients.
            crate::tracking::note_change(self.server, key, change.event == "expired");
        }
        if change.watch || change.ready {
            let shard = self.shard_mut(db, key);
            if change.watch {
                shard.watched.touch(key, &shard.dict);
            }
            if change.ready {
                shard.blocked.key_changed(db, key);
            }
        }
        self.pending.add_dirty(change.dirty);
        if !change.event.is_empty() {
            let flags = self.server.config.notify_flags();
            if flags != 0 {
                crate::pubsub::notify_keyspace(
                    self.server,
                    flags,
                    change.class,
                    change.event,
                    db,
                    key,
                );
            }
        }
    }

    /// Changes the running command has counted so far that `stats::dirty_total` does not include yet.
    pub fn uncounted_dirty(&self) -> u64 {
        self.pending.uncounted_dirty()
    }

    /// Counts changes that concern no key's watchers or events (XACK), as Redis's bare `server.dirty++`.
    pub fn count_dirty(&mut self, n: u64) {
        self.pending.add_dirty(n);
    }

    /// Deletes `key` of `db` if it is stored but expired, as the lazy and the active expiry do; true if it was.
    pub(crate) fn delete_if_expired(&mut self, db: usize, key: &[u8]) -> bool {
        let hash = self.ks.hash(key);
        let i = self.set.find(db, Keyspace::shard_of_hash(hash));
        let now = self.expiry_now();
        let shard = self.held_write(i);
        let expired = shard.dict.get(hash, key).is_some_and(|e| {
            shard
                .expire_at_hashed(hash, key, e)
                .is_some_and(|at| at <= now)
        });
        if expired {
            self.delete_expired(db, i, hash, key);
        }
        expired
    }

    /// Deletes a key found expired in held shard `i`: counted in INFO `expired_keys`, reported as `expired`, and
    /// propagated as `DEL` (`UNLINK` under lazyfree-lazy-expire), as Redis's `deleteExpiredKeyAndPropagate`.
    fn delete_expired(&mut self, db: usize, i: usize, hash: u64, key: &[u8]) {
        // A running snapshot keeps the key if it was live at its start.
        let shard = self.held_mut(i, Touch::Remove(hash));
        if shard.dict.remove(hash, key).is_none() {
            return;
        }
        shard.volatile.remove(hash, key);
        self.expired_gone(db, key);
    }

    /// What follows an expired key's removal: INFO `expired_keys`, its report and its `DEL` effect.
    fn expired_gone(&mut self, db: usize, key: &[u8]) {
        stats::global()
            .expired_keys
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.report(db, key, Change::expired());
        if self.pending.feeding() {
            let del = crate::effects::deletion(&self.server.config, "lazyfree-lazy-expire");
            self.pending.also(db, [del, key].into_iter());
        }
    }

    /// The shard at index `shard` of `db`, held for writing (the active expiry's walk).
    pub(crate) fn shard_at_mut(&mut self, db: usize, shard: usize) -> &mut Shard {
        let i = self.set.find(db, shard);
        self.held_write(i)
    }

    /// Ends the running execution unit: its dirty count goes to the thread's stats and its effects to the feed.
    /// `dispatch` calls it between a command and the blocked clients it serves; dropping the locks calls it too.
    pub fn end_unit(&mut self) {
        self.pending.end_unit(&self.server.feed);
    }
}

impl Drop for KeyLocks<'_> {
    /// The effects go to the feed before the locks they were made under are released (fields drop after this).
    fn drop(&mut self) {
        self.end_unit();
    }
}

/// Deletes the expired keys a command's reads found (Redis's lazy expiry), once its read locks are gone: each under
/// its shard's write lock, re-checked there (a writer may have replaced it meanwhile), and each its own unit in the
/// feed, a bare `DEL` as Redis propagates a lazy expiry (never wrapped in the reader's MULTI).
pub fn expire_lazily(server: &Server, keys: Vec<(usize, Box<[u8]>)>) {
    // While clients are paused nothing expires (CLIENT PAUSE): the key reads as gone and stays, as in Redis. A
    // replica hides expired keys too but waits for its master's DEL (Redis 7.0).
    if keys.is_empty() || crate::ops::pause::paused() || server.repl.is_replica() {
        return;
    }
    let mut plan = LockPlan::new();
    for (db, key) in &keys {
        plan.key(&server.keyspace, *db, key, true);
    }
    let mut locks = KeyLocks::new(
        server,
        plan.acquire(&server.keyspace),
        crate::util::time::now_ms(),
    );
    for (db, key) in &keys {
        if locks.delete_if_expired(*db, key) {
            locks.end_unit();
        }
    }
}
