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

use super::{Dict, Entry, KeyLocks};

/// One client's "something I watch changed" flag.
#[derive(Default, Debug)]
pub struct WatchFlag(AtomicBool);

impl WatchFlag {
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
    pub fn replace_all(
        &mut self,
        emptied: &Dict<Entry>,
        replaced_with: Option<&Dict<Entry>>,
        now: i64,
    ) {
        for (key, watched) in &mut self.keys {
            let in_emptied = emptied.get(watched.hash, key).is_some();
            let incoming = replaced_with.and_then(|d| d.get(watched.hash, key));
            if !in_emptied && incoming.is_none() {
                continue;
            }
            let incoming_stale = incoming.is_some_and(|e| e.expired(now));
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
    let shard = keys.shard_mut(db, key);
    let stale = shard.dict.get(hash, key).is_some_and(|e| e.expired(now));
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

/// Removes `flag`'s watch on `key` of `db`; the caller holds the key's shard for writing.
pub fn unwatch(keys: &mut KeyLocks, db: usize, key: &[u8], flag: &Arc<WatchFlag>) {
    let registry = &mut keys.shard_mut(db, key).watched.keys;
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

/// Whether `key`, live when `flag` watched it, has expired since (Redis 7.0 fails the EXEC then, even if the key
/// was not deleted yet). The caller holds the key's shard.
pub fn expired_since_watch(keys: &KeyLocks, db: usize, key: &[u8], flag: &Arc<WatchFlag>) -> bool {
    let shard = keys.shard(db, key);
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
            .is_some_and(|e| e.expired(keys.now()))
}
