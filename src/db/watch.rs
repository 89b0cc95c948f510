//! WATCH bookkeeping inside each shard: which clients watch which keys.
//!
//! Lives in the shard so that the "key changed" hook, which runs under the shard's write lock, can mark watchers
//! dirty without any other lock: a write pays one `is_empty` check when nobody watches its shard. Each client has
//! one [`WatchFlag`] shared by all its entries; EXEC reads it with the watched shards locked, so a write either
//! happened before EXEC (flag set) or waits for EXEC to finish.
//!
//! Redis 7.0's rules about keys that are logically expired but still stored are kept exactly: a key watched while
//! already stale ("expired") may be deleted without failing the EXEC (nothing logically changed), while a key that
//! was live at WATCH and has expired by EXEC fails it even if nobody deleted it yet.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::{Dict, Entry, KeyLocks, Shard};

/// One client's "something I watch changed" flag, and how many keys it watches (client memory counts them).
#[derive(Default, Debug)]
pub struct WatchFlag(AtomicBool, std::sync::atomic::AtomicUsize);

impl WatchFlag {
    /// How many keys the client watches.
    pub fn watched(&self) -> usize {
        self.1.load(Ordering::Relaxed)
    }

    pub fn set_watched(&self, n: usize) {
        self.1.store(n, Ordering::Relaxed);
    }

