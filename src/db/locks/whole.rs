//! Operations on whole databases under a `KeyLocks` holding all their shards: SWAPDB, FLUSHDB/FLUSHALL, and the
//! swap of a swapdb full sync's loaded keyspace.

use super::{Guard, KeyLocks};
use crate::db::{Dict, Entry, Keyspace, Touch, SHARDS};

impl KeyLocks<'_> {
    /// Exchanges the contents of databases `a` and `b` shard by shard (SWAPDB); both must be locked for writing.
    /// A key hashes to the same shard index in every database, so swapping shard i with shard i is exact.
    /// Watchers of keys that change see it, blocked clients of either database are offered their keys, and it
    /// counts as one change, as Redis's `swapdbCommand`.
    pub fn swap_dbs(&mut self, a: usize, b: usize) {
        self.pending.add_dirty(1);
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
                    self.ks.save_before_write(lo as usize, x, Touch::Shard);
                    self.ks.save_before_write(hi as usize, y, Touch::Shard);
                    x.swap_data(y);
                    // Clients blocked on keys of either database may find data there now, as in Redis.
                    x.blocked.mark_all_ready(lo as usize);
                    y.blocked.mark_all_ready(hi as usize);
                }
                _ => panic!("write through a read lock: the command must be flagged write"),
            }
        }
    }

    /// Exchanges every database's contents with `other`'s (a swapdb full sync's loaded data, see
    /// `Keyspace::shadow`), every shard of every database locked for writing: watchers of keys on either side
    /// see it, and clients blocked on keys look again, as after Redis's `swapMainDbWithTempDb`.
    pub fn swap_keyspace(&mut self, other: &Keyspace) {
        self.pending.add_dirty(1);
        assert_eq!(
            self.set.held.len(),
            self.ks.db_count() * SHARDS,
            "swapping keyspaces needs every shard locked"
        );
        for h in self.set.held.iter_mut() {
            let (db, shard) = (h.db as usize, h.shard as usize);
            let Guard::Write(x) = &mut h.guard else {
                panic!("write through a read lock: swapping keyspaces needs write locks");
            };
            let mut y = other.db(db).shard(shard).write();
            self.ks.save_before_write(db, x, Touch::Shard);
            x.swap_data(&mut y);
            x.blocked.mark_all_ready(db);
        }
    }

    /// Empties database `db` (FLUSHDB, FLUSHALL), every shard locked for writing: watchers of stored keys see it
    /// and every key removed counts as a change, as Redis's `emptyData`. Returns the old contents, for freeing
    /// elsewhere.
    pub fn flush_db(&mut self, db: usize) -> Vec<Dict<Entry>> {
        let mut removed = 0;
        let mut contents = Vec::new();
        for shard in self.shards_mut(db) {
            // Blocked XREADGROUP clients learn that their stream is gone, as after a DEL (Redis's
            // `scanDatabaseForDeletedStreams`); other waiters find nothing and keep waiting.
            shard.blocked.mark_all_ready(db);
            if !shard.is_empty() {
                removed += shard.len() as u64;
                contents.push(shard.take_contents());
            }
        }
        self.pending.add_dirty(removed);
        crate::tracking::note_flush(self.server);
        contents
    }
}