    pub fn is_dirty(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn mark_dirty(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Only safe to call once every registry entry of this flag is gone (no writer can set it again).
    pub fn clear(&self) {
        self.0.store(false, Ordering::Release);
    }
}

struct Watcher {
    flag: Arc<WatchFlag>,
    /// The key was stored but already expired when watched: its deletion is no logical change.
    stale: bool,
}

struct WatchedKey {
    /// The keyspace hash of the key, kept so whole-shard changes can look it up in the shard's dict.
    hash: u64,
    watchers: Vec<Watcher>,
}

impl WatchedKey {
    fn position(&self, flag: &Arc<WatchFlag>) -> Option<usize> {
        self.watchers
            .iter()
            .position(|w| Arc::ptr_eq(&w.flag, flag))
    }
}

/// Per shard: watched key → its watchers.
#[derive(Default)]
pub struct WatchedKeys {
    keys: HashMap<Box<[u8]>, WatchedKey, ahash::RandomState>,
}

impl WatchedKeys {
    /// Key `key` was written (the write already happened): every client watching it must fail its EXEC, except
    /// those who watched it stale and now see it deleted.
    pub fn touch(&mut self, key: &[u8], dict: &Dict<Entry>) {
        if self.keys.is_empty() {
            return;
        }
        let Some(watched) = self.keys.get_mut(key) else {
            return;
        };
        let stored = dict.get(watched.hash, key).is_some();
        for w in &mut watched.watchers {
            if w.stale && !stored {
                w.stale = false;
            } else {
                w.flag.mark_dirty();
            }
        }
    }

    /// The shard's contents are about to be dropped (FLUSHDB, FLUSHALL: `replaced_with` is `None`) or exchanged
    /// with `replaced_with` (SWAPDB). As Redis's `touchAllWatchedKeysInDb`: only watchers of a key stored before
    /// or after the change are touched, and stale keys replaced by nothing or by stale keys change nothing.
    pub fn replace_all(&mut self, emptied: &Dict<Entry>, replaced_with: Option<&Shard>, now: i64) {
        for (key, watched) in &mut self.keys {
            let in_emptied = emptied.get(watched.hash, key).is_some();
            let incoming = replaced_with.and_then(|s| Some((s, s.dict.get(watched.hash, key)?)));
            if !in_emptied && incoming.is_none() {
                continue;
            }
            let incoming_stale = incoming.is_some_and(|(s, e)| s.expired(key, e, now));
            for w in &mut watched.watchers {
                if w.stale {
                    if incoming.is_none() {
                        w.stale = false;
                        continue;
                    }
                    if incoming_stale {
                        continue;
                    }
                } else if !in_emptied && incoming_stale {
                    w.stale = true;
                    continue;
                }
                w.flag.mark_dirty();
            }
        }
    }
}

/// Registers `flag` as watching `key` of `db`; the caller holds the key's shard for writing.
pub fn watch(keys: &mut KeyLocks, db: usize, key: &[u8], flag: &Arc<WatchFlag>) {
    let hash = keys.keyspace().hash(key);
    let now = keys.now();
    watch_in(keys.shard_mut(db, key), key, hash, flag, now);
}

/// Removes `flag`'s watch on `key` of `db`; the caller holds the key's shard for writing.
pub fn unwatch(keys: &mut KeyLocks, db: usize, key: &[u8], flag: &Arc<WatchFlag>) {
    unwatch_in(keys.shard_mut(db, key), key, flag);
}

/// Whether `key`, live when `flag` watched it, has expired since (Redis 7.0 fails the EXEC then, even if the key
/// was not deleted yet). The caller holds the key's shard.
pub fn expired_since_watch(keys: &KeyLocks, db: usize, key: &[u8], flag: &Arc<WatchFlag>) -> bool {
    expired_in(keys.shard(db, key), key, flag, keys.now())
}

fn watch_in(shard: &mut Shard, key: &[u8], hash: u64, flag: &Arc<WatchFlag>, now: i64) {
    let stale = shard
        .dict
        .get(hash, key)
        .is_some_and(|e| shard.expired(key, e, now));
    let watched = shard
        .watched
        .keys
        .entry(key.into())
        .or_insert_with(|| WatchedKey {
            hash,
            watchers: Vec::new(),
        });
    if watched.position(flag).is_none() {
        watched.watchers.push(Watcher {
            flag: flag.clone(),
            stale,
        });
    }
}

fn unwatch_in(shard: &mut Shard, key: &[u8], flag: &Arc<WatchFlag>) {
    let registry = &mut shard.watched.keys;
    let Some(watched) = registry.get_mut(key) else {
        return;
    };
    if let Some(i) = watched.position(flag) {
        watched.watchers.swap_remove(i);
    }
    if watched.watchers.is_empty() {
        registry.remove(key);
    }
}

fn expired_in(shard: &Shard, key: &[u8], flag: &Arc<WatchFlag>, now: i64) -> bool {
    let Some(watched) = shard.watched.keys.get(key) else {
        return false;
    };
    let stale = watched
        .position(flag)
        .is_some_and(|i| watched.watchers[i].stale);
    !stale
        && shard
            .dict
            .get(watched.hash, key)
            .is_some_and(|e| shard.expired(key, e, now))
}

#[cfg(test)]
mod tests {
    //! The registry's rules at the shard level, including the FLUSHDB and SWAPDB cases of Redis's
    //! `touchAllWatchedKeysInDb` (tests/unit/multi.tcl): a deleted stale key is no change, a missing key replaced
    //! by a stale one is no change, anything else stored before or after is.
    use super::*;
    use crate::db::Value;

    const NOW: i64 = 1_000_000;

    fn hasher() -> ahash::RandomState {
        ahash::RandomState::with_seeds(1, 2, 3, 4)
    }

    fn hash(key: &[u8]) -> u64 {
        hasher().hash_one(key)
    }

    fn new_shard() -> Shard {
        Shard::new(&hasher())
    }

    /// Stores `key`: live, or (`stale`) already expired.
    fn store(shard: &mut Shard, key: &[u8], stale: bool) {
        let mut entry = Entry::new(Value::Str(b"v"[..].into()));
        if stale {
            entry.ttl = true;
            shard.volatile.insert(hash(key), key, NOW - 1);
        }
        shard.dict.insert(hash(key), key, entry);
    }

    fn watcher(shard: &mut Shard, key: &[u8]) -> Arc<WatchFlag> {
        let flag = Arc::new(WatchFlag::default());
        watch_in(shard, key, hash(key), &flag, NOW);
        flag
    }

    fn touch_after_delete(shard: &mut Shard, key: &[u8]) {
        shard.dict.remove(hash(key), key);
        shard.watched.touch(key, &shard.dict);
    }

    #[test]
    fn writes_and_deletes_mark_watchers() {
        let mut shard = new_shard();
        store(&mut shard, b"k", false);
        let (a, b) = (watcher(&mut shard, b"k"), watcher(&mut shard, b"k"));
        let other = watcher(&mut shard, b"other");
        shard.watched.touch(b"k", &shard.dict);
        assert!(a.is_dirty() && b.is_dirty() && !other.is_dirty());
        let c = watcher(&mut shard, b"k");
        touch_after_delete(&mut shard, b"k");
        assert!(c.is_dirty());
    }

    #[test]
    fn a_stale_key_deleted_is_no_change_but_recreated_is() {
        let mut shard = new_shard();
        store(&mut shard, b"k", true);
        let flag = watcher(&mut shard, b"k");
        assert!(!expired_in(&shard, b"k", &flag, NOW));
        touch_after_delete(&mut shard, b"k");
        assert!(!flag.is_dirty());
        store(&mut shard, b"k", false);
        shard.watched.touch(b"k", &shard.dict);
        assert!(flag.is_dirty());
    }

    #[test]
    fn a_live_key_that_expires_fails_the_exec() {
        let mut shard = new_shard();
        let mut entry = Entry::new(Value::Str(b"v"[..].into()));
        entry.ttl = true;
        shard.volatile.insert(hash(b"k"), b"k", NOW + 10);
        shard.dict.insert(hash(b"k"), b"k", entry);
        let flag = watcher(&mut shard, b"k");
        assert!(!expired_in(&shard, b"k", &flag, NOW));
        assert!(expired_in(&shard, b"k", &flag, NOW + 10));
    }

    #[test]
    fn flush_marks_only_watchers_of_stored_keys() {
        let mut shard = new_shard();
        store(&mut shard, b"live", false);
        store(&mut shard, b"stale", true);
        let live = watcher(&mut shard, b"live");
        let stale = watcher(&mut shard, b"stale");
        let missing = watcher(&mut shard, b"missing");
        shard.watched.replace_all(&shard.dict, None, NOW);
        assert!(live.is_dirty());
        assert!(!stale.is_dirty() && !missing.is_dirty());
    }

    #[test]
    fn swap_follows_redis_rules() {
        let (mut a, mut b) = (new_shard(), new_shard());
        // Watched in `a` where missing, live in `b`: touched.
        store(&mut b, b"x", false);
        let x = watcher(&mut a, b"x");
        // Live in `a`, missing in `b`: touched.
        store(&mut a, b"y", false);
        let y = watcher(&mut a, b"y");
        // Missing in `a`, stale in `b`: no change, but the watch becomes a stale one.
        store(&mut b, b"z", true);
        let z = watcher(&mut a, b"z");
        // Stale in `a`, stale in `b`: no change. Stale in `a`, missing in `b`: no change.
        store(&mut a, b"s", true);
        store(&mut b, b"s", true);
        let s = watcher(&mut a, b"s");
        store(&mut a, b"t", true);
        let t = watcher(&mut a, b"t");
        // Stale in `a`, live in `b`: touched.
        store(&mut a, b"u", true);
        store(&mut b, b"u", false);
        let u = watcher(&mut a, b"u");
        // Missing on both sides: untouched.
        let none = watcher(&mut a, b"none");
        a.swap_data(&mut b);
        assert!(x.is_dirty() && y.is_dirty() && u.is_dirty());
        assert!(!z.is_dirty() && !s.is_dirty() && !t.is_dirty() && !none.is_dirty());
        // `z` now watches a stale key: deleting it is still no change.
        assert!(!expired_in(&a, b"z", &z, NOW));
        touch_after_delete(&mut a, b"z");
        assert!(!z.is_dirty());
    }

    #[test]
    fn unwatch_leaves_an_empty_registry() {
        let mut shard = new_shard();
        let (a, b) = (watcher(&mut shard, b"k"), watcher(&mut shard, b"k"));
        watch_in(&mut shard, b"k", hash(b"k"), &a, NOW);
        unwatch_in(&mut shard, b"k", &a);
        assert!(!shard.watched.keys.is_empty());
        unwatch_in(&mut shard, b"k", &b);
        unwatch_in(&mut shard, b"k", &b);
        assert!(shard.watched.keys.is_empty());
        shard.watched.touch(b"k", &shard.dict);
        assert!(!a.is_dirty() && !b.is_dirty());
    }
}
